"""sale&mode=file/import: 1C's order changes applied to the site's orders (PROTOCOL.md §4.4)."""

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from exchange1c.models import OneCValueMapping, OrderExchangeEvent, OrderExport
from exchange1c.sale.apply import sale_apply_file
from exchange1c.sale.commit import sale_success
from exchange1c.sale.query import sale_query
from orders.models import Order, OrderStatus
from tests.exchange1c.sale.conftest import doc_ids
from tests.factories import make_order, make_product

OKAY = "okaycms/orders-f12ccde6-91c1-466e-97a0-be11199b288f.xml"


def numbered(number: str, **kwargs) -> Order:
    order = make_order(**kwargs)
    Order.objects.filter(pk=order.pk).update(number=number)
    order.refresh_from_db()
    return order


def corpus_copy(shared, name, tmp_path) -> Path:
    target = tmp_path / Path(name).name
    shutil.copyfile(Path(shared, "corpus", name), target)
    return target


def write(tmp_path, body: str, name="orders.xml") -> Path:
    path = tmp_path / name
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body, encoding="utf-8")
    return path


def document(number, *, requisites=(), goods="", total=None, ident=None):
    reqs = "".join(f"<ЗначениеРеквизита><Наименование>{n}</Наименование><Значение>{v}</Значение>"
                   f"</ЗначениеРеквизита>" for n, v in requisites)
    return (f"<Документ><Ид>{ident or number}</Ид><Номер>{number}</Номер><Дата>2024-05-01</Дата>"
            f"<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
            + (f"<Сумма>{total}</Сумма>" if total is not None else "")
            + (f"<Товары>{goods}</Товары>" if goods else "")
            + (f"<ЗначенияРеквизитов>{reqs}</ЗначенияРеквизитов>" if reqs else "")
            + "</Документ>")


def goods_line(ident, price, quantity, total, kind="Товар", name="Товар"):
    return (f"<Товар><Ид>{ident}</Ид><Наименование>{name}</Наименование><БазоваяЕдиница Код=\"796\"/>"
            f"<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование>"
            f"<Значение>{kind}</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
            f"<ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу><Количество>{quantity}</Количество><Сумма>{total}</Сумма></Товар>")


def cml(*docs) -> str:
    return ('<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_210" ВерсияСхемы="2.08" '
            'ДатаФормирования="2024-05-01T10:00:00">' + "".join(docs) + "</КоммерческаяИнформация>")


def test_okaycms_file_applies_and_is_idempotent(shared, sale_settings, tmp_path):
    product = make_product(external_id="bf4e77aa-60e5-11e9-a0bc-00155d01c806", price="500")
    first = numbered("1", lines=[(make_product().variants.get(), 3)])
    second = numbered("2")
    fourth = numbered("4")
    path = corpus_copy(shared, OKAY, tmp_path)
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success", lines
    assert "changed: 3" in lines[0] and "unknown: 3" in lines[0]
    assert sum("is not on the site" in ln for ln in lines) == 3  # orders 3, 5 and 7

    first.refresh_from_db()
    assert first.onec_number == "СА-000001"
    assert timezone.localtime(first.onec_date).replace(tzinfo=None) == datetime(2017, 4, 5, 17, 40, 32)
    line = first.lines.get()
    assert (line.offer_external_id, line.quantity, line.price, line.variant) == (
        product.external_id, Decimal("1"), Decimal("500"), product.variants.get())
    assert first.delivery_price == Decimal("300") and first.total == Decimal("800")
    assert first.version == 1  # 1C's change: nothing to send back
    assert OrderExport.objects.get(order=second).onec_posted is True
    fourth.refresh_from_db()
    assert fourth.is_cancelled and fourth.status.code == "cancelled"
    assert OrderExport.objects.get(order=fourth).onec_deletion_mark is True
    event = OrderExchangeEvent.objects.get(order=first)
    assert event.kind == "changed" and "onec_number" in event.details and "lines" in event.details

    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success" and "changed: 0" in lines[0] and "unchanged: 3" in lines[0]
    assert OrderExchangeEvent.objects.count() == 3


def test_irpsv_doc_sample_statuses_through_mapping(shared, sale_settings, tmp_path):
    o36, o92, o93 = numbered("36"), numbered("92"), numbered("93")
    accepted = OrderStatus.objects.get(code="accepted")
    path = corpus_copy(shared, "irpsv/off-doc-1c_orders.xml", tmp_path)
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success"
    assert any("Открыт" in ln and "not mapped" in ln for ln in lines)
    o36.refresh_from_db()
    assert o36.status == accepted  # "[N] Принят": the site status named Принят
    o92.refresh_from_db()
    assert o92.onec_number == "MM92" and o92.status.code == "new"
    OneCValueMapping.objects.create(kind="status", status=accepted, onec_name="Открыт")
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    o92.refresh_from_db()
    o93.refresh_from_db()
    assert o92.status == accepted and o93.status == accepted
    assert OrderExport.objects.get(order=o93).onec_status == "Открыт"


def test_site_module_exports_apply_what_matches_and_warn_on_unknown(shared, sale_settings, tmp_path):
    o20 = numbered("20")
    status, lines = sale_apply_file(path=corpus_copy(shared, "carono-yii2/to.xml", tmp_path), settings=sale_settings)
    assert status == "success"
    o20.refresh_from_db()
    assert o20.is_paid and timezone.localtime(o20.paid_at).replace(tzinfo=None) == datetime(2007, 10, 16, 15, 44, 47)
    assert any("[F] Доставлен" in ln for ln in lines)  # no such site status: a warning, not a failure
    for name in ("carono-yii2/from.xml", "rakov-legacy/Order8x.xml"):
        status, lines = sale_apply_file(path=corpus_copy(shared, name, tmp_path), settings=sale_settings)
        assert status == "success" and "unknown: 1" in lines[0], (name, lines)


def test_commerceml_1_is_refused_by_name(shared, sale_settings, tmp_path):
    status, lines = sale_apply_file(path=corpus_copy(shared, "rakov-legacy/Sale77.xml", tmp_path),
                                    settings=sale_settings)
    assert status == "failure" and "CommerceML 1" in lines[0]


def test_malformed_file_changes_nothing(shared, sale_settings, tmp_path):
    first = numbered("1")
    data = Path(shared, "corpus", OKAY).read_bytes()
    broken = tmp_path / "orders.xml"
    broken.write_bytes(data[: len(data) // 2])
    status, lines = sale_apply_file(path=broken, settings=sale_settings)
    assert status == "failure" and "well-formed" in lines[0]
    first.refresh_from_db()
    assert first.onec_number == "" and not OrderExchangeEvent.objects.exists()


@pytest.mark.parametrize("body", ["", "<Каталог/>", '<!DOCTYPE x [<!ENTITY a "b">]><КоммерческаяИнформация/>',
                                  "<КоммерческаяИнформация ВерсияСхемы=\"2.08\"/>"])
def test_unreadable_files_fail_with_a_reason(sale_settings, tmp_path, body):
    status, lines = sale_apply_file(path=write(tmp_path, body), settings=sale_settings)
    assert status == "failure" and lines


def test_bad_document_is_refused_the_others_applied(sale_settings, tmp_path):
    good, bad = numbered("501"), numbered("502")
    path = write(tmp_path, cml(
        document("502", goods=goods_line("x", "10", "-2", "-20"), requisites=[("Номер по 1С", "B-1")]),
        document("501", requisites=[("Номер по 1С", "A-1")]),
        document("999", requisites=[("Номер по 1С", "C-1")]),
    ))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success"
    assert "refused: 1" in lines[0] and "unknown: 1" in lines[0]
    assert any("negative quantity" in ln for ln in lines)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.onec_number == "A-1" and bad.onec_number == ""


def test_paid_only_when_fully_paid(sale_settings, tmp_path):
    order = numbered("600")
    partial = write(tmp_path, cml(document("600", requisites=[("Оплачен", "true"), ("Сумма оплаты", "1")])))
    sale_apply_file(path=partial, settings=sale_settings)
    order.refresh_from_db()
    assert not order.is_paid
    full = write(tmp_path, cml(document("600", requisites=[("Оплачен", "true"),
                                                           ("Дата оплаты по 1С", "2024-05-02T9:05:00")])), "f.xml")
    sale_apply_file(path=full, settings=sale_settings)
    order.refresh_from_db()
    assert order.is_paid and order.status.code == "paid"
    assert timezone.localtime(order.paid_at).replace(tzinfo=None) == datetime(2024, 5, 2, 9, 5)
    shipped = write(tmp_path, cml(document("600", requisites=[("Отгружен", "true")])), "s.xml")
    sale_apply_file(path=shipped, settings=sale_settings)
    order.refresh_from_db()
    assert order.is_shipped and order.status.code == "shipped"
    assert order.version == 1


def test_line_changes_follow_the_setting(sale_settings, tmp_path):
    product = make_product(price="100")
    variant = product.variants.get()
    order = numbered("700", lines=[(variant, 1)])
    doc = document("700", total="350", requisites=[("Номер по 1С", "Z-7")],
                   goods=goods_line(variant.external_id, "100", "2", "200")
                   + goods_line("ORDER_DELIVERY", "150", "1", "150", kind="Услуга", name="Доставка"))
    path = write(tmp_path, cml(doc))
    sale_settings.accept_order_line_changes = False
    sale_apply_file(path=path, settings=sale_settings)
    order.refresh_from_db()
    assert order.onec_number == "Z-7" and order.lines.get().quantity == 1
    sale_settings.accept_order_line_changes = True
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    order.refresh_from_db()
    line = order.lines.get()
    assert (line.quantity, line.total) == (Decimal("2"), Decimal("200"))
    assert order.goods_total == Decimal("200") and order.delivery_price == Decimal("150")
    assert order.total == Decimal("350")


def test_1c_changes_cause_no_reexport(sale_settings, tmp_path):
    order = make_order()
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    path = write(tmp_path, cml(document(order.number, ident=str(order.public_id),
                                        requisites=[("Номер по 1С", "Q-1"), ("ПометкаУдаления", "true")])))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success" and "changed: 1" in lines[0]
    order.refresh_from_db()
    assert order.is_cancelled and order.onec_number == "Q-1"
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == []


def test_cyrillic_and_windows_1251_file(sale_settings, tmp_path):
    order = numbered("НФ-1")
    path = tmp_path / "orders.xml"
    doc = document("НФ-1", requisites=[("Номер по 1С", "ҚЗ-ә")])
    text = '<?xml version="1.0" encoding="windows-1251"?>\n' + cml(doc)
    path.write_bytes(text.encode("cp1251", "xmlcharrefreplace"))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    order.refresh_from_db()
    assert status == "success" and order.onec_number == "ҚЗ-ә"


def test_late_doctype_is_refused(sale_settings, tmp_path):
    order = numbered("800")
    padding = "<!--" + "x" * 5000 + "-->"
    body = (padding + '<!DOCTYPE КоммерческаяИнформация [<!ENTITY n "EVIL">]>'
            + cml(document("800", requisites=[("Номер по 1С", "&n;")])))
    status, lines = sale_apply_file(path=write(tmp_path, body), settings=sale_settings)
    assert status == "failure" and "DOCTYPE" in lines[0]
    order.refresh_from_db()
    assert order.onec_number == ""


def test_final_orders_are_not_moved_back_but_can_be_cancelled(sale_settings, tmp_path):
    order = numbered("900", status="completed")
    path = write(tmp_path, cml(document("900", requisites=[("Статус заказа", "Принят")])))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    order.refresh_from_db()
    assert order.status.code == "completed" and any("not applied" in ln for ln in lines)
    path = write(tmp_path, cml(document("900", requisites=[("ПометкаУдаления", "true")])), "d.xml")
    sale_apply_file(path=path, settings=sale_settings)
    order.refresh_from_db()
    assert order.status.code == "cancelled" and order.is_cancelled


def test_commerceml_3_containers_are_read(sale_settings, tmp_path):
    order = make_order()
    body = ('<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1" '
            'ДатаФормирования="2024-05-01T10:00:00"><Контейнер>'
            + document(order.number, ident=str(order.public_id), requisites=[("Проведен", "true"),
                                                                            ("Номер по 1С", "K-3")])
            + "</Контейнер></КоммерческаяИнформация>")
    status, lines = sale_apply_file(path=write(tmp_path, body), settings=sale_settings)
    order.refresh_from_db()
    assert status == "success" and order.onec_number == "K-3"
    assert OrderExport.objects.get(order=order).onec_posted is True


def test_numbers_too_large_for_the_site_refuse_the_document(sale_settings, tmp_path):
    """1e30 pieces for 1e40 would be stored unchecked by SQLite and break the orders admin."""
    order = numbered("503")
    path = write(tmp_path, cml(
        document("503", goods=goods_line("x", "10", "1e30", "1e40"), requisites=[("Номер по 1С", "D-1")]),
    ))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert "refused: 1" in lines[0], lines
    assert any("out of range" in ln for ln in lines)
    order.refresh_from_db()
    assert order.onec_number == "" and order.total < 10**11
