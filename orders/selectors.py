"""Reads of carts and orders for the storefront."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from orders.models import Cart, CartLine, Order, OrderLine

CENT = Decimal("0.01")
CART_ATTR = "_shop_cart"
SUMMARY_ATTR = "_shop_cart_summary"


@dataclass(frozen=True)
class CartSummary:
    lines: int
    quantity: Decimal


def cart_for_request(request) -> Cart | None:
    """The visitor's cart, or None; never creates a session or a cart. Cached per request."""
    if hasattr(request, CART_ATTR):
        return getattr(request, CART_ATTR)
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    cart = Cart.objects.filter(session_key=key).first() if key else None
    setattr(request, CART_ATTR, cart)
    return cart


def cart_summary_for_request(request) -> CartSummary:
    """Line count and total quantity for the header: one query at most, cached per request."""
    if hasattr(request, SUMMARY_ATTR):
        return getattr(request, SUMMARY_ATTR)
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    summary = CartSummary(0, Decimal("0"))
    if key:
        row = CartLine.objects.filter(cart__session_key=key).aggregate(n=Count("pk"), q=Sum("quantity"))
        summary = CartSummary(row["n"] or 0, row["q"] or Decimal("0"))
    setattr(request, SUMMARY_ATTR, summary)
    return summary


def cart_summary_forget(request) -> None:
    """Drop the per-request cache after the cart changed."""
    for attr in (CART_ATTR, SUMMARY_ATTR):
        if hasattr(request, attr):
            delattr(request, attr)


@dataclass
class CartView:
    lines: list[CartLine]
    total: Decimal
    can_checkout: bool


def cart_lines(*, cart: Cart | None) -> CartView:
    """The cart's lines with variant, product and unit joined (one query), each with
    `line_total` and `problem` (a message when it cannot be ordered as it is), and the
    total of the lines that have a price."""
    if cart is None:
        return CartView([], Decimal("0"), False)
    lines = list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product__unit")
        .order_by("added_at", "pk")
    )
    total = Decimal("0")
    ok = bool(lines)
    for line in lines:
        variant = line.variant
        line.line_total = None
        line.problem = ""
        if variant.price is None or not variant.is_active or not variant.product.is_active:
            line.problem = "unavailable"
        elif line.quantity > variant.available and variant.product.kind != "service":
            line.problem = "stock"
        if variant.price is not None:
            line.line_total = (variant.price * line.quantity).quantize(CENT, ROUND_HALF_UP)
            total += line.line_total
        ok = ok and not line.problem
    return CartView(lines, total, ok)


def order_for_customer(*, public_id) -> Order | None:
    """An order by its public id (what the confirmation URL carries), status joined."""
    return Order.objects.filter(public_id=public_id).select_related("status").first()


def order_lines(*, order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).order_by("pk"))
