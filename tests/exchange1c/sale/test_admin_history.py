"""The admin sees each order's exchange history on the order's own change page."""

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

import exchange1c.sale.admin  # noqa: F401 - adds the history inlines, as the exchange app's admin module does
from exchange1c.sale.admin import OrderExchangeEventInline, OrderExportInline, order_admin_add_exchange_history
from exchange1c.sale.commit import sale_success
from exchange1c.sale.query import sale_query
from orders import services
from orders.admin import OrderAdmin
from orders.models import Order


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_order_admin_keeps_its_own_inlines_and_gains_the_history():
    registered = type(admin.site._registry[Order])
    assert issubclass(registered, OrderAdmin)
    assert registered.inlines[:len(OrderAdmin.inlines)] == OrderAdmin.inlines
    assert OrderExportInline in registered.inlines and OrderExchangeEventInline in registered.inlines
    assert order_admin_add_exchange_history() is registered  # idempotent


def test_order_page_shows_each_confirmed_export(staff_client, sale_settings, order):
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = staff_client.get(url).content.decode()
    assert "not exported yet" not in page and "exported at version" not in page  # no exchange state yet

    sale_query(session_key="s1", settings=sale_settings)
    page = staff_client.get(url).content.decode()
    assert "exported at version" not in page  # a query alone is no confirmed export

    sale_success(session_key="s1", settings=sale_settings)
    order.refresh_from_db()
    page = staff_client.get(url).content.decode()
    assert f"exported at version {order.version}" in page
    assert "1C exchange history" in page

    # Changed on the site, exported and confirmed again: both exports are listed.
    first_version = order.version
    services.order_touch(order)
    sale_query(session_key="s2", settings=sale_settings)
    sale_success(session_key="s2", settings=sale_settings)
    page = staff_client.get(url).content.decode()
    assert order.version > first_version
    assert f"exported at version {order.version}" in page and f"exported at version {first_version}" in page


def test_history_inlines_are_read_only(staff_client, sale_settings, order):
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    page = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'id="id_exchange_events-MAX_NUM_FORMS"' in page  # the inline is there ...
    for name in ("exchange_events-0-DELETE", "exchange_events-0-summary", "exchange_events-0-version",
                 "onec_export-0-onec_status", "onec_export-0-exported_version"):
        assert f'name="{name}"' not in page  # ... with nothing to edit or delete
    assert 'name="exchange_events-MAX_NUM_FORMS" value="0"' in page  # and nothing to add


def test_history_speaks_the_admins_russian(client, django_user_model, sale_settings, order):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))
    sale_query(session_key="s1", settings=sale_settings)
    sale_success(session_key="s1", settings=sale_settings)
    order.refresh_from_db()
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert f"выгружен в версии {order.version}" in page and "История обмена с 1С" in page
