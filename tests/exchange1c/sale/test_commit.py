"""sale&mode=success: commit what this session's last query sent, by order version (PROTOCOL.md §4.3)."""

from exchange1c.models import OrderExchangeEvent, OrderExport, QueryRecord
from exchange1c.sale.commit import sale_success
from exchange1c.sale.query import sale_query
from orders.models import Order, OrderStatus, OrderStatusChange
from orders.services import order_set_status, order_touch
from tests.exchange1c.sale.conftest import doc_ids
from tests.factories import make_order


def test_query_twice_without_success_sends_the_same_orders(sale_settings, order):
    other = make_order()
    first = doc_ids(sale_query(session_key="s1", settings=sale_settings)[0])
    # 1C crashed before success: a new exchange session asks again.
    second = doc_ids(sale_query(session_key="s2", settings=sale_settings)[0])
    assert first == second == [str(order.public_id), str(other.public_id)]
    assert Order.objects.get(pk=order.pk).status.code == "new"


def test_success_moves_status_marks_exported_and_causes_no_reexport(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    lines = sale_success(session_key="s1", settings=sale_settings)
    assert lines[0] == "success"
    order.refresh_from_db()
    assert order.status.code == "accepted"
    assert order.version == 1  # the exchange's own change is no change on the site
    state = OrderExport.objects.get(order=order)
    assert state.exported_version == 1 and state.exported_at is not None
    change = OrderStatusChange.objects.filter(order=order).latest("pk")
    assert change.source == "1c" and change.to_status.code == "accepted"
    assert OrderExchangeEvent.objects.get(order=order).kind == "exported"
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == []


def test_order_changed_between_query_and_success_goes_out_again(sale_settings, order):
    untouched = make_order()
    sale_query(session_key="s1", settings=sale_settings)
    order_touch(order)  # e.g. the customer changed the address
    lines = sale_success(session_key="s1", settings=sale_settings)
    assert lines[0] == "success"
    order.refresh_from_db()
    untouched.refresh_from_db()
    assert order.status.code == "new" and not OrderExport.objects.filter(order=order, exported_version=2).exists()
    assert untouched.status.code == "accepted"
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == [str(order.public_id)]
    assert QueryRecord.objects.get(session_key="s2").version == 2
    sale_success(session_key="s2", settings=sale_settings)
    order.refresh_from_db()
    assert order.status.code == "accepted" and order.onec_export.exported_version == 2


def test_success_from_another_session_changes_nothing(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    lines = sale_success(session_key="intruder", settings=sale_settings)
    assert lines[0] == "success" and len(lines) == 2
    order.refresh_from_db()
    assert order.status.code == "new"
    assert not OrderExport.objects.exists() and not OrderExchangeEvent.objects.exists()
    assert QueryRecord.objects.get(session_key="s1").committed_at is None


def test_orders_placed_during_the_export_are_not_lost(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    late = make_order()  # placed between query and success
    sale_success(session_key="s1", settings=sale_settings)
    late.refresh_from_db()
    assert late.status.code == "new"
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == [str(late.public_id)]


def test_second_success_is_harmless(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    lines = sale_success(session_key="s1", settings=sale_settings)
    assert lines[0] == "success"
    assert OrderExchangeEvent.objects.count() == 1


def test_changed_order_reexport_keeps_its_status(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    cancelled = OrderStatus.objects.get(code="cancelled")
    order_set_status(order=order, status=cancelled, source="admin")
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == [str(order.public_id)]
    sale_success(session_key="s2", settings=sale_settings)
    order.refresh_from_db()
    assert order.status == cancelled  # never "accepted" again
    assert order.onec_export.exported_version == order.version
    assert doc_ids(sale_query(session_key="s3", settings=sale_settings)[0]) == []


def test_last_query_of_a_session_is_the_one_committed(sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    order_touch(order)
    sale_query(session_key="s1", settings=sale_settings)  # 1C asked again within the session
    sale_success(session_key="s1", settings=sale_settings)
    order.refresh_from_db()
    assert order.status.code == "accepted" and order.onec_export.exported_version == 2


def test_equal_statuses_4_and_6_do_not_loop(sale_settings, order):
    sale_settings.status_after_export = sale_settings.export_status
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    order.refresh_from_db()
    assert order.status.code == "new" and order.onec_export.exported_version == 1
    assert doc_ids(sale_query(session_key="s2", settings=sale_settings)[0]) == []
    order_touch(order)
    assert doc_ids(sale_query(session_key="s3", settings=sale_settings)[0]) == [str(order.public_id)]


def test_purge_drops_old_records_only(sale_settings, order):
    from datetime import timedelta

    from django.utils import timezone

    from exchange1c.sale.commit import purge_query_records

    sale_query(session_key="old", settings=sale_settings)
    QueryRecord.objects.update(created=timezone.now() - timedelta(days=30))
    sale_query(session_key="new", settings=sale_settings)
    assert purge_query_records(older_than=timezone.now() - timedelta(days=14)) == 1
    assert list(QueryRecord.objects.values_list("session_key", flat=True)) == ["new"]
