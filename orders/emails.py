"""E-mails about orders: to the customer and to the shop's managers.

Sent after the placing transaction commits (never for an order that rolled back). The
templates use {% translate %} with English msgids: the Russian catalog renders them in
Russian, and a missing translation falls back to the English text.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from orders.models import Order, OrderLine

logger = logging.getLogger(__name__)


def _context(order: Order) -> dict:
    return {
        "order": order,
        "lines": list(OrderLine.objects.filter(order=order).order_by("pk")),
        "shop_name": settings.SHOP_NAME,
        "site_url": settings.SITE_URL.rstrip("/"),
    }


def _send(*, template: str, context: dict, to: list[str], language: str, reply_to: list[str] | None = None) -> None:
    with translation.override(language):
        subject = " ".join(render_to_string(f"orders/email/{template}_subject.txt", context).split())
        body = render_to_string(f"orders/email/{template}.txt", context)
    message = EmailMessage(subject=subject, body=body, to=to, reply_to=reply_to)
    try:
        message.send()
    except OSError:
        # The order is placed whatever the mail server says; the managers see it in the admin.
        logger.exception("could not send %s e-mail to %s", template, to)


def order_placed_send(*, order_id: int, language: str | None = None) -> None:
    """Confirmation to the customer (in `language`, default the shop's) and a notice to the managers."""
    order = Order.objects.select_related("status").get(pk=order_id)
    context = _context(order)
    _send(template="order_placed", context=context, to=[order.email],
          language=language or settings.LANGUAGE_CODE)
    if settings.SHOP_MANAGER_EMAILS:
        _send(template="order_placed_manager", context=context, to=list(settings.SHOP_MANAGER_EMAILS),
              language=settings.LANGUAGE_CODE, reply_to=[order.email])


def order_status_send(*, order_id: int, language: str | None = None) -> None:
    """Tell the customer the order's new status."""
    order = Order.objects.select_related("status").get(pk=order_id)
    _send(template="order_status", context=_context(order), to=[order.email],
          language=language or settings.LANGUAGE_CODE)
