"""Orders entered in 1C and unknown to the site: skipped, or created by a setting (PROTOCOL.md §4.4)."""

import uuid
from decimal import Decimal

import pytest

from exchange1c.models import OneCValueMapping, OrderExchangeEvent, OrderExport
from exchange1c.sale.apply import sale_apply_file
from exchange1c.sale.query import sale_query
from orders.models import Customer, Order, OrderLine, OrderStatus, OrderStatusChange
from tests.exchange1c.sale.conftest import doc_ids
from tests.exchange1c.sale.test_apply import cml, goods_line, write
from tests.factories import make_order, make_product

PHONE_ORDER_ID = "3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b"


def buyer(*, name="ООО «Ромашка»", inn="7701234567", kpp="770101001", email="zakup@romashka.ru",
          phone="+7 (495) 123-45-67", address="Москва, ул. Тверская, 7"):
    contacts = "".join(
        f"<Контакт><Тип>{kind}</Тип><Значение>{value}</Значение></Контакт>"
        for kind, value in (("Почта", email), ("Телефон рабочий", phone)) if value
    )
    return (f"<Контрагенты><Контрагент><Ид>cp-1</Ид><Наименование>{name}</Наименование>"
            f"<ОфициальноеНаименование>{name}</ОфициальноеНаименование>"
            + (f"<ИНН>{inn}</ИНН><КПП>{kpp}</КПП>" if inn else "")
            + f"<Роль>Покупатель</Роль><Адрес><Представление>{address}</Представление></Адрес>"
            f"<Контакты>{contacts}</Контакты></Контрагент></Контрагенты>")


def phone_order(number="ТД-000123", *, ident=PHONE_ORDER_ID, goods="", total="3450", party=None,
                requisites=(), currency="руб"):
    reqs = "".join(f"<ЗначениеРеквизита><Наименование>{n}</Наименование><Значение>{v}</Значение>"
                   f"</ЗначениеРеквизита>" for n, v in requisites)
    return (f"<Документ><Ид>{ident}</Ид><Номер>{number}</Номер><Дата>2024-05-02</Дата>"
            f"<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>{currency}</Валюта>"
            f"<Курс>1</Курс><Сумма>{total}</Сумма>{buyer() if party is None else party}"
            f"<Время>12:30:00</Время><Комментарий>Позвонить перед доставкой</Комментарий>"
            + (f"<Товары>{goods}</Товары>" if goods else "")
            + (f"<ЗначенияРеквизитов>{reqs}</ЗначенияРеквизитов>" if reqs else "")
            + "</Документ>")


@pytest.fixture
def kettle(db):
    return make_product(name="Чайник Bosch", price=Decimal("1500"), stock=5,
                        external_id="11111111-2222-3333-4444-555555555555")


@pytest.fixture
def phone_file(tmp_path, kettle):
    goods = (goods_line(kettle.variants.get().external_id, "1500", "2", "3000", name="Чайник Bosch TWK")
             + goods_line("99999999-0000-0000-0000-000000000000#1", "100", "1", "100", name="Пакет подарочный")
             + goods_line("ORDER_DELIVERY", "350", "1", "350", kind="Услуга", name="Доставка"))
    return write(tmp_path, cml(phone_order(goods=goods)))


def create_on(settings):
    settings.create_unknown_orders = True
    settings.save()
    return settings


def test_setting_is_off_by_default_and_unknown_orders_are_skipped(sale_settings, phone_file, kettle):
    assert sale_settings.create_unknown_orders is False
    status, lines = sale_apply_file(path=phone_file, settings=sale_settings)
    assert status == "success"
    assert "unknown: 1" in lines[0]
    assert "Order ТД-000123 is not on the site: skipped" in lines
    assert not Order.objects.exists() and not OrderLine.objects.exists() and not Customer.objects.exists()


def test_unknown_order_is_created_with_lines_customer_and_totals(sale_settings, phone_file, kettle):
    create_on(sale_settings)
    variant = kettle.variants.get()
    status, lines = sale_apply_file(path=phone_file, settings=sale_settings)
    assert status == "success", lines
    assert "Orders created from 1C: 1" in lines
    assert "unknown: 0" in lines[0]

    order = Order.objects.get()
    assert order.number == "ТД-000123" and order.onec_number == "ТД-000123"  # 1C's number was free
    assert order.public_id == uuid.UUID(PHONE_ORDER_ID)  # so the next exchange finds the same order
    assert (order.customer_name, order.company_name, order.inn, order.kpp) == (
        "ООО «Ромашка»", "ООО «Ромашка»", "7701234567", "770101001")
    assert (order.email, order.phone, order.address) == (
        "zakup@romashka.ru", "+7 (495) 123-45-67", "Москва, ул. Тверская, 7")
    assert order.customer == Customer.objects.get(key="zakup@romashka.ru")
    assert order.currency == "RUB" and order.comment == "Позвонить перед доставкой"
    assert (order.goods_total, order.delivery_price, order.total) == (
        Decimal("3100"), Decimal("350"), Decimal("3450"))

    matched, unknown = order.lines.order_by("pk")
    assert (matched.variant, matched.offer_external_id, matched.name, matched.price, matched.quantity,
            matched.total, matched.unit_code) == (
        variant, variant.external_id, "Чайник Bosch TWK", Decimal("1500"), Decimal("2"), Decimal("3000"), "796")
    assert unknown.variant is None and unknown.name == "Пакет подарочный"
    assert unknown.offer_external_id == "99999999-0000-0000-0000-000000000000#1"
    # No reservation: 1C counts its own orders in the stock it sends.
    assert matched.reserved_quantity == 0
    variant.refresh_from_db()
    assert variant.reserved == 0

    # Never the export status (it would go back to 1C as a new order): setting 6.
    assert order.status == sale_settings.status_after_export
    assert order.version == 1
    assert OrderExport.objects.get(order=order).exported_version == 1
    change = OrderStatusChange.objects.get(order=order)
    assert change.source == OrderStatusChange.Source.EXCHANGE and change.to_status == order.status
    event = OrderExchangeEvent.objects.get(order=order)
    assert event.summary == "created from 1C" and event.details["created"] == ["", "ТД-000123"]


def test_applying_the_same_file_again_creates_nothing_more(sale_settings, phone_file, kettle):
    create_on(sale_settings)
    sale_apply_file(path=phone_file, settings=sale_settings)
    counts = (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count(),
              OrderExchangeEvent.objects.count(), OrderStatusChange.objects.count())
    status, lines = sale_apply_file(path=phone_file, settings=sale_settings)
    assert status == "success"
    assert "unchanged: 1" in lines[0] and not any("created" in ln for ln in lines)
    assert (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count(),
            OrderExchangeEvent.objects.count(), OrderStatusChange.objects.count()) == counts


def test_a_created_order_is_not_sent_back_by_query(sale_settings, phone_file, kettle):
    create_on(sale_settings)
    site_order = make_order()
    sale_apply_file(path=phone_file, settings=sale_settings)
    created = Order.objects.get(number="ТД-000123")
    sent = doc_ids(sale_query(session_key="s1", settings=sale_settings)[0])
    assert sent == [str(site_order.public_id)]
    assert str(created.public_id) not in sent


def test_number_unfit_for_the_site_gets_the_site_number_and_is_found_again(sale_settings, tmp_path, kettle):
    create_on(sale_settings)
    site_order = make_order()
    goods = goods_line(kettle.variants.get().external_id, "1500", "1", "1500")
    long_number = "ЗаказКлиента-ТД-000000000017-от-2024"  # longer than the site's numbers may be
    # A non-UUID Ид: the order can only be found again by 1C's number.
    path = write(tmp_path, cml(phone_order(long_number, ident="ТД-17", goods=goods, total="1500"),
                               phone_order("", ident=PHONE_ORDER_ID, goods=goods, total="1500")))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success" and "Orders created from 1C: 2" in lines, lines
    by_long = Order.objects.get(onec_number=long_number)
    by_id = Order.objects.get(public_id=uuid.UUID(PHONE_ORDER_ID))
    # The site's next numbers, after the site's own order.
    assert sorted([by_long.number, by_id.number]) == [str(int(site_order.number) + 1), str(int(site_order.number) + 2)]
    assert f"Order {long_number} created from 1C as {by_long.number}" in lines

    # The next file with a payment reaches the created orders; nothing new is created.
    path = write(tmp_path, cml(
        phone_order(long_number, ident="ТД-17", goods=goods, total="1500", requisites=[("Заказ оплачен", "true")]),
        phone_order("", ident=PHONE_ORDER_ID, goods=goods, total="1500", requisites=[("Заказ оплачен", "true")]),
    ))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert "changed: 2" in lines[0], lines
    assert Order.objects.count() == 3
    by_long.refresh_from_db()
    by_id.refresh_from_db()
    site_order.refresh_from_db()
    assert by_long.is_paid and by_id.is_paid and not site_order.is_paid


def test_status_through_the_mapping_and_flags_applied_after_creation(sale_settings, tmp_path, kettle):
    create_on(sale_settings)
    shipped = OrderStatus.objects.get(code="shipped")
    OneCValueMapping.objects.create(kind="status", status=shipped, onec_name="К отгрузке", onec_id="S")
    goods = goods_line(kettle.variants.get().external_id, "1500", "1", "1500")
    path = write(tmp_path, cml(
        phone_order("ТД-1", ident="ТД-1", goods=goods, total="1500",
                    requisites=[("Статус заказа", "К отгрузке"), ("Оплачен", "true"), ("Номер по 1С", "ТД-1")]),
        # Mapped to the export status: created in setting 6 instead, so it is not exported as new.
        phone_order("ТД-2", ident="ТД-2", goods=goods, total="1500", requisites=[("Статус заказа", "Новый")]),
    ))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success" and "Orders created from 1C: 2" in lines, lines
    first, second = Order.objects.get(number="ТД-1"), Order.objects.get(number="ТД-2")
    assert first.status == shipped and first.is_shipped and first.is_paid
    assert first.version == 1
    assert second.status == sale_settings.status_after_export
    assert OrderExport.objects.get(order=first).onec_status == "К отгрузке"


def test_person_buyer_is_one_customer_across_orders(sale_settings, tmp_path, kettle):
    create_on(sale_settings)
    existing = make_order(email="ivan@example.com", name="Иван Петров")
    person = ("<Контрагенты><Контрагент><Ид>p-1</Ид><Наименование>Иван Петров</Наименование>"
              "<ПолноеНаименование>Петров Иван</ПолноеНаименование><Роль>Покупатель</Роль>"
              "<Контакты><Контакт><Тип>Электронная почта</Тип><Значение>Ivan@Example.com</Значение></Контакт>"
              "</Контакты></Контрагент></Контрагенты>")
    goods = goods_line(kettle.variants.get().external_id, "1500", "1", "1500")
    path = write(tmp_path, cml(phone_order("ТД-5", ident="ТД-5", goods=goods, total="1500", party=person)))
    sale_apply_file(path=path, settings=sale_settings)
    created = Order.objects.get(number="ТД-5")
    assert created.customer == existing.customer
    assert (created.customer_name, created.company_name, created.inn) == ("Петров Иван", "", "")


def test_a_document_that_cannot_be_an_order_is_refused_the_others_created(sale_settings, tmp_path, kettle):
    create_on(sale_settings)
    goods = goods_line(kettle.variants.get().external_id, "1500", "1", "1500")
    path = write(tmp_path, cml(
        phone_order("ТД-8", ident="ТД-8", goods="", total="0"),  # no goods at all
        phone_order("ТД-9", ident="ТД-9", goods=goods, total="1500", party=""),  # no buyer: still an order
    ))
    status, lines = sale_apply_file(path=path, settings=sale_settings)
    assert status == "success"
    assert "refused: 1" in lines[0]
    assert "Order ТД-8 is not on the site and was not created: no goods with a quantity" in lines
    assert list(Order.objects.values_list("number", flat=True)) == ["ТД-9"]
    assert Order.objects.get().customer is None
