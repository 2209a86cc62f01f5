"""Two checkouts at the same moment: distinct numbers, stock never oversold."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from catalog.models import Variant
from orders.exceptions import InsufficientStock
from orders.models import Cart, DeliveryMethod, Order, PaymentMethod
from orders.services import cart_add, order_place
from tests.factories import make_product


@pytest.mark.django_db(transaction=True)
def test_parallel_checkouts_get_distinct_numbers_and_do_not_oversell():
    variant = make_product(price="10", stock=3).variants.get()
    carts = []
    for i in range(4):
        cart = Cart.objects.create(session_key=f"parallel-{i}")
        cart_add(cart=cart, variant=variant, quantity=1)
        carts.append(cart)
    data = {"name": "A", "email": "a@example.com", "phone": "+79000000000",
            "delivery_method": DeliveryMethod.objects.get(code="pickup"),
            "payment_method": PaymentMethod.objects.get(code="cash")}
    barrier = threading.Barrier(len(carts))
    outcomes = []

    def checkout(cart):
        try:
            barrier.wait()
            outcomes.append(order_place(cart=cart, data=data).number)
        except InsufficientStock:
            outcomes.append("sold out")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=checkout, args=(c,)) for c in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    numbers = sorted(o for o in outcomes if o != "sold out")
    assert numbers == ["10001", "10002", "10003"]
    assert outcomes.count("sold out") == 1
    assert Order.objects.count() == 3
    assert Variant.objects.get(pk=variant.pk).reserved == Decimal("3")
