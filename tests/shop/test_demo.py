"""The demo data: the generated CommerceML (read back with our reader) and `manage.py demo_data`."""

import datetime as dt
import hashlib
import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image

from catalog.models import Brand, Group, Price, PriceType, Product, ProductImage, Stock, Variant
from exchange1c.commerceml.reader import CommerceMLReader, sniff
from exchange1c.commerceml.records import GroupRecord, OfferRecord, ProductRecord, PropertyRecord
from orders.models import Order, OrderStatusChange
from shop.demo import pictures
from shop.demo.commerceml import write_catalog
from shop.demo.content import DemoCatalog

STAMP = dt.datetime(2026, 1, 15, 10, 30)


def read(path):
    return list(CommerceMLReader(path))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-cml")
    written = write_catalog(DemoCatalog(seed=7, count=400), folder, generated_at=STAMP)
    return folder, written


# --- the files, as the reader sees them ------------------------------------------------

def test_files_are_a_catalog_and_an_offers_package(generated):
    folder, written = generated
    assert written.filenames == ["import.xml", "offers.xml"]
    catalog, offers = (sniff(folder / name) for name in written.filenames)
    assert (catalog.kind, catalog.schema_version, catalog.changes_only) == ("catalog", "2.08", False)
    assert offers.kind == "offers"
    assert catalog.namespace == "urn:1C.ru:commerceml_210"


def test_catalog_file_has_a_group_tree_properties_and_products(generated):
    folder, written = generated
    reader = CommerceMLReader(folder / "import.xml")
    records = list(reader)
    assert reader.warning_count == 0, reader.warnings[:5]
    groups = [r for r in records if isinstance(r, GroupRecord)]
    products = [r for r in records if isinstance(r, ProductRecord)]
    properties = {r.name: r for r in records if isinstance(r, PropertyRecord)}

    assert 40 <= len(groups) <= 60
    by_id = {g.external_id: g for g in groups}

    def depth(g):
        return 0 if g.parent_id is None else 1 + depth(by_id[g.parent_id])

    assert {depth(g) for g in groups} == {0, 1, 2}
    assert {g.name for g in groups} >= {"Бытовая техника", "Чайники", "Крупы"}
    assert 6 <= len(properties) <= 10
    assert {p.value_type for p in properties.values()} == {"reference", "string", "number"}
    assert "Производитель" in properties

    assert len(products) == 400 == written.products
    assert sum(p.deleted for p in products) == 2
    live = [p for p in products if not p.deleted]
    brand_property = properties["Производитель"].external_id
    assert sum(any(pid == brand_property for pid, _v in p.properties) for p in live) > 0.7 * len(live)
    assert sum(p.manufacturer is not None for p in live) > 0.2 * len(live)
    assert all(p.group_ids and p.group_ids[0] in by_id for p in products)
    assert {p.unit.code for p in products} == {"796", "166", "839"}
    with_pictures = [p for p in live if p.images]
    assert 0.8 * len(live) < len(with_pictures) < len(live)
    for path, _caption in (img for p in with_pictures for img in p.images):
        assert (folder / path).is_file()


def test_offers_have_variants_two_prices_and_two_warehouses(generated):
    folder, _written = generated
    records = read(folder / "offers.xml")
    offers = [r for r in records if isinstance(r, OfferRecord)]
    price_types = {r.name for r in records if type(r).__name__ == "PriceTypeRecord"}
    warehouses = [r for r in records if type(r).__name__ == "WarehouseRecord"]
    assert {"Розничная", "Оптовая"} <= price_types
    assert len(warehouses) == 2

    per_product = Counter(o.product_id for o in offers)
    with_variants = [pid for pid, n in per_product.items() if n > 1]
    assert 0.22 < len(with_variants) / len(per_product) < 0.4
    assert max(per_product.values()) <= 4
    variant_offers = [o for o in offers if o.feature_id]
    assert {name for o in variant_offers for name, _value in o.characteristics} <= {"Цвет", "Размер", "Объём"}

    assert sum(not o.has_prices for o in offers) >= 2  # a product or two without a price yet
    priced = [o for o in offers if o.has_prices]
    assert all(len(o.stocks) == 2 for o in offers)
    assert any(s.quantity == 0 for o in offers for s in o.stocks)
    assert any(s.quantity != s.quantity.to_integral_value() for o in offers for s in o.stocks)  # kg goods
    assert all(p.value > 0 and p.currency == "RUB" for o in priced for p in o.prices)
    assert any(len(o.prices) == 3 for o in priced)  # some with an old price


def test_same_seed_same_files(tmp_path):
    first = write_catalog(DemoCatalog(seed=3, count=50), tmp_path / "a", generated_at=STAMP)
    second = write_catalog(DemoCatalog(seed=3, count=50), tmp_path / "b", generated_at=STAMP)
    other = write_catalog(DemoCatalog(seed=4, count=50), tmp_path / "c", generated_at=STAMP)
    for name in first.filenames:
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes()
        assert (first.folder / name).read_bytes() != (other.folder / name).read_bytes()
    assert first.picture_files == second.picture_files


def test_product_i_does_not_depend_on_the_catalog_size():
    small, large = DemoCatalog(seed=5, count=100), DemoCatalog(seed=5, count=3000)
    assert small.product(80).name == large.product(80).name
    assert small.product(80).offers[0].prices == large.product(80).offers[0].prices


def test_pictures_are_storefront_size_jpegs_and_reused(generated):
    folder, written = generated
    assert 0 < written.pictures < written.products / 2
    sizes = set()
    digests = set()
    for relative in written.picture_files.values():
        data = (folder / relative).read_bytes()
        digests.add(hashlib.sha256(data).hexdigest())
        with Image.open(io.BytesIO(data)) as image:
            sizes.add((image.format, image.size))
    assert sizes == {("JPEG", (pictures.SIZE, pictures.SIZE))}
    assert len(digests) == written.pictures  # each drawing differs (group, brand or view)


def test_pictures_differ_by_group_colour():
    red = Image.open(io.BytesIO(pictures.render(shape="box", colour="#d9534f", group="a", brand="Bosch")))
    blue = Image.open(io.BytesIO(pictures.render(shape="box", colour="#337ab7", group="a", brand="Bosch")))
    r1, g1, b1 = red.convert("RGB").getpixel((300, 420))
    r2, g2, b2 = blue.convert("RGB").getpixel((300, 420))
    assert r1 > b1 and b2 > r2


# --- manage.py demo_data ---------------------------------------------------------------

def run(*args) -> str:
    out = io.StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_demo_data_loads_a_shop_through_the_importer():
    output = run("--products", "60", "--seed", "2")

    live = Product.objects.filter(is_active=True)
    assert live.count() == 58  # two of the 60 were sent as deleted
    assert Product.objects.count() <= 60
    assert Group.objects.count() >= 40
    assert Brand.objects.exists()
    assert Variant.objects.count() > 60
    assert Variant.objects.filter(external_id__contains="#").exclude(characteristics=[]).exists()
    storefront = PriceType.objects.get(is_storefront=True)
    assert storefront.name == "Розничная"
    assert Price.objects.filter(price_type=storefront).count() >= 50
    assert Stock.objects.filter(quantity__gt=0).exists()
    assert live.filter(price__isnull=False, in_stock=True).count() > 30
    assert any(q != q.to_integral_value() for q in Stock.objects.values_list("quantity", flat=True))  # kg

    images = ProductImage.objects.all()
    assert images.count() > 40
    media = Path(settings.MEDIA_ROOT)
    assert all((media / image.file.name).is_file() for image in images)
    assert len({image.file.name for image in images}) < images.count()  # same picture, one file

    statuses = set(Order.objects.values_list("status__code", flat=True))
    assert Order.objects.count() >= 8
    assert {"new", "accepted", "paid", "shipped", "completed", "cancelled"} <= statuses
    assert OrderStatusChange.objects.filter(source="admin").exists()
    assert all(order.lines.exists() for order in Order.objects.all())

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    password = re.search(r"password: (\S+)", output).group(1)
    assert admin.check_password(password)
    for url in ("http://127.0.0.1:8000/", "/admin/", "/exchange"):
        assert url in output

    counts = (Product.objects.count(), Variant.objects.count(), Order.objects.count(), ProductImage.objects.count())
    again = run("--products", "60", "--if-empty")
    assert "/admin/" in again and "password" not in again
    assert counts == (Product.objects.count(), Variant.objects.count(), Order.objects.count(),
                      ProductImage.objects.count())


@pytest.mark.django_db(transaction=True)
def test_demo_data_keeps_an_existing_admin(django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", "my-own-password")
    output = run("--products", "20", "--orders", "2")
    assert "password:" not in output
    assert "kept" in output
    assert django_user_model.objects.get(username="admin").check_password("my-own-password")
    assert 18 <= Product.objects.count() <= 20
    assert Order.objects.count() == 2
    assert Decimal(0) <= min(Variant.objects.values_list("reserved", flat=True))
