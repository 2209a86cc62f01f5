"""`sale&mode=success`: 1C confirms it loaded what the last `query` of this session sent (PROTOCOL.md §4.3).

Per order sent, under a row lock:
- version still the one sent → exported at that version (`OrderExport`); an order still in
  the export status (setting 4) moves to setting 6 through `order_set_status(source="1c")`,
  which does not bump the version: the exchange's own change is no change "on the site";
- version grown since (the customer or a manager changed it after the query) → untouched:
  it keeps its status and goes out again on the next query.

A `success` from a session that ran no query (a new checkauth in between, an expired
session) confirms nothing. It is still answered `success`, with a note line: nothing is
lost (every unconfirmed order goes out again on the next query, and 1C matches documents by
Ид), while a `failure` would make 1C report the whole exchange as failed to its operator.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange1c.models.orders import OrderExchangeEvent, OrderExport, QueryRecord
from exchange1c.sale.query import export_statuses
from orders.models import Order, OrderStatusChange
from orders.services import order_set_status

__all__ = ["purge_query_records", "sale_success"]


def sale_success(*, session_key: str, settings) -> list[str]:
    """Commits the session's last query; returns the answer lines, the first being "success"."""
    export_status, after_status = export_statuses(settings)
    records = list(QueryRecord.objects.filter(session_key=session_key, committed_at__isnull=True).order_by("pk"))
    if not records:
        already = QueryRecord.objects.filter(session_key=session_key).exists()
        if already:
            return ["success", _("The export of this session was already confirmed.")]
        return ["success", _("Nothing to confirm: this exchange session sent no orders (no query before success).")]
    confirmed = changed = 0
    now = timezone.now()
    for record in records:
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=record.order_id).first()
            if order is None:
                QueryRecord.objects.filter(pk=record.pk).update(committed_at=now)
                continue
            if order.version != record.version:
                # Changed on the site after the query: it goes out again, with its new data.
                changed += 1
                QueryRecord.objects.filter(pk=record.pk).update(committed_at=now)
                continue
            if (export_status is not None and after_status is not None and order.status_id == export_status.pk
                    and after_status.pk != export_status.pk):
                order_set_status(order=order, status=after_status, source=OrderStatusChange.Source.EXCHANGE,
                                 note=_("Export confirmed by 1C"))
            OrderExport.objects.update_or_create(
                order=order, defaults={"exported_version": record.version, "exported_at": now}
            )
            OrderExchangeEvent.objects.create(
                order=order, kind=OrderExchangeEvent.Kind.EXPORTED, version=record.version, session_key=session_key,
                summary=_("Exported to 1C at version %(version)s") % {"version": record.version}, created=now,
            )
            QueryRecord.objects.filter(pk=record.pk).update(committed_at=now)
            confirmed += 1
    lines = ["success", _("Orders confirmed: %(n)s") % {"n": confirmed}]
    if export_status is not None and after_status is not None and export_status.pk == after_status.pk:
        lines.append(_("Settings 4 and 6 name the same status: confirmed orders keep it."))
    if changed:
        lines.append(_("Changed on the site after the query, sent again next time: %(n)s") % {"n": changed})
    return lines


def purge_query_records(*, older_than) -> int:
    """Deletes query records created before `older_than` (sessions long gone); returns how many.

    An unconfirmed record of a dead session only means its orders were not confirmed, which
    the next query handles anyway; the order history keeps what was confirmed.
    """
    deleted, _per_model = QueryRecord.objects.filter(created__lt=older_than).delete()
    return deleted
