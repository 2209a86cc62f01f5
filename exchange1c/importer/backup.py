"""Setting 3: a copy of the database before an exchange's first visible write (PROTOCOL.md §5).

SQLite: the sqlite3 online backup API (a consistent copy while the site keeps running).
PostgreSQL: `pg_dump --format=custom` when the program is installed. Files go to
settings.EXCHANGE_BACKUP_ROOT as `obmen-<UTC time>.sqlite3` / `.dump`; only the newest
`backup_keep` stay. Restore (see README):

  SQLite:      stop the site; cp var/backups/obmen-<time>.sqlite3 db.sqlite3; start the site.
  PostgreSQL:  pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL" var/backups/obmen-<time>.dump
"""

import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

PREFIX = "obmen-"


def database_size_bytes() -> int:
    """The current database's size as the server counts it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return pages * cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    return 0


def backup_database(*, size_limit_mb: int, keep: int) -> tuple[Path | None, str]:
    """Back the database up; returns (file or None, what happened in one line for the log).

    Never raises for an expected problem (too big, no pg_dump, disk error): the exchange
    goes on and the reason is reported.
    """
    size = database_size_bytes()
    if size_limit_mb and size > size_limit_mb * 1024 * 1024:
        return None, f"skipped: the database is {size // (1024 * 1024)} MB, above the {size_limit_mb} MB limit"
    root = Path(settings.EXCHANGE_BACKUP_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    try:
        if connection.vendor == "sqlite":
            target = root / f"{PREFIX}{stamp}.sqlite3"
            name = str(connection.settings_dict["NAME"])
            if name == ":memory:" or name.startswith("file:"):
                return None, "skipped: an in-memory database has no file to copy"
            # A connection of its own: SQLite refuses a backup step from a connection that is
            # writing, and in WAL mode a reader never waits for the site's writers.
            source = sqlite3.connect(name, timeout=30)
            destination = sqlite3.connect(target)
            try:
                source.backup(destination, pages=4096, sleep=0.05)
            finally:
                destination.close()
                source.close()
        elif connection.vendor == "postgresql":
            if shutil.which("pg_dump") is None:
                return None, "skipped: pg_dump is not installed"
            target = root / f"{PREFIX}{stamp}.dump"
            params = connection.get_connection_params()
            env = dict(os.environ)
            if params.get("password"):
                env["PGPASSWORD"] = str(params["password"])
            command = ["pg_dump", "--format=custom", f"--file={target}", "--no-owner", "--lock-wait-timeout=60000"]
            for flag, key in (("--host", "host"), ("--port", "port"), ("--username", "user")):
                if params.get(key):
                    command.append(f"{flag}={params[key]}")
            command.append(params.get("dbname") or connection.settings_dict["NAME"])
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
            if result.returncode != 0:
                target.unlink(missing_ok=True)
                return None, f"failed: pg_dump: {result.stderr.strip()[:300]}"
        else:
            return None, f"skipped: no backup method for {connection.vendor}"
    except (OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
        logger.exception("database backup failed")
        return None, f"failed: {exc}"
    _prune(root, keep)
    return target, f"saved to {target}"


def _prune(root: Path, keep: int) -> None:
    files = sorted(root.glob(f"{PREFIX}*"), key=lambda p: p.name, reverse=True)
    for old in files[max(keep, 1):]:
        old.unlink(missing_ok=True)
