"""A few demo orders, placed the way customers place them: cart, checkout, then the
manager moves them along (orders.services, never direct writes of order data)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from catalog.models import Variant
from orders import services
from orders.models import Cart, DeliveryMethod, Order, OrderStatus, OrderStatusChange, PaymentMethod

CUSTOMERS = [
    ("Иванов Сергей Петрович", "+7 (916) 123-45-67", "Москва, ул. Профсоюзная, д. 12, кв. 45"),
    ("Смирнова Анна Викторовна", "+7 (921) 555-12-34", "Санкт-Петербург, Невский пр-т, д. 88, кв. 7"),
    ("Кузнецов Дмитрий Алексеевич", "+7 (903) 700-20-10", "Казань, ул. Баумана, д. 5"),
    ("Попова Елена Сергеевна", "+7 (912) 404-04-04", "Екатеринбург, ул. Малышева, д. 31, кв. 112"),
    ("Васильев Андрей Игоревич", "+7 (913) 250-33-71", "Новосибирск, Красный пр-т, д. 64, кв. 3"),
    ("Соколова Мария Андреевна", "+7 (927) 118-90-12", "Самара, ул. Куйбышева, д. 101"),
    ("Михайлов Алексей Николаевич", "+7 (918) 640-11-22", "Краснодар, ул. Красная, д. 150, кв. 9"),
    ("Новикова Ольга Дмитриевна", "+7 (987) 300-45-45", "Нижний Новгород, ул. Большая Покровская, д. 2"),
    ("Фёдоров Иван Сергеевич", "+7 (905) 777-01-02", "Москва, Ленинский пр-т, д. 30, кв. 210"),
    ("Морозова Татьяна Павловна", "+7 (911) 222-88-99", "Пермь, Комсомольский пр-т, д. 17, кв. 54"),
    ("Волков Максим Юрьевич", "+7 (960) 515-16-17", "Воронеж, пр-т Революции, д. 48"),
    ("Лебедева Наталья Олеговна", "+7 (950) 808-70-60", "Ростов-на-Дону, ул. Большая Садовая, д. 73, кв. 5"),
]
COMMENTS = ["", "", "Позвоните за час до доставки.", "Домофон не работает, наберите по телефону.",
            "Нужен счёт для юрлица.", ""]
# The status path each demo order takes; every one starts as "new" when placed.
PATHS = [
    [],
    ["accepted"],
    ["accepted", "paid"],
    ["accepted", "paid", "shipped"],
    ["accepted", "paid", "shipped", "completed"],
    ["cancelled"],
    ["accepted", "cancelled"],
]
EMAIL_DOMAINS = ["example.ru", "example.com", "example.org"]
TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
})


def _email(name: str, domain: str) -> str:
    last, first, *_rest = name.lower().split()
    return f"{first.translate(TRANSLIT)}.{last.translate(TRANSLIT)}@{domain}"


def _sellable_variants():
    return list(
        Variant.objects.filter(is_active=True, product__is_active=True, price__isnull=False,
                               quantity__gt=F("reserved") + 3)
        .select_related("product__unit")
        .order_by("pk")[:2000]
    )


def place_demo_orders(*, count: int = 10, seed: int = 1, user=None) -> list[Order]:
    """Place `count` orders from in-stock variants and move them through the statuses.

    Returns the orders, oldest first. Places fewer when the catalog has too little in stock.
    """
    rng = random.Random(f"{seed}:orders")
    variants = _sellable_variants()
    if not variants:
        return []
    statuses = {s.code: s for s in OrderStatus.objects.all()}
    deliveries = list(DeliveryMethod.objects.filter(is_active=True).order_by("position"))
    payments = list(PaymentMethod.objects.filter(is_active=True).order_by("position"))
    now = timezone.now()
    placed = []
    for n in range(count):
        name, phone, address = CUSTOMERS[n % len(CUSTOMERS)]
        cart = Cart.objects.create(session_key=f"demo-{seed}-{n}-{rng.getrandbits(32):08x}")
        for variant in rng.sample(variants, min(len(variants), rng.randint(1, 3))):
            fractional = variant.product.unit is not None and variant.product.unit.fractional
            quantity = Decimal(rng.choice(["0.5", "1.25", "2"])) if fractional else Decimal(rng.randint(1, 2))
            services.cart_add(cart=cart, variant=variant, quantity=quantity)
        order = services.order_place(cart=cart, data={
            "name": name,
            "email": _email(name, EMAIL_DOMAINS[n % len(EMAIL_DOMAINS)]),
            "phone": phone,
            "address": address,
            "delivery_method": deliveries[n % len(deliveries)] if deliveries else None,
            "payment_method": payments[n % len(payments)] if payments else None,
            "comment": rng.choice(COMMENTS),
        })
        cart.delete()
        for code in PATHS[n % len(PATHS)]:
            if code in statuses:
                order = services.order_set_status(order=order, status=statuses[code], source="admin", user=user)
        _backdate(order, now - dt.timedelta(days=count - n, hours=rng.randint(0, 10), minutes=rng.randint(0, 59)))
        placed.append(order)
    return placed


def _backdate(order: Order, placed_at: dt.datetime) -> None:
    # Cosmetic, demo only: spread the orders over the last days so the admin's date
    # hierarchy and the history read like a real shop's, not twelve orders in one second.
    Order.objects.filter(pk=order.pk).update(created_at=placed_at)
    changes = list(OrderStatusChange.objects.filter(order=order).order_by("pk"))
    for k, change in enumerate(changes):
        OrderStatusChange.objects.filter(pk=change.pk).update(changed_at=placed_at + dt.timedelta(hours=5 * k))
    if changes:
        last_change = placed_at + dt.timedelta(hours=5 * (len(changes) - 1))
        Order.objects.filter(pk=order.pk).update(status_changed_at=last_change)
