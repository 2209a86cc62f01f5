"""The order exchange's own rows (PROTOCOL.md §4): what was sent, what 1C confirmed, what 1C changed.

- `QueryRecord`: one row per order a `sale&mode=query` sent, with the order's version at
  that moment, per exchange session; `success` commits exactly these rows.
- `OrderExport`: per order, the version 1C last confirmed and 1C's own flags about it.
- `OrderExchangeEvent`: the history the admin reads ("exported at version 3", "1C set
  paid, number СА-000001").
- `OrderFieldMapping`: extra order fields sent as document requisites (seed 004, "order
  field mapping").
- `OneCValueMapping`: a site status / payment method / delivery method ⇄ 1C's name and id,
  used both ways (query writes them, an order-changes file is read through them).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["OneCValueMapping", "OrderExchangeEvent", "OrderExport", "OrderFieldMapping", "QueryRecord"]


class QueryRecord(models.Model):
    """An order a `query` of session `session_key` sent, at `version`.

    A later `query` of the same session replaces that session's rows: `success` confirms
    what the last query of its session sent (PROTOCOL.md §4.3).
    """

    session_key = models.CharField(_("exchange session"), max_length=64, db_index=True)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(_("version sent"))
    created = models.DateTimeField(_("sent"), default=timezone.now)
    committed_at = models.DateTimeField(_("confirmed by 1C"), null=True, blank=True)

    class Meta:
        verbose_name = _("order sent to 1C")
        verbose_name_plural = _("orders sent to 1C")
        ordering = ["-created", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session_key", "order"], name="queryrecord_session_order_unique"),
        ]

    def __str__(self):
        return f"{self.order_id} v{self.version} ({self.session_key[:8]})"


class OrderExport(models.Model):
    """The exchange's state of one order: the version 1C confirmed and what 1C said about it."""

    order = models.OneToOneField("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE,
                                 related_name="onec_export")
    exported_version = models.PositiveIntegerField(_("confirmed version"), null=True, blank=True)
    exported_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    onec_posted = models.BooleanField(_("posted in 1C"), null=True, blank=True)
    onec_deletion_mark = models.BooleanField(_("marked for deletion in 1C"), default=False)
    onec_status = models.CharField(_("status in 1C"), max_length=255, blank=True)
    changed_by_1c_at = models.DateTimeField(_("last changed by 1C"), null=True, blank=True)

    class Meta:
        verbose_name = _("order export state")
        verbose_name_plural = _("order export states")
        ordering = ["-exported_at", "pk"]

    def __str__(self):
        return f"{self.order_id} v{self.exported_version}"


class OrderExchangeEvent(models.Model):
    """One line of an order's exchange history, for the admin."""

    class Kind(models.TextChoices):
        EXPORTED = "exported", _("export confirmed by 1C")
        CHANGED_BY_1C = "changed", _("changed by 1C")
        SKIPPED = "skipped", _("1C's change not applied")

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="exchange_events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField(_("order version"))
    session_key = models.CharField(_("exchange session"), max_length=64, blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    summary = models.TextField(_("what changed"), blank=True)
    #: {"field": [old, new], ...} as text, for the admin and for support.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("order exchange event")
        verbose_name_plural = _("order exchange history")
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"{self.order_id}: {self.get_kind_display()} v{self.version}"


class OrderFieldMapping(models.Model):
    """An order field sent to 1C as a document requisite (ЗначениеРеквизита) under `requisite`.

    1C picks such requisites up by name as "additional requisites" of its order (seed 004).
    """

    field_name = models.CharField(_("order field"), max_length=64)
    requisite = models.CharField(_("1C requisite name"), max_length=255)
    position = models.IntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("order field for 1C")
        verbose_name_plural = _("order fields for 1C")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["requisite"], name="orderfieldmapping_requisite_unique"),
        ]

    def __str__(self):
        return f"{self.field_name} → {self.requisite}"

    def clean(self):
        from exchange1c.sale.query import mappable_order_fields

        if self.field_name not in dict(mappable_order_fields()):
            raise ValidationError({"field_name": _("The order has no such field.")})


class OneCValueMapping(models.Model):
    """A site order status, payment method or delivery method as 1C names it.

    Exactly the foreign key of `kind` is set. `onec_id` is what 1C sends as "Статуса заказа
    ИД" (and what `info` lists); `onec_name` is the text of "Статус заказа" / "Метод оплаты" /
    "Способ доставки". Either may be empty: the site's code and name are used then.
    """

    class Kind(models.TextChoices):
        STATUS = "status", _("order status")
        PAYMENT = "payment", _("payment method")
        DELIVERY = "delivery", _("delivery method")

    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    status = models.ForeignKey("orders.OrderStatus", verbose_name=_("order status"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    payment_method = models.ForeignKey("orders.PaymentMethod", verbose_name=_("payment method"), null=True,
                                       blank=True, on_delete=models.CASCADE, related_name="+")
    delivery_method = models.ForeignKey("orders.DeliveryMethod", verbose_name=_("delivery method"), null=True,
                                        blank=True, on_delete=models.CASCADE, related_name="+")
    onec_name = models.CharField(_("name in 1C"), max_length=255, blank=True)
    onec_id = models.CharField(_("id in 1C"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("1C name of a status or method")
        verbose_name_plural = _("1C names of statuses and methods")
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                name="onecvaluemapping_one_target",
                condition=(
                    Q(kind="status", status__isnull=False, payment_method__isnull=True, delivery_method__isnull=True)
                    | Q(kind="payment", status__isnull=True, payment_method__isnull=False,
                        delivery_method__isnull=True)
                    | Q(kind="delivery", status__isnull=True, payment_method__isnull=True,
                        delivery_method__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["status"], condition=Q(status__isnull=False),
                                    name="onecvaluemapping_status_unique"),
            models.UniqueConstraint(fields=["payment_method"], condition=Q(payment_method__isnull=False),
                                    name="onecvaluemapping_payment_unique"),
            models.UniqueConstraint(fields=["delivery_method"], condition=Q(delivery_method__isnull=False),
                                    name="onecvaluemapping_delivery_unique"),
        ]

    def __str__(self):
        return f"{self.target} ⇄ {self.onec_name or self.onec_id}"

    @property
    def target(self):
        return self.status or self.payment_method or self.delivery_method

    def clean(self):
        targets = {"status": self.status_id, "payment": self.payment_method_id, "delivery": self.delivery_method_id}
        if not targets.get(self.kind) or any(v for k, v in targets.items() if k != self.kind):
            raise ValidationError(_("Choose exactly the status or method of the chosen kind."))
        if not (self.onec_name or self.onec_id):
            raise ValidationError(_("Give 1C's name or id."))
