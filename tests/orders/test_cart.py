"""The cart through the test client: add, change, remove, bounds and stock checks."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Variant
from orders.models import Cart, CartLine
from tests.factories import make_product, make_unit

pytestmark = pytest.mark.django_db


def add(client, variant, quantity, **extra):
    return client.post(reverse("orders:cart_add"), {"variant": variant.pk, "quantity": quantity, **extra})


def lines(client):
    cart = Cart.objects.get(session_key=client.session.session_key)
    return {line.variant_id: line.quantity for line in cart.lines.all()}


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def drill():
    return make_product(name="Дрель", price="2500.50", stock=5).variants.get()


def test_add_creates_session_cart_and_redirects_back(client, drill):
    response = add(client, drill, 2, next=drill.product.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == drill.product.get_absolute_url()
    assert lines(client) == {drill.pk: Decimal("2")}
    add(client, drill, 1)
    assert lines(client) == {drill.pk: Decimal("3")}
    page = client.get(reverse("orders:cart"))
    html = page.content.decode()
    assert page.context["cart"].total == Decimal("7501.50")
    assert "7\xa0501,50" in html
    assert 'data-testid="cart-count">1<' in html  # one line in the mini-cart


def test_add_refuses_offsite_next(client, drill):
    response = add(client, drill, 1, next="https://evil.example/")
    assert response["Location"] == drill.product.get_absolute_url()


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1.5", "10000", "NaN", "Infinity", "1e3000", ""])
def test_add_rejects_bad_quantities(client, drill, quantity):
    response = add(client, drill, quantity)
    assert response.status_code == 302
    assert not CartLine.objects.exists()


def test_add_checks_available_stock_including_reservations(client, drill):
    Variant.objects.filter(pk=drill.pk).update(reserved=Decimal("3"))  # 5 - 3 = 2 available
    response = add(client, drill, 3)
    follow = client.get(response["Location"])
    assert not CartLine.objects.exists()
    assert any("осталось только 2" in m for m in messages_of(follow))
    add(client, drill, 2)
    assert lines(client) == {drill.pk: Decimal("2")}
    add(client, drill, 1)  # 2 already in the cart: 3 > 2
    assert lines(client) == {drill.pk: Decimal("2")}


def test_fractional_only_for_fractional_units(client):
    kg = make_unit(code="166", name="кг", fractional=True)
    nails = make_product(name="Гвозди", unit=kg, price="300", stock="10.5").variants.get()
    add(client, nails, "1,25")
    assert lines(client) == {nails.pk: Decimal("1.25")}
    add(client, nails, "0.0001")  # more than three decimals
    assert lines(client) == {nails.pk: Decimal("1.25")}
    page = client.get(reverse("orders:cart"))
    assert page.context["cart"].total == Decimal("375.00")


def test_cannot_add_product_without_price_or_inactive(client):
    no_price = make_product(name="Пила", price=None).variants.get()
    hidden = make_product(name="Скрытый", is_active=False).variants.get()
    for variant in (no_price, hidden):
        add(client, variant, 1)
    response = add(client, Variant(pk=999999), 1)
    assert response.status_code == 302
    assert not CartLine.objects.exists()


def test_update_and_remove_lines(client, drill):
    add(client, drill, 1)
    line = CartLine.objects.get()
    url = reverse("orders:cart_update", args=[line.pk])
    assert client.post(url, {"quantity": "4"}).status_code == 302
    assert lines(client) == {drill.pk: Decimal("4")}
    client.post(url, {"quantity": "6"})  # only 5 in stock
    assert lines(client) == {drill.pk: Decimal("4")}
    client.post(url, {"quantity": "2.5"})  # whole units only
    assert lines(client) == {drill.pk: Decimal("4")}
    client.post(url, {"quantity": "0"})  # zero removes
    assert lines(client) == {}
    add(client, drill, 1)
    line = CartLine.objects.get()
    client.post(reverse("orders:cart_remove", args=[line.pk]))
    assert lines(client) == {}


def test_cannot_touch_another_visitors_cart(client, drill):
    other = Cart.objects.create(session_key="someone-else")
    line = CartLine.objects.create(cart=other, variant=drill, quantity=1)
    add(client, drill, 1)
    client.post(reverse("orders:cart_update", args=[line.pk]), {"quantity": "3"})
    client.post(reverse("orders:cart_remove", args=[line.pk]))
    line.refresh_from_db()
    assert line.quantity == 1


def test_cart_actions_need_post(client, drill):
    assert client.get(reverse("orders:cart_add")).status_code == 405


def test_cart_marks_lines_that_lost_stock(client, drill):
    add(client, drill, 3)
    Variant.objects.filter(pk=drill.pk).update(quantity=Decimal("1"))
    page = client.get(reverse("orders:cart"))
    assert page.context["cart"].can_checkout is False
    assert "В наличии только 1" in page.content.decode()


def test_empty_cart_page_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("orders:cart"))
    assert "корзина пуста" in response.content.decode()


@pytest.mark.parametrize("count", [1, 10])
def test_cart_page_query_count_is_constant(client, django_assert_num_queries, count):
    for i in range(count):
        add(client, make_product(name=f"Товар {i}").variants.get(), 1)
    # cart, lines (+ variant, product, unit), mini-cart summary; the session row itself is
    # not read: nothing on the page needs its data
    with django_assert_num_queries(3):
        response = client.get(reverse("orders:cart"))
    assert len(response.context["cart"].lines) == count
