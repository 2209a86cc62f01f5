"""sale&mode=query: what goes out, in which bytes, in the schema's shape (PROTOCOL.md §4.2)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from exchange1c.models import OrderFieldMapping, QueryRecord
from exchange1c.models.orders import OneCValueMapping
from exchange1c.sale.query import sale_query
from orders.models import OrderStatus, PaymentMethod
from orders.services import order_set_status, order_touch
from tests.exchange1c.sale.conftest import CML, child, doc_ids, documents, local, parse, requisites
from tests.factories import make_order, make_product

HARD_TEXT = "Bang & Olufsen <уценка> 42\" M&M's — і ї є ґ ә ғ қ Ёлка"


def test_query_sends_new_orders_and_records_versions(sale_settings, order):
    make_order(status="accepted")  # not in the export status: stays home
    body, ctype = sale_query(session_key="s1", settings=sale_settings)
    assert doc_ids(body) == [str(order.public_id)]
    assert ctype == "application/xml; charset=windows-1251"
    assert list(QueryRecord.objects.values_list("session_key", "order_id", "version")) == [("s1", order.pk, 1)]


def test_document_carries_the_protocol_fields_in_schema_order(sale_settings, order):
    order.company_name = ""
    order.comment = "Позвонить заранее"
    order.save()
    body, _ctype = sale_query(session_key="s1", settings=sale_settings)
    (doc,) = documents(parse(body))
    names = [local(ch.tag) for ch in doc]
    assert names == ["Ид", "Номер", "Дата", "ХозОперация", "Роль", "Валюта", "Курс", "Сумма", "Контрагенты",
                     "Время", "Комментарий", "Товары", "ЗначенияРеквизитов"]
    assert child(doc, "Номер").text == order.number
    assert child(doc, "ХозОперация").text == "Заказ товара"
    assert child(doc, "Роль").text == "Продавец"
    assert child(doc, "Курс").text == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", child(doc, "Дата").text)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", child(doc, "Время").text)
    assert Decimal(child(doc, "Сумма").text) == order.total
    contractor = child(child(doc, "Контрагенты"), "Контрагент")
    assert [local(ch.tag) for ch in contractor] == ["Ид", "Наименование", "ПолноеНаименование", "Фамилия", "Имя",
                                                     "Адрес", "Контакты", "Роль"]
    assert child(contractor, "Ид").text == str(order.customer.public_id)
    assert child(contractor, "Фамилия").text == "Петров" and child(contractor, "Имя").text == "Иван"
    assert child(contractor, "Роль").text == "Покупатель"
    assert child(child(contractor, "Адрес"), "Представление").text == order.address
    contacts = {child(c, "Тип").text: child(c, "Значение").text for c in child(contractor, "Контакты")}
    assert contacts == {"Почта": order.email, "Телефон рабочий": order.phone}
    goods, delivery = list(child(doc, "Товары"))
    line = order.lines.get()
    assert child(goods, "Ид").text == line.offer_external_id
    assert (child(goods, "ЦенаЗаЕдиницу").text, child(goods, "Количество").text, child(goods, "Сумма").text) == (
        "1500.50", "2", "3001.00")
    assert requisites(goods) == {"ВидНоменклатуры": "Товар", "ТипНоменклатуры": "Товар"}
    assert child(delivery, "Ид").text == "ORDER_DELIVERY"
    assert requisites(delivery)["ТипНоменклатуры"] == "Услуга"
    assert Decimal(child(delivery, "Сумма").text) == order.delivery_price
    reqs = requisites(doc)
    assert reqs["Метод оплаты"] == order.payment_name
    assert reqs["Заказ оплачен"] == "false"
    assert reqs["Доставка разрешена"] == "false"
    assert reqs["Отменен"] == "false"
    assert reqs["Финальный статус"] == "false"
    assert reqs["Статус заказа"] == "Новый"
    assert reqs["Способ доставки"] == order.delivery_name
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", reqs["Дата изменения статуса"])


def test_company_buyer_and_one_counterparty_per_customer(sale_settings):
    first = make_order(email="firm@example.com", company_name="ООО «Ромашка»", inn="7701234567", kpp="770101001")
    second = make_order(email="firm@example.com", company_name="ООО «Ромашка»", inn="7701234567", kpp="770101001")
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    contractors = [child(child(d, "Контрагенты"), "Контрагент") for d in documents(parse(body))]
    assert [child(c, "Ид").text for c in contractors] == [str(first.customer.public_id)] * 2
    assert first.customer_id == second.customer_id
    names = [local(ch.tag) for ch in contractors[0]]
    assert names[:6] == ["Ид", "Наименование", "ОфициальноеНаименование", "ЮридическийАдрес", "ИНН", "КПП"]
    assert child(contractors[0], "ИНН").text == "7701234567"


def test_mapped_names_and_extra_fields_are_requisites(sale_settings, order):
    OneCValueMapping.objects.create(kind="status", status=order.status, onec_name="Открыт", onec_id="N")
    OneCValueMapping.objects.create(kind="payment", payment_method=PaymentMethod.objects.get(code="cash"),
                                    onec_name="Наличный расчет")
    OrderFieldMapping.objects.create(field_name="address", requisite="Адрес доставки")
    OrderFieldMapping.objects.create(field_name="is_paid", requisite="Оплата получена")
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    reqs = requisites(documents(parse(body))[0])
    assert reqs["Статус заказа"] == "Открыт"
    assert reqs["Статуса заказа ИД"] == "N"
    assert reqs["Метод оплаты"] == "Наличный расчет"
    assert reqs["Адрес доставки"] == order.address
    assert reqs["Оплата получена"] == "false"


@pytest.mark.parametrize("charset", ["windows-1251", "utf-8"])
def test_charsets_keep_every_character(sale_settings, charset):
    sale_settings.order_charset = charset
    product = make_product(name=HARD_TEXT)
    order = make_order(lines=[(product.variants.get(), 1)], name="Әлия Ғабитқызы", comment=HARD_TEXT,
                       address="Алматы, ул. Қонаева & <1>")
    body, ctype = sale_query(session_key="s1", settings=sale_settings)
    declared = re.match(rb'(?:\xef\xbb\xbf)?<\?xml version="1.0" encoding="([^"]+)"\?>', body).group(1).decode()
    if charset == "utf-8":
        assert body.startswith(b"\xef\xbb\xbf")
        assert declared == "UTF-8" and ctype.endswith("charset=UTF-8")
        text = body[3:].decode("utf-8")
    else:
        assert not body.startswith(b"\xef\xbb\xbf")
        assert declared == "windows-1251" and ctype.endswith("charset=windows-1251")
        text = body.decode("cp1251")  # strict: every byte is windows-1251
        assert "&#1241;" in text  # ә is a character reference, not dropped nor "?"
        assert "?" not in text.split("?>", 1)[1]
    doc = documents(parse(body))[0]
    assert child(doc, "Комментарий").text == HARD_TEXT
    assert child(child(doc, "Товары")[0], "Наименование").text == HARD_TEXT
    contractor = child(child(doc, "Контрагенты"), "Контрагент")
    assert child(contractor, "Наименование").text == "Әлия Ғабитқызы"
    assert child(child(contractor, "Адрес"), "Представление").text == order.address


def test_both_charsets_decode_to_the_same_text(sale_settings, order):
    sale_settings.order_charset = "windows-1251"
    cp, _ = sale_query(session_key="a", settings=sale_settings)
    sale_settings.order_charset = "utf-8"
    u8, _ = sale_query(session_key="a", settings=sale_settings)
    assert etree.tostring(parse(cp), encoding="unicode") == etree.tostring(parse(u8), encoding="unicode")


def _schema(shared, version):
    return etree.XMLSchema(etree.parse(str(Path(shared, "xsd", f"commerceml_{version}.xsd"))))


@pytest.mark.parametrize("version", ["2.08", "2.10"])
def test_output_validates_against_the_xsd(shared, sale_settings, version):
    sale_settings.order_schema_version = version
    product = make_product(name=HARD_TEXT, variants=[{"price": "10.5", "characteristics": []},
                                                     {"price": "3", "name": "XL"}])
    variants = list(product.variants.all())
    make_order(lines=[(variants[0], "1.5"), (variants[1], 3)], comment="x" * 5000, discount_total=Decimal("5"),
               vat_total=Decimal("2.50"))
    make_order(company_name="ИП Иванов", inn="123", kpp="", delivery="pickup")  # bad ИНН length: left out
    make_order(name="Иванов Иван Иванович", email="", phone="")
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    root = parse(body)
    assert root.nsmap[None] == CML and root.get("ВерсияСхемы") == version
    schema = _schema(shared, version)
    assert schema.validate(root), schema.error_log


def test_schema_205_has_no_namespace_and_31_has_containers(sale_settings, order):
    sale_settings.order_schema_version = "2.05"
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    root = parse(body)
    assert root.tag == "КоммерческаяИнформация" and root.get("ВерсияСхемы") == "2.05"
    sale_settings.order_schema_version = "3.1"
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    root = parse(body)
    assert root.tag == "{urn:1C.ru:commerceml_3}КоммерческаяИнформация"
    (container,) = list(root)
    assert local(container.tag) == "Контейнер"
    assert [local(ch.tag) for ch in container] == ["Документ"]


def test_changed_exported_orders_go_out_again_unless_switched_off(sale_settings, order):
    from exchange1c.sale.commit import sale_success

    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == []
    order_set_status(order=order, status=OrderStatus.objects.get(code="cancelled"), source="admin")
    body, _ = sale_query(session_key="s3", settings=sale_settings)
    assert doc_ids(body) == [str(order.public_id)]
    assert requisites(documents(parse(body))[0])["Отменен"] == "true"
    sale_settings.export_changed_orders = False
    assert doc_ids(sale_query(session_key="s4", settings=sale_settings)[0]) == []


def test_no_orders_is_a_valid_empty_document(shared, sale_settings):
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    root = parse(body)
    assert documents(root) == []
    assert _schema(shared, "2.08").validate(root)


def test_touch_bumps_version_recorded_by_next_query(sale_settings, order):
    order_touch(order)
    sale_query(session_key="s1", settings=sale_settings)
    assert QueryRecord.objects.get(session_key="s1").version == 2


def test_orders_stream_in_pk_chunks_each_with_its_own_lines(monkeypatch, sale_settings):
    from exchange1c.sale import query

    monkeypatch.setattr(query, "CHUNK", 2)  # 5 orders: chunks of 2, 2 and 1
    products = [make_product(name=f"Товар {i}") for i in range(3)]
    orders = [make_order(lines=[(p.variants.get(), 1) for p in products[:n % 3 + 1]], email=f"b{n}@example.com")
              for n in range(5)]
    orders[2].customer = None  # a guest: counterparty id from the e-mail
    orders[2].save()
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    docs = documents(parse(body))
    assert [child(d, "Ид").text for d in docs] == [str(o.public_id) for o in orders]
    for doc, order in zip(docs, orders, strict=True):
        goods = [child(g, "Ид").text for g in child(doc, "Товары")]
        assert goods == [*order.lines.order_by("pk").values_list("offer_external_id", flat=True), "ORDER_DELIVERY"]
    guest_id = child(child(child(docs[2], "Контрагенты"), "Контрагент"), "Ид").text
    assert guest_id == str(query.uuid.uuid5(query.GUEST_NAMESPACE, "b2@example.com"))
    assert sorted(QueryRecord.objects.values_list("order_id", flat=True)) == [o.pk for o in orders]


def test_query_count_does_not_grow_with_the_orders(sale_settings, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for field_name in ("status", "customer", "payment_method", "delivery_method"):
        OrderFieldMapping.objects.create(field_name=field_name, requisite=f"Поле {field_name}")
    make_order()
    with CaptureQueriesContext(connection) as one:
        sale_query(session_key="s1", settings=sale_settings)
    for _n in range(5):
        make_order(lines=[(make_product().variants.get(), 2), (make_product().variants.get(), 1)])
    with django_assert_max_num_queries(len(one.captured_queries)):
        body, _ = sale_query(session_key="s1", settings=sale_settings)
    reqs = requisites(documents(parse(body))[-1])
    assert (reqs["Поле status"], reqs["Поле customer"]) == ("Новый", "Иван Петров")
    assert reqs["Поле payment_method"] and reqs["Поле delivery_method"]


def test_an_order_deleted_while_the_answer_is_written_is_not_recorded(monkeypatch, sale_settings):
    from exchange1c.sale import query
    from orders.models import Order

    first, second = make_order(), make_order()
    real = query.order_document

    def deleting(order, lines, maps):
        if order.pk == first.pk:
            Order.objects.filter(pk=first.pk).delete()  # an admin deletes it meanwhile
        return real(order, lines, maps)

    monkeypatch.setattr(query, "order_document", deleting)
    body, _ = sale_query(session_key="s1", settings=sale_settings)
    assert doc_ids(body) == [str(first.public_id), str(second.public_id)]
    assert list(QueryRecord.objects.values_list("order_id", "version")) == [(second.pk, 1)]
