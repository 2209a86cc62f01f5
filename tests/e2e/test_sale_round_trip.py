"""The order exchange's whole round trip over real HTTP, as a shop lives it.

A catalog comes in through /exchange (onec.py catalog), customers buy through the storefront
(a stdlib client posting the real forms), 1C takes the orders (onec.py sale: query + success),
then sends them back paid, shipped and cancelled (onec.py sale --changes-xml), and the site
shows it. PROTOCOL.md §4; issue 5's round-trip test.
"""

import copy
import re
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from lxml import etree

from catalog.models import Product, Variant
from exchange1c.models import OrderExport
from orders import services
from orders.models import DeliveryMethod, Order, PaymentMethod
from tests.e2e.shop_http import Customer, gen_catalog, onec
from tests.exchange1c.test_protocol_support import LOGIN, PASSWORD, make_exchange_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRODUCTS = 30
SEED = 7


def local(el) -> str:
    return etree.QName(el).localname


def child(el, name):
    return next((c for c in el if isinstance(c.tag, str) and local(c) == name), None)


def documents(root) -> list:
    return [el for el in root.iter() if isinstance(el.tag, str) and local(el) == "Документ"]


def parse_query(path) -> dict[str, dict]:
    """The saved query answer: {number: {"id", "lines": [offer ids], "text": the document's text}}."""
    root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    out = {}
    for doc in documents(root):
        lines = [child(item, "Ид").text for item in child(doc, "Товары")]
        out[child(doc, "Номер").text] = {"id": child(doc, "Ид").text, "lines": lines,
                                         "text": " ".join(t.strip() for t in doc.itertext() if t.strip())}
    return out


def changes_from_query(query_xml: bytes, requisites_by_number: dict[str, dict[str, str]]) -> bytes:
    """What 1C sends back: the site's own documents (same Ид, Номер, lines and sums) with 1C's requisites.

    gen_catalog.py --orders is not used here: its documents carry random goods of the generated
    catalog, and the site (line changes accepted by default) would replace the customers' lines.
    """
    root = copy.deepcopy(etree.fromstring(query_xml, etree.XMLParser(resolve_entities=False, no_network=True)))
    for doc in documents(root):
        number = child(doc, "Номер").text
        wanted = requisites_by_number.get(number)
        if wanted is None:
            doc.getparent().remove(doc)
            continue
        ns = etree.QName(doc).namespace

        def tag(name, ns=ns):
            return f"{{{ns}}}{name}" if ns else name

        box = etree.Element(tag("ЗначенияРеквизитов"))
        for name, value in wanted.items():
            item = etree.SubElement(box, tag("ЗначениеРеквизита"))
            etree.SubElement(item, tag("Наименование")).text = name
            etree.SubElement(item, tag("Значение")).text = value
        old = child(doc, "ЗначенияРеквизитов")
        if old is not None:
            doc.replace(old, box)
        else:
            doc.append(box)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def onec_requisites(number_1c: str, *, paid=False, shipped=False, deleted=False) -> dict[str, str]:
    flag = {True: "true", False: "false"}
    return {"Номер по 1С": number_1c, "Дата по 1С": "2026-11-20T10:15:00", "ПометкаУдаления": flag[deleted],
            "Проведен": flag[not deleted], "Оплачен": flag[paid], "Отгружен": flag[shipped]}


def sellable_variants(count: int) -> list[Variant]:
    """`count` in-stock variants of different products, one of them a characteristic (`product#variant`)."""
    variants = (Variant.objects.filter(product__is_active=True, price__gt=0, quantity__gte=3)
                .select_related("product").order_by("product__external_id", "pk"))
    with_features = [v for v in variants if "#" in (v.external_id or "")]
    assert with_features, "the generated catalog has products with characteristics"
    chosen = [with_features[0]]
    for v in variants:
        if len(chosen) == count:
            break
        if v.product_id not in {c.product_id for c in chosen} and "#" not in v.external_id:
            chosen.append(v)
    assert len(chosen) == count
    return chosen


CUSTOMERS = [
    {"name": "Мария Иванова", "email": "maria@example.com", "phone": "+7 916 555-44-33",
     "address": "Москва, Тверская ул., 7, кв. 12"},
    {"name": "Пётр Смирнов", "email": "petr@example.com", "phone": "+7 903 111-22-33",
     "address": "Казань, ул. Баумана, 3"},
    {"name": "ООО «Ромашка» & Co", "email": "buh@romashka.example", "phone": "8 (495) 123-45-67",
     "address": "Тверь, пр. Ленина, 1, офис 5"},
]


@pytest.mark.parametrize("version", ["2.08", "none"], ids=["version-2.08", "plain-ut11"])
def test_orders_go_to_1c_and_come_back_paid_shipped_cancelled(live_server, shared, tmp_path, version, client,
                                                              django_user_model):
    url = f"{live_server.url}/exchange"
    make_exchange_user()
    catalog = gen_catalog(shared, tmp_path / "catalog", "--products", str(PRODUCTS), "--seed", str(SEED),
                          "--variants-share", "0.3")
    result = onec(shared, "catalog", url, LOGIN, PASSWORD, str(catalog / "import.xml"), str(catalog / "offers.xml"),
                  "--version", version)
    assert result["ok"] is True and result["failures"] == []
    assert Product.objects.filter(is_active=True).count() == PRODUCTS

    # --- three customers buy through the storefront ------------------------------------------
    courier, cash = DeliveryMethod.objects.get(code="courier"), PaymentMethod.objects.get(code="cash")
    variants = sellable_variants(3)
    reserved_before = {v.pk: v.reserved for v in variants}
    orders = []
    for variant, quantity, person in zip(variants, (2, 1, 3), CUSTOMERS, strict=True):
        shopper = Customer(live_server.url)
        page = shopper.buy(variant.product.get_absolute_url(), variant_id=variant.pk, quantity=quantity,
                           customer={**person, "delivery_method": courier.pk, "payment_method": cash.pk})
        public_id = re.search(r"/order/([0-9a-f-]{36})/", shopper.url)
        assert public_id, f"no confirmation page, landed on {shopper.url}"
        order = Order.objects.get(public_id=uuid.UUID(public_id.group(1)))
        assert f"№ {order.number}" in page or f"no. {order.number}" in page
        line = order.lines.get()
        assert (line.variant_id, line.quantity, line.offer_external_id) == (variant.pk, quantity, variant.external_id)
        assert order.status.code == "new" and order.total == line.total + courier.price
        orders.append(order)
    paid, shipped, cancelled = orders
    for v in variants:
        v.refresh_from_db()
    assert [v.reserved - reserved_before[v.pk] for v in variants] == [2, 1, 3]

    # --- 1C takes the orders: query + success ---------------------------------------------
    result = onec(shared, "sale", url, LOGIN, PASSWORD, "--version", version, "--save-query", str(tmp_path / "q.xml"))
    assert result["ok"] is True and result["orders"] == 3
    assert sorted(result["order_ids"]) == sorted(str(o.public_id) for o in orders)
    sent = parse_query(tmp_path / "q.xml")
    assert sorted(sent) == sorted(o.number for o in orders)
    for order, variant in zip(orders, variants, strict=True):
        doc = sent[order.number]
        assert doc["id"] == str(order.public_id)
        assert doc["lines"] == [variant.external_id, "ORDER_DELIVERY"]
        assert order.address in doc["text"] and order.phone in doc["text"]
    assert "#" in sent[paid.number]["lines"][0]  # a characteristic goes out as product#variant
    for order in orders:
        order.refresh_from_db()
        assert order.status.code == "accepted"
        assert order.onec_export.exported_version == order.version

    # --- 1C sends them back: paid, shipped, cancelled ------------------------------------
    changes = tmp_path / "orders-from-1c.xml"
    changes.write_bytes(changes_from_query((tmp_path / "q.xml").read_bytes(), {
        paid.number: onec_requisites("ЦБ-000101", paid=True),
        shipped.number: onec_requisites("ЦБ-000102", shipped=True),
        cancelled.number: onec_requisites("ЦБ-000103", deleted=True),
    }))
    result = onec(shared, "sale", url, LOGIN, PASSWORD, "--version", version, "--changes-xml", str(changes))
    assert result["ok"] is True
    assert result["orders"] == 0  # confirmed and unchanged: not sent again
    assert result["changes"]["file_answer"] in (("success",) if version == "none" else ("success", "progress"))
    if version != "none":
        assert result["changes"]["import_polls"] >= 1

    for order in orders:
        order.refresh_from_db()
    assert (paid.is_paid, paid.is_shipped, paid.is_cancelled, paid.status.code) == (True, False, False, "paid")
    assert (shipped.is_paid, shipped.is_shipped, shipped.is_cancelled, shipped.status.code) == (
        False, True, False, "shipped")
    assert (cancelled.is_cancelled, cancelled.status.code) == (True, "cancelled")
    assert [o.onec_number for o in orders] == ["ЦБ-000101", "ЦБ-000102", "ЦБ-000103"]
    assert OrderExport.objects.get(order=cancelled).onec_deletion_mark is True
    # Lines and totals are what the customers bought: 1C sent them back unchanged.
    assert [o.lines.get().quantity for o in orders] == [2, 1, 3]
    # The cancelled order's reservation is released; the others keep theirs.
    for v in variants:
        v.refresh_from_db()
    assert [v.reserved - reserved_before[v.pk] for v in variants] == [2, 1, 0]
    assert cancelled.lines.get().reserved_quantity == 0

    # The admin sees it on the order's page: the confirmed export and 1C's change.
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("admin:orders_order_change", args=[cancelled.pk])).content.decode()
    assert f"exported at version {cancelled.onec_export.exported_version}" in page
    assert "changed by 1C" in page and "deletion_mark" in page

    # --- the next exchange: nothing new; then an order the site changes goes out again ------
    result = onec(shared, "sale", url, LOGIN, PASSWORD, "--version", version, "--save-query", str(tmp_path / "q2.xml"))
    assert result["ok"] is True and result["orders"] == 0  # 1C's own changes are not re-exported

    new_address = "Москва, ул. Арбат, 10, кв. 3"
    Order.objects.filter(pk=paid.pk).update(address=new_address)
    services.order_touch(paid)
    result = onec(shared, "sale", url, LOGIN, PASSWORD, "--version", version, "--save-query", str(tmp_path / "q3.xml"))
    assert result["ok"] is True and result["order_ids"] == [str(paid.public_id)]
    assert new_address in parse_query(tmp_path / "q3.xml")[paid.number]["text"]
    paid.refresh_from_db()
    assert paid.onec_export.exported_version == paid.version
    assert paid.is_paid and paid.onec_number == "ЦБ-000101"
    assert paid.status.code == "paid"  # only orders in the export status move to "accepted"
