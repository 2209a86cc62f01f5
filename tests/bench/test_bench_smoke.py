"""Smoke runs of the benchmark scripts on tiny data, so that they cannot rot.

Each script runs as a user would run it (a child process: it starts its own gunicorn on a
fresh database) and must finish and print its table and targets. The figures and the
PASS/FAIL verdicts are not asserted: speed lives in bench/, not in tests (STYLE.md 18).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("obmen_bench_common", REPO / "bench" / "common.py")
common = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = common  # dataclasses look their module up while the class is built
_spec.loader.exec_module(common)

pytestmark = pytest.mark.slow

DATABASES = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(not common.postgres_available(),
                                                      reason="PostgreSQL not reachable")),
]


def run(shared, script: str, *args: str, timeout: int = 150) -> str:
    env = {**os.environ, "OBMEN_SHARED_DIR": str(shared)}
    done = subprocess.run([common.PYTHON, str(REPO / "bench" / script), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.parametrize("db", DATABASES)
def test_exchange_catalog_runs_three_exchanges_and_prints_targets(shared, db):
    out = run(shared, "exchange_catalog.py", "--sizes", "1000", "--db", db, "--step-seconds", "5")
    assert "upload s" in out and "import s" in out
    table = [line for line in out.splitlines() if line.startswith(db)]
    assert [line.split()[2] for line in table] == ["full", "unchanged", "10%"]
    assert "Targets:" in out
    assert "import phase" in out and "unchanged re-import" in out and "DB writes" in out
    # The exchange really imported the catalog: the server's own success lines are shown.
    assert "import.xml: " in out and "offers.xml: " in out


def test_sale_query_runs_or_says_why_not(shared):
    out = run(shared, "sale_query.py", "--orders", "100,300", "--db", "sqlite")
    if "sale query not available" in out:
        return
    assert "query s" in out and "Targets:" in out
    assert "300 documents in the answer" in out.replace(",", "")


@pytest.mark.parametrize("load", ["exchange", "orm"])
def test_storefront_measures_each_page_kind(shared, load):
    out = run(shared, "storefront.py", "--products", "1000", "--db", "sqlite", "--load", load,
              "--requests", "15", "--warmup", "3")
    for kind in ("group (top)", "group (leaf)", "product", "search", "add to cart"):
        assert f"sqlite {kind}: p95" in out
    assert "errors" in out
    assert ", 15 errors" not in out  # every page answered (a failing page counts as an error)
