"""A customer's whole path in a real browser: group, filter, product, variant, cart, checkout."""

import io
import os
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from catalog.models import ProductImage, Variant
from orders.models import Order, OrderLine
from tests.factories import make_brand, make_group, make_product

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = os.environ.get("OBMEN_SCREENSHOTS", "/tmp")


def _picture(colour) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 600), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((120, 90, 480, 510), radius=40, fill=colour)
    draw.ellipse((230, 160, 370, 300), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def catalog():
    tools = make_group(name="Инструмент")
    drills = make_group(name="Дрели", parent=tools)
    bosch, makita = make_brand(name="Bosch"), make_brand(name="Makita")
    make_product(name="Перфоратор Makita HR2470", group=tools, brand=makita, price="9990", stock=0)
    make_product(name="Отвёртка Makita", group=tools, brand=makita, price="350", stock=10)
    drill = make_product(
        name="Дрель Bosch GSB 13 RE", group=drills, brand=bosch, article="GSB-13RE",
        description="Ударная дрель для дома и дачи.",
        properties={"Мощность, Вт": Decimal("600"), "Патрон": "быстрозажимной"},
        variants=[
            {"characteristics": [["Цвет", "синий"]], "price": "4990", "old_price": "5990", "stock": 3},
            {"characteristics": [["Цвет", "зелёный"]], "price": "5290", "old_price": "5990", "stock": 7},
        ],
    )
    image = ProductImage(product=drill, content_hash="a" * 64, position=0, width=600, height=600)
    image.file.save("drill.png", ContentFile(_picture((30, 90, 170))), save=True)
    return tools, drill


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_customer_buys_a_drill(live_server, catalog):
    from playwright.sync_api import expect, sync_playwright

    tools, drill = catalog
    green = drill.variants.get(name="зелёный")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # An English browser still gets the Russian shop.
        page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{live_server.url}/")
            page.get_by_role("link", name="Инструмент").click()
            expect(page.locator(".card")).to_have_count(3)  # the subgroup's drill is listed too

            page.get_by_label("Bosch").check()
            page.get_by_role("button", name="Показать").click()
            expect(page.locator(".card")).to_have_count(1)
            page.get_by_label("Bosch").uncheck()
            page.get_by_label("Только в наличии").check()
            page.get_by_role("button", name="Показать").click()
            expect(page.locator(".card")).to_have_count(2)  # the perforator is sold out
            page.screenshot(path=f"{SCREENSHOTS}/obmen-group.png", full_page=True)

            page.get_by_role("link", name="Дрель Bosch GSB 13 RE").click()
            expect(page.locator("h1")).to_have_text("Дрель Bosch GSB 13 RE")
            expect(page.locator("#price")).to_contain_text("4\xa0990,00")
            page.get_by_text("Цвет: зелёный").click()
            expect(page.locator("#price")).to_contain_text("5\xa0290,00")
            expect(page.locator("#old-price")).to_contain_text("5\xa0990,00")
            expect(page.locator("#stock")).to_have_text("в наличии")
            page.locator("#quantity").fill("2")
            page.screenshot(path=f"{SCREENSHOTS}/obmen-product.png", full_page=True)
            page.get_by_role("button", name="В корзину").click()
            expect(page.locator(".msg.success")).to_contain_text("в корзине")
            expect(page.get_by_test_id("cart-count")).to_have_text("1")

            page.get_by_role("link", name="Корзина").click()
            expect(page.get_by_test_id("cart-total")).to_have_text("10\xa0580,00")
            page.get_by_role("link", name="Оформить заказ").click()

            page.get_by_label("Ваше имя").fill("Мария Иванова")
            page.get_by_label("Эл. почта").fill("maria@example.com")
            page.get_by_label("Телефон").fill("+7 916 555-44-33")
            page.get_by_label("Курьером").check()
            page.get_by_label("Адрес доставки").fill("Москва, Тверская ул., 7, кв. 12")
            page.get_by_label("Картой при получении").check()
            page.get_by_role("button", name="Подтвердить заказ").click()
            expect(page.locator(".field-error")).to_contain_text("Без вашего согласия")  # consent not ticked
            page.screenshot(path=f"{SCREENSHOTS}/obmen-checkout.png", full_page=True)
            page.get_by_label("Я согласен на обработку персональных данных").check()
            page.get_by_role("button", name="Подтвердить заказ").click()

            expect(page.locator("h1")).to_contain_text("Ваш заказ № 10001 оформлен")
            expect(page.get_by_test_id("order-total")).to_have_text("10\xa0930,00\xa0₽")
            page.screenshot(path=f"{SCREENSHOTS}/obmen-confirmation.png", full_page=True)
        finally:
            browser.close()

    order = Order.objects.get()
    assert order.number == "10001" and order.status.code == "new"
    assert order.customer_name == "Мария Иванова" and order.payment_name == "Картой при получении"
    assert (order.goods_total, order.delivery_price, order.total) == (
        Decimal("10580.00"), Decimal("350.00"), Decimal("10930.00"))
    line = OrderLine.objects.get(order=order)
    assert (line.variant_id, line.offer_external_id, line.quantity, line.price, line.total) == (
        green.pk, green.external_id, Decimal("2"), Decimal("5290.00"), Decimal("10580.00"))
    assert line.reserved_quantity == 2
    assert Variant.objects.get(pk=green.pk).reserved == Decimal("2")
    assert Variant.objects.get(name="синий").reserved == 0
