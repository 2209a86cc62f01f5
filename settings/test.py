"""Test settings: only what makes the suite fast and isolated."""

import tempfile
from pathlib import Path

from settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
_tmp = Path(tempfile.mkdtemp(prefix="obmen-test-"))
MEDIA_ROOT = _tmp / "media"
EXCHANGE_ROOT = _tmp / "exchange"
EXCHANGE_BACKUP_ROOT = _tmp / "backups"
LANGUAGE_CODE = "ru"
# Live-server (browser) tests hand connections to other threads; persistent ones would
# outlive the test and block PostgreSQL's test-database teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The importer's worker threads (and live-server tests) use connections of their own. An
# in-memory SQLite test database (shared cache) answers them "database table is locked" at
# once instead of waiting; a file in the tmp folder (WAL, busy timeout) waits, as production does.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(_tmp / "test.sqlite3")}  # noqa: F405
