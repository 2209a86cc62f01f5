"""Carts, orders and what an order refers to (statuses, payment and delivery methods).

An order line is a snapshot (name, article, 1C offer id, price): its variant link is
nullable with SET_NULL, so a catalog reload never breaks an order or its export to 1C.
`Order.version` grows whenever the site changes the order; the order exchange compares it
with the version it last exported (PROTOCOL.md §4).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 3}


class OrderStatus(models.Model):
    """An order status; the list is the admin's (seeded with new … cancelled)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    position = models.IntegerField(_("position"), default=0)
    is_final = models.BooleanField(_("final"), default=False, help_text=_("The order needs nothing more."))
    is_cancelled = models.BooleanField(
        _("means cancelled"), default=False, help_text=_("Orders moved here release their reserved stock.")
    )
    notify_customer = models.BooleanField(_("e-mail the customer"), default=True)
    marks_paid = models.BooleanField(
        _("means paid"), default=False, help_text=_("Orders moved here are marked paid.")
    )
    marks_shipped = models.BooleanField(
        _("means shipped"), default=False, help_text=_("Orders moved here are marked shipped.")
    )

    class Meta:
        verbose_name = _("order status")
        verbose_name_plural = _("order statuses")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class PaymentMethod(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    position = models.IntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class DeliveryMethod(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    price = models.DecimalField(_("price"), **MONEY, default=Decimal("0"), validators=[MinValueValidator(0)])
    needs_address = models.BooleanField(_("needs an address"), default=True)
    position = models.IntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("delivery method")
        verbose_name_plural = _("delivery methods")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """One buyer, so that one customer is one counterparty in 1C across orders.

    Guests are recognised by their normalised e-mail (else phone); `public_id` is the
    stable Контрагент Ид sent to 1C.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(_("identity key"), max_length=255, unique=True,
                           help_text=_("Normalised e-mail or phone the customer is recognised by."))
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def __str__(self):
        return self.name or self.key


class Cart(models.Model):
    """A shopping cart bound to a browser session."""

    session_key = models.CharField(_("session"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        ordering = ["-updated_at"]

    def __str__(self):
        return self.session_key


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.CASCADE,
                                related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY, validators=[MinValueValidator(Decimal("0.001"))])
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cartline_cart_variant_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cartline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.quantity}"


class Order(models.Model):
    """A customer's order."""

    number = models.CharField(_("order number"), max_length=32, unique=True, help_text=_("Shown to the customer."))
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False,
                                 help_text=_("Stable id sent to 1C as the document's Ид."))
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="orders")
    customer_name = models.CharField(_("name"), max_length=255)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=32)
    address = models.TextField(_("address"), blank=True)
    company_name = models.CharField(_("company"), max_length=255, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    delivery_method = models.ForeignKey(DeliveryMethod, verbose_name=_("delivery"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    delivery_name = models.CharField(_("delivery (as chosen)"), max_length=255, blank=True)
    delivery_price = models.DecimalField(_("delivery price"), **MONEY, default=Decimal("0"))
    payment_method = models.ForeignKey(PaymentMethod, verbose_name=_("payment"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    payment_name = models.CharField(_("payment (as chosen)"), max_length=255, blank=True)
    status = models.ForeignKey(OrderStatus, verbose_name=_("status"), on_delete=models.PROTECT, related_name="orders")
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    is_paid = models.BooleanField(_("paid"), default=False)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    is_shipped = models.BooleanField(_("shipped"), default=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    onec_number = models.CharField(_("1C number"), max_length=64, blank=True)
    onec_date = models.DateTimeField(_("1C date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    goods_total = models.DecimalField(_("goods total"), **MONEY, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    vat_total = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    comment = models.TextField(_("customer's comment"), blank=True)
    #: Grows by one whenever the site changes the order (orders.services.order_touch), so
    #: the exchange can tell "changed since the export 1C confirmed" (PROTOCOL.md §4.3).
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="order_status_updated")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    """One line of an order: a snapshot of what was sold, at what price."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    #: Nullable on purpose: an order outlives the catalog rows it was placed from.
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    offer_external_id = models.CharField(_("1C offer id"), max_length=255, blank=True,
                                         help_text=_("product#variant as 1C knows it."))
    name = models.CharField(_("name"), max_length=1000)
    article = models.CharField(_("article"), max_length=255, blank=True)
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    unit_code = models.CharField(_("unit code"), max_length=32, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    quantity = models.DecimalField(_("quantity"), **QUANTITY, validators=[MinValueValidator(Decimal("0.001"))])
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    vat_rate = models.DecimalField(_("VAT rate, %"), max_digits=5, decimal_places=2, null=True, blank=True)
    vat_amount = models.DecimalField(_("VAT"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("sum"), **MONEY)
    #: What this line added to the variant's `reserved` (released on cancellation).
    reserved_quantity = models.DecimalField(_("reserved"), **QUANTITY, default=Decimal("0"))
    reserved_at = models.DateTimeField(_("reserved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="orderline_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} × {self.quantity}"


class OrderStatusChange(models.Model):
    """History: who or what moved an order to which status, when."""

    class Source(models.TextChoices):
        SITE = "site", _("site")
        ADMIN = "admin", _("admin")
        EXCHANGE = "1c", _("1C exchange")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.ForeignKey(OrderStatus, verbose_name=_("from"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    to_status = models.ForeignKey(OrderStatus, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.SITE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("note"), blank=True)
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["order", "changed_at", "pk"]

    def __str__(self):
        return f"{self.order_id}: {self.to_status_id}"


class OrderNumberSequence(models.Model):
    """The counter customer-facing order numbers are drawn from (one row per `name`).

    A row rather than MAX(number) + 1: incrementing it with one UPDATE locks the row until
    the placing transaction commits, so two checkouts never draw the same number on
    PostgreSQL, and SQLite serialises writers anyway. Numbers burnt by a rolled-back
    checkout are not reused, which is fine for an order number.
    """

    name = models.CharField(_("name"), max_length=32, unique=True)
    last_value = models.PositiveBigIntegerField(_("last number issued"), default=10000)

    class Meta:
        verbose_name = _("order number sequence")
        verbose_name_plural = _("order number sequences")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}: {self.last_value}"
