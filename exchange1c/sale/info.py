"""`sale&mode=info`: the site's order statuses, payment and delivery methods for 1C's operator (PROTOCOL.md §4.5).

Each item's `Ид` is the id the order exchange itself uses: the admin's 1C id from
OneCValueMapping when set, else the site's code. That is what `query` writes as
"Статуса заказа ИД" and what an order-changes file may send back.
"""

from __future__ import annotations

import io

from exchange1c.commerceml.writer import content_type, write_reference_book
from exchange1c.models.orders import OneCValueMapping
from orders.models import DeliveryMethod, OrderStatus, PaymentMethod

__all__ = ["sale_info"]


def _items(objects, mappings: dict[int, OneCValueMapping]) -> list[tuple[str, str]]:
    out = []
    for obj in objects:
        m = mappings.get(obj.pk)
        out.append(((m and m.onec_id) or obj.code, (m and m.onec_name) or obj.name))
    return out


def sale_info(*, settings) -> tuple[bytes, str]:
    """The `Справочник` XML and its Content-Type, in the order charset (setting "order_charset")."""
    maps = {kind: {} for kind in OneCValueMapping.Kind.values}
    for m in OneCValueMapping.objects.all():
        target_id = m.status_id or m.payment_method_id or m.delivery_method_id
        maps[m.kind][target_id] = m
    sections = [
        # "Cтатусы" with a Latin C is what the reference writes and 1C's module reads;
        # the correct Cyrillic spelling is given too for readers that look for it.
        (["Cтатусы", "Статусы"], _items(OrderStatus.objects.order_by("position", "pk"), maps["status"])),
        (["ПлатежныеСистемы"], _items(PaymentMethod.objects.order_by("position", "pk"), maps["payment"])),
        (["СлужбыДоставки"], _items(DeliveryMethod.objects.order_by("position", "pk"), maps["delivery"])),
    ]
    charset = "UTF-8" if settings.order_charset.lower() in ("utf-8", "utf8") else settings.order_charset
    buf = io.BytesIO()
    write_reference_book(buf, charset=charset, sections=sections)
    return buf.getvalue(), content_type(charset)
