"""Fixtures every test module may use."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def shared_dir() -> Path | None:
    """`$OBMEN_SHARED_DIR`, else the `shared/` beside the repository; None when absent."""
    for candidate in (os.environ.get("OBMEN_SHARED_DIR"), REPO.parent / "shared"):
        if candidate and Path(candidate, "corpus").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared():
    """The shared folder (corpus, tools, xsd). Absent: skip, except under CI where it must be there."""
    path = shared_dir()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("../shared (or $OBMEN_SHARED_DIR) is missing; CI must have the corpus")
        pytest.skip("../shared (or $OBMEN_SHARED_DIR) not found: corpus tests skipped")
    return path


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached rows (ExchangeSettings.get_solo()) must not outlive a rolled-back test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _importer_threads_joined():
    """No import worker thread outlives its test (it would write into the next test's data)."""
    yield
    from exchange1c.importer import worker

    still = worker.join_all(timeout=120)
    assert not still, f"import worker threads still running after the test: jobs {still}"


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes media and exchange files into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXCHANGE_ROOT = tmp_path / "exchange"
    settings.EXCHANGE_BACKUP_ROOT = tmp_path / "backups"
