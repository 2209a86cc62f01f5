"""Shared helpers of the benchmark scripts: a real server on a fresh database, and what to measure on it.

`Server` starts the site as deployed (gunicorn, 2 workers x 4 threads, DEBUG off) or with
`manage.py runserver`, on a free loopback port, with a fresh SQLite file or a fresh
PostgreSQL database, its own EXCHANGE_ROOT/MEDIA_ROOT/STATIC_ROOT in a temporary folder,
and stops it (dropping the PostgreSQL database) on exit. While it runs, a sampler thread
keeps the peak RSS (VmHWM) of every server process. Nothing here imports Django: the
scripts talk to the site over HTTP and run `manage.py` in child processes, so what they
measure is the deployed server, not the benchmark's own process.

Environment: OBMEN_SHARED_DIR (else ../shared beside the repository) for gen_catalog.py and
onec.py; BENCH_PG_DSN (default postgres://postgres@127.0.0.1:5432/postgres) for the
PostgreSQL server the fresh databases are created on.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
EXCHANGE_USER = "bench"
MB = 1024 * 1024


# --- shared tools -----------------------------------------------------------------------
def shared_dir() -> Path:
    """`$OBMEN_SHARED_DIR`, else the `shared/` beside the repository; SystemExit when neither has tools/."""
    for candidate in (os.environ.get("OBMEN_SHARED_DIR"), REPO.parent / "shared"):
        if candidate and (Path(candidate) / "tools" / "onec.py").is_file():
            return Path(candidate)
    raise SystemExit("shared/ not found: set OBMEN_SHARED_DIR to the folder holding tools/onec.py")


def load_onec():
    """shared/tools/onec.py as a module, so a benchmark can time each request of the 1C side itself."""
    path = shared_dir() / "tools" / "onec.py"
    spec = importlib.util.spec_from_file_location("obmen_bench_onec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Catalog:
    """A folder written by gen_catalog.py: its XML files in the order 1C imports them."""

    folder: Path
    files: list[Path]
    products: int
    offers: int
    seconds: float

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)


_IMPORT_ORDER = ("import", "offers", "prices", "rests")


def _import_rank(path: Path) -> tuple[int, str]:
    for rank, prefix in enumerate(_IMPORT_ORDER):
        if path.name.startswith(prefix):
            return rank, path.name
    return len(_IMPORT_ORDER), path.name


def gen_catalog(out: Path, products: int, *, variants_share: float = 0.3, layout: str = "classic",
                changes_only: bool = False, changes_share: float = 0.1, seed: int = 1) -> Catalog:
    """Write a catalog with shared/tools/gen_catalog.py (two price types, two warehouses: its defaults).

    A folder this function already wrote with the same options is reused (seconds=0).
    """
    out = Path(out)
    cmd = [sys.executable, str(shared_dir() / "tools" / "gen_catalog.py"), "--products", str(products),
           "--variants-share", str(variants_share), "--layout", layout, "--seed", str(seed), "--out", str(out)]
    if changes_only:
        cmd += ["--changes-only", "--changes-share", str(changes_share)]
    # gen_catalog is deterministic: a folder written by the same command is reused as it is.
    marker = out / ".bench.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads(marker.read_text())
        if saved["cmd"][1:] == cmd[1:]:
            files = sorted(out.glob("*.xml"), key=_import_rank)
            return Catalog(out, files, saved["products"], saved["offers"], 0.0)
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    found = dict(re.findall(r"(\w+)=(\d+)", done.stderr.splitlines()[-1] if done.stderr else ""))
    files = sorted(out.glob("*.xml"), key=_import_rank)
    catalog = Catalog(out, files, int(found.get("products", 0)), int(found.get("offers", 0)), seconds)
    marker.write_text(json.dumps({"cmd": cmd, "products": catalog.products, "offers": catalog.offers}))
    return catalog


def floor(folder: Path, db: str) -> dict:
    """bench/floor.py on `folder`: parse + raw SQL upsert seconds, the yardstick of the import phase."""
    cmd = [PYTHON, str(REPO / "bench" / "floor.py"), str(folder), "--db", db]
    if db == "postgres":
        cmd += ["--dsn", PG_ADMIN_DSN]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def postgres_available() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


# --- processes --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every live descendant of `pid` (gunicorn's workers), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_io(pid: int) -> dict[str, int]:
    try:
        with open(f"/proc/{pid}/io") as fh:
            return {k: int(v) for k, v in (line.split(":") for line in fh)}
    except (OSError, ValueError):
        return {}


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0, own processes or root)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """Keeps the largest VmHWM seen per server process, sampled in a thread, so that a worker that
    dies (timeout, restart) still counts."""

    def __init__(self, pids_fn, interval: float = 0.25):
        self.pids_fn = pids_fn
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._lock = threading.Lock()

    def start(self):
        self._thread.start()
        return self

    def sample(self):
        for pid in self.pids_fn():
            hwm = proc_status_kib(pid, "VmHWM")
            if hwm is not None:
                with self._lock:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def reset(self):
        """Start a new measuring window: the kernel's high-water marks and ours."""
        with self._lock:
            self.peaks.clear()
        for pid in self.pids_fn():
            reset_peak_rss(pid)

    def result(self) -> dict:
        """{"max_mb": largest single process, "sum_mb": sum over processes, "processes": n}."""
        self.sample()
        with self._lock:
            values = list(self.peaks.values())
        return {"max_mb": round(max(values, default=0) / 1024, 1), "sum_mb": round(sum(values) / 1024, 1),
                "processes": len(values)}

    def stop(self):
        self._stop.set()


# --- databases --------------------------------------------------------------------------
class Database:
    """A fresh database: a SQLite file in `workdir`, or a new PostgreSQL database dropped by `drop()`.

    `reuse`: a DATABASE_URL (or a SQLite file path) to use as it is; never dropped.
    """

    def __init__(self, kind: str, workdir: Path, reuse: str | None = None):
        self.kind = kind
        self.owned = reuse is None
        self.name = None
        if reuse:
            self.url = reuse if "://" in reuse else f"sqlite:///{Path(reuse).resolve()}"
            self.kind = "sqlite" if self.url.startswith("sqlite") else "postgres"
            if self.kind == "postgres":
                self.name = self.url.rsplit("/", 1)[1].split("?")[0]
        elif kind == "sqlite":
            self.url = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        elif kind == "postgres":
            import psycopg

            self.name = f"obmen_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {self.name}")
            base = PG_ADMIN_DSN.rsplit("/", 1)[0]
            self.url = f"{base}/{self.name}"
        else:
            raise ValueError(f"unknown database kind {kind!r}")

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.split("sqlite:///", 1)[1]) if self.kind == "sqlite" else None

    def size_bytes(self) -> int:
        """Pages in use (SQLite, WAL checkpointed or not: the -wal file counts too) or pg_database_size."""
        if self.kind == "sqlite":
            path = self.sqlite_path
            return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            return conn.execute("SELECT pg_database_size(%s)", (self.name,)).fetchone()[0]

    def tuples_written(self) -> int:
        """PostgreSQL: tup_inserted + tup_updated + tup_deleted of this database (pg_stat_database)."""
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute("SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
                               "WHERE datname = %s", (self.name,)).fetchone()
        return int(row[0] or 0) if row else 0

    def table_writes(self) -> dict[str, int]:
        """PostgreSQL: rows inserted + updated + deleted per table of this database (pg_stat_user_tables)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            rows = conn.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables").fetchall()
        return {name: int(n) for name, n in rows}

    def tuples_written_settled(self, *, timeout: float = 12.0) -> int:
        """`tuples_written()` once the server's backends have reported their counts.

        Backends flush their statistics at most once a second when they go idle (PostgreSQL 15),
        so a reading right after the last answer may miss the last batches: read until two
        readings a little over a second apart agree.
        """
        give_up = time.monotonic() + timeout
        last = self.tuples_written()
        while time.monotonic() < give_up:
            time.sleep(1.2)
            now = self.tuples_written()
            if now == last:
                return now
            last = now
        return last

    def drop_and_recreate(self):
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.name}")

    def drop(self):
        if self.kind == "postgres" and self.owned and self.name:
            import psycopg

            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


_SYNCDB_ALL = """
import django
from django.conf import settings


class NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


settings.MIGRATION_MODULES = NoMigrations()
django.setup()
from django.core.management import call_command

call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
"""


# --- the server -------------------------------------------------------------------------
@dataclass
class Server:
    """The site on a fresh database, served as deployed; use as a context manager.

    `runserver=True` serves with `manage.py runserver --noreload` (one process, threads)
    instead of gunicorn. `collectstatic=True` is needed for HTML pages with DEBUG off.
    """

    db: str = "sqlite"
    runserver: bool = False
    workers: int = 2
    threads: int = 4
    reuse: str | None = None
    collectstatic: bool = False
    #: Exchange settings written before the server starts (its workers cache them), e.g. step_seconds=5.
    exchange_settings: dict = field(default_factory=dict)
    keep: bool = False
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="obmen-bench-")))
    password: str = field(default_factory=lambda: "bench-" + secrets.token_hex(8))
    port: int = 0
    proc: subprocess.Popen | None = None
    database: Database | None = None
    sampler: PeakSampler | None = None
    #: The server's environment (DATABASE_URL, folders, DEBUG off), for child processes that need it too.
    environ: dict = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def exchange_url(self) -> str:
        return f"{self.url}/exchange"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        env.update({
            "DATABASE_URL": self.database.url,
            "EXCHANGE_ROOT": str(self.workdir / "exchange"),
            "EXCHANGE_BACKUP_ROOT": str(self.workdir / "backups"),
            "MEDIA_ROOT": str(self.workdir / "media"),
            "STATIC_ROOT": str(self.workdir / "static"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "settings.base",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    def manage(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """`manage.py ARGS` against this server's database and folders."""
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=self.environ, input=stdin,
                              capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def python(self, code: str) -> str:
        """Run `code` in `manage.py shell -c` (Django set up on this database); returns its stdout."""
        return self.manage("shell", "-c", code).stdout

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database = Database(self.db, self.workdir, self.reuse)
        self.db = self.database.kind
        self.environ = self.env()
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def prepare(self):
        """Tables (migrate --run-syncdb: right before and after migrations exist) and the exchange user."""
        done = self.manage("migrate", "--run-syncdb", "--noinput", "-v0", check=False)
        if done.returncode != 0:
            if self.db != "postgres" or "auth_user" not in done.stderr or not self.database.owned:
                raise RuntimeError(f"migrate failed:\n{done.stdout}{done.stderr}")
            # While our apps have no migrations, syncdb creates their tables before the migrated
            # apps' and PostgreSQL refuses their foreign keys to a missing auth_user. Create every
            # table from the models in one go instead, as pytest-django's --nomigrations does.
            self.database.drop_and_recreate()
            subprocess.run([PYTHON, "-c", _SYNCDB_ALL], cwd=REPO, env=self.environ, check=True,
                           capture_output=True, text=True)
        if self.collectstatic:
            self.manage("collectstatic", "--noinput", "-v0")
        self.create_exchange_user()
        if self.exchange_settings:
            self.set_exchange_settings(**self.exchange_settings)

    def create_exchange_user(self):
        done = self.manage("exchange_user", EXCHANGE_USER, "--password-stdin", stdin=self.password + "\n",
                           check=False)
        if done.returncode == 0:
            return
        if "Unknown command" not in done.stderr:
            raise RuntimeError(f"exchange_user failed:\n{done.stdout}{done.stderr}")
        # Before `exchange_user` existed: a superuser has every permission, the exchange one too.
        self.python(
            "from django.contrib.auth import get_user_model as g\n"
            f"u, _ = g().objects.get_or_create(username={EXCHANGE_USER!r})\n"
            "u.is_superuser = u.is_staff = u.is_active = True\n"
            f"u.set_password({self.password!r}); u.save()\n"
        )

    def set_exchange_settings(self, **values):
        """Change exchange settings (e.g. step_seconds=5, use_zip=False).

        Workers cache the settings row for a minute: a running server may not see a change at once.
        """
        assigns = "".join(f"s.{k} = {v!r}\n" for k, v in values.items())
        self.python("from exchange1c.models import ExchangeSettings\n"
                    f"s = ExchangeSettings.get_solo()\n{assigns}s.save()\n")

    def start(self, timeout: float = 60.0):
        self.port = free_port()
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - the child keeps it open
        if self.runserver:
            cmd = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"]
        else:
            cmd = [str(BIN / "gunicorn"), "shop.wsgi", "--workers", str(self.workers), "--threads",
                   str(self.threads), "--timeout", "120", "--bind", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.environ, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        give_up = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._answers():
                break
            if time.monotonic() > give_up:
                raise RuntimeError(f"server not answering after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.2)
        # Every worker up before measuring anything: gunicorn forks them after binding.
        while not self.runserver and len(self.worker_pids()) < self.workers and time.monotonic() < give_up:
            time.sleep(0.1)
        self.sampler = PeakSampler(self.pids).start()

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/exchange?type=catalog&mode=init")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *children_of(self.proc.pid)]

    def worker_pids(self) -> list[int]:
        """gunicorn's workers (runserver: the one process)."""
        if self.proc is None:
            return []
        return [self.proc.pid] if self.runserver else children_of(self.proc.pid)

    def write_bytes(self) -> int:
        """Bytes the server processes caused to be written to storage so far (/proc/<pid>/io write_bytes)."""
        return sum(proc_io(pid).get("write_bytes", 0) for pid in self.pids())

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "server.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.sampler:
            self.sampler.stop()
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def close(self):
        self.stop()
        if self.database is not None:
            try:
                self.database.drop()
            except Exception as error:  # noqa: BLE001 - cleanup must not hide the benchmark's own error
                print(f"warning: could not drop {self.database.name}: {error}", file=sys.stderr)
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


# --- HTTP -------------------------------------------------------------------------------
class Browser:
    """A minimal cookie-keeping HTTP/1.1 client on one keep-alive connection (http.client)."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes, float]:
        """(status, headers, body, seconds): seconds from sending to the last byte read."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closes idle keep-alive connections: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        seconds = time.perf_counter() - t0
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, dict(resp.headers), data, seconds

    def close(self):
        self.conn.close()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# --- profiles ---------------------------------------------------------------------------
class Profiler:
    """py-spy record on the server's master and workers while a block runs (`--profile`).

    Writes collapsed stacks ("raw" format) to `out`; `summary()` lists the frames holding
    the most samples. Missing py-spy is reported, not fatal.
    """

    def __init__(self, server: Server, out: Path, rate: int = 50):
        self.server, self.out, self.rate = server, Path(out), rate
        self.proc = None

    @staticmethod
    def available() -> str | None:
        return shutil.which("py-spy", path=f"{BIN}:{os.environ.get('PATH', '')}")

    def __enter__(self):
        exe = self.available()
        if exe is None:
            print("py-spy not found (.venv/bin/pip install py-spy): no profile", file=sys.stderr)
            return self
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([exe, "record", "--pid", str(self.server.proc.pid), "--subprocesses",
                                      "--rate", str(self.rate), "--format", "raw", "--nonblocking",
                                      "--output", str(self.out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # py-spy attaches before the work starts
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def summary(self, top: int = 25) -> str:
        return summarize_collapsed(self.out, top=top) if self.out.exists() else "(no profile written)"


_PROJECT = ("exchange1c/", "catalog/", "orders/", "shop/", "settings/")


def _frame_name(frame: str) -> str:
    """"func (/abs/path/site-packages/pkg/mod.py:12)" -> "func (pkg/mod.py)": functions, not lines."""
    name, _, where = frame.partition(" (")
    where = re.sub(r":\d+\)?$", "", where.rstrip(")"))
    where = re.sub(r"^.*?(site-packages/|/python3\.\d+/)", "", where)
    where = where.replace(str(REPO) + "/", "")
    return f"{name} ({where})" if where else name


def summarize_collapsed(path: Path, *, top: int = 20) -> str:
    """Where the samples went: project functions by inclusive share (on the stack), all by self share."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        names = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
    if not total:
        return "(no samples)"
    lines = [f"{total} samples (busy threads of all server processes); project code, inclusive share:"]
    mine = [(name, n) for name, n in inclusive.most_common() if name.split(" (", 1)[-1].startswith(_PROJECT)]
    for name, n in mine[:top]:
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines.append("hottest functions, self share:")
    for name, n in own.most_common(15):
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


# --- output -----------------------------------------------------------------------------
def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        kib = int(next(line.split()[1] for line in fh if line.startswith("MemTotal")))
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "kernel": platform.release()}


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A plain text table: `columns` is [(key, heading)]; floats shown with at most 2 decimals."""

    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) < 1000 else f"{value:,.0f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    grid = [[heading for _key, heading in columns]] + [[cell(r.get(key)) for key, _h in columns] for r in rows]
    widths = [max(len(row[i]) for row in grid) for i in range(len(columns))]
    out = []
    for n, row in enumerate(grid):
        out.append("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")
