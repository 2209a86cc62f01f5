"""The exchange settings page (issue item 3): a singleton with every setting, validated, and loud in debug mode."""

import pytest
from django.urls import reverse

from catalog.models import PriceType
from exchange1c.forms import ExchangeSettingsForm
from exchange1c.models import ExchangeSettings
from orders.models import OrderStatus
from tests.exchange1c.test_protocol_support import (
    configure,
)

pytestmark = pytest.mark.django_db

CHANGE = reverse("admin:exchange1c_exchangesettings_change", args=[1])


def form_data(**overrides):
    cfg = ExchangeSettings.get_solo()
    initial = ExchangeSettingsForm(instance=cfg).initial
    data = {}
    for name, value in {**initial, **overrides}.items():
        if value is True:
            data[name] = "on"
        elif value in (False, None):
            continue
        elif hasattr(value, "pk"):
            data[name] = value.pk
        else:
            data[name] = value
    return data


def test_defaults_statuses_new_and_accepted():
    cfg = ExchangeSettings.get_solo()
    assert cfg.export_status.code == "new"
    assert cfg.status_after_export.code == "accepted"


def test_changelist_redirects_to_the_one_form_without_add_or_delete(admin_client):
    response = admin_client.get(reverse("admin:exchange1c_exchangesettings_changelist"))
    assert response.status_code == 302 and response["Location"] == CHANGE
    page = admin_client.get(CHANGE)
    assert page.status_code == 200
    html = page.content.decode()
    for legend in ("1–2. Файлы из 1С", "3. Резервная копия", "4, 6. Статусы заказов", "5. Бренд",
                   "7. Фотографии", "8. E-mail для уведомлений", "9–11. Доступ", "12. Товары и цены"):
        assert legend.split(" ")[0] in html
    assert "Тип цены витрины" in html and "Не указывайте тот же статус" in html
    assert admin_client.get(reverse("admin:exchange1c_exchangesettings_add")).status_code == 403
    assert admin_client.post(reverse("admin:exchange1c_exchangesettings_delete", args=[1])).status_code == 403


def test_status_after_export_must_differ(admin_client):
    new = OrderStatus.objects.get(code="new")
    response = admin_client.post(CHANGE, form_data(export_status=new, status_after_export=new))
    assert response.status_code == 200
    assert "status_after_export" in response.context["adminform"].form.errors
    assert ExchangeSettings.get_solo().status_after_export.code == "accepted"


def test_bad_allow_list_entry_is_refused(admin_client):
    response = admin_client.post(CHANGE, form_data(allowed_ips="10.0.0.0/8\nnot-an-ip"))
    assert "not-an-ip" in str(response.context["adminform"].form.errors["allowed_ips"])


def test_login_cannot_be_switched_off_without_addresses(admin_client):
    response = admin_client.post(CHANGE, form_data(require_login=False, allowed_ips=""))
    assert "require_login" in response.context["adminform"].form.errors


def test_saving_settings_and_price_type_roles(admin_client):
    retail = PriceType.objects.create(name="Розничная")
    old = PriceType.objects.create(name="Старая")
    response = admin_client.post(CHANGE, form_data(file_limit=4096000, use_zip=False, storefront_price_type=retail,
                                                   old_price_type=old, reply_charset="utf-8"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    cfg = ExchangeSettings.get_solo()
    assert (cfg.file_limit, cfg.use_zip, cfg.reply_charset) == (4096000, False, "utf-8")
    retail.refresh_from_db()
    old.refresh_from_db()
    assert retail.is_storefront and not retail.is_old_price
    assert old.is_old_price and not old.is_storefront
    same = admin_client.post(CHANGE, form_data(storefront_price_type=retail, old_price_type=retail))
    assert "old_price_type" in same.context["adminform"].form.errors


def test_debug_mode_shows_a_red_warning_on_every_admin_page(admin_client):
    assert "РЕЖИМ ОТЛАДКИ" not in admin_client.get(reverse("admin:index")).content.decode()
    configure(debug_mode=True)
    for url in (reverse("admin:index"), CHANGE, reverse("admin:exchange1c_exchangelog_changelist")):
        html = admin_client.get(url).content.decode()
        assert html.count("ВКЛЮЧЁН РЕЖИМ ОТЛАДКИ") == 1
        assert 'class="error"' in html
