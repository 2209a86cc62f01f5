"""Applying 1C's order changes (`sale&mode=file` / `import`, PROTOCOL.md §4.4).

`sale_apply_file(path=…, settings=…)` reads the whole file first (a malformed file changes
nothing), then applies each document in its own transaction: one bad document is reported
and skipped, the others are applied. Orders are found by site `Ид` (public id), then by
`Номер` (site number), then by 1C's number (`onec_number`, how an order created from 1C is
found again when its 1C number was taken on the site). Unknown orders are skipped with a
warning, or, with `settings.create_unknown_orders`, created (see `_create_order`) and then
given the document's changes like any known order.

What a document changes, compared with the order as it is (so applying a file twice
changes nothing more):
- `Номер по 1С`, `Дата по 1С` → onec_number, onec_date;
- `Проведен` → OrderExport.onec_posted; `ПометкаУдаления`/`Отменен` = true → the cancelled
  status (releases reservations; never un-cancels);
- `Оплачен`/`Заказ оплачен` = true → paid (paid_at = `Дата оплаты по 1С`), only when fully
  paid: a `Сумма оплаты` below the order total is a partial payment and changes nothing;
  `Отгружен` = true → shipped (`Дата отгрузки по 1С`), unless `Отгружено частично`;
- `Статус заказа` / `Статуса заказа ИД` → a site status through the admin's mapping
  (OneCValueMapping), else by the site status' code or name; unknown → warning;
- lines and sums, when `settings.accept_order_line_changes` is on.

Changes from 1C never bump `Order.version` (1C knows its own changes, nothing to re-export);
status moves go through `orders.services.order_set_status(source="1c")`. Each changed order
gets an `OrderExchangeEvent` with what changed.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Variant
from catalog.services import stock_release
from exchange1c.commerceml.orders_reader import (
    OrderChange,
    OrderChangeLine,
    OrderFileError,
    norm,
    parse_bool,
    parse_datetime,
    read_order_changes,
)
from exchange1c.models.orders import OneCValueMapping, OrderExchangeEvent, OrderExport
from exchange1c.sale.query import export_statuses
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus, OrderStatusChange, PaymentMethod
from orders.services import customer_get_or_create, customer_key, order_number_next, order_set_status

__all__ = ["ApplyResult", "sale_apply_file", "sale_apply_changes"]

logger = logging.getLogger(__name__)

MAX_WARNING_LINES = 50
ORDER_OPERATION = "заказ товара"
_BRACKET_STATUS = re.compile(r"^\[([^\]]+)\]\s*(.*)$")


@dataclass
class ApplyResult:
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    unknown: int = 0
    created: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def lines(self) -> list[str]:
        out = [
            _("Orders changed: %(changed)s, unchanged: %(unchanged)s, unknown: %(unknown)s, refused: %(skipped)s")
            % {"changed": self.changed, "unchanged": self.unchanged, "unknown": self.unknown,
               "skipped": self.skipped}
        ]
        if self.created:
            out.append(_("Orders created from 1C: %(created)s") % {"created": self.created})
        out.extend(self.warnings[:MAX_WARNING_LINES])
        if len(self.warnings) > MAX_WARNING_LINES:
            out.append(_("… and %(n)s more warnings") % {"n": len(self.warnings) - MAX_WARNING_LINES})
        return out


def _aware(dt):
    if dt is None:
        return None
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt


def _find_order(change: OrderChange) -> Order | None:
    if change.id:
        try:
            public_id = uuid.UUID(change.id)
        except ValueError:
            public_id = None
        if public_id is not None:
            order = Order.objects.filter(public_id=public_id).first()
            if order is not None:
                return order
    for number in (change.number, change.id):
        if number:
            order = Order.objects.filter(number=number).first()
            if order is not None:
                return order
    if change.number:
        # 1C's own number: an order created from 1C whose number was taken on the site.
        return Order.objects.filter(onec_number=change.number[:64]).order_by("pk").first()
    return None


class _StatusMap:
    """1C's status names and ids → site statuses (the admin's mapping first, then code/name)."""

    def __init__(self):
        self.by_id: dict[str, OrderStatus] = {}
        self.by_name: dict[str, OrderStatus] = {}
        for status in OrderStatus.objects.all():
            self.by_id.setdefault(status.code.casefold(), status)
            self.by_name.setdefault(norm(status.name), status)
        # The admin's mapping wins over the site's own codes and names.
        for m in OneCValueMapping.objects.filter(kind=OneCValueMapping.Kind.STATUS).select_related("status"):
            if m.onec_id:
                self.by_id[m.onec_id.strip().casefold()] = m.status
            if m.onec_name:
                self.by_name[norm(m.onec_name)] = m.status
        self.cancelled = OrderStatus.objects.filter(is_cancelled=True).order_by("position", "pk").first()
        # The first non-final status that means paid / shipped (seeded: "paid", "shipped").
        ordered = OrderStatus.objects.filter(is_final=False, is_cancelled=False).order_by("position", "pk")
        self.paid = ordered.filter(marks_paid=True).first()
        self.shipped = ordered.filter(marks_shipped=True).first()

    def find(self, status_id: str | None, status_name: str | None) -> OrderStatus | None:
        if status_id and status_id.strip().casefold() in self.by_id:
            return self.by_id[status_id.strip().casefold()]
        if status_name:
            if norm(status_name) in self.by_name:
                return self.by_name[norm(status_name)]
            m = _BRACKET_STATUS.match(status_name.strip())  # the reference's "[N] Принят"
            if m:
                if m.group(1).strip().casefold() in self.by_id:
                    return self.by_id[m.group(1).strip().casefold()]
                if norm(m.group(2)) in self.by_name:
                    return self.by_name[norm(m.group(2))]
        return None


def _is_delivery(line: OrderChangeLine) -> bool:
    return line.id == "ORDER_DELIVERY" or (line.is_service and "доставк" in line.name.casefold())


def _line_key(ext_id: str, price, quantity, total) -> tuple:
    return (ext_id, Decimal(price).normalize(), Decimal(quantity).normalize(), Decimal(total).normalize())


def _apply_lines(order: Order, change: OrderChange, result: ApplyResult, details: dict) -> dict:
    """Replaces the order's lines, delivery and sums by 1C's; returns Order field updates."""
    updates: dict = {}
    goods = [ln for ln in change.lines if not _is_delivery(ln)]
    delivery = [ln for ln in change.lines if _is_delivery(ln)]
    if any(ln.quantity is None or ln.price is None for ln in goods):
        result.warn(_("Order %(order)s: a line has no price or quantity; lines left as they were")
                    % {"order": order.number})
        return updates
    wanted = []
    for ln in goods:
        if ln.quantity == 0:
            continue  # 1C lists a removed line with quantity 0 in some configurations
        total = ln.total if ln.total is not None else (ln.price * ln.quantity).quantize(Decimal("0.01"))
        wanted.append((ln, total))
    current = list(order.lines.all().order_by("pk"))
    if change.has_goods and goods:
        old_keys = sorted(_line_key(x.offer_external_id, x.price, x.quantity, x.total) for x in current)
        new_keys = sorted(_line_key(ln.id, ln.price, ln.quantity, total) for ln, total in wanted)
        if old_keys != new_keys:
            if not wanted:
                result.warn(_("Order %(order)s: 1C sent no goods with a quantity; lines left as they were")
                            % {"order": order.number})
                return updates
            _replace_lines(order, current, wanted)
            details["lines"] = [
                [f"{x.offer_external_id or x.name} × {x.quantity} = {x.total}" for x in current],
                [f"{ln.id or ln.name} × {ln.quantity} = {total}" for ln, total in wanted],
            ]
            goods_total = sum((total for _ln, total in wanted), Decimal("0"))
            updates["goods_total"] = goods_total
            discount = sum((ln.discount for ln, _t in wanted), Decimal("0"))
            if discount != order.discount_total:
                updates["discount_total"] = discount
    if delivery:
        price = sum(((ln.total if ln.total is not None else ln.price or Decimal("0")) for ln in delivery),
                    Decimal("0"))
        if price != order.delivery_price:
            details["delivery_price"] = [str(order.delivery_price), str(price)]
            updates["delivery_price"] = price
    if change.total is not None and change.total != order.total:
        details["total"] = [str(order.total), str(change.total)]
        updates["total"] = change.total
    return updates


def _replace_lines(order: Order, current: list[OrderLine], wanted: list[tuple[OrderChangeLine, Decimal]]) -> None:
    by_id: dict[str, list[OrderLine]] = {}
    for line in current:
        by_id.setdefault(line.offer_external_id, []).append(line)
    variants = {v.external_id: v for v in Variant.objects.filter(
        external_id__in=[ln.id for ln, _t in wanted if ln.id]).select_related("product__unit")}
    kept: set[int] = set()
    for ln, total in wanted:
        existing = by_id.get(ln.id) if ln.id else None
        if existing:
            line = existing.pop(0)
            kept.add(line.pk)
            if line.quantity > ln.quantity and line.reserved_quantity > 0 and line.variant_id:
                give_back = min(line.reserved_quantity, line.quantity - ln.quantity)
                stock_release(variant_id=line.variant_id, quantity=give_back, reserved_at=line.reserved_at)
                line.reserved_quantity -= give_back
            line.price, line.quantity, line.total, line.discount = ln.price, ln.quantity, total, ln.discount
            line.save(update_fields=["price", "quantity", "total", "discount", "reserved_quantity"])
            continue
        variant = variants.get(ln.id)
        unit = variant.product.unit if variant is not None and variant.product.unit_id else None
        OrderLine.objects.create(
            order=order, variant=variant, offer_external_id=ln.id[:255], name=(ln.name or ln.id or "?")[:1000],
            article=ln.article[:255], unit=unit.name if unit else "", unit_code=unit.code if unit else "",
            price=ln.price, quantity=ln.quantity, total=total, discount=ln.discount,
        )
    for line in current:
        if line.pk in kept:
            continue
        if line.reserved_quantity > 0 and line.variant_id:
            stock_release(variant_id=line.variant_id, quantity=line.reserved_quantity, reserved_at=line.reserved_at)
        line.delete()


def _apply_one(order_pk: int, change: OrderChange, *, settings, statuses: _StatusMap, filename: str,
               result: ApplyResult) -> bool:
    """Applies one document to one order, in one transaction; True when something changed."""
    export_status, _after = export_statuses(settings)
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("status").get(pk=order_pk)
        state, _created = OrderExport.objects.get_or_create(order=order)
        updates: dict = {}
        state_updates: dict = {}
        details: dict = {}
        now = timezone.now()

        number = change.requisite("Номер по 1С")
        if number is not None and number.strip()[:64] != order.onec_number:
            details["onec_number"] = [order.onec_number, number.strip()[:64]]
            updates["onec_number"] = number.strip()[:64]
        onec_date = _aware(parse_datetime(change.requisite("Дата по 1С")))
        if onec_date is not None and onec_date != order.onec_date:
            details["onec_date"] = [str(order.onec_date or ""), str(onec_date)]
            updates["onec_date"] = onec_date

        posted = parse_bool(change.requisite("Проведен"))
        if posted is not None and posted != state.onec_posted:
            details["posted"] = [state.onec_posted, posted]
            state_updates["onec_posted"] = posted
        deleted = parse_bool(change.requisite("ПометкаУдаления")) is True
        if deleted != state.onec_deletion_mark:
            details["deletion_mark"] = [state.onec_deletion_mark, deleted]
            state_updates["onec_deletion_mark"] = deleted
        cancel = deleted or parse_bool(change.requisite("Отменен")) is True

        paid = parse_bool(change.requisite("Оплачен", "Заказ оплачен")) is True
        paid_sum = change.requisite("Сумма оплаты", "Сумма оплаты по 1С", "Оплачено")
        if paid and paid_sum:
            try:
                paid = Decimal(paid_sum.replace(",", ".").replace(" ", "")) >= (change.total or order.total)
            except ArithmeticError:
                pass
        newly_paid = paid and not order.is_paid
        if newly_paid:
            paid_at = _aware(parse_datetime(change.requisite("Дата оплаты по 1С", "Дата оплаты"))) or now
            details["paid"] = [False, True]
            updates.update(is_paid=True, paid_at=paid_at)
        shipped = parse_bool(change.requisite("Отгружен", "Заказ отгружен")) is True
        if parse_bool(change.requisite("Отгружено частично", "Отгружен частично")) is True:
            shipped = False
        newly_shipped = shipped and not order.is_shipped
        if newly_shipped:
            shipped_at = _aware(parse_datetime(change.requisite("Дата отгрузки по 1С", "Дата отгрузки"))) or now
            details["shipped"] = [False, True]
            updates.update(is_shipped=True, shipped_at=shipped_at)

        status_name = change.requisite("Статус заказа")
        status_id = change.requisite("Статуса заказа ИД", "Статус заказа ИД", "ИД статуса заказа")
        if status_name is not None and status_name != state.onec_status:
            state_updates["onec_status"] = status_name[:255]
        target = None
        if cancel:
            target = statuses.cancelled
        elif status_name or status_id:
            target = statuses.find(status_id, status_name)
            if target is None:
                result.warn(_("Order %(order)s: 1C status “%(status)s” is not mapped to a site status "
                              "(Exchange → 1C names of statuses)") % {"order": order.number,
                                                                       "status": status_name or status_id})
            elif export_status is not None and target.pk == export_status.pk:
                # Moving an order back into the export status would send it to 1C again and again.
                target = None
        if target is None and not order.status.is_final and not order.is_cancelled:
            # Paid / shipped move the order forward only, never back.
            for flag, status in ((newly_shipped, statuses.shipped), (newly_paid, statuses.paid)):
                if flag and status is not None and status.position > order.status.position:
                    target = status
                    break
        if order.is_cancelled and target is not None and not target.is_cancelled:
            target = None  # 1C never un-cancels an order the site cancelled
        elif order.status.is_final and target is not None and not target.is_cancelled and target.pk != order.status_id:
            result.warn(_("Order %(order)s is already “%(status)s”: 1C's status “%(onec)s” not applied")
                        % {"order": order.number, "status": order.status.name, "onec": target.name})
            target = None

        if settings.accept_order_line_changes and (change.has_goods or change.total is not None):
            updates.update(_apply_lines(order, change, result, details))

        if target is not None and target.pk != order.status_id:
            details["status"] = [order.status.name, target.name]
        if not details and not state_updates:
            return False
        if updates:
            updates["updated_at"] = now
            Order.objects.filter(pk=order.pk).update(**updates)
        if target is not None and target.pk != order.status_id:
            order_set_status(order=order, status=target, source=OrderStatusChange.Source.EXCHANGE,
                             note=_("Changed in 1C"))
        state_updates["changed_by_1c_at"] = now
        OrderExport.objects.filter(pk=state.pk).update(**state_updates)
        if not details:
            return False
        order.refresh_from_db(fields=["version"])
        OrderExchangeEvent.objects.create(
            order=order, kind=OrderExchangeEvent.Kind.CHANGED_BY_1C, version=order.version, filename=filename,
            summary=", ".join(sorted(details)), details={k: [str(v) for v in pair] for k, pair in details.items()},
            created=now,
        )
        return True


# --- orders entered in 1C ---------------------------------------------------------------

_CURRENCIES = {"руб": "RUB", "руб.": "RUB", "rur": "RUB", "643": "RUB", "грн": "UAH", "980": "UAH",
               "тенге": "KZT", "тг": "KZT", "398": "KZT", "byn": "BYN", "933": "BYN", "$": "USD", "840": "USD",
               "€": "EUR", "978": "EUR"}


class _Refused(Exception):
    """A document that cannot become an order; str() is the warning's reason."""


def _currency(text: str) -> str:
    code = text.strip()
    if code.casefold() in _CURRENCIES:
        return _CURRENCIES[code.casefold()]
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code.upper()
    return Order._meta.get_field("currency").default


def _method(model, kind: str, name: str | None):
    """The payment or delivery method 1C names (the admin's mapping first, then the site's name)."""
    if not name or not name.strip():
        return None
    key = norm(name)
    for m in OneCValueMapping.objects.filter(kind=kind).select_related("payment_method", "delivery_method"):
        if (m.onec_name and norm(m.onec_name) == key) or (m.onec_id and m.onec_id.strip().casefold() == key):
            return m.target
    return next((x for x in model.objects.all() if norm(x.name) == key or x.code.casefold() == key), None)


def _email(text: str) -> str:
    text = text.strip()
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return text[:254]


def _creation_status(change: OrderChange, *, settings, statuses: _StatusMap) -> OrderStatus:
    """1C's status through the mapping, else setting 6; never setting 4, which would send the
    order back to 1C as a new one."""
    export_status, after = export_statuses(settings)
    target = statuses.find(change.requisite("Статуса заказа ИД", "Статус заказа ИД", "ИД статуса заказа"),
                           change.requisite("Статус заказа"))
    for status in (target, after):
        if status is not None and (export_status is None or status.pk != export_status.pk):
            return status
    fallback = OrderStatus.objects.filter(is_cancelled=False).order_by("position", "pk")
    if export_status is not None:
        fallback = fallback.exclude(pk=export_status.pk)
    status = fallback.first()
    if status is None:
        raise _Refused(_("the site has no order status other than the export status (setting 4)"))
    return status


def _create_order(change: OrderChange, *, settings, statuses: _StatusMap, filename: str) -> Order:
    """Creates the order 1C sent and the site does not know; call inside atomic().

    Number: 1C's `Номер` when free on the site, else the site's next number (1C's stays in
    onec_number, where `_find_order` looks). public_id: the document's Ид when it is a UUID, so
    the next exchange finds the same order. Lines are snapshots; a line is linked to the
    variant whose external_id is its offer Ид. No stock is reserved: 1C counts its own orders.
    The order is at version 1 and marked exported at it, so `query` does not send it back.
    """
    goods = [ln for ln in change.lines if not _is_delivery(ln)]
    delivery = [ln for ln in change.lines if _is_delivery(ln)]
    if any(ln.quantity is None or ln.price is None for ln in goods):
        raise _Refused(_("a line has no price or quantity"))
    goods = [ln for ln in goods if ln.quantity > 0]
    if not goods:
        raise _Refused(_("no goods with a quantity"))
    now = timezone.now()
    status = _creation_status(change, settings=settings, statuses=statuses)
    onec_number = change.number.strip()[:64]
    number = onec_number
    if not number or len(number) > Order._meta.get_field("number").max_length or \
            Order.objects.filter(number=number).exists():
        number = order_number_next()
    try:
        public_id = uuid.UUID(change.id)
    except ValueError:
        public_id = None
    if public_id is None or Order.objects.filter(public_id=public_id).exists():
        public_id = uuid.uuid4()

    party = change.counterparty
    name = email = phone = address = company = inn = kpp = ""
    if party is not None:
        name = party.full_name or party.name or party.official_name
        email, phone, address = _email(party.email), party.phone.strip()[:32], party.address
        inn, kpp = party.inn.strip()[:12], party.kpp.strip()[:9]
        if inn or party.official_name:
            company = party.official_name or party.name or party.full_name
    customer = None
    if customer_key(email=email, phone=phone):
        customer = customer_get_or_create(name=name[:255], email=email, phone=phone)

    payment_name = change.requisite("Метод оплаты") or ""
    delivery_name = change.requisite("Способ доставки") or ""
    delivery_price = sum(((ln.total if ln.total is not None else ln.price or Decimal("0")) for ln in delivery),
                         Decimal("0"))
    rows = []
    for ln in goods:
        total = ln.total if ln.total is not None else (ln.price * ln.quantity).quantize(Decimal("0.01"))
        rows.append((ln, total))
    goods_total = sum((total for _ln, total in rows), Decimal("0"))
    order = Order.objects.create(
        number=number, public_id=public_id, customer=customer, customer_name=name[:255], email=email, phone=phone,
        address=address, company_name=company[:255], inn=inn, kpp=kpp,
        delivery_method=_method(DeliveryMethod, OneCValueMapping.Kind.DELIVERY, delivery_name),
        delivery_name=(delivery_name or (delivery[0].name if delivery else ""))[:255], delivery_price=delivery_price,
        payment_method=_method(PaymentMethod, OneCValueMapping.Kind.PAYMENT, payment_name),
        payment_name=payment_name[:255], status=status, status_changed_at=now, is_cancelled=status.is_cancelled,
        is_paid=status.marks_paid, paid_at=now if status.marks_paid else None,
        is_shipped=status.marks_shipped, shipped_at=now if status.marks_shipped else None,
        onec_number=onec_number,
        onec_date=_aware(datetime.combine(change.date, time())) if change.date else None,
        currency=_currency(change.currency), goods_total=goods_total,
        discount_total=sum((ln.discount for ln, _t in rows), Decimal("0")),
        total=change.total if change.total is not None else goods_total + delivery_price,
        comment=change.comment,
    )
    variants = {v.external_id: v for v in Variant.objects.filter(
        external_id__in=[ln.id for ln, _t in rows if ln.id]).select_related("product__unit")}
    OrderLine.objects.bulk_create([
        OrderLine(
            order=order, variant=variants.get(ln.id), offer_external_id=ln.id[:255],
            name=(ln.name or (str(variants[ln.id]) if ln.id in variants else "") or ln.id or "?")[:1000],
            article=(ln.article or (variants[ln.id].article if ln.id in variants else ""))[:255],
            unit=(ln.unit or _variant_unit(variants.get(ln.id), "name"))[:64],
            unit_code=(ln.unit_code or _variant_unit(variants.get(ln.id), "code"))[:32],
            price=ln.price, quantity=ln.quantity, discount=ln.discount, total=total,
        )
        for ln, total in rows
    ])
    OrderStatusChange.objects.create(order=order, to_status=status, source=OrderStatusChange.Source.EXCHANGE,
                                     note=_("Created from 1C"))
    OrderExport.objects.create(order=order, exported_version=order.version, exported_at=now, changed_by_1c_at=now)
    OrderExchangeEvent.objects.create(
        order=order, kind=OrderExchangeEvent.Kind.CHANGED_BY_1C, version=order.version, filename=filename,
        summary=str(_("created from 1C")),
        details={"created": ["", number], "onec_number": ["", onec_number], "lines": [
            "", "; ".join(f"{ln.id or ln.name} × {ln.quantity} = {total}" for ln, total in rows)]},
        created=now,
    )
    logger.info("order %s created from 1C's %s (%s lines)", number, change.label, len(rows))
    return order


def _variant_unit(variant, attr: str) -> str:
    if variant is None or variant.product.unit_id is None:
        return ""
    return getattr(variant.product.unit, attr) or ""


def sale_apply_changes(changes: list[OrderChange], *, settings, filename: str = "") -> ApplyResult:
    """Applies already-read documents (see module doc); never raises for one bad document."""
    result = ApplyResult()
    statuses = _StatusMap()
    for change in changes:
        if change.errors:
            result.skipped += 1
            result.warn(_("Document %(doc)s (line %(line)s) refused: %(errors)s")
                        % {"doc": change.label, "line": change.line, "errors": "; ".join(change.errors)})
            continue
        if change.operation and norm(change.operation) != ORDER_OPERATION:
            result.skipped += 1
            result.warn(_("Document %(doc)s skipped: “%(op)s” is not an order")
                        % {"doc": change.label, "op": change.operation})
            continue
        order = _find_order(change)
        if order is None and getattr(settings, "create_unknown_orders", False):
            try:
                # Created and given the document's flags together, or not at all.
                with transaction.atomic():
                    order = _create_order(change, settings=settings, statuses=statuses, filename=filename)
                    _apply_one(order.pk, change, settings=settings, statuses=statuses, filename=filename,
                               result=result)
            except _Refused as e:
                result.skipped += 1
                result.warn(_("Order %(doc)s is not on the site and was not created: %(reason)s")
                            % {"doc": change.label, "reason": e})
                continue
            except Exception as e:  # noqa: BLE001 - one bad document must not stop the others (PROTOCOL.md §4.4)
                logger.exception("order %s: creating it from 1C's document failed", change.label)
                result.skipped += 1
                result.warn(_("Order %(doc)s is not on the site and was not created: %(reason)s")
                            % {"doc": change.label, "reason": e})
                continue
            result.created += 1
            result.warn(_("Order %(doc)s created from 1C as %(order)s") % {"doc": change.label, "order": order.number})
            continue
        if order is None:
            result.unknown += 1
            result.warn(_("Order %(doc)s is not on the site: skipped") % {"doc": change.label})
            continue
        try:
            changed = _apply_one(order.pk, change, settings=settings, statuses=statuses, filename=filename,
                                 result=result)
        except Exception as e:  # noqa: BLE001 - one bad document must not stop the others (PROTOCOL.md §4.4)
            logger.exception("order %s: applying 1C's document failed", order.number)
            result.skipped += 1
            result.warn(_("Order %(order)s: not applied (%(error)s)") % {"order": order.number, "error": e})
            continue
        if changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return result


def sale_apply_file(*, path: Path, settings) -> tuple[str, list[str]]:
    """Applies 1C's order-changes file; returns ("success" | "failure", answer lines after the first).

    "failure" only when the file as a whole cannot be read (nothing changed then); refused
    documents and unknown orders are warnings of a "success".
    """
    path = Path(path)
    try:
        changes, _info = read_order_changes(path)
    except OrderFileError as e:
        return "failure", [_("The order file was not applied, nothing changed: %(reason)s") % {"reason": e}]
    result = sale_apply_changes(changes, settings=settings, filename=path.name)
    return "success", result.lines()

