"""orders.services called directly: statuses, reservations, versions, numbers."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Variant
from orders.models import Cart, CartLine, DeliveryMethod, OrderLine, OrderStatus, OrderStatusChange, PaymentMethod
from orders.services import cart_add, order_place, order_set_status, order_touch
from tests.factories import make_order, make_product

pytestmark = pytest.mark.django_db


def place(variant, quantity=2):
    cart = Cart.objects.create(session_key=f"s{variant.pk}-{quantity}")
    cart_add(cart=cart, variant=variant, quantity=quantity)
    return order_place(cart=cart, data={
        "name": "Анна", "email": "anna@example.com", "phone": "+79001112233",
        "delivery_method": DeliveryMethod.objects.get(code="pickup"),
        "payment_method": PaymentMethod.objects.get(code="cash"), "address": "",
    })


def test_cancelling_releases_reservations_once(django_capture_on_commit_callbacks):
    variant = make_product(price="10", stock=5).variants.get()
    order = place(variant)
    assert Variant.objects.get(pk=variant.pk).reserved == 2
    cancelled = OrderStatus.objects.get(code="cancelled")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order = order_set_status(order=order, status=cancelled, source="admin", note="покупатель передумал")

    assert order.is_cancelled and order.status == cancelled
    assert order.version == 2
    variant.refresh_from_db()
    assert variant.reserved == 0 and variant.in_stock
    assert OrderLine.objects.get(order=order).reserved_quantity == 0
    change = OrderStatusChange.objects.filter(order=order).latest("pk")
    assert (change.from_status.code, change.to_status.code, change.source) == ("new", "cancelled", "admin")
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert "Отменён" in mail.outbox[0].body

    order_set_status(order=order, status=OrderStatus.objects.get(code="new"))
    order_set_status(order=order, status=cancelled)  # cancelling again gives nothing back twice
    assert Variant.objects.get(pk=variant.pk).reserved == 0


def test_release_skipped_when_1c_reported_stock_since():
    variant = make_product(price="10", stock=5).variants.get()
    order = place(variant)
    # 1C's stock update after the order counts it already and restarts reservations.
    Variant.objects.filter(pk=variant.pk).update(quantity=3, reserved=0, stock_updated_at=timezone.now())
    order_set_status(order=order, status=OrderStatus.objects.get(code="cancelled"))
    assert Variant.objects.get(pk=variant.pk).reserved == 0


def test_status_from_1c_does_not_bump_version_and_same_status_is_noop():
    order = make_order()
    order_set_status(order=order, status=OrderStatus.objects.get(code="accepted"), source="1c")
    order.refresh_from_db()
    assert order.version == 1 and order.status.code == "accepted"
    order_set_status(order=order, status=OrderStatus.objects.get(code="accepted"), source="admin")
    assert OrderStatusChange.objects.filter(order=order).count() == 2  # factory's "new" + accepted
    order_set_status(order=order, status=OrderStatus.objects.get(code="paid"), source="site")
    order.refresh_from_db()
    assert order.version == 2


def test_status_without_notification_sends_nothing(django_capture_on_commit_callbacks):
    quiet = OrderStatus.objects.create(code="quiet", name="Тихий", notify_customer=False)
    order = make_order()
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order=order, status=quiet)
    assert not mail.outbox


def test_order_touch_increments_version():
    order = make_order()
    order_touch(order)
    order_touch(order)
    assert order.version == 3


def test_order_place_refuses_empty_cart():
    from orders.exceptions import CartEmpty

    with pytest.raises(CartEmpty):
        order_place(cart=Cart.objects.create(session_key="empty"), data={})


def test_order_place_rolls_back_everything_on_a_later_line_failure():
    ok = make_product(name="Есть", price="10", stock=5).variants.get()
    short = make_product(name="Мало", price="10", stock=5).variants.get()
    cart = Cart.objects.create(session_key="two")
    cart_add(cart=cart, variant=ok, quantity=1)
    cart_add(cart=cart, variant=short, quantity=3)
    Variant.objects.filter(pk=short.pk).update(quantity=Decimal("2"))
    from orders.exceptions import InsufficientStock

    with pytest.raises(InsufficientStock) as error:
        order_place(cart=cart, data={"name": "A", "email": "a@example.com", "phone": "+79000000000"})
    assert "Мало" in str(error.value)
    assert Variant.objects.get(pk=ok.pk).reserved == 0
    assert CartLine.objects.filter(cart=cart).count() == 2


def test_vat_from_1c_requisites():
    product = make_product(price="120", stock=5)
    product.requisites = [["СтавкаНДС", "20%"]]
    product.save(update_fields=["requisites"])
    order = place(product.variants.get(), quantity=1)
    line = OrderLine.objects.get(order=order)
    assert line.vat_rate == Decimal("20") and line.vat_amount == Decimal("20.00")
    assert order.vat_total == Decimal("20.00")


def test_services_are_always_in_stock():
    service = make_product(name="Доставка до двери", kind="service", price="500", stock=0).variants.get()
    order = place(service, quantity=3)
    line = OrderLine.objects.get(order=order)
    assert line.quantity == 3 and line.reserved_quantity == 0


def test_paid_and_shipped_statuses_set_their_flags_once():
    order = make_order()
    order_set_status(order=order, status=OrderStatus.objects.get(code="paid"), source="admin")
    order.refresh_from_db()
    assert order.is_paid and order.paid_at and not order.is_shipped
    paid_at = order.paid_at
    order_set_status(order=order, status=OrderStatus.objects.get(code="shipped"), source="admin")
    order.refresh_from_db()
    assert order.is_paid and order.paid_at == paid_at  # leaving "paid" keeps the money received
    assert order.is_shipped and order.shipped_at
    order_set_status(order=order, status=OrderStatus.objects.get(code="accepted"), source="admin")
    order.refresh_from_db()
    assert order.is_paid and order.is_shipped
