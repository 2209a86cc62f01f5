"""The catalog and orders admin through the test client, as a superuser, on real rows."""

import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.forms import MultiWidget
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog.models import (
    Group,
    GroupSlugRedirect,
    Price,
    PriceType,
    Product,
    ProductImage,
    ProductSlugRedirect,
    Property,
    Stock,
    Variant,
)
from catalog.selectors import product_search
from orders.models import Cart, Order, OrderStatus, OrderStatusChange
from orders.services import cart_add
from tests.factories import make_brand, make_group, make_order, make_product, make_unit

pytestmark = pytest.mark.django_db

APPS = {"catalog", "orders"}


def jpeg(colour="red", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "secret-pass-1")


@pytest.fixture
def staff(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def shop():
    """A small catalog and an order: something on every admin page."""
    root = make_group(name="Бытовая техника")
    kettles = make_group(name="Чайники", parent=root)
    brand = make_brand(name="Bosch")
    kg = make_unit(code="166", name="кг", fractional=True)
    kettle = make_product(
        name="Чайник Bosch TWK-1", group=kettles, brand=brand, article="TWK1", price="2490", old_price="2990",
        properties={"Цвет": "Белый", "Мощность, Вт": Decimal("2200")},
    )
    shirt = make_product(name="Футболка мужская", group=root, variants=[
        {"characteristics": [["Размер", "M"]], "price": "990", "stock": 3},
        {"characteristics": [["Размер", "L"]], "price": "1090", "stock": 0},
    ])
    make_product(name="Гречка весовая", group=root, unit=kg, price="120.50", stock="12.350")
    PriceType.objects.create(name="Оптовая")
    image = ProductImage(product=kettle, content_hash="ab" * 32, position=0, width=40, height=30)
    image.file.save("kettle.jpg", SimpleUploadedFile("kettle.jpg", jpeg()), save=True)
    order = make_order(lines=[(kettle.variants.get(), 1), (shirt.variants.first(), 2)], phone="+79161234567")
    cart_add(cart=Cart.objects.create(session_key="s" * 32), variant=kettle.variants.get(), quantity=1)
    return {"root": root, "kettles": kettles, "kettle": kettle, "shirt": shirt, "order": order, "brand": brand}


def registered():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in APPS]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """What the browser would post back for an unchanged admin change form (with inlines)."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            widget = field.widget
            if getattr(widget, "input_type", None) == "checkbox":
                if value:
                    data[key] = "on"
            elif getattr(widget, "input_type", None) == "file":
                continue
            elif isinstance(widget, MultiWidget):
                for n, part in enumerate(widget.decompress(value)):
                    data[f"{key}_{n}"] = "" if part is None else part
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


# --- every page renders ------------------------------------------------------------------

def test_every_changelist_add_and_change_page_renders(staff, shop):
    ProductSlugRedirect.objects.create(slug="old-kettle", product=shop["kettle"])
    GroupSlugRedirect.objects.create(slug="old-kettles", group=shop["kettles"])
    seen = []
    for model, model_admin in registered():
        response = staff.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} row in the fixture"
        response = staff.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, model
        add = staff.get(admin_url(model, "add"))
        assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403), model
        seen.append(model.__name__)
    assert {"Product", "Variant", "Group", "Brand", "PriceType", "Order", "OrderStatus", "Customer"} <= set(seen)


def test_admin_site_is_called_obmen(staff):
    response = staff.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "<title>" in response.content.decode() and "Obmen" in response.content.decode()


def test_product_page_uses_autocomplete_not_a_select_of_every_row(staff, shop):
    for n in range(30):
        make_brand(name=f"Марка {n}")
    response = staff.get(admin_url(Product, "change", shop["kettle"].pk))
    html = response.content.decode()
    assert "admin-autocomplete" in html
    # Only the chosen brand is rendered as an <option>; the other 30 load on demand.
    assert "Марка 7" not in html
    assert shop["kettle"].images.get().file.url in html  # the thumbnail preview


def test_product_changelist_queries_do_not_grow_with_rows(staff, shop):
    url = admin_url(Product, "changelist")
    staff.get(url)  # one-time work (the exchange settings row the admin banner reads) is not per row
    with CaptureQueriesContext(connection) as few:
        assert staff.get(url).status_code == 200
    for n in range(15):
        product = make_product(name=f"Утюг {n}", brand=shop["brand"])
        image = ProductImage(product=product, content_hash=f"{n:064x}", width=40, height=30)
        image.file.save(f"i{n}.jpg", SimpleUploadedFile(f"i{n}.jpg", jpeg("blue")), save=True)
    with CaptureQueriesContext(connection) as many:
        assert staff.get(url).status_code == 200
    assert len(many) == len(few)


def test_order_changelist_queries_do_not_grow_with_rows(staff, shop):
    url = admin_url(Order, "changelist")
    staff.get(url)  # one-time work (the exchange settings row the admin banner reads) is not per row
    with CaptureQueriesContext(connection) as few:
        assert staff.get(url).status_code == 200
    for _n in range(10):
        make_order(lines=[(shop["kettle"].variants.get(), 1)], status="accepted")
    with CaptureQueriesContext(connection) as many:
        assert staff.get(url).status_code == 200
    assert len(many) == len(few)


# --- search ------------------------------------------------------------------------------

def test_product_search_folds_cyrillic_case(staff, shop):
    response = staff.get(admin_url(Product, "changelist"), {"q": "чайник"})
    assert [p.name for p in response.context["cl"].result_list] == ["Чайник Bosch TWK-1"]
    response = staff.get(admin_url(Product, "changelist"), {"q": "twk1"})
    assert [p.name for p in response.context["cl"].result_list] == ["Чайник Bosch TWK-1"]
    response = staff.get(admin_url(Product, "changelist"), {"q": "пылесос"})
    assert list(response.context["cl"].result_list) == []


def test_order_search_by_phone_and_number(staff, shop):
    other = make_order(phone="+79990000000", name="Пётр Сидоров", email="petr@example.com")
    response = staff.get(admin_url(Order, "changelist"), {"q": "79161234567"})
    assert list(response.context["cl"].result_list) == [shop["order"]]
    response = staff.get(admin_url(Order, "changelist"), {"q": other.number})
    assert list(response.context["cl"].result_list) == [other]


def test_autocomplete_finds_groups_for_the_product_form(staff, shop):
    response = staff.get(reverse("admin:autocomplete"), {
        "term": "Чайн", "app_label": "catalog", "model_name": "productgroup", "field_name": "group",
    })
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Чайники"]


# --- product and group edits -------------------------------------------------------------

def test_product_slug_change_keeps_the_old_address(staff, shop):
    kettle = shop["kettle"]
    old_slug = kettle.slug
    url = admin_url(Product, "change", kettle.pk)
    data = form_data(staff.get(url))
    data.update(slug="chaynik-bosch-novyy", name="Чайник Bosch TWK-2 Новый")

    response = staff.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    kettle.refresh_from_db()
    assert kettle.slug == "chaynik-bosch-novyy"
    assert ProductSlugRedirect.objects.get(slug=old_slug).product == kettle
    assert "twk-2 новый" in kettle.search_text
    assert [p.pk for p in product_search(query="Новый")] == [kettle.pk]  # PostgreSQL: its search entry too
    assert staff.get(reverse("catalog:product", kwargs={"slug": old_slug})).status_code in (301, 302)


def test_product_going_back_to_an_old_slug_drops_that_redirect(staff, shop):
    kettle = shop["kettle"]
    first = kettle.slug
    url = admin_url(Product, "change", kettle.pk)
    for slug in ("second-slug", first):
        data = form_data(staff.get(url))
        data["slug"] = slug
        assert staff.post(url, data).status_code == 302
    kettle.refresh_from_db()
    assert kettle.slug == first
    assert list(ProductSlugRedirect.objects.values_list("slug", flat=True)) == ["second-slug"]


def test_switching_a_variant_off_refreshes_the_product_price(staff, shop):
    shirt = shop["shirt"]
    assert shirt.price == Decimal("990")
    url = admin_url(Product, "change", shirt.pk)
    data = form_data(staff.get(url))
    cheap = shirt.variants.get(price=Decimal("990"))
    index = next(k for k in range(2) if data[f"variants-{k}-id"] == str(cheap.pk))
    data.pop(f"variants-{index}-is_active")
    assert staff.post(url, data).status_code == 302
    shirt.refresh_from_db()
    assert shirt.price == Decimal("1090")


def test_uploading_a_picture_stores_it_by_content_hash(staff, shop):
    shirt = shop["shirt"]
    response = staff.post(admin_url(ProductImage, "add"), {
        "product": shirt.pk, "position": 0, "caption": "Вид спереди",
        "file": SimpleUploadedFile("front.jpg", jpeg("green", (60, 50)), content_type="image/jpeg"),
    })
    assert response.status_code == 302
    image = shirt.images.get()
    assert len(image.content_hash) == 64
    assert image.file.name == f"products/{image.content_hash[:2]}/{image.content_hash}.jpg"
    assert (image.width, image.height) == (60, 50)

    again = staff.post(admin_url(ProductImage, "add"), {
        "product": shirt.pk, "position": 1,
        "file": SimpleUploadedFile("copy.jpg", jpeg("green", (60, 50)), content_type="image/jpeg"),
    })
    assert again.status_code == 200  # the form again, with the error
    assert again.context["adminform"].form.errors
    assert shirt.images.count() == 1


def test_group_slug_and_parent_change(staff, shop):
    kettles, root = shop["kettles"], shop["root"]
    other_root = make_group(name="Кухня")
    old_slug = kettles.slug
    url = admin_url(Group, "change", kettles.pk)
    data = form_data(staff.get(url))
    data.update(slug="elektrochayniki", parent=str(other_root.pk))
    assert staff.post(url, data).status_code == 302
    kettles.refresh_from_db()
    assert kettles.slug == "elektrochayniki"
    assert GroupSlugRedirect.objects.get(slug=old_slug).group == kettles
    assert kettles.tree_path == f"/{other_root.pk}/{kettles.pk}/"
    assert root.pk != other_root.pk


def test_variant_stock_edit_updates_total_and_storefront(staff, shop):
    variant = shop["shirt"].variants.get(price=Decimal("1090"))
    assert not variant.in_stock
    url = admin_url(Variant, "change", variant.pk)
    data = form_data(staff.get(url))
    data["stocks-0-quantity"] = "7"
    assert staff.post(url, data).status_code == 302
    variant.refresh_from_db()
    assert variant.quantity == Decimal("7")
    assert variant.in_stock
    assert Stock.objects.get(variant=variant).quantity == Decimal("7")


# --- price types -------------------------------------------------------------------------

def test_price_type_actions_move_the_roles_and_refresh_prices(staff, shop):
    wholesale = PriceType.objects.get(name="Оптовая")
    retail = PriceType.objects.get(is_storefront=True)
    variant = shop["kettle"].variants.get()
    Price.objects.create(variant=variant, price_type=wholesale, value=Decimal("2100"))
    url = admin_url(PriceType, "changelist")

    response = staff.post(url, {"action": "make_storefront", "_selected_action": [wholesale.pk]}, follow=True)

    assert response.status_code == 200
    wholesale.refresh_from_db()
    retail.refresh_from_db()
    assert wholesale.is_storefront and not retail.is_storefront
    shop["kettle"].refresh_from_db()
    assert shop["kettle"].price == Decimal("2100")
    assert shop["kettle"].old_price == Decimal("2990")  # the old price type kept its role

    response = staff.post(url, {"action": "make_old_price", "_selected_action": [wholesale.pk]}, follow=True)
    wholesale.refresh_from_db()
    assert wholesale.is_storefront and not wholesale.is_old_price  # refused: one type cannot be both

    staff.post(url, {"action": "make_storefront", "_selected_action": [retail.pk, wholesale.pk]})
    assert PriceType.objects.get(is_storefront=True) == wholesale  # refused: exactly one needed


# --- orders ------------------------------------------------------------------------------

def test_order_status_change_goes_through_the_service(staff, shop, superuser):
    order = shop["order"]
    accepted = OrderStatus.objects.get(code="accepted")
    version = order.version
    url = admin_url(Order, "change", order.pk)
    data = form_data(staff.get(url))
    data["status"] = str(accepted.pk)

    response = staff.post(url, data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == accepted
    assert order.version > version
    change = OrderStatusChange.objects.filter(order=order).latest("pk")
    assert (change.from_status.code, change.to_status, change.source, change.user) == (
        "new", accepted, OrderStatusChange.Source.ADMIN, superuser)
    page = staff.get(url).content.decode()
    assert "Принят" in page


def test_cancelling_in_the_admin_marks_the_order_cancelled(staff, shop):
    order = shop["order"]
    url = admin_url(Order, "change", order.pk)
    data = form_data(staff.get(url))
    data["status"] = str(OrderStatus.objects.get(code="cancelled").pk)
    assert staff.post(url, data).status_code == 302
    order.refresh_from_db()
    assert order.is_cancelled


def test_other_order_edits_bump_the_version_without_history(staff, shop):
    order = shop["order"]
    history = order.status_history.count()
    version = order.version
    url = admin_url(Order, "change", order.pk)
    data = form_data(staff.get(url))
    data["address"] = "Москва, ул. Новая, д. 2"
    assert staff.post(url, data).status_code == 302
    order.refresh_from_db()
    assert order.address == "Москва, ул. Новая, д. 2"
    assert order.version == version + 1
    assert order.status_history.count() == history


def test_order_lines_are_read_only(staff, shop):
    order = shop["order"]
    line = order.lines.order_by("pk").first()
    url = admin_url(Order, "change", order.pk)
    data = form_data(staff.get(url))
    assert not any(key.startswith("lines-0-") and key[len("lines-0-"):] in {"price", "quantity"} for key in data)
    data["lines-0-quantity"] = "99"
    data["lines-0-price"] = "1"
    assert staff.post(url, data).status_code == 302
    line.refresh_from_db()
    assert (line.quantity, line.price) == (Decimal("1"), Decimal("2490"))


def test_property_inline_shows_date_and_yes_no_columns_only_when_used(staff, shop):
    url = admin_url(Product, "change", shop["kettle"].pk)
    assert "property_values-0-value_date" not in staff.get(url).content.decode()
    Property.objects.create(name="Дата выпуска", value_type=Property.ValueType.DATE)
    html = staff.get(url).content.decode()
    assert "property_values-0-value_date" in html
    assert "property_values-0-value_bool" not in html
