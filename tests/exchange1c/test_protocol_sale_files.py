"""type=sale `file` over HTTP (PROTOCOL.md §4.4): a zip is accepted, with and without `version=`;
a file name with a path is refused and nothing is written. Answers are asserted in Russian, the
language the exchange answers 1C's operator in."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from exchange1c.models import ExchangeRun, OrderExchangeEvent
from orders.models import Order
from tests.exchange1c.test_protocol_support import OneC, configure, make_exchange_user, zip_bytes
from tests.factories import make_order, make_product

pytestmark = pytest.mark.django_db

GUID = "0b5e9f4c-1a2b-4c3d-8e9f-a0b1c2d3e4f5"
ZIP_NAME = f"orders-{GUID}.zip"
XML_NAME = f"orders-{GUID}.xml"


@pytest.fixture
def sale(client):
    make_exchange_user()
    return OneC(client, kind="sale")


@pytest.fixture
def order(db):
    return make_order(lines=[(make_product(name="Чайник").variants.get(), 1)])


def changes_xml(*documents: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08" '
            'ДатаФормирования="2024-05-01T10:00:00">' + "".join(documents) + "</КоммерческаяИнформация>").encode()


def document(number: str, ident: str, onec_number: str, goods: str = "", total: str = "") -> str:
    return (f"<Документ><Ид>{ident}</Ид><Номер>{number}</Номер><Дата>2024-05-01</Дата>"
            "<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль><Валюта>RUB</Валюта><Курс>1</Курс>"
            + (f"<Сумма>{total}</Сумма>" if total else "")
            + (f"<Товары>{goods}</Товары>" if goods else "")
            + "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Номер по 1С</Наименование>"
            f"<Значение>{onec_number}</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Документ>")


def order_zip(order, onec_number="ЗК-000042") -> bytes:
    return zip_bytes({XML_NAME: changes_xml(document(order.number, str(order.public_id), onec_number))})


def package_files() -> list[Path]:
    run = ExchangeRun.objects.get(kind="sale")
    folder = Path(django_settings.EXCHANGE_ROOT, run.package_folder)
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_zip_without_version_is_applied_in_the_file_call(sale, order):
    sale.start()  # no version=: the file is applied at once
    out = sale.upload(ZIP_NAME, order_zip(order))
    assert out[0] == "success", out
    assert "Заказов изменено: 1" in out[1]
    order.refresh_from_db()
    assert order.onec_number == "ЗК-000042"
    assert package_files() == [Path(XML_NAME), Path(ZIP_NAME)]
    # An import after it (some clients send one anyway) applies nothing more.
    out = sale.import_(ZIP_NAME)
    assert out[0] == "success" and "без изменений: 1" in out[1], out
    assert OrderExchangeEvent.objects.filter(order=order).count() == 1


def test_zip_with_version_is_applied_by_import(sale, order):
    sale.start(version="2.08")
    assert sale.upload(ZIP_NAME, order_zip(order)) == ["success"]
    order.refresh_from_db()
    assert order.onec_number == ""  # stored only
    out = sale.poll(ZIP_NAME)
    assert out[0] == "success" and "Заказов изменено: 1" in out[1], out
    order.refresh_from_db()
    assert order.onec_number == "ЗК-000042"
    # Applied already: success again, nothing changed; the member's own name works too.
    for name in (ZIP_NAME, XML_NAME):
        out = sale.poll(name)
        assert out[0] == "success" and "без изменений: 1" in out[1], (name, out)
    assert OrderExchangeEvent.objects.filter(order=order).count() == 1


def test_zip_creates_a_phone_order_when_the_setting_is_on(sale, order):
    configure(create_unknown_orders=True)
    variant = order.lines.get().variant
    goods = (f"<Товар><Ид>{variant.external_id}</Ид><Наименование>Чайник</Наименование>"
             "<ЦенаЗаЕдиницу>100</ЦенаЗаЕдиницу><Количество>3</Количество><Сумма>300</Сумма></Товар>")
    ident = str(uuid.uuid4())
    data = zip_bytes({XML_NAME: changes_xml(document("ТД-1", ident, "ТД-1", goods=goods, total="300"))})
    sale.start(version="2.08")
    assert sale.upload(ZIP_NAME, data) == ["success"]
    out = sale.poll(ZIP_NAME)
    assert out[0] == "success" and "Заказов создано из 1С: 1" in out, out
    created = Order.objects.get(public_id=uuid.UUID(ident))
    assert created.number == "ТД-1" and created.total == 300 and created.lines.get().variant == variant
    assert sale.poll(ZIP_NAME)[0] == "success"
    assert Order.objects.count() == 2


def test_zip_with_several_order_files_applies_each(sale, order):
    other = make_order()
    data = zip_bytes({
        "a/orders-1.xml": changes_xml(document(order.number, str(order.public_id), "ЗК-1")),
        "orders-2.xml": changes_xml(document(other.number, str(other.public_id), "ЗК-2")),
        "readme.txt": b"not an order file",
    })
    sale.start()
    out = sale.upload(ZIP_NAME, data)
    assert out[0] == "success", out
    assert "orders-1.xml: success" in out and "orders-2.xml: success" in out
    order.refresh_from_db()
    other.refresh_from_db()
    assert (order.onec_number, other.onec_number) == ("ЗК-1", "ЗК-2")


def test_zip_with_a_malformed_member_changes_nothing(sale, order):
    sale.start()
    out = sale.upload(ZIP_NAME, zip_bytes({XML_NAME: b"<broken"}))
    assert out[0] == "failure" and "ничего не изменено" in out[1], out
    order.refresh_from_db()
    assert order.onec_number == ""


@pytest.mark.parametrize("version", [None, "2.08"])
def test_zip_member_with_a_path_is_refused_and_not_written(sale, order, version, tmp_path):
    sale.start(**({"version": version} if version else {}))
    data = zip_bytes({"../escaped.xml": changes_xml(document(order.number, str(order.public_id), "ЗК-9"))})
    out = sale.upload(ZIP_NAME, data)
    if version:
        assert out == ["success"]
        out = sale.import_(ZIP_NAME)
    assert out[0] == "failure" and "выходит за пределы папки обмена" in out[1], out
    assert package_files() == [Path(ZIP_NAME)]
    assert not any(p.name == "escaped.xml" for p in Path(django_settings.EXCHANGE_ROOT).parent.rglob("*"))
    order.refresh_from_db()
    assert order.onec_number == ""


@pytest.mark.parametrize("version", [None, "2.08"])
@pytest.mark.parametrize("name", ["../x.xml", "/etc/x.xml", "a\\..\\b.xml", "C:\\x.xml", "sub/../../x.xml"])
def test_file_name_with_a_path_is_refused_and_nothing_is_written(sale, order, name, version):
    sale.start(**({"version": version} if version else {}))
    out = sale.upload(name, changes_xml(document(order.number, str(order.public_id), "ЗК-7")))
    assert out[0] == "failure" and out[1].startswith("Файл не принят"), out
    assert package_files() == []
    root = Path(django_settings.EXCHANGE_ROOT)
    assert not any(p.name in ("x.xml", "b.xml") for p in root.parent.rglob("*"))
    order.refresh_from_db()
    assert order.onec_number == ""
    assert ExchangeRun.objects.get(kind="sale").error_count == 1
