"""Writes of carts and orders: every change the site makes to them goes through here.

Callers: the storefront views, the admin and the 1C exchange (order_set_status,
order_touch). Messages in orders.exceptions are meant for the customer.
"""

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from catalog.models import Product, Variant
from catalog.services import offer_summaries_refresh, stock_release, stock_reserve
from orders import emails
from orders.exceptions import CartEmpty, InsufficientStock, NotForSale, QuantityInvalid
from orders.models import (
    Cart,
    CartLine,
    Customer,
    Order,
    OrderLine,
    OrderNumberSequence,
    OrderStatus,
    OrderStatusChange,
)
from orders.selectors import cart_for_request, cart_summary_forget

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")

MAX_QUANTITY = Decimal("9999")
QUANTITY_STEP = Decimal("0.001")
NUMBER_SEQUENCE = "order"
FIRST_NUMBER = 10001
VAT_REQUISITES = ("ставкандс", "ставка ндс", "ндс")


# --- Cart ------------------------------------------------------------------------------

def cart_get_or_create(request) -> Cart:
    """The visitor's cart, creating the session and the cart when there is none yet."""
    cart = cart_for_request(request)
    if cart is not None:
        return cart
    if not request.session.session_key:
        # A cart must outlive this request: the session row has to exist to key it.
        request.session.save()
    cart, _created = Cart.objects.get_or_create(session_key=request.session.session_key)
    cart_summary_forget(request)
    return cart


def quantity_clean(*, variant: Variant, quantity) -> Decimal:
    """`quantity` as a Decimal the variant can be sold in, else QuantityInvalid.

    Positive, at most MAX_QUANTITY, at most three decimals, and whole unless the product's
    unit is sold by weight or length.
    """
    try:
        value = Decimal(str(quantity).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise QuantityInvalid(_("Enter the quantity as a number.")) from None
    if not value.is_finite() or value <= 0:
        raise QuantityInvalid(_("The quantity must be greater than zero."))
    if value > MAX_QUANTITY:
        raise QuantityInvalid(_("At most %(max)s per line.") % {"max": MAX_QUANTITY})
    unit = variant.product.unit
    if unit is not None and unit.fractional:
        if value != value.quantize(QUANTITY_STEP):
            raise QuantityInvalid(_("At most three decimal places, please."))
    elif value != value.to_integral_value():
        raise QuantityInvalid(_("This product is sold in whole units only."))
    return value


def _check_sellable(*, variant: Variant, quantity: Decimal) -> None:
    product = variant.product
    if not (variant.is_active and product.is_active) or variant.price is None:
        raise NotForSale(str(variant))
    if product.kind != Product.Kind.SERVICE and quantity > variant.available:
        raise InsufficientStock(str(variant), variant.available)


def cart_add(*, cart: Cart, variant: Variant, quantity) -> CartLine:
    """Add `quantity` of `variant` to the cart (on top of what is there).

    Raises QuantityInvalid, NotForSale or InsufficientStock; the cart is unchanged then.
    """
    quantity = quantity_clean(variant=variant, quantity=quantity)
    with transaction.atomic():
        line = CartLine.objects.filter(cart=cart, variant=variant).first()
        new_quantity = quantity + (line.quantity if line else Decimal("0"))
        if new_quantity > MAX_QUANTITY:
            raise QuantityInvalid(_("At most %(max)s per line.") % {"max": MAX_QUANTITY})
        _check_sellable(variant=variant, quantity=new_quantity)
        if line is None:
            line = CartLine.objects.create(cart=cart, variant=variant, quantity=new_quantity)
        else:
            line.quantity = new_quantity
            line.save(update_fields=["quantity"])
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return line


def cart_set_quantity(*, cart: Cart, line_id: int, quantity) -> CartLine | None:
    """Set a line's quantity; zero removes the line (returns None). Bounds as cart_add."""
    line = CartLine.objects.filter(cart=cart, pk=line_id).select_related("variant__product__unit").first()
    if line is None:
        return None
    try:
        if Decimal(str(quantity).strip().replace(",", ".")) == 0:
            cart_remove(cart=cart, line_id=line_id)
            return None
    except (InvalidOperation, ValueError):
        pass
    value = quantity_clean(variant=line.variant, quantity=quantity)
    _check_sellable(variant=line.variant, quantity=value)
    line.quantity = value
    line.save(update_fields=["quantity"])
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return line


def cart_remove(*, cart: Cart, line_id: int) -> None:
    CartLine.objects.filter(cart=cart, pk=line_id).delete()


# --- Orders ----------------------------------------------------------------------------

def order_number_next() -> str:
    """The next customer-facing number (10001, 10002, ...); call inside the placing atomic().

    The UPDATE locks the counter row until commit, so concurrent checkouts queue on it.
    """
    updated = OrderNumberSequence.objects.filter(name=NUMBER_SEQUENCE).update(last_value=F("last_value") + 1)
    if not updated:
        try:
            with transaction.atomic():
                OrderNumberSequence.objects.create(name=NUMBER_SEQUENCE, last_value=FIRST_NUMBER - 1)
        except IntegrityError:
            pass  # another checkout created it first
        OrderNumberSequence.objects.filter(name=NUMBER_SEQUENCE).update(last_value=F("last_value") + 1)
    value = OrderNumberSequence.objects.get(name=NUMBER_SEQUENCE).last_value
    # Orders entered by other means may already hold a number; skip over them.
    while Order.objects.filter(number=str(value)).exists():
        OrderNumberSequence.objects.filter(name=NUMBER_SEQUENCE).update(last_value=F("last_value") + 1)
        value = OrderNumberSequence.objects.get(name=NUMBER_SEQUENCE).last_value
    return str(value)


def customer_key(*, email: str = "", phone: str = "") -> str:
    """The identity a guest is recognised by: the case-folded e-mail, else the phone's digits."""
    email = (email or "").strip().casefold()
    if email:
        return email
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return f"tel:{digits}" if digits else ""


def customer_get_or_create(*, name: str, email: str, phone: str) -> Customer:
    """The customer with this e-mail (else phone), created on the first order; keeps public_id."""
    key = customer_key(email=email, phone=phone)
    customer = Customer.objects.filter(key=key).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(key=key, name=name, email=email.strip(), phone=phone)
        except IntegrityError:
            customer = Customer.objects.get(key=key)
    return customer


def _vat_rate(product: Product) -> Decimal | None:
    for pair in product.requisites or []:
        if len(pair) == 2 and str(pair[0]).strip().casefold() in VAT_REQUISITES:
            text = str(pair[1]).replace("%", "").replace(",", ".").strip()
            try:
                return Decimal(text)
            except InvalidOperation:
                return None  # "Без НДС"
    return None


def order_place(*, cart: Cart, data: dict) -> Order:
    """Turn the cart into an order: one transaction, or nothing at all.

    `data` is CheckoutForm.cleaned_data: name, email, phone, delivery_method and
    payment_method (model instances), address, company_name, inn, kpp, comment.
    Re-checks every line against stock with the variants locked, snapshots the lines,
    reserves stock, records status "new" and empties the cart; the e-mails go out after
    commit. Raises CartEmpty, NotForSale or InsufficientStock (nothing is written then).
    """
    with transaction.atomic():
        lines = list(CartLine.objects.filter(cart=cart).order_by("added_at", "pk"))
        if not lines:
            raise CartEmpty()
        # Locked in id order, so two checkouts sharing variants cannot deadlock.
        variants = {
            v.pk: v
            for v in Variant.objects.select_for_update(of=("self",))
            .filter(pk__in=sorted(line.variant_id for line in lines))
            .select_related("product__unit")
            .order_by("pk")
        }
        for line in lines:
            line.variant = variants[line.variant_id]
            _check_sellable(variant=line.variant, quantity=line.quantity)

        status = OrderStatus.objects.get(code="new")
        delivery = data.get("delivery_method")
        payment = data.get("payment_method")
        now = timezone.now()
        order = Order.objects.create(
            number=order_number_next(),
            customer=customer_get_or_create(name=data["name"], email=data["email"], phone=data["phone"]),
            customer_name=data["name"],
            email=data["email"],
            phone=data["phone"],
            address=data.get("address", "") if (delivery is None or delivery.needs_address) else "",
            company_name=data.get("company_name", ""),
            inn=data.get("inn", ""),
            kpp=data.get("kpp", ""),
            delivery_method=delivery,
            delivery_name=delivery.name if delivery else "",
            delivery_price=delivery.price if delivery else Decimal("0"),
            payment_method=payment,
            payment_name=payment.name if payment else "",
            status=status,
            status_changed_at=now,
            currency=next((v.currency for v in variants.values() if v.currency), "RUB"),
            comment=data.get("comment", ""),
        )
        order_lines = []
        goods = vat = Decimal("0")
        for line in lines:
            variant = line.variant
            product = variant.product
            total = (variant.price * line.quantity).quantize(CENT, ROUND_HALF_UP)
            rate = _vat_rate(product)
            # Prices include VAT (the usual 1C setting): the VAT part of a gross sum.
            vat_amount = (total * rate / (100 + rate)).quantize(CENT, ROUND_HALF_UP) if rate else Decimal("0")
            goods += total
            vat += vat_amount
            order_lines.append(OrderLine(
                order=order,
                variant=variant,
                offer_external_id=variant.external_id or "",
                name=str(variant)[:1000],
                article=variant.article or product.article,
                unit=product.unit.name if product.unit else "",
                unit_code=product.unit.code if product.unit else "",
                price=variant.price,
                quantity=line.quantity,
                vat_rate=rate,
                vat_amount=vat_amount,
                total=total,
                reserved_quantity=line.quantity if product.kind != Product.Kind.SERVICE else Decimal("0"),
                reserved_at=now,
            ))
        OrderLine.objects.bulk_create(order_lines)
        order.goods_total = goods
        order.vat_total = vat
        order.total = goods + order.delivery_price
        order.save(update_fields=["goods_total", "vat_total", "total"])
        OrderStatusChange.objects.create(order=order, to_status=status, source=OrderStatusChange.Source.SITE)
        for ol in order_lines:
            if ol.reserved_quantity:
                stock_reserve(variant_id=ol.variant_id, quantity=ol.reserved_quantity)
        offer_summaries_refresh(product_ids={v.product_id for v in variants.values()})
        CartLine.objects.filter(cart=cart).delete()
        language = translation.get_language() or settings.LANGUAGE_CODE
        transaction.on_commit(lambda: emails.order_placed_send(order_id=order.pk, language=language))
    logger.info("order %s placed (%s lines, total %s)", order.number, len(order_lines), order.total)
    return order


def order_touch(order: Order) -> None:
    """Record a change the site made to the order: version += 1 (race-free UPDATE).

    The order exchange compares the version with the one it sent to 1C (PROTOCOL.md §4).
    """
    Order.objects.filter(pk=order.pk).update(version=F("version") + 1, updated_at=timezone.now())
    order.refresh_from_db(fields=["version", "updated_at"])


order_touch.alters_data = True


def order_set_status(*, order: Order, status: OrderStatus, source: str = "site", user=None, note: str = "") -> Order:
    """Move the order to `status`, with a history row; a no-op when it is already there.

    A cancelling status releases the lines' reservations (catalog.services.stock_release
    gives back only what 1C has not counted since) and sets is_cancelled. The customer is
    e-mailed after commit when the status says so. The version grows unless the change
    comes from 1C (source="1c"): 1C already knows about its own change.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        previous_id = locked.status_id
        if previous_id == status.pk:
            return locked
        now = timezone.now()
        OrderStatusChange.objects.create(
            order=locked, from_status_id=previous_id, to_status=status, source=source, user=user, note=note
        )
        locked.status = status
        locked.status_changed_at = now
        fields = ["status", "status_changed_at", "updated_at"]
        if status.is_cancelled and not locked.is_cancelled:
            _release_reservations(order=locked)
        if status.is_cancelled != locked.is_cancelled:
            locked.is_cancelled = status.is_cancelled
            fields.append("is_cancelled")
        # A status that means paid or shipped sets the flag (and its date) once; leaving
        # that status does not unset it: money received stays received.
        if status.marks_paid and not locked.is_paid:
            locked.is_paid, locked.paid_at = True, now
            fields += ["is_paid", "paid_at"]
        if status.marks_shipped and not locked.is_shipped:
            locked.is_shipped, locked.shipped_at = True, now
            fields += ["is_shipped", "shipped_at"]
        locked.save(update_fields=fields)
        if source != OrderStatusChange.Source.EXCHANGE:
            order_touch(locked)
        if status.notify_customer and locked.email:
            transaction.on_commit(lambda: emails.order_status_send(order_id=locked.pk))
    return locked


order_set_status.alters_data = True


def _release_reservations(*, order: Order) -> None:
    for line in OrderLine.objects.filter(order=order, reserved_quantity__gt=0, variant__isnull=False):
        stock_release(variant_id=line.variant_id, quantity=line.reserved_quantity, reserved_at=line.reserved_at)
        # Whatever 1C has counted since is not ours to give back twice either way.
        OrderLine.objects.filter(pk=line.pk).update(reserved_quantity=Decimal("0"))
