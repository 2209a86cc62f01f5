"""Fixtures of the order exchange tests: settings, orders built with tests/factories.py, XML helpers."""

from decimal import Decimal

import pytest
from django.utils import translation
from lxml import etree

from exchange1c.models import ExchangeSettings
from orders.models import OrderStatus
from tests.factories import make_order, make_product

CML = "urn:1C.ru:commerceml_2"


@pytest.fixture(autouse=True)
def _english():
    """Answer lines are asserted in their English msgids, whatever the Russian catalog says."""
    with translation.override("en"):
        yield


@pytest.fixture
def sale_settings(db):
    settings = ExchangeSettings.get_solo()
    settings.export_status = OrderStatus.objects.get(code="new")
    settings.status_after_export = OrderStatus.objects.get(code="accepted")
    settings.save()
    return settings


@pytest.fixture
def order(db):
    product = make_product(name="Чайник Bosch", price=Decimal("1500.50"))
    return make_order(lines=[(product.variants.get(), 2)])


def parse(body: bytes):
    """The query answer as an lxml tree (lxml reads the BOM and the declared charset)."""
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def documents(root) -> list:
    return [el for el in root.iter() if isinstance(el.tag, str) and local(el.tag) == "Документ"]


def child(el, name: str):
    for ch in el:
        if local(ch.tag) == name:
            return ch
    return None


def requisites(el) -> dict[str, str]:
    box = child(el, "ЗначенияРеквизитов")
    out = {}
    for item in box:
        out[child(item, "Наименование").text] = child(item, "Значение").text or ""
    return out


def doc_ids(body: bytes) -> list[str]:
    return [child(d, "Ид").text for d in documents(parse(body))]
