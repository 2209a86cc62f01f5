"""`sale&mode=query`: the orders 1C should load, as one streamed CommerceML document (PROTOCOL.md §4.2).

Which orders: those in the export status (setting 4), plus, when `export_changed_orders`
is on, orders 1C already confirmed whose version grew on the site since. What was sent is
recorded per exchange session (`QueryRecord`), so that `success` commits exactly that, and
an order is never lost when 1C crashes between `query` and `success`: nothing changes until
`success`, so the next `query` sends the same orders again.
"""

from __future__ import annotations

import tempfile
import uuid
from array import array
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from exchange1c.commerceml.writer import (
    DELIVERY_ID,
    Counterparty,
    DocumentLine,
    OrderDocument,
    OrderDocumentWriter,
    content_type,
    format_quantity,
)
from exchange1c.models.orders import OneCValueMapping, OrderFieldMapping, QueryRecord
from orders.models import DeliveryMethod, Order, OrderLine, OrderStatus, PaymentMethod

__all__ = [
    "export_statuses",
    "mappable_order_fields",
    "order_document",
    "orders_to_export",
    "sale_query",
    "sale_query_to",
]

CHUNK = 500
RECORD_BATCH = 1000
# Contractor ids for orders without a Customer row: stable per e-mail, so 1C still sees
# one counterparty per buyer (uuid5 of a fixed namespace).
GUEST_NAMESPACE = uuid.UUID("6f1b7a52-3c1e-4b8e-9b1a-0d6c1c1e0a51")
DEFAULT_EXPORT_STATUS = "new"
DEFAULT_STATUS_AFTER_EXPORT = "accepted"
# Order fields never offered for the admin's extra requisites: internal, or already sent.
_NOT_MAPPABLE = {"id", "version", "public_id"}


def export_statuses(settings) -> tuple[OrderStatus | None, OrderStatus | None]:
    """(setting 4, setting 6); unset settings fall back to the seeded "new" and "accepted"."""
    export = settings.export_status or OrderStatus.objects.filter(code=DEFAULT_EXPORT_STATUS).first()
    after = settings.status_after_export or OrderStatus.objects.filter(code=DEFAULT_STATUS_AFTER_EXPORT).first()
    return export, after


def orders_to_export(settings):
    """The orders a query sends now, oldest first (by pk: the order the answer keeps)."""
    export_status, _after = export_statuses(settings)
    condition = Q(pk__in=[])
    if export_status is not None:
        # Confirmed at its current version already: only possible when settings 4 and 6 are
        # equal (the form refuses that); without this, such orders would go out forever.
        condition = Q(status=export_status) & ~Q(onec_export__exported_version=F("version"))
    if settings.export_changed_orders:
        condition |= Q(onec_export__exported_version__isnull=False,
                       onec_export__exported_version__lt=F("version"))
    return Order.objects.filter(condition).order_by("pk")


def mappable_order_fields() -> list[tuple[str, str]]:
    """(field name, verbose name) of the order fields an admin may send as extra requisites."""
    out = []
    for f in Order._meta.concrete_fields:
        if f.name in _NOT_MAPPABLE:
            continue
        out.append((f.name, str(f.verbose_name)))
    return out


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_quantity(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None, microsecond=0).isoformat() \
            if timezone.is_aware(value) else value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _split_name(name: str) -> tuple[str, str, str]:
    """(last, first, middle) from the single name field the checkout asks for.

    Three words are read as Фамилия Имя Отчество (the formal Russian order), two as the
    "Имя Фамилия" people type into a shop form, one as a first name.
    """
    words = name.split()
    if len(words) >= 3:
        return words[0], words[1], " ".join(words[2:])
    if len(words) == 2:
        return words[1], words[0], ""
    return "", (words[0] if words else ""), ""


class _Maps:
    """The admin's 1C names and ids and the small reference tables, loaded once per query (a few rows)."""

    def __init__(self):
        self.status: dict[int, OneCValueMapping] = {}
        self.payment: dict[int, OneCValueMapping] = {}
        self.delivery: dict[int, OneCValueMapping] = {}
        for m in OneCValueMapping.objects.all():
            if m.kind == OneCValueMapping.Kind.STATUS and m.status_id:
                self.status[m.status_id] = m
            elif m.kind == OneCValueMapping.Kind.PAYMENT and m.payment_method_id:
                self.payment[m.payment_method_id] = m
            elif m.kind == OneCValueMapping.Kind.DELIVERY and m.delivery_method_id:
                self.delivery[m.delivery_method_id] = m
        names = {name for name, _v in mappable_order_fields()}
        self.fields = [(m.field_name, m.requisite) for m in OrderFieldMapping.objects.filter(is_active=True)
                       if m.field_name in names]
        self.mapped_names = {name for name, _requisite in self.fields}
        # The order's foreign keys to small tables, by field name: {pk: row}.
        self.rows: dict[str, dict[int, object]] = {
            "status": {r.pk: r for r in OrderStatus.objects.all()},
            "payment_method": {r.pk: r for r in PaymentMethod.objects.all()},
            "delivery_method": {r.pk: r for r in DeliveryMethod.objects.all()},
        }

    def related(self, order: Order, field_name: str):
        """`order.<field_name>` for status, payment and delivery without a query per order."""
        pk = getattr(order, f"{field_name}_id")
        row = self.rows[field_name].get(pk)
        if row is None and pk is not None:  # a row added since these were read: one query
            row = self.rows[field_name][pk] = getattr(order, field_name)
        return row


# What a document needs of an order line, in `_line_document`'s order.
_LINE_FIELDS = ("order_id", "offer_external_id", "name", "article", "price", "quantity", "total", "unit_code", "unit",
                "discount", "vat_rate", "vat_amount")


def _orders_with_lines(settings, maps: _Maps):
    """Yields (order, its line rows) for every order to send, in pk order, CHUNK orders per query.

    Keyset pagination (pk > last sent) with the lines of each chunk read in one query, as
    tuples: only one chunk is in memory at a time, however many orders wait. Status, payment
    and delivery rows come from `maps` (a few rows), not from a join per order.
    """
    queryset = orders_to_export(settings).annotate(customer_public_id=F("customer__public_id"))
    if "customer" in maps.mapped_names:
        queryset = queryset.select_related("customer")
    last_pk = 0
    while True:
        orders = list(queryset.filter(pk__gt=last_pk)[:CHUNK])
        if not orders:
            return
        last_pk = orders[-1].pk
        lines: dict[int, list[tuple]] = {}
        rows = (OrderLine.objects.filter(order_id__in=[o.pk for o in orders]).order_by("order_id", "pk")
                .values_list(*_LINE_FIELDS))
        for row in rows:
            lines.setdefault(row[0], []).append(row)
        for order in orders:
            yield order, lines.get(order.pk, ())
        if len(orders) < CHUNK:
            return


def _status_name_id(status: OrderStatus, maps: _Maps) -> tuple[str, str]:
    mapping = maps.status.get(status.pk)
    return ((mapping and mapping.onec_name) or status.name, (mapping and mapping.onec_id) or status.code)


def _line_document(row: tuple) -> DocumentLine:
    (_order_id, offer_id, name, article, price, quantity, total, unit_code, unit, discount, vat_rate,
     vat_amount) = row
    return DocumentLine(
        id=offer_id, name=name, article=article, price=price, quantity=quantity, total=total, unit_code=unit_code,
        unit_name=unit, discount=discount, vat_rate=vat_rate, vat_amount=vat_amount,
    )


def order_document(order: Order, lines, maps: _Maps) -> OrderDocument:
    """The `OrderDocument` 1C receives for `order`, as `_orders_with_lines` yields it with its line rows."""
    created = timezone.localtime(order.created_at)
    if order.customer_public_id is not None:
        cp_id = str(order.customer_public_id)
    else:
        cp_id = str(uuid.uuid5(GUEST_NAMESPACE, (order.email or order.phone or order.number).strip().casefold()))
    last, first, middle = _split_name(order.customer_name)
    counterparty = Counterparty(
        id=cp_id, name=order.customer_name, full_name=order.customer_name, last_name=last, first_name=first,
        middle_name=middle, company=order.company_name, inn=order.inn, kpp=order.kpp, address=order.address,
        email=order.email, phone=order.phone,
    )
    lines = [_line_document(row) for row in lines]
    if order.delivery_price:
        lines.append(DocumentLine(
            id=DELIVERY_ID, name=order.delivery_name or "Доставка заказа", price=order.delivery_price,
            quantity=Decimal("1"), total=order.delivery_price, unit_code="796", unit_name="шт", is_service=True,
        ))
    status = maps.related(order, "status")
    payment_method = maps.related(order, "payment_method")
    delivery_method = maps.related(order, "delivery_method")
    payment_map = maps.payment.get(order.payment_method_id)
    delivery_map = maps.delivery.get(order.delivery_method_id)
    status_name, status_id = _status_name_id(status, maps)
    changed = order.status_changed_at or order.created_at
    requisites = [
        ("Метод оплаты", (payment_map and payment_map.onec_name) or order.payment_name
         or (payment_method.name if payment_method else "")),
        ("Заказ оплачен", _value_text(order.is_paid)),
        # No separate "delivery allowed" flag on the site: shipped is the closest truth.
        ("Доставка разрешена", _value_text(order.is_shipped)),
        ("Отменен", _value_text(order.is_cancelled)),
        ("Финальный статус", _value_text(status.is_final)),
        ("Статус заказа", status_name),
        ("Статуса заказа ИД", status_id),
        ("Дата изменения статуса", timezone.localtime(changed).strftime("%Y-%m-%d %H:%M:%S")),
        ("Способ доставки", (delivery_map and delivery_map.onec_name) or order.delivery_name
         or (delivery_method.name if delivery_method else "")),
    ]
    for field_name, requisite in maps.fields:
        value = maps.related(order, field_name) if field_name in maps.rows else getattr(order, field_name, None)
        if hasattr(value, "_meta"):  # a related row: its name
            value = str(value)
        requisites.append((requisite, _value_text(value)))
    return OrderDocument(
        id=str(order.public_id), number=order.number, date=created.date(), time=created.time().replace(microsecond=0),
        currency=order.currency, total=order.total, counterparty=counterparty, lines=lines, comment=order.comment,
        vat_total=order.vat_total, discount_total=order.discount_total, requisites=requisites,
    )


def _record_sent(session_key: str, pks: array, versions: array, now) -> None:
    """One `QueryRecord` per (order pk, version) sent, skipping orders deleted meanwhile.

    One parameterised INSERT … SELECT per batch, joining the (pk, version) pairs, as a
    VALUES list, to the orders table: an order an admin deleted since it was read has
    nothing left to confirm and simply finds no row. The same SQL on SQLite and PostgreSQL
    (VALUES columns are column1, column2 in both); an ORM `bulk_create` plus the query per
    batch that it needs to leave out deleted orders cost a tenth of the whole query, and
    executemany of one INSERT per order 1.5 s per 10k on PostgreSQL.
    """
    ops = connection.ops
    column = {f.name: ops.quote_name(f.column) for f in QueryRecord._meta.concrete_fields}
    table, orders, order_pk = (ops.quote_name(name) for name in (
        QueryRecord._meta.db_table, Order._meta.db_table, Order._meta.pk.column))
    created = ops.adapt_datetimefield_value(now)
    # Two parameters per order plus two; SQLite allows 999 per statement.
    size = min(RECORD_BATCH, ((connection.features.max_query_params or 2 * RECORD_BATCH + 2) - 2) // 2)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), size):
            batch_pks, batch_versions = pks[start:start + size], versions[start:start + size]
            params = [session_key, created]
            for pk, version in zip(batch_pks, batch_versions, strict=True):
                params += (pk, version)
            values = ", ".join(["(%s, %s)"] * len(batch_pks))
            # Names come from _meta, values are parameters: what S608 cannot see.
            cursor.execute(
                f"INSERT INTO {table} ({column['session_key']}, {column['created']}, {column['order']}, "  # noqa: S608
                f"{column['version']}) SELECT %s, %s, o.{order_pk}, v.column2 FROM (VALUES {values}) AS v "
                f"JOIN {orders} AS o ON o.{order_pk} = v.column1",
                params,
            )


def sale_query_to(fh, *, session_key: str, settings) -> int:
    """Writes the query answer into binary file `fh`; records what it sent; returns the order count.

    Reading and writing hold no write lock (on SQLite a long write transaction would block
    checkouts); the (order, version) pairs sent are kept in memory, a few bytes per order,
    and recorded at the end in one short transaction, replacing the session's earlier
    records (the last query of a session is the one its `success` confirms). A crash
    mid-way records nothing.
    """
    maps = _Maps()
    now = timezone.now()
    # Two int64 per order: 16 bytes each, whatever the count.
    sent_pks, sent_versions = array("q"), array("q")
    writer = OrderDocumentWriter(
        fh, charset=settings.order_charset, schema_version=settings.order_schema_version,
        formed_at=timezone.localtime(now).replace(tzinfo=None),
    )
    with writer:
        for order, lines in _orders_with_lines(settings, maps):
            writer.write(order_document(order, lines, maps))
            sent_pks.append(order.pk)
            sent_versions.append(order.version)
    with transaction.atomic():
        QueryRecord.objects.filter(session_key=session_key).delete()
        _record_sent(session_key, sent_pks, sent_versions, now)
    return len(sent_pks)


def sale_query_file(*, session_key: str, settings):
    """The body of `sale&mode=query` in an open temporary file (at position 0), its size and Content-Type.

    10k orders make a 50 MB answer: the caller streams the file to 1C instead of holding the
    body in memory. The file disappears when closed.
    """
    fh = tempfile.TemporaryFile()
    try:
        sale_query_to(fh, session_key=session_key, settings=settings)
        size = fh.tell()
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    charset = "UTF-8" if settings.order_charset.lower() in ("utf-8", "utf8") else settings.order_charset
    return fh, size, content_type(charset)


def sale_query(*, session_key: str, settings) -> tuple[bytes, str]:
    """The body of `sale&mode=query` and its Content-Type (charset per `settings.order_charset`)."""
    fh, _size, ctype = sale_query_file(session_key=session_key, settings=settings)
    with fh:
        return fh.read(), ctype

