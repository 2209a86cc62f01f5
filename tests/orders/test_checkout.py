"""Checkout through the test client: validation, the order it creates, stock, e-mails."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import Variant
from orders.forms import inn_is_valid
from orders.models import CartLine, Customer, DeliveryMethod, Order, OrderLine, OrderStatusChange, PaymentMethod
from tests.factories import make_product, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def drill():
    return make_product(name="Дрель", article="DR-1", price="2500.50", stock=5,
                        variants=[{"characteristics": [["Цвет", "синий"]], "price": "2500.50", "stock": 5,
                                   "article": "DR-1-B"}]).variants.get()


@pytest.fixture
def filled_cart(client, drill):
    client.post(reverse("orders:cart_add"), {"variant": drill.pk, "quantity": 2})
    return client


def valid_data(**changes):
    data = {
        "name": "  Иван   Петров ", "email": "Ivan.Petrov@Example.COM", "phone": "+7 (900) 123-45-67",
        "delivery_method": DeliveryMethod.objects.get(code="courier").pk, "address": "Москва, ул. Ленина, 1",
        "payment_method": PaymentMethod.objects.get(code="cash").pk, "comment": "Позвоните заранее",
        "consent": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_checkout_with_empty_cart_redirects_to_cart(client):
    response = client.get(reverse("orders:checkout"))
    assert response.status_code == 302 and response["Location"] == reverse("orders:cart")


def test_checkout_form_renders(filled_cart):
    response = filled_cart.get(reverse("orders:checkout"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Я согласен на обработку персональных данных" in html
    assert "Курьером" in html and "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("changes, field", [
    ({"consent": None}, "consent"),
    ({"email": "not-an-email"}, "email"),
    ({"name": "   "}, "name"),
    ({"phone": "12"}, "phone"),
    ({"phone": "+7 900 <script>"}, "phone"),
    ({"address": ""}, "address"),  # courier needs an address
    ({"inn": "7707083893", "company_name": ""}, "company_name"),
    ({"inn": "7707083894", "company_name": "ООО Ромашка"}, "inn"),  # bad check digit
    ({"inn": "12345", "company_name": "ООО Ромашка"}, "inn"),
    ({"inn": "500100732259", "kpp": "770101001", "company_name": "ИП Иванов"}, "kpp"),  # person: no KPP
    ({"inn": "7707083893", "kpp": "77010100", "company_name": "ООО Ромашка"}, "kpp"),
    ({"delivery_method": "999"}, "delivery_method"),
])
def test_invalid_checkout_shows_errors_and_creates_nothing(filled_cart, drill, changes, field):
    response = filled_cart.post(reverse("orders:checkout"), valid_data(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="field-error"' in response.content.decode()
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert CartLine.objects.count() == 1
    assert Variant.objects.get(pk=drill.pk).reserved == 0
    assert not mail.outbox


def test_pickup_needs_no_address(filled_cart):
    pickup = DeliveryMethod.objects.get(code="pickup")
    response = filled_cart.post(reverse("orders:checkout"),
                                valid_data(delivery_method=pickup.pk, address="", inn="7707083893",
                                           kpp="770701001", company_name="ПАО Сбербанк"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.delivery_price == 0 and order.total == Decimal("5001.00")
    assert (order.inn, order.kpp, order.company_name) == ("7707083893", "770701001", "ПАО Сбербанк")


def test_valid_checkout_places_the_order(filled_cart, drill, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = filled_cart.post(reverse("orders:checkout"), valid_data())
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order", kwargs={"public_id": order.public_id})

    assert order.number == "10001"
    assert order.customer_name == "Иван Петров"
    assert order.status.code == "new" and not order.is_cancelled
    assert order.delivery_name == "Курьером" and order.delivery_price == Decimal("350")
    assert order.goods_total == Decimal("5001.00")
    assert order.total == Decimal("5351.00")
    assert order.version == 1
    assert order.customer.key == "ivan.petrov@example.com"
    line = OrderLine.objects.get(order=order)
    assert (line.name, line.article, line.offer_external_id) == ("Дрель синий", "DR-1-B", drill.external_id)
    assert (line.price, line.quantity, line.total, line.unit) == (Decimal("2500.50"), 2, Decimal("5001.00"), "шт")
    assert line.reserved_quantity == 2 and line.reserved_at is not None
    history = OrderStatusChange.objects.get(order=order)
    assert history.to_status == order.status and history.source == "site"

    drill.refresh_from_db()
    assert drill.reserved == 2 and drill.available == 3
    assert not CartLine.objects.exists()

    assert [m.to for m in mail.outbox] == [["Ivan.Petrov@Example.COM"], ["manager@localhost"]]
    customer_mail, manager_mail = mail.outbox
    assert "10001" in customer_mail.subject and "Заказ" in customer_mail.subject
    assert "Здравствуйте, Иван Петров!" in customer_mail.body
    assert "5\xa0351,00" in customer_mail.body
    assert str(order.public_id) in customer_mail.body
    assert "Новый заказ № 10001" in manager_mail.subject
    assert drill.external_id in manager_mail.body and "Позвоните заранее" in manager_mail.body

    page = filled_cart.get(response["Location"])
    html = page.content.decode()
    assert "Ваш заказ № 10001 оформлен" in html and "5\xa0351,00" in html
    assert 'data-testid="cart-count">0<' in html


def test_second_order_gets_next_number_and_same_customer(client, drill):
    for _ in range(2):
        client.post(reverse("orders:cart_add"), {"variant": drill.pk, "quantity": 1})
        client.post(reverse("orders:checkout"), valid_data(email=" ivan.petrov@example.com"))
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers == ["10001", "10002"]
    assert Customer.objects.count() == 1
    drill.refresh_from_db()
    assert drill.reserved == 2


def test_stock_gone_between_cart_and_checkout_creates_nothing(filled_cart, drill):
    Variant.objects.filter(pk=drill.pk).update(reserved=Decimal("4"))  # someone else bought 4 of 5
    response = filled_cart.post(reverse("orders:checkout"), valid_data())
    assert response.status_code == 302 and response["Location"] == reverse("orders:cart")
    follow = filled_cart.get(response["Location"])
    assert any("осталось только 1" in str(m) for m in follow.context["messages"])
    assert not Order.objects.exists()
    assert Variant.objects.get(pk=drill.pk).reserved == 4
    assert CartLine.objects.count() == 1


def test_price_removed_between_cart_and_checkout_creates_nothing(filled_cart, drill):
    Variant.objects.filter(pk=drill.pk).update(price=None)
    filled_cart.post(reverse("orders:checkout"), valid_data())
    assert not Order.objects.exists()


def test_fractional_quantities_are_ordered_as_such(client):
    kg = make_unit(code="166", name="кг", fractional=True)
    nails = make_product(name="Гвозди", unit=kg, price="199.99", stock="10").variants.get()
    client.post(reverse("orders:cart_add"), {"variant": nails.pk, "quantity": "1.5"})
    client.post(reverse("orders:checkout"), valid_data())
    line = OrderLine.objects.get()
    assert line.quantity == Decimal("1.5") and line.total == Decimal("299.99") and line.unit == "кг"
    nails.refresh_from_db()
    assert nails.reserved == Decimal("1.5")


def test_unknown_order_page_is_404(client):
    assert client.get("/order/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/order/10001/").status_code == 404


@pytest.mark.parametrize("inn, ok", [
    ("7707083893", True), ("500100732259", True), ("7707083894", False), ("500100732258", False),
    ("770708389", False), ("77070838931", False), ("７７０７０８３８９４", False), ("", False),
])
def test_inn_checksum(inn, ok):
    assert inn_is_valid(inn) is ok
