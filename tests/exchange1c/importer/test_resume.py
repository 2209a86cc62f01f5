"""A crash between two batches, or a restart, ends in the same catalog as an uninterrupted run."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Brand, Group, PriceType, Product, Property, Unit, Warehouse
from exchange1c.importer import api, pipeline, worker
from exchange1c.models import BrandProperty, ExchangeRun, ImportJob
from tests.exchange1c.importer.conftest import catalog_dump

pytestmark = pytest.mark.django_db(transaction=True)


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the importer catches it."""


def crash_after(items):
    def hook(job, batches):
        if job.items_done >= items:
            raise SimulatedCrash

    return hook


def empty_catalog():
    Product.objects.all().delete()
    Group.objects.update(parent=None)
    for model in (Group, Brand, Unit, PriceType, Warehouse, Property, BrandProperty):
        model.objects.all().delete()


def reference_dump(folder):
    answers = api.run_files_now(folder, ["import.xml", "offers.xml"])
    assert [a.status for a in answers] == ["success", "success"]
    dump = catalog_dump()
    empty_catalog()
    ImportJob.objects.all().delete()
    return dump


def start_crashing(run, folder, name, *, items):
    job = pipeline.create_job(run=run, mark=run.pk, folder=folder, filename=name)
    token = worker.claim(job.pk, stale_seconds=0)
    with pytest.raises(SimulatedCrash):
        pipeline.run_job(job.pk, token=token, batch_size=40, on_batch=crash_after(items))
    job.refresh_from_db()
    assert job.state == ImportJob.State.APPLYING and 0 < job.items_done < job.items_total
    # The dead worker's heartbeat ages past the takeover limit.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    return job


def poll_until_done(run, folder, name, budget=2.0, limit=200):
    for _ in range(limit):
        answer = api.import_poll(run=run, folder=folder, filename=name, budget_seconds=budget)
        if answer.status != "progress":
            return answer
    raise AssertionError("no end in sight")


def test_crash_between_batches_then_polls_resume(gen):
    folder = gen("cat", "--products", 300, "--variants-share", 0.3)
    expected = reference_dump(folder)
    run = ExchangeRun.objects.create(kind="catalog")
    job = start_crashing(run, folder, "import.xml", items=120)
    assert Product.objects.exists()  # part of the file is in: the job must be finished, not dropped
    assert poll_until_done(run, folder, "import.xml").status == "success"
    assert poll_until_done(run, folder, "offers.xml").status == "success"
    api.finalize_run(run=run, reason="complete")
    job.refresh_from_db()
    assert job.created == 300  # batches applied before the crash are counted once
    assert catalog_dump() == expected


def test_crash_then_new_exchange_finishes_it_first(gen):
    folder = gen("cat", "--products", 300, "--variants-share", 0.3)
    expected = reference_dump(folder)
    run = ExchangeRun.objects.create(kind="catalog")
    assert poll_until_done(run, folder, "import.xml").status == "success"
    start_crashing(run, folder, "offers.xml", items=80)
    # A never-started job of the dead exchange is dropped by init; the begun one is not.
    pending = pipeline.create_job(run=run, mark=run.pk, folder=folder, filename="import.xml")
    second = ExchangeRun.objects.create(kind="catalog")
    api.init_exchange(run=second)
    assert not ImportJob.objects.filter(pk=pending.pk).exists()
    assert ImportJob.objects.filter(filename="offers.xml", state=ImportJob.State.APPLYING).exists()
    answers = []
    for _ in range(200):
        answer = api.finish_interrupted(budget_seconds=1.0)
        if answer is None:
            break
        answers.append(answer)
    assert answers and all(a.status == "progress" for a in answers)
    assert catalog_dump() == expected


def test_polls_answer_within_budget_progress_then_success(gen):
    folder = gen("cat", "--products", 2000, "--variants-share", 0.3)
    run = ExchangeRun.objects.create(kind="catalog")
    statuses = []
    slowest = 0.0
    for name in ("import.xml", "offers.xml"):
        for _ in range(2000):
            started = time.monotonic()
            answer = api.import_poll(run=run, folder=folder, filename=name, budget_seconds=0.2)
            slowest = max(slowest, time.monotonic() - started)
            statuses.append(answer.status)
            assert answer.lines and name in answer.lines[0]
            if answer.status != "progress":
                break
        assert answer.status == "success", answer
    assert statuses.count("progress") >= 2
    assert slowest < 3.0  # budget 0.2 s, plus copying the file on the first poll and a loaded test machine
    # Polling again after success changes nothing and answers success again.
    before = catalog_dump()
    again = api.import_poll(run=run, folder=folder, filename="import.xml", budget_seconds=0.2)
    assert again.status == "success" and catalog_dump() == before
    assert Product.objects.count() == 2000
    for job in ImportJob.objects.all():
        thread = worker.running_thread(job.pk)
        if thread is not None:
            thread.join(5)


def test_full_upload_in_several_files_hides_once_at_finalize(gen, tmp_path):
    old = gen("old", "--products", 50)
    api.run_files_now(old, ["import.xml", "offers.xml"])
    new = gen("new", "--products", 40)
    text = (new / "import.xml").read_text("utf-8")
    head, _sep, rest = text.partition("<Товар>")
    items = ("<Товар>" + rest).split("</Товары>")[0].split("<Товар>")[1:]
    tail = text[text.index("</Товары>"):]
    for index, part in enumerate((items[:20], items[20:])):
        (new / f"import0_{index + 1}.xml").write_text(head + "".join("<Товар>" + i for i in part) + tail, "utf-8")
    run = ExchangeRun.objects.create(kind="catalog")
    for name in ("import0_1.xml", "import0_2.xml", "offers.xml"):
        assert poll_until_done(run, new, name).status == "success"
        assert not Product.objects.filter(is_active=False).exists()
    answer = api.finalize_run(run=run, reason="deactivate")
    assert answer.status == "success" and "10" in answer.lines[0], answer
    assert Product.objects.filter(is_active=False).count() == 10
    Product.objects.update(is_active=True)
    api.finalize_run(run=run, reason="complete")
    assert not Product.objects.filter(is_active=False).exists()  # once per run


def test_classic_single_import_hides_at_its_end(gen):
    api.run_files_now(gen("old", "--products", 50), ["import.xml"])
    new = gen("new", "--products", 40)
    run = ExchangeRun.objects.create(kind="catalog")
    assert poll_until_done(run, new, "import.xml").status == "success"
    assert Product.objects.filter(is_active=False).count() == 10


def test_changes_only_hides_nothing_at_finalize(gen):
    api.run_files_now(gen("old", "--products", 50), ["import.xml"])
    changes = gen("changes", "--products", 50, "--changes-only")
    run = ExchangeRun.objects.create(kind="catalog")
    assert poll_until_done(run, changes, "import.xml").status == "success"
    api.finalize_run(run=run, reason="deactivate")
    assert not Product.objects.filter(is_active=False).exists()
