"""Stage 1 stages the records it read; stage 2 applies them without parsing the file again."""

import copy
import io
from pathlib import Path

import pytest
from lxml import etree

from catalog.models import Product, Variant
from exchange1c.commerceml.records import OfferRecord, ProductRecord
from exchange1c.files import append_upload
from exchange1c.importer import api, pipeline, staging, worker
from exchange1c.importer.apply import UnchangedOffer, UnchangedProduct
from exchange1c.models import ExchangeRun, ImportJob, SeenRange
from tests.exchange1c.importer.conftest import catalog_dump
from tests.exchange1c.importer.test_resume import SimulatedCrash, crash_after, poll_until_done, reference_dump

pytestmark = pytest.mark.django_db(transaction=True)


def _leftovers(job) -> list[Path]:
    work = Path(job.work_path)
    return sorted(p for p in work.parent.glob(f"{work.name}*"))


def test_stage_two_applies_the_staged_records_not_the_file(gen):
    folder = gen("cat", "--products", 120, "--variants-share", 0.3)
    expected = reference_dump(folder)
    run = ExchangeRun.objects.create(kind="catalog")
    job = pipeline.create_job(run=run, mark=run.pk, folder=folder, filename="import.xml")
    token = worker.claim(job.pk, stale_seconds=0)
    with pytest.raises(SimulatedCrash):
        pipeline.run_job(job.pk, token=token, batch_size=40, on_batch=crash_after(40))
    job.refresh_from_db()
    assert pipeline.staged_path(job).exists()
    # The working copy is now garbage: only the staged records can finish the job right.
    Path(job.work_path).write_text("<not xml", "utf-8")
    ImportJob.objects.filter(pk=job.pk).update(worker="")
    assert poll_until_done(run, folder, "import.xml").status == "success"
    assert poll_until_done(run, folder, "offers.xml").status == "success"
    api.finalize_run(run=run, reason="complete")
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.created == 120
    assert catalog_dump() == expected
    assert _leftovers(job) == []  # the copy and the staged records are gone once done


def test_a_file_that_fails_reading_leaves_no_staged_records(gen):
    folder = gen("cat", "--products", 60)
    text = (folder / "import.xml").read_text("utf-8")
    (folder / "cut.xml").write_text(text[: len(text) // 2], "utf-8")
    job = pipeline.create_job(run=None, mark=None, folder=folder, filename="cut.xml")
    job = worker.run_now(job.pk)
    assert job.state == ImportJob.State.FAILED
    assert not Product.objects.exists()
    assert _leftovers(job) == []


def test_an_unchanged_re_import_writes_no_catalog_row(gen):
    folder = gen("cat", "--products", 200, "--variants-share", 0.3)
    first = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in first] == ["success", "success"]
    before = catalog_dump()
    rows = {model: set(model.objects.values_list("pk", "updated_at", "sync_mark")) for model in (Product, Variant)}
    again = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in again] == ["success", "success"]
    jobs = list(ImportJob.objects.order_by("-id")[:2])
    assert sum(j.created + j.updated for j in jobs) == 0
    assert sum(j.unchanged for j in jobs) == 200 + Variant.objects.exclude(source_hash="").count()
    assert catalog_dump() == before
    # Not even the exchange mark moved: the products counted as touched through SeenRange,
    # whose rows are gone once the exchange was finalized.
    assert {model: set(model.objects.values_list("pk", "updated_at", "sync_mark")) for model in rows} == rows
    assert Product.objects.filter(is_active=True).count() == 200
    assert not SeenRange.objects.exists()


def _local(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _products_element(tree):
    return next(e for e in tree.iter() if isinstance(e.tag, str) and _local(e) == "Товары")


def _rename(product, name: str) -> None:
    next(c for c in product if _local(c) == "Наименование").text = name


def test_unchanged_products_and_offers_are_staged_as_stand_ins(gen):
    folder = gen("cat", "--products", 60, "--variants-share", 0.3)
    assert [a.status for a in api.run_files_now(folder, ["import.xml", "offers.xml"])] == ["success", "success"]
    tree = etree.parse(str(folder / "import.xml"))
    changed = _products_element(tree)[7]
    _rename(changed, "Переименован в 1С")
    tree.write(str(folder / "import.xml"), encoding="utf-8", xml_declaration=True)
    run = ExchangeRun.objects.create(kind="catalog")
    staged = {}
    for name in ("import.xml", "offers.xml"):
        job = pipeline.create_job(run=run, mark=run.pk, folder=folder, filename=name)
        token = worker.claim(job.pk, stale_seconds=0)
        with pytest.raises(SimulatedCrash):  # stop after the first batch to look at what stage 1 staged
            pipeline.run_job(job.pk, token=token, batch_size=1000, on_batch=crash_after(1))
        job.refresh_from_db()
        staged[name] = list(staging.records(pipeline.staged_path(job)))
        ImportJob.objects.filter(pk=job.pk).update(worker="")
        assert poll_until_done(run, folder, name).status == "success"
    products = [r for r in staged["import.xml"] if isinstance(r, (ProductRecord, UnchangedProduct))]
    assert len(products) == 60
    assert [r.name for r in products if isinstance(r, ProductRecord)] == ["Переименован в 1С"]
    offers = staged["offers.xml"]
    assert offers and not any(isinstance(r, OfferRecord) for r in offers)
    assert sum(isinstance(r, UnchangedOffer) for r in offers) == Variant.objects.exclude(source_hash="").count()
    job = ImportJob.objects.filter(filename="import.xml").latest("id")
    assert (job.updated, job.unchanged) == (1, 59)
    assert Product.objects.filter(name="Переименован в 1С").count() == 1


def test_a_product_listed_twice_ends_as_its_last_occurrence(gen):
    """The second occurrence equals the site's row, but the first changed it meanwhile: it must still apply."""
    folder = gen("cat", "--products", 30)
    assert [a.status for a in api.run_files_now(folder, ["import.xml", "offers.xml"])] == ["success", "success"]
    tree = etree.parse(str(folder / "import.xml"))
    products = _products_element(tree)
    original = products[0]
    name = next(c for c in original if _local(c) == "Наименование").text
    early = copy.deepcopy(original)
    _rename(early, "Черновик из 1С")
    products.remove(original)
    products.insert(0, early)
    products.append(original)
    tree.write(str(folder / "twice.xml"), encoding="utf-8", xml_declaration=True)
    job = pipeline.create_job(run=None, mark=None, folder=folder, filename="twice.xml")
    token = worker.claim(job.pk, stale_seconds=0)
    job = pipeline.run_job(job.pk, token=token, batch_size=5)  # the two occurrences in different batches
    assert job.state == ImportJob.State.DONE, job.error
    external_id = next(c for c in original if _local(c) == "Ид").text
    assert Product.objects.get(external_id=external_id).name == name


def test_an_unchanged_product_hidden_by_an_earlier_exchange_comes_back(gen):
    folder = gen("cat", "--products", 40)
    assert [a.status for a in api.run_files_now(folder, ["import.xml", "offers.xml"])] == ["success", "success"]
    tree = etree.parse(str(folder / "import.xml"))
    products = _products_element(tree)
    gone = products[3]
    external_id = next(c for c in gone if _local(c) == "Ид").text
    products.remove(gone)
    partial = gen("partial", "--products", 1)
    tree.write(str(partial / "import.xml"), encoding="utf-8", xml_declaration=True)
    assert api.run_files_now(partial, ["import.xml"])[0].status == "success"
    assert not Product.objects.get(external_id=external_id).is_active  # a full upload left it out
    answers = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in answers] == ["success", "success"]
    job = ImportJob.objects.filter(filename="import.xml").latest("id")
    assert (job.created, job.updated, job.unchanged) == (0, 0, 40)
    assert Product.objects.filter(is_active=True).count() == 40


def test_the_job_links_the_upload_and_a_later_append_does_not_reach_it(gen, tmp_path):
    folder = gen("cat", "--products", 10)
    job = pipeline.create_job(run=None, mark=None, folder=folder, filename="import.xml")
    work = Path(job.work_path)
    assert work.stat().st_ino == (folder / "import.xml").stat().st_ino  # linked, not copied
    content = work.read_bytes()
    append_upload(folder / "import.xml", io.BytesIO(b"<!-- more -->"), content_length=13, max_bytes=100)
    assert work.read_bytes() == content
    assert (folder / "import.xml").read_bytes() == content + b"<!-- more -->"
    assert work.stat().st_nlink == 1


def test_maintenance_purges_seen_rows_only_of_exchanges_no_one_will_finalize(db):
    from exchange1c.management.commands.exchange_maintenance import purge_seen_products

    open_run = ExchangeRun.objects.create(kind="catalog")
    closed_run = ExchangeRun.objects.create(kind="catalog", status=ExchangeRun.Status.COMPLETED)
    rerun = ImportJob.objects.create(mark=-999, filename="import.xml", folder="/x")  # an admin re-run going on
    for mark in (open_run.pk, closed_run.pk, rerun.mark, -12345):
        SeenRange.objects.create(mark=mark, first_id=1, last_id=1)
    assert purge_seen_products() == 2
    assert set(SeenRange.objects.values_list("mark", flat=True)) == {open_run.pk, -999}
