"""Reference data every shop starts with: order statuses, payment and delivery methods."""

from django.db import DEFAULT_DB_ALIAS

DEFAULT_STATUSES = [
    # code, Russian name (the shop's language; admins rename freely), position, flags
    ("new", "Новый", 10, {}),
    ("accepted", "Принят", 20, {}),
    ("paid", "Оплачен", 30, {"marks_paid": True}),
    ("shipped", "Отгружен", 40, {"marks_shipped": True}),
    ("completed", "Выполнен", 50, {"is_final": True, "marks_paid": True, "marks_shipped": True}),
    ("cancelled", "Отменён", 60, {"is_final": True, "is_cancelled": True}),
]

DEFAULT_PAYMENT_METHODS = [
    ("cash", "Наличными при получении", 10),
    ("card_on_delivery", "Картой при получении", 20),
    ("invoice", "По счёту (для юридических лиц)", 30),
]

DEFAULT_DELIVERY_METHODS = [
    ("pickup", "Самовывоз", 10, "0"),
    ("courier", "Курьером", 20, "350"),
    ("post", "Почтой России", 30, "450"),
]


def seed_reference_data(app_config=None, using=DEFAULT_DB_ALIAS, apps=None, **kwargs):
    """Create the default statuses and methods once; never overwrite an admin's edits."""
    from decimal import Decimal

    from orders.models import DeliveryMethod, OrderStatus, PaymentMethod

    if OrderStatus.objects.using(using).exists():
        return
    for code, name, position, flags in DEFAULT_STATUSES:
        OrderStatus.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "position": position, **flags}
        )
    for code, name, position in DEFAULT_PAYMENT_METHODS:
        PaymentMethod.objects.using(using).get_or_create(code=code, defaults={"name": name, "position": position})
    for code, name, position, price in DEFAULT_DELIVERY_METHODS:
        DeliveryMethod.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "position": position, "price": Decimal(price),
                                 # Pickup is the one method without a delivery address.
                                 "needs_address": code != "pickup"}
        )
