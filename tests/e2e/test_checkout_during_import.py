"""A checkout during a running import (SQLite, two server processes) succeeds (issue 4).

SQLite has one writer at a time. The import writes in batches inside its own polls (or a
worker of the site) while customers keep buying: a checkout served by the other gunicorn
worker must wait for the write lock (WAL, busy timeout, IMMEDIATE transactions) and go
through, never answer "database is locked". PostgreSQL has row locks and no such question.
"""

import json
import os
import sqlite3
import subprocess
import time
from contextlib import closing

import pytest
from django.conf import settings as django_settings

from tests.e2e.shop_http import (
    REPO,
    Customer,
    free_port,
    gen_catalog,
    gunicorn_start,
    gunicorn_stop,
    manage,
    onec,
    onec_command,
    wait_until,
)

pytestmark = [pytest.mark.slow]

LOGIN, PASSWORD = "onec-e2e", "Obmen-e2e-pass-7"
SEED = "11"
BUSY = ("reading", "applying")
#: The checkout starts once the import writes to the catalog (not just reads its file): then
#: the checkout's transaction has to wait for SQLite's one write lock.
WRITING = "applying"

if "sqlite" not in django_settings.DATABASES["default"]["ENGINE"]:
    pytestmark.append(pytest.mark.skip(reason="SQLite's single writer is the point; PostgreSQL locks rows"))


@pytest.fixture
def server(tmp_path):
    """A migrated SQLite file, an exchange user and gunicorn (2 workers x 2 threads) on a free port."""
    db = tmp_path / "shop.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "e2e-checkout-during-import-secret-key-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EXCHANGE_ROOT": str(tmp_path / "exchange"),
        "EXCHANGE_BACKUP_ROOT": str(tmp_path / "backups"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PYTHONPATH": str(REPO),
    }
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")  # the manifest storage needs it with DEBUG off
    manage(env, "exchange_user", LOGIN, "--password-stdin", stdin=PASSWORD + "\n")
    port = free_port()
    process = gunicorn_start(env, port, tmp_path / "gunicorn.log")
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        gunicorn_stop(process)
        print((tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:])


def query(db, sql: str, *params):
    """Read the server's database from the outside, as another process (short timeout: readers never wait in WAL)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute(sql, params).fetchall()


def test_checkout_during_a_running_import_succeeds(server, shared, tmp_path):
    base_url, db = server
    exchange = f"{base_url}/exchange"
    small = gen_catalog(shared, tmp_path / "small", "--products", "30", "--seed", SEED)
    result = onec(shared, "catalog", exchange, LOGIN, PASSWORD, str(small / "import.xml"), str(small / "offers.xml"),
                  "--no-zip", timeout=60)
    assert result["ok"] is True and result["failures"] == []
    [(slug, variant_id)] = query(db, """
        SELECT p.slug, v.id FROM catalog_product p JOIN catalog_variant v ON v.product_id = p.id
        WHERE p.is_active AND v.price > 0 AND v.quantity - v.reserved >= 1 ORDER BY v.id LIMIT 1""")
    jobs_before = query(db, "SELECT COALESCE(MAX(id), 0) FROM exchange1c_importjob")[0][0]

    # The same seed: the big catalog re-sends the first 30 products too, so the import writes
    # the very rows the checkout reads and reserves.
    big = gen_catalog(shared, tmp_path / "big", "--products", "3000", "--seed", SEED)
    log = open(tmp_path / "onec-big.json", "w+")  # noqa: SIM115 - closed below
    importing = subprocess.Popen(
        onec_command(shared, "catalog", exchange, LOGIN, PASSWORD, str(big / "import.xml"), str(big / "offers.xml"),
                     "--no-zip"),
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until(lambda: query(db, "SELECT id FROM exchange1c_importjob WHERE id > ? AND state = ?",
                                 jobs_before, WRITING) or importing.poll() is not None,
                   timeout=40, interval=0.01, what="the big import to start applying")
        assert importing.poll() is None, "the big import ended before the checkout could overlap it"

        started = time.monotonic()
        shopper = Customer(base_url, timeout=45)
        page = shopper.buy(f"/product/{slug}/", variant_id=variant_id, quantity=1, customer={
            "name": "Анна Петрова", "email": "anna@example.com", "phone": "+7 912 000-11-22",
            "address": "Пермь, ул. Ленина, 1", **_methods(db)})
        seconds = round(time.monotonic() - started, 2)
        # For the log: usually the import is still applying when the order is placed.
        busy_after = query(db, "SELECT state FROM exchange1c_importjob WHERE id > ? AND state IN (?, ?)",
                           jobs_before, *BUSY)
        print(f"checkout took {seconds} s; import jobs still busy after it: {busy_after}")
        assert "/order/" in shopper.url, f"no confirmation page: {shopper.url}\n{page[:2000]}"
        [(number,)] = query(db, "SELECT number FROM orders_order")
        assert f"№ {number}" in page
        [(line_variant, quantity)] = query(db, "SELECT l.variant_id, l.quantity FROM orders_orderline l "
                                               "JOIN orders_order o ON o.id = l.order_id WHERE o.number = ?", number)
        assert (line_variant, float(quantity)) == (variant_id, 1.0)

        importing.wait(timeout=90)
    finally:
        if importing.poll() is None:
            importing.kill()
            importing.wait(timeout=10)
        log.seek(0)
        said = log.read()
        log.close()
        print(f"onec.py catalog (3000 products, --no-zip, during the checkout):\n{said}")
    result = json.loads(said.strip().splitlines()[-1])
    assert importing.returncode == 0 and result["ok"] is True and result["failures"] == [], result
    assert query(db, "SELECT COUNT(*) FROM catalog_product WHERE is_active")[0][0] == 3000
    assert query(db, "SELECT state FROM exchange1c_importjob WHERE id > ? AND state <> 'done'", jobs_before) == []


def _methods(db) -> dict:
    [(delivery,)] = query(db, "SELECT id FROM orders_deliverymethod WHERE code = 'courier'")
    [(payment,)] = query(db, "SELECT id FROM orders_paymentmethod WHERE code = 'cash'")
    return {"delivery_method": delivery, "payment_method": payment}
