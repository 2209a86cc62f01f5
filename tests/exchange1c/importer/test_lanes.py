"""Batches applied side by side (PostgreSQL) end exactly as when applied one after the other."""

import pytest
from django.db import connection

from catalog.models import Brand, Product
from exchange1c.commerceml.reader import CommerceMLReader
from exchange1c.commerceml.records import ProductRecord
from exchange1c.importer import api, pipeline, worker
from exchange1c.models import ImportJob
from tests.exchange1c.importer.conftest import catalog_dump
from tests.exchange1c.importer.test_resume import SimulatedCrash, empty_catalog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("batches run side by side on PostgreSQL only")


def run_file(folder, name, *, batch_size, on_batch=None, mark=None):
    job = pipeline.create_job(run=None, mark=mark, folder=folder, filename=name)
    token = worker.claim(job.pk, stale_seconds=0)
    pipeline.run_job(job.pk, token=token, batch_size=batch_size, on_batch=on_batch)
    job.refresh_from_db()
    return job


def import_both(folder, *, batch_size):
    first = run_file(folder, "import.xml", batch_size=batch_size)
    second = run_file(folder, "offers.xml", batch_size=batch_size, mark=first.mark)
    assert (first.state, second.state) == ("done", "done"), (first.error, second.error)
    return first, second


def counts(job):
    return job.items_done, job.created, job.updated, job.unchanged, job.deactivated, job.warning_count


def test_side_by_side_gives_the_catalog_and_counts_of_one_lane(gen, settings):
    folder = gen("cat", "--products", 400, "--variants-share", 0.4)
    settings.EXCHANGE_IMPORT_LANES = 1
    serial = [counts(job) for job in import_both(folder, batch_size=30)]
    expected = catalog_dump()
    empty_catalog()
    ImportJob.objects.all().delete()

    settings.EXCHANGE_IMPORT_LANES = 3
    assert pipeline._lane_count() == 3
    side_by_side = [counts(job) for job in import_both(folder, batch_size=30)]
    assert side_by_side == serial
    assert catalog_dump() == expected
    # And an unchanged second run counts everything unchanged, as one lane does.
    again = import_both(folder, batch_size=30)
    assert [(job.created, job.updated, job.unchanged) for job in again] == [
        (0, 0, again[0].items_done), (0, 0, again[1].items_done)]
    assert again[0].items_done == 400 and again[1].items_done == side_by_side[1][0]


def product(external_id, name, brand):
    return (f"<Товар><Ид>{external_id}</Ид><Наименование>{name}</Наименование>"
            f"<Изготовитель><Ид>{brand}</Ид><Наименование>{brand}</Наименование></Изготовитель></Товар>")


def catalog(folder, items):
    folder.mkdir(exist_ok=True)
    (folder / "import.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.08">'
        '<Каталог СодержитТолькоИзменения="false"><Ид>c</Ид><Наименование>c</Наименование><Товары>'
        + "".join(items) + "</Товары></Каталог></КоммерческаяИнформация>", "utf-8")
    return folder


def test_same_names_and_new_brands_in_batches_side_by_side(tmp_path, settings):
    """Every batch takes the same slugs and creates the same new brands: lanes wait for each other, none is lost."""
    items = [product(f"p{n:04}", "Кабель медный", f"Бренд {n % 7}") for n in range(240)]
    folder = catalog(tmp_path / "same", items)
    settings.EXCHANGE_IMPORT_LANES = 1
    assert run_file(folder, "import.xml", batch_size=10).state == "done"
    serial = dict(Product.objects.values_list("external_id", "slug"))
    empty_catalog()

    settings.EXCHANGE_IMPORT_LANES = 2
    job = run_file(folder, "import.xml", batch_size=10)
    assert job.state == "done" and job.created == 240, job.error
    # The file's order decides who gets which slug, as it does one batch at a time.
    assert dict(Product.objects.values_list("external_id", "slug")) == serial
    assert len(set(serial.values())) == 240
    assert Brand.objects.count() == 7


def test_an_id_repeated_in_the_next_batch_ends_as_its_last_occurrence(tmp_path, settings):
    settings.EXCHANGE_IMPORT_LANES = 2
    items = [product(f"p{n:03}", f"Товар {n}", "Бренд") for n in range(40)]
    items += [product("p005", "Поздняя версия", "Другой")]
    items += [product(f"q{n:03}", f"Ещё {n}", "Бренд") for n in range(10)]
    items += [product("p005", "Самая поздняя", "Третий")]
    job = run_file(catalog(tmp_path / "dup", items), "import.xml", batch_size=5)
    assert job.state == "done", job.error
    late = Product.objects.get(external_id="p005")
    assert (late.name, late.brand.name) == ("Самая поздняя", "Третий")


def test_a_crash_stops_every_lane_at_a_committed_prefix_and_resumes(gen, settings):
    settings.EXCHANGE_IMPORT_LANES = 2
    folder = gen("cat", "--products", 300, "--variants-share", 0.3)
    expected = [counts(job) for job in import_both(folder, batch_size=20)]
    dump = catalog_dump()
    empty_catalog()
    ImportJob.objects.all().delete()

    def crash(job, batches):
        if job.items_done >= 60:
            raise SimulatedCrash

    job = pipeline.create_job(run=None, mark=None, folder=folder, filename="import.xml")
    token = worker.claim(job.pk, stale_seconds=0)
    with pytest.raises(SimulatedCrash):
        pipeline.run_job(job.pk, token=token, batch_size=20, on_batch=crash)
    job.refresh_from_db()
    # Nothing beyond the position committed: the batch beside the crashed one rolled back.
    assert job.state == "applying" and job.items_done == Product.objects.count() == job.created
    assert 0 < job.items_done < 300
    token = worker.claim(job.pk, stale_seconds=0, dead_token=token)
    pipeline.run_job(job.pk, token=token, batch_size=20)
    job.refresh_from_db()
    offers = run_file(folder, "offers.xml", batch_size=20, mark=job.mark)
    assert [counts(job), counts(offers)] == expected
    assert catalog_dump() == dump


def test_an_error_in_one_batch_fails_the_job_and_keeps_what_committed(gen, settings, monkeypatch):
    settings.EXCHANGE_IMPORT_LANES = 2
    folder = gen("cat", "--products", 200)
    real = pipeline.APPLIERS[pipeline.ProductRecord]
    products = [r.external_id for r in CommerceMLReader(folder / "import.xml") if isinstance(r, ProductRecord)]
    third = products[50]  # the first product of the third batch of 25

    def failing(records, ctx):
        # By the batch's contents, not by call count: a batch that yields to an earlier one runs again.
        if any(r.external_id == third for r in records):
            raise RuntimeError("disk on fire")
        return real(records, ctx)

    monkeypatch.setitem(pipeline.APPLIERS, pipeline.ProductRecord, failing)
    job = run_file(folder, "import.xml", batch_size=25)
    assert job.state == "failed" and "disk on fire" in job.error
    assert job.items_done == Product.objects.count() == 50
    assert api.answer_for(job).status == "failure"
