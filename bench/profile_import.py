"""Time the importer alone (no HTTP): a first import of a catalog folder, then the same files again.

    .venv/bin/python bench/profile_import.py /tmp/cat10k [--db sqlite|postgres] [--runs 2]

Makes a throwaway database (a temp SQLite file, or PostgreSQL database `obmen_profile_import`
on DATABASE_URL's server), migrates it, and calls `run_files_now(import.xml, offers.xml)`
`--runs` times, printing seconds, peak RSS and, on PostgreSQL, rows written (pg_stat).
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

    files = [n for n in ("import.xml", "offers.xml") if (args.folder / n).exists()]
    for run in range(args.runs):
        before = written()
        start = time.perf_counter()
        cpu = time.process_time()
        answers = run_files_now(args.folder, files)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after = written()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        status = [a.status for a in answers]
        extra = f" rows_written={after - before}" if before is not None else ""
        print(f"run {run + 1}: {seconds:.2f} s (this process's CPU {cpu:.2f} s), peak RSS {peak:.0f} MiB, "
              f"{status}{extra}")
        for a in answers:
            print("   ", a.lines[:2])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
