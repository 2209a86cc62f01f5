"""The order exchange's admin pages: mappings are edited there, history and state are read there."""

import pytest
from django.urls import reverse

import exchange1c.sale.admin  # noqa: F401 - registers the pages, as the exchange app's admin module does
from exchange1c.models import OneCValueMapping, OrderExchangeEvent, OrderFieldMapping
from exchange1c.sale.commit import sale_success
from exchange1c.sale.query import sale_query
from orders.models import OrderStatus

MODELS = ["onecvaluemapping", "orderfieldmapping", "orderexchangeevent", "orderexport", "queryrecord"]


@pytest.fixture
def admin_client_logged(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelists_open_with_rows(admin_client_logged, sale_settings, order, model):
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    OneCValueMapping.objects.create(kind="status", status=order.status, onec_name="Открыт")
    OrderFieldMapping.objects.create(field_name="address", requisite="Адрес доставки")
    response = admin_client_logged.get(reverse(f"admin:exchange1c_{model}_changelist"))
    assert response.status_code == 200
    assert order.number in response.content.decode() or model in ("onecvaluemapping", "orderfieldmapping")


def test_field_mapping_form_offers_order_fields_only(admin_client_logged):
    url = reverse("admin:exchange1c_orderfieldmapping_add")
    response = admin_client_logged.post(url, {"field_name": "no_such_field", "requisite": "X", "position": 0})
    assert response.status_code == 200 and not OrderFieldMapping.objects.exists()
    response = admin_client_logged.post(url, {"field_name": "inn", "requisite": "ИНН покупателя", "position": 0,
                                              "is_active": "on"})
    assert response.status_code == 302
    assert OrderFieldMapping.objects.get().field_name == "inn"


def test_value_mapping_needs_the_target_of_its_kind(admin_client_logged, db):
    url = reverse("admin:exchange1c_onecvaluemapping_add")
    accepted = OrderStatus.objects.get(code="accepted")
    response = admin_client_logged.post(url, {"kind": "payment", "status": accepted.pk, "onec_name": "В работе"})
    assert response.status_code == 200 and not OneCValueMapping.objects.exists()
    response = admin_client_logged.post(url, {"kind": "status", "status": accepted.pk, "onec_name": "В работе"})
    assert response.status_code == 302 and OneCValueMapping.objects.get().status == accepted


def test_history_is_read_only(admin_client_logged, sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    event = OrderExchangeEvent.objects.get()
    response = admin_client_logged.post(reverse("admin:exchange1c_orderexchangeevent_change", args=[event.pk]),
                                        {"summary": "forged"})
    assert response.status_code == 403
    assert reverse("admin:exchange1c_orderexchangeevent_add")
    assert admin_client_logged.get(reverse("admin:exchange1c_orderexchangeevent_add")).status_code == 403
