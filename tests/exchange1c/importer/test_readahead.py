"""A package's next files are read by a second process while an earlier one imports (readahead.py)."""

import logging
import os
import time
from pathlib import Path

import pytest

from catalog.models import Product
from exchange1c.importer import api, pipeline, readahead
from exchange1c.models import ExchangeRun, ExchangeSettings, ImportJob
from tests.exchange1c.importer.conftest import catalog_dump
from tests.exchange1c.importer.test_resume import poll_until_done, reference_dump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reading_ahead(settings):
    settings.EXCHANGE_READ_AHEAD_BYTES = 1  # every file of the package
    yield
    assert readahead.wait_readers(60)


def _names(folder: Path, name: str):
    return readahead._names(pipeline.read_ahead_root(), folder / name)


def _exchange(folder: Path) -> ExchangeRun:
    run = ExchangeRun.objects.create(kind="catalog")
    assert poll_until_done(run, folder, "import.xml").status == "success"
    assert poll_until_done(run, folder, "offers.xml").status == "success"
    api.finalize_run(run=run, reason="complete")
    return run


def test_the_next_file_is_read_by_another_process_and_imports_as_if_read_in_turn(gen, reading_ahead, caplog):
    folder = gen("cat", "--products", 200, "--variants-share", 0.3)
    expected = reference_dump(folder)
    run = ExchangeRun.objects.create(kind="catalog")
    api.import_poll(run=run, folder=folder, filename="import.xml", budget_seconds=0.5)
    assert readahead.wait_readers(60)  # a real `python -m exchange1c.importer.readahead` process
    offers = _names(folder, "offers.xml")
    assert offers.meta.exists() and offers.records.exists() and not offers.claim.exists()
    assert not _names(folder, "import.xml").meta.exists()  # the file being imported is never read ahead
    with caplog.at_level(logging.INFO, logger="exchange1c.importer.pipeline"):
        assert poll_until_done(run, folder, "import.xml").status == "success"
        assert poll_until_done(run, folder, "offers.xml").status == "success"
    api.finalize_run(run=run, reason="complete")
    assert "offers.xml was read ahead by another process" in caplog.text
    assert catalog_dump() == expected
    job = ImportJob.objects.get(run=run, filename="offers.xml")
    assert job.created + job.updated == job.items_total > 300 and job.warning_count == 0
    assert not (offers.meta.exists() or offers.records.exists() or offers.claim.exists())

    # The same package again: read ahead again, screened against the catalog the first left.
    run = _exchange(folder)
    job = ImportJob.objects.get(run=run, filename="offers.xml")
    assert (job.created, job.updated, job.unchanged) == (0, 0, job.items_total)
    assert catalog_dump() == expected


def test_a_file_uploaded_again_after_it_was_read_ahead_is_read_anew(gen, reading_ahead):
    folder = gen("cat", "--products", 80, "--variants-share", 0.3)
    expected = reference_dump(folder)
    offers = folder / "offers.xml"
    good = offers.read_bytes()
    offers.write_bytes(good[: len(good) // 2])  # an upload cut short, read ahead as it stood
    assert readahead.read_file(pipeline.read_ahead_root(), offers, "")
    assert _names(folder, "offers.xml").meta.exists()
    offers.write_bytes(good)
    os.utime(offers, ns=(time.time_ns(), time.time_ns() + 10**9))  # however coarse the clock
    _exchange(folder)
    assert catalog_dump() == expected


def test_a_malformed_file_read_ahead_fails_with_the_reason_it_fails_unread(gen, settings):
    folder = gen("cat", "--products", 60)
    text = (folder / "import.xml").read_text("utf-8")
    (folder / "import.xml").write_text(text[: len(text) // 2], "utf-8")
    settings.EXCHANGE_READ_AHEAD_BYTES = 0
    unread = poll_until_done(ExchangeRun.objects.create(kind="catalog"), folder, "import.xml")
    settings.EXCHANGE_READ_AHEAD_BYTES = 1
    assert readahead.read_file(pipeline.read_ahead_root(), folder / "import.xml", "")
    read_ahead = poll_until_done(ExchangeRun.objects.create(kind="catalog"), folder, "import.xml")
    assert unread.status == read_ahead.status == "failure"
    assert read_ahead.lines == unread.lines and "import.xml" in read_ahead.lines[0]
    assert not Product.objects.exists()
    assert not _names(folder, "import.xml").meta.exists()


def test_digests_made_with_another_brand_setting_are_made_again(gen, reading_ahead):
    folder = gen("cat", "--products", 80, "--variants-share", 0.3)
    options = ExchangeSettings.get_solo()
    options.brand_property = "Производитель"
    options.save()
    expected = reference_dump(folder)
    root = pipeline.read_ahead_root()
    assert readahead.read_file(root, folder / "import.xml", "")  # read before the setting was changed
    assert readahead.read_file(root, folder / "offers.xml", "")
    _exchange(folder)
    assert catalog_dump() == expected  # source hashes included: as made with the setting in force


def test_a_dead_readers_claim_does_not_hold_the_import_up(gen, reading_ahead):
    folder = gen("cat", "--products", 40)
    expected = reference_dump(folder)
    root = pipeline.read_ahead_root()
    root.mkdir(parents=True, exist_ok=True)
    claim = _names(folder, "import.xml").claim
    claim.write_text("reader 999999", "ascii")
    stale = time.time() - readahead.CLAIM_STALE_SECONDS - 5
    os.utime(claim, (stale, stale))
    started = time.monotonic()
    _exchange(folder)
    assert time.monotonic() - started < readahead.CLAIM_STALE_SECONDS
    assert catalog_dump() == expected
    assert not claim.exists()


def test_a_job_waits_for_the_reader_that_has_its_file(gen, reading_ahead, tmp_path):
    """A live reader's claim: the job beats its heartbeat and takes the reader's records when they come."""
    folder = gen("cat", "--products", 40)
    expected = reference_dump(folder)
    root = pipeline.read_ahead_root()
    root.mkdir(parents=True, exist_ok=True)
    names = _names(folder, "import.xml")
    names.claim.write_text("reader 999999", "ascii")  # fresh: a reader that is still reading
    run = ExchangeRun.objects.create(kind="catalog")
    first = api.import_poll(run=run, folder=folder, filename="import.xml", budget_seconds=1.0)
    assert first.status == "progress"
    job = ImportJob.objects.get(run=run, filename="import.xml")
    assert job.state == ImportJob.State.READING
    # The reader finishes: its records and summary appear, then its claim goes.
    aside = readahead._names(tmp_path / "aside", folder / "import.xml")
    aside.claim.parent.mkdir()
    assert readahead.read_file(aside.claim.parent, folder / "import.xml", "")
    os.replace(aside.records, names.records)
    os.replace(aside.meta, names.meta)
    names.claim.unlink()
    assert poll_until_done(run, folder, "import.xml").status == "success"
    assert poll_until_done(run, folder, "offers.xml").status == "success"
    api.finalize_run(run=run, reason="complete")
    assert catalog_dump() == expected
    assert not names.meta.exists()


def test_init_sweeps_what_earlier_packages_read_ahead(gen, reading_ahead):
    folder = gen("cat", "--products", 20)
    root = pipeline.read_ahead_root()
    assert readahead.read_file(root, folder / "offers.xml", "")
    names = _names(folder, "offers.xml")
    assert names.meta.exists()
    api.init_exchange(run=None)
    assert not (names.meta.exists() or names.records.exists())
