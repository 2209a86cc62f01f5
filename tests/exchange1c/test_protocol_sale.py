"""type=sale over HTTP (PROTOCOL.md §4): checkauth and init as for the catalog; the order exchange's
own modes reach exchange1c.sale.handlers through the same auth, log and charset rules."""

import subprocess
import sys

import pytest

from exchange1c.models import ExchangeLog, ExchangeRun
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    lines_of,
    make_exchange_user,
)
from tests.factories import make_order, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(client):
    make_exchange_user()
    c = OneC(client, kind="sale")
    return c


def test_checkauth_and_init_as_for_the_catalog(sale):
    assert sale.checkauth()[0] == "success"
    token = sale.client.cookies["obmen_1c_exchange"].value
    assert sale.init() == ["zip=yes", "file_limit=2048000"]
    assert sale.init(version="3.1") == ["zip=yes", "file_limit=2048000", f"sessid={token}", "version=2.08"]
    configure(order_schema_version="3.1")
    assert sale.init(version="3.1")[-1] == "version=3.1"


def test_sale_needs_auth(client):
    out = lines_of(client.get("/exchange?type=sale&mode=query"))
    assert out[0] == "failure" and out[1].startswith("Не авторизован")


def test_query_then_success_moves_the_order(sale):
    order = make_order(lines=[(make_product(name="Чайник").variants.get(), 1)])
    sale.checkauth()
    sale.init()
    response = sale.get("query")
    assert response["Content-Type"].startswith("application/xml") or response["Content-Type"].startswith("text/xml")
    # Streamed from a temporary file, not held in memory: 10k orders are tens of MB.
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert str(order.public_id).encode() in body
    assert sale.lines("success")[0] == "success"
    order.refresh_from_db()
    assert order.status.code == "accepted"
    entry = ExchangeLog.objects.get(mode="query")
    assert entry.status == "success" and entry.bytes_out == len(body)


def test_order_file_without_version_is_applied_in_the_file_call(sale, shared, tmp_path):
    order = make_order(lines=[(make_product(name="Чайник").variants.get(), 1)])
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", "5", "--orders",
                    order.number, "--orders-only", "--quiet", "--out", str(tmp_path)], check=True)
    changes = next(tmp_path.glob("orders-*.xml"))
    sale.checkauth()
    sale.init()  # no version=: plain UT 11 expects the file applied at once
    out = sale.upload(changes.name, changes.read_bytes())
    assert out[0] == "success", out
    assert ExchangeRun.objects.get(kind="sale").client_version == ""
    # 1C's own number reached the order.
    order.refresh_from_db()
    assert order.onec_number


def test_order_file_with_version_waits_for_import(sale, settings):
    sale.checkauth()
    sale.init(version="2.08")
    assert sale.upload("orders.xml", b"<broken") == ["success"]  # stored only
    out = sale.import_("orders.xml")
    assert out[0] == "failure"  # applied at import: a malformed file changes nothing
    assert sale.upload("../orders.xml", b"x")[0] == "failure"
    assert ExchangeRun.objects.get(kind="sale").error_count == 2
