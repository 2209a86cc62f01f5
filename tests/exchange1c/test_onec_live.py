"""The whole catalog exchange over real HTTP, driven by shared/tools/onec.py (a strict 1C stand-in)."""

import json
import os
import subprocess
import sys

import pytest

from catalog.models import Product, Variant
from exchange1c.models import ExchangeRun
from tests.exchange1c.test_protocol_support import (
    LOGIN,
    PASSWORD,
    make_exchange_user,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PRODUCTS = 50


@pytest.fixture(scope="module")
def catalog_dir(shared, tmp_path_factory):
    out = tmp_path_factory.mktemp("onec-catalog")
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", str(PRODUCTS),
                    "--images", "--quiet", "--out", str(out)], check=True)
    return out


def run_onec(shared, live_server, catalog_dir, *options):
    command = [sys.executable, str(shared / "tools" / "onec.py"), "catalog", f"{live_server.url}/exchange", LOGIN,
               PASSWORD, str(catalog_dir / "import.xml"), str(catalog_dir / "offers.xml"),
               "--images", str(catalog_dir / "import_files"), "--deactivate", "--complete", *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ})
    print(done.stdout)  # the report quotes what onec.py said
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, result
    return result


@pytest.mark.parametrize("options", [(), ("--version", "none", "--order", "interleaved", "--no-zip")],
                         ids=["defaults", "plain-ut11-interleaved-no-zip"])
def test_onec_exchanges_a_catalog(live_server, shared, catalog_dir, options):
    make_exchange_user()
    result = run_onec(shared, live_server, catalog_dir, *options)
    assert result["ok"] is True and result["failures"] == []
    assert result["zip"] is ("--no-zip" not in options)
    assert [i["file"] for i in result["imports"]] == ["import.xml", "offers.xml"]
    assert result["deactivate"][0] == "success" and result["complete"][0] == "success"
    assert Product.objects.filter(is_active=True).count() == PRODUCTS
    assert Variant.objects.filter(price__isnull=False).exists()
    run = ExchangeRun.objects.get()
    assert run.status == "completed" and run.error_count == 0


@pytest.mark.parametrize("version", ["2.08", "none"])
def test_onec_exchanges_orders(live_server, shared, tmp_path, version):
    from tests.factories import make_order, make_product

    make_exchange_user()
    order = make_order(lines=[(make_product(name="Чайник").variants.get(), 2)])
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", "5", "--orders",
                    order.number, "--orders-only", "--quiet", "--out", str(tmp_path)], check=True)
    changes = next(tmp_path.glob("orders-*.xml"))
    command = [sys.executable, str(shared / "tools" / "onec.py"), "sale", f"{live_server.url}/exchange", LOGIN,
               PASSWORD, "--changes-xml", str(changes), "--version", version]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    print(done.stdout)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, result
    assert result["ok"] is True and result["order_ids"] == [str(order.public_id)]
    assert result["changes"]["file_answer"] == "success"
    order.refresh_from_db()
    assert order.status.code == "accepted" and order.onec_number
