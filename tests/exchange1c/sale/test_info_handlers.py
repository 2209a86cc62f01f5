"""sale&mode=info and the handler the protocol dispatch calls (PROTOCOL.md §4.5, §4)."""

import shutil
from pathlib import Path

from exchange1c.models import OneCValueMapping
from exchange1c.sale.handlers import handle
from orders.models import Order, OrderStatus
from tests.exchange1c.sale.conftest import doc_ids, local, parse


def test_info_lists_statuses_payment_and_delivery_with_mapping_ids(sale_settings):
    accepted = OrderStatus.objects.get(code="accepted")
    OneCValueMapping.objects.create(kind="status", status=accepted, onec_name="В работе", onec_id="W")
    body, ctype = handle("info", params={}, session_key="s", settings=sale_settings)
    assert ctype.endswith("charset=windows-1251") and body.startswith(b'<?xml version="1.0" encoding="windows-1251"')
    root = parse(body)
    assert local(root.tag) == "Справочник"
    sections = {local(box.tag): [(el.findtext("Ид"), el.findtext("Название")) for el in box] for box in root}
    assert set(sections) == {"Cтатусы", "Статусы", "ПлатежныеСистемы", "СлужбыДоставки"}
    assert ("W", "В работе") in sections["Cтатусы"] and ("new", "Новый") in sections["Статусы"]
    assert ("cash", "Наличными при получении") in sections["ПлатежныеСистемы"]
    assert ("courier", "Курьером") in sections["СлужбыДоставки"]


def test_query_success_and_import_through_the_handler(shared, sale_settings, order, tmp_path):
    body, ctype = handle("query", params={}, session_key="s1", settings=sale_settings)
    assert doc_ids(body) == [str(order.public_id)] and ctype.startswith("application/xml")
    body, ctype = handle("success", params={}, session_key="s1", settings=sale_settings)
    assert body.decode("cp1251").splitlines()[0] == "success" and ctype == "text/plain; charset=windows-1251"
    Order.objects.filter(pk=order.pk).update(number="1")
    upload = tmp_path / "orders.xml"
    shutil.copyfile(Path(shared, "corpus", "okaycms", "orders-f12ccde6-91c1-466e-97a0-be11199b288f.xml"), upload)
    body, _ = handle("file", params={"filename": "orders.xml"}, session_key="s1", settings=sale_settings,
                     upload_path=upload, apply_now=False)
    assert body == b"success\n"
    order.refresh_from_db()
    assert order.onec_number == ""
    body, _ = handle("import", params={"filename": "orders.xml"}, session_key="s1", settings=sale_settings,
                     upload_path=upload)
    assert body.decode("cp1251").startswith("success\n")
    order.refresh_from_db()
    assert order.onec_number == "СА-000001"
    body, _ = handle("import", params={"filename": "orders.xml"}, session_key="s1", settings=sale_settings,
                     upload_path=upload)  # again: success, nothing more changes
    assert body.decode("cp1251").startswith("success\n")
    body, _ = handle("import", params={"filename": "gone.xml"}, session_key="s1", settings=sale_settings,
                     upload_path=tmp_path / "gone.xml")
    assert body.decode("cp1251").startswith("failure\n")
