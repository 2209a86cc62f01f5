"""Stage 1 stages the records it read; stage 2 applies them without parsing the file again."""

from pathlib import Path

import pytest

from catalog.models import Product, Variant
from exchange1c.importer import api, pipeline, worker
from exchange1c.models import ExchangeRun, ImportJob
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


def test_an_unchanged_re_import_writes_no_catalog_row_but_the_marks(gen):
    folder = gen("cat", "--products", 200, "--variants-share", 0.3)
    first = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in first] == ["success", "success"]
    before = catalog_dump()
    updated = {pk: at for pk, at in Product.objects.values_list("pk", "updated_at")}
    again = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in again] == ["success", "success"]
    jobs = list(ImportJob.objects.order_by("-id")[:2])
    assert sum(j.created + j.updated for j in jobs) == 0
    assert catalog_dump() == before
    assert dict(Product.objects.values_list("pk", "updated_at")) == updated
    assert set(Product.objects.values_list("sync_mark", flat=True)) == {jobs[0].mark}
    assert Variant.objects.filter(sync_mark=jobs[0].mark).count() >= 200
