"""The whole catalog exchange over HTTP, as 1C runs it, against the server as deployed.

For each database and catalog size: gen_catalog.py writes the files (--variants-share 0.3,
two price types, two warehouses), bench/floor.py measures the floor on the same files, a
gunicorn server (2 workers x 4 threads, DEBUG off) starts on a fresh database, and the
1C side (shared/tools/onec.py's OneC, driven step by step so that each phase is timed)
runs checkauth -> init -> file fragments at file_limit -> import polls -> deactivate ->
complete. Three runs on the same server: the full catalog, the same files again (nothing
changed), and a changes-only package with 10% of the products' prices revised.

    .venv/bin/python bench/exchange_catalog.py                      # 10k and 100k, SQLite and PostgreSQL
    .venv/bin/python bench/exchange_catalog.py --sizes 1000,5000 --db sqlite --step-seconds 5
    .venv/bin/python bench/exchange_catalog.py --sizes 10000 --layout split --zip --profile /tmp/prof

Columns: upload s and MB/s (all file requests), import s (first import poll to the last
`success`), floor s (bench/floor.py, same files, same database kind), products/s over the
import phase, e2e s (checkauth to the answer to complete), longest answer of any request,
slowest file fragment, import polls, peak RSS of the largest server process and of all of
them together (VmHWM, reset before each run), database size after the run, and the
database write work:
  SQLite      MB written to storage by the server processes (/proc/<pid>/io write_bytes) from
              the first import poll to the answer to complete: the database, its WAL and
              whatever the import writes beside them (the uploaded files are not counted);
  PostgreSQL  rows inserted + updated + deleted in the database over the whole exchange
              (pg_stat_database; the upload phase adds only its log rows).
A run that breaks the protocol is shown with its fault and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

ZIP_NAME = "v8_3B8F_3e.zip"  # 1C names the archive itself; the site must not rely on the name
RUNS = ("full", "unchanged", "10% prices")
COLUMNS = [
    ("db", "db"), ("products", "products"), ("run", "run"), ("upload_s", "upload s"), ("upload_mb_s", "MB/s"),
    ("import_s", "import s"), ("floor_s", "floor s"), ("products_s", "products/s"), ("e2e_s", "e2e s"),
    ("longest_s", "longest s"), ("fragment_s", "fragment s"), ("polls", "polls"), ("rss_max_mb", "RSS MB"),
    ("rss_sum_mb", "RSS all MB"), ("db_mb", "DB MB"), ("writes", "DB writes"), ("fault", "fault"),
]


@dataclass
class Run:
    db: str
    products: int
    run: str
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    upload_s: float | None = None
    upload_mb_s: float | None = None
    import_s: float | None = None
    floor_s: float | None = None
    products_s: float | None = None
    e2e_s: float | None = None
    longest_s: float | None = None
    longest_request: str = ""
    fragment_s: float | None = None
    fragments: int = 0
    polls: int = 0
    rss_max_mb: float | None = None
    rss_sum_mb: float | None = None
    db_mb: float | None = None
    writes: str | None = None
    write_units: float | None = None
    answers: list[str] = field(default_factory=list)
    write_tables: str = ""
    fault: str = ""


class GiveUp(Exception):
    pass


def run_exchange(onec, server: common.Server, catalog: common.Catalog, *, use_zip: bool, full: bool,
                 max_polls: int, give_up_s: float, on_import_start=None) -> dict:
    """One exchange of `catalog` as 1C runs it; returns the timings (seconds) and the last answers.

    `on_import_start()` is called right before the first import poll (it must be quick).
    """
    c = onec.OneC(server.exchange_url, common.EXCHANGE_USER, server.password, timeout=max(give_up_s, 120))
    payloads = ([(ZIP_NAME, onec.pack([str(p) for p in catalog.files], None))] if use_zip
                else [(p.name, p.read_bytes()) for p in catalog.files])
    out = {"bytes": sum(len(data) for _name, data in payloads)}
    t0 = time.perf_counter()
    c.checkauth("catalog")
    _zip, limit, _init = c.init("catalog")
    out["file_limit"] = limit
    up0 = time.perf_counter()
    for name, data in payloads:
        c.upload("catalog", name, data, limit)
    out["upload_s"] = time.perf_counter() - up0
    out["fragments"] = [e["seconds"] for e in c.log if e["params"].get("mode") == "file"]
    if on_import_start is not None:
        on_import_start()
    out["import_started"] = time.perf_counter()
    polls = 0
    answers = []
    for path in catalog.files:
        while True:
            if time.perf_counter() - t0 > give_up_s:
                raise GiveUp(f"gave up after {give_up_s:.0f} s ({polls} polls, at {path.name})")
            status, lines, _dt = c.lines({"type": "catalog", "mode": "import", "filename": path.name})
            polls += 1
            if status != 200 or not lines or lines[0] not in ("success", "progress"):
                raise onec.ProtocolFault(f"import {path.name}: HTTP {status}, answer {lines[:3]}")
            if lines[0] == "success":
                answers.append(" / ".join(lines[1:3]))
                break
            if polls >= max_polls:
                raise onec.ProtocolFault(f"import {path.name}: still 'progress' after {max_polls} polls")
    out["import_s"] = time.perf_counter() - out["import_started"]
    if full and c.timestamp:  # 1C sends deactivate only after a full upload
        status, lines, _dt = c.lines({"type": "catalog", "mode": "deactivate", "timestamp": c.timestamp})
        if status != 200 or not lines or lines[0] != "success":
            raise onec.ProtocolFault(f"deactivate: HTTP {status}, answer {lines[:3]}")
    status, lines, _dt = c.lines({"type": "catalog", "mode": "complete"})
    if status != 200 or not lines or lines[0] != "success":
        raise onec.ProtocolFault(f"complete: HTTP {status}, answer {lines[:3]}")
    out["e2e_s"] = time.perf_counter() - t0
    out["polls"] = polls
    slowest = max(c.log, key=lambda e: e["seconds"])
    out["longest_s"] = slowest["seconds"]
    out["longest_request"] = f"{slowest['params'].get('mode')} {slowest['params'].get('filename', '')}".strip()
    out["answers"] = answers
    return out


def measure(onec, server: common.Server, catalog: common.Catalog, row: Run, args, *, full: bool) -> Run:
    row.files = [p.name for p in catalog.files]
    server.sampler.reset()
    # PostgreSQL: the whole exchange (a settled reading takes a second or more, too slow to
    # take between upload and import; the upload phase writes only a few log rows).
    # SQLite: from the first import poll on, so that the uploaded files do not count.
    writes_before = [None if server.db == "sqlite" else server.database.tuples_written_settled()]
    tables_before = server.database.table_writes() if server.db == "postgres" else {}

    def import_starts():
        if server.db == "sqlite":
            writes_before[0] = server.write_bytes()

    try:
        got = run_exchange(onec, server, catalog, use_zip=args.zip, full=full, max_polls=args.max_polls,
                           give_up_s=args.give_up, on_import_start=import_starts)
    except (onec.ProtocolFault, GiveUp, OSError) as error:
        row.fault = str(error)[:300]
        print(f"  FAULT {row.db} {row.products} {row.run}: {row.fault}\n{server.log_tail(15)}", file=sys.stderr)
        return row
    rss = server.sampler.result()
    if server.db == "sqlite":
        row.write_units = (server.write_bytes() - writes_before[0]) / common.MB
        row.writes = f"{row.write_units:.1f} MB"
    else:
        row.write_units = server.database.tuples_written_settled() - writes_before[0]
        after = server.database.table_writes()
        delta = {name: n - tables_before.get(name, 0) for name, n in after.items()}
        row.write_tables = ", ".join(f"{name} {n:,}" for name, n in sorted(delta.items(), key=lambda kv: -kv[1])[:6]
                                     if n)
        row.writes = f"{int(row.write_units):,} rows"
    row.bytes = got["bytes"]
    row.upload_s = got["upload_s"]
    row.upload_mb_s = got["bytes"] / common.MB / got["upload_s"] if got["upload_s"] else None
    row.import_s = got["import_s"]
    row.products_s = catalog.products / got["import_s"] if got["import_s"] else None
    row.e2e_s = got["e2e_s"]
    row.longest_s = got["longest_s"]
    row.longest_request = got["longest_request"]
    row.fragments = len(got["fragments"])
    row.fragment_s = max(got["fragments"], default=None)
    row.polls = got["polls"]
    row.rss_max_mb = rss["max_mb"]
    row.rss_sum_mb = rss["sum_mb"]
    row.db_mb = server.database.size_bytes() / common.MB
    row.answers = got["answers"]
    return row


def targets(rows: list[Run], step_seconds: float) -> list[tuple[bool | None, str]]:
    """(ok, text) for every target of the issue that these rows can judge."""
    out = []
    by_key = {(r.db, r.products, r.run): r for r in rows}
    for r in rows:
        tag = f"{r.db} {r.products:,} {r.run}:"
        if r.fault:
            out.append((False, f"{tag} exchange failed: {r.fault}"))
            continue
        if r.floor_s:
            out.append((r.import_s <= 2 * r.floor_s,
                        f"{tag} import phase {r.import_s:.2f} s <= 2 x floor {r.floor_s:.2f} s"))
        out.append((r.upload_mb_s >= 50, f"{tag} upload {r.upload_mb_s:.1f} MB/s >= 50 MB/s"))
        if r.db == "sqlite" and r.products == 10_000 and r.run == RUNS[0]:
            out.append((r.e2e_s < 10, f"{tag} 10k end to end {r.e2e_s:.2f} s < 10 s"))
        out.append((r.rss_max_mb <= 150, f"{tag} peak RSS {r.rss_max_mb:.0f} MB <= 150 MB (largest process)"))
        out.append((r.longest_s <= step_seconds + 2,
                    f"{tag} longest answer {r.longest_s:.2f} s ({r.longest_request}) <= step {step_seconds:g} + 2 s"))
        if r.fragment_s is not None:
            out.append((r.fragment_s < 2, f"{tag} slowest file fragment {r.fragment_s:.2f} s < 2 s"))
        first = by_key.get((r.db, r.products, RUNS[0]))
        if r.run == RUNS[1] and first and not first.fault:
            out.append((r.e2e_s <= 0.5 * first.e2e_s,
                        f"{tag} unchanged re-import {r.e2e_s:.2f} s <= 0.5 x first {first.e2e_s:.2f} s"))
            if first.write_units:
                unit = "MB" if r.db == "sqlite" else "rows"
                out.append((r.write_units <= 0.1 * first.write_units,
                            f"{tag} DB writes {r.write_units:,.1f} {unit} <= 0.1 x first {first.write_units:,.1f}"))
    sizes = sorted({r.products for r in rows})
    for db in sorted({r.db for r in rows}):
        small, big = by_key.get((db, 10_000, RUNS[0])), by_key.get((db, 100_000, RUNS[0]))
        if len(sizes) > 1 and not (small and big):
            small, big = by_key.get((db, sizes[0], RUNS[0])), by_key.get((db, sizes[-1], RUNS[0]))
        if small and big and small is not big and not small.fault and not big.fault:
            out.append((big.rss_max_mb <= 1.2 * small.rss_max_mb,
                        f"{db}: peak RSS at {big.products:,} ({big.rss_max_mb:.0f} MB) within 20% of "
                        f"{small.products:,} ({small.rss_max_mb:.0f} MB)"))
    return out


def catalogs_for(size: int, args, root: Path) -> tuple[common.Catalog, common.Catalog]:
    base = root / f"cml{size}-{args.layout}"
    full = common.gen_catalog(base / "full", size, layout=args.layout)
    changes = common.gen_catalog(base / "changes", size, layout=args.layout, changes_only=True,
                                 changes_share=0.1)
    print(f"  catalog {size:,}: {full.products:,} products, {full.offers:,} offers, "
          f"{full.bytes / common.MB:.0f} MB written in {full.seconds:.1f} s; changes-only "
          f"{changes.products:,} products, {changes.bytes / common.MB:.1f} MB", file=sys.stderr)
    return full, changes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000", help="products per catalog, comma-separated")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--layout", choices=("classic", "split"), default="classic")
    p.add_argument("--zip", action="store_true", help="send one zip archive (default: plain files, zip=no)")
    p.add_argument("--no-zip", dest="zip", action="store_false")
    p.add_argument("--runserver", action="store_true", help="manage.py runserver instead of gunicorn")
    p.add_argument("--step-seconds", type=int, help="set the exchange's step time before the run")
    p.add_argument("--runs", type=int, choices=(1, 2, 3), default=3,
                   help="1: full only; 2: + unchanged re-import; 3: + 10%% prices changed")
    p.add_argument("--max-polls", type=int, default=5000)
    p.add_argument("--give-up", type=float, default=1800, help="seconds one exchange may take")
    p.add_argument("--no-floor", action="store_true", help="skip bench/floor.py")
    p.add_argument("--profile", type=Path, help="py-spy record the server into this folder, summarise it")
    p.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second")
    p.add_argument("--workdir", type=Path, help="where catalogs go (default: a temporary folder, removed)")
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = p.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in dbs and not common.postgres_available():
        print(f"PostgreSQL not reachable at {common.PG_ADMIN_DSN}: skipped", file=sys.stderr)
        dbs.remove("postgres")
    onec = common.load_onec()
    root = args.workdir or Path(common.tempfile.mkdtemp(prefix="obmen-bench-cml-"))
    settings = {"use_zip": args.zip}
    if args.step_seconds:
        settings["step_seconds"] = args.step_seconds
    step = args.step_seconds or 20
    rows: list[Run] = []
    profiles = []
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    try:
        for size in sizes:
            full, changes = catalogs_for(size, args, root)
            for db in dbs:
                floors = {}
                if not args.no_floor:
                    for name, cat in (("full", full), ("changes", changes)):
                        floors[name] = common.floor(cat.folder, db)["seconds"]
                with common.Server(db=db, runserver=args.runserver, exchange_settings=settings) as server:
                    plan = [(RUNS[0], full, True, floors.get("full")), (RUNS[1], full, True, floors.get("full")),
                            (RUNS[2], changes, False, floors.get("changes"))][:args.runs]
                    for name, cat, is_full, floor_s in plan:
                        row = Run(db=db, products=cat.products, run=name, floor_s=floor_s)
                        if args.profile:
                            out = args.profile / f"{db}-{size}-{name.split()[0].strip('%')}.txt"
                            with common.Profiler(server, out, rate=args.profile_rate) as prof:
                                measure(onec, server, cat, row, args, full=is_full)
                            profiles.append((f"{db} {size:,} {name}", prof))
                        else:
                            measure(onec, server, cat, row, args, full=is_full)
                        rows.append(row)
                        print(f"  {db} {row.products:,} {name}: e2e {row.e2e_s or 0:.1f} s, import "
                              f"{row.import_s or 0:.1f} s {row.fault}", file=sys.stderr)
    finally:
        if not args.workdir:
            common.shutil.rmtree(root, ignore_errors=True)

    m = common.machine()
    print(f"Load average (1 min) at the start {load_start:.2f}, at the end {os.getloadavg()[0]:.2f} (other work on "
          f"the box skews every figure)")
    print(f"Catalog exchange over HTTP ({'runserver' if args.runserver else 'gunicorn 2 workers x 4 threads'}, "
          f"layout {args.layout}, zip {'on' if args.zip else 'off'}, step {step} s); machine: {m['nproc']} CPUs "
          f"{m['cpu']}, {m['memory']}, Python {m['python']}; {time.perf_counter() - started:.0f} s in all")
    print(common.table([asdict(r) for r in rows], COLUMNS))
    print()
    print("Targets:")
    for ok, text in targets(rows, step):
        print(f"  {common.verdict(ok)}  {text}")
    for r in rows:
        if r.answers:
            print(f"  answers {r.db} {r.products:,} {r.run}: {' | '.join(r.answers)}")
        if r.write_tables:
            print(f"  rows written by table, {r.db} {r.products:,} {r.run}: {r.write_tables}")
    for title, prof in profiles:
        print(f"\nProfile {title} ({prof.out}):\n{prof.summary()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
    return 1 if any(r.fault for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
