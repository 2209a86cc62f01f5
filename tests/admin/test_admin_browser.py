"""The admin in headless Chromium: log in, edit a product, move an order to another status."""

import os
from pathlib import Path

import pytest

from catalog.models import Product
from orders.models import Order, OrderStatusChange
from tests.factories import make_brand, make_group, make_order, make_product

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/obmen-admin-product.png")
PASSWORD = "browser-pass-42"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
        browser.close()


def test_admin_edits_a_product_and_an_order_status(live_server, page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    group = make_group(name="Чайники")
    kettle = make_product(name="Чайник Bosch TWK-1", group=group, brand=make_brand(name="Bosch"), article="TWK1",
                          price="2490", old_price="2990", properties={"Цвет": "Белый"})
    order = make_order(lines=[(kettle.variants.get(), 2)], name="Иванов Сергей", phone="+79161234567")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Obmen" in page.inner_text("#site-name")

    page.goto(f"{live_server.url}/admin/catalog/product/{kettle.pk}/change/")
    page.fill("#id_name", "Чайник Bosch TWK-1 (белый)")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert "Чайник Bosch TWK-1 (белый)" in page.inner_text("#result_list")
    kettle.refresh_from_db()
    assert kettle.name == "Чайник Bosch TWK-1 (белый)"

    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.select_option("#id_status", label="Принят")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert page.locator("#id_status option:checked").inner_text() == "Принят"
    assert "Принят" in page.inner_text("#status_history-group")

    order.refresh_from_db()
    assert order.status.code == "accepted"
    change = OrderStatusChange.objects.filter(order=order).latest("pk")
    assert change.source == OrderStatusChange.Source.ADMIN and change.user.username == "boss"
    assert Product.objects.filter(name__startswith="Чайник").count() == 1
    assert Order.objects.count() == 1
