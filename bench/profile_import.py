"""Time the importer alone (no HTTP): a first import of a catalog folder, then the same files again.

    .venv/bin/python bench/profile_import.py /tmp/cat10k [--db sqlite|postgres] [--runs 2]

Makes a throwaway database (a temp SQLite file, or PostgreSQL database `obmen_profile_import`
on DATABASE_URL's server), migrates it, and calls `run_files_now(import.xml, offers.xml)`
`--runs` times (`--polls`: by `import` polls of one exchange each), printing seconds, peak RSS
and, on PostgreSQL, rows written (pg_stat).
Use it under py-spy: `py-spy record -o /tmp/p.svg -- .venv/bin/python bench/profile_import.py ...`.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--dsn", default="postgres://postgres@127.0.0.1:5432/obmen_profile_import")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sqlite", type=Path, help="use (and keep) this SQLite file instead of a fresh one")
    parser.add_argument("--polls", action="store_true",
                        help="drive each file by `import` polls of one exchange, as 1C does (reads the next file "
                             "ahead in a second process), instead of importing them one after the other in this thread")
    parser.add_argument("--sql-times", action="store_true",
                        help="print the statements that took the most time, grouped by their first words")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="profile-import-"))
    if args.db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{args.sqlite or work / 'db.sqlite3'}"
    else:
        import psycopg

        base, _sep, name = args.dsn.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = args.dsn
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    os.environ.setdefault("EXCHANGE_ROOT", str(work / "exchange"))
    os.environ.setdefault("MEDIA_ROOT", str(work / "media"))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    from exchange1c.importer.api import run_files_now

    print(f"db={connection.vendor}")

    def written():
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables")
            return int(cursor.fetchone()[0])

    statements = _StatementTimes()
    if args.sql_times:
        connection.execute_wrappers.append(statements)

    files = [n for n in ("import.xml", "offers.xml") if (args.folder / n).exists()]
    for run in range(args.runs):
        io_before = _write_bytes()
        before = written()
        start = time.perf_counter()
        cpu = time.process_time()
        answers = _exchange(args.folder, files) if args.polls else run_files_now(args.folder, files)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after = written()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        status = [a.status for a in answers]
        extra = f" rows_written={after - before}" if before is not None else ""
        io_mb = (_write_bytes() - io_before) / 2**20
        print(f"run {run + 1}: {seconds:.2f} s (this process's CPU {cpu:.2f} s), peak RSS {peak:.0f} MiB, "
              f"wrote {io_mb:.0f} MB to storage, {status}{extra}")
        for a in answers:
            print("   ", a.lines[:2])
        _print_stages(len(files))
        if args.sql_times:
            statements.report()
    return 0


def _exchange(folder: Path, files: list[str]):
    """The files of one package, each polled until it answers, then `complete` (as exchange_catalog.py's 1C does)."""
    from exchange1c.importer import api
    from exchange1c.models import ExchangeRun

    run = ExchangeRun.objects.create(kind="catalog")
    answers = []
    for name in files:
        answer = api.import_poll(run=run, folder=folder, filename=name, budget_seconds=20)
        while answer.status == "progress":
            answer = api.import_poll(run=run, folder=folder, filename=name, budget_seconds=20)
        answers.append(answer)
    api.finalize_run(run=run, reason="complete")
    return answers


def _print_stages(count: int) -> None:
    """Each of the last `count` jobs' reading (stage 1) and applying (stage 2) seconds."""
    from exchange1c.models import ImportJob

    for job in reversed(ImportJob.objects.order_by("-pk")[:count]):
        if job.apply_started_at and job.finished_at:
            reading = (job.apply_started_at - job.created_at).total_seconds()
            applying = (job.finished_at - job.apply_started_at).total_seconds()
            print(f"    {job.filename}: reading {reading:.2f} s, applying {applying:.2f} s")


def _write_bytes() -> int:
    """Bytes this process has written to storage so far (Linux /proc/self/io), 0 where unknown."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class _StatementTimes:
    """A connection execute wrapper summing wall time per statement shape (literals and lists folded)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            import re

            key = re.sub(r"(%s|\?)(, (%s|\?))+", "…", str(sql))[:150]
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - start
            self.calls[key] = self.calls.get(key, 0) + 1

    def report(self, top: int = 25) -> None:
        total = sum(self.seconds.values())
        print(f"  SQL: {total:.2f} s in {sum(self.calls.values())} calls")
        for key, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {seconds:7.2f} s {self.calls[key]:6d}x  {key}")
        self.seconds.clear()
        self.calls.clear()


if __name__ == "__main__":
    raise SystemExit(main())
