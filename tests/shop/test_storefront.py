"""Site-wide storefront behaviour: home page, language, layout, error pages."""

import pytest
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse

from tests.factories import make_group, make_product

pytestmark = pytest.mark.django_db


def test_home_lists_top_groups_with_counts_and_search(client):
    root = make_group(name="Инструмент")
    sub = make_group(name="Дрели", parent=root)
    deeper = make_group(name="Аккумуляторные", parent=sub)
    make_group(name="Сад")
    make_product(name="Дрель", groups=[sub, deeper])  # counted once
    make_product(name="Молоток", group=root)
    make_product(name="Снятый", group=root, is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    counts = {g.name: g.product_count for g in response.context["groups"]}
    assert counts == {"Инструмент": 2, "Сад": 0}
    html = response.content.decode()
    assert 'name="q"' in html and "2 товара" in html and "0 товаров" in html


def test_home_on_an_empty_catalog(client):
    html = client.get(reverse("home")).content.decode()
    assert "Каталог пока пуст" in html


def test_russian_by_default_even_for_english_browsers(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert "Корзина" in html and 'lang="ru"' in html
    assert response["Content-Language"] == "ru"
    assert "Accept-Language" not in response.get("Vary", "")


def test_language_switcher_sets_english_and_back(client):
    html = client.get(reverse("home")).content.decode()
    assert 'action="/i18n/setlang/"' in html and 'name="language" value="en"' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in html and "Cart" in html and "Корзина" not in html
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert "Корзина" in client.get(reverse("home")).content.decode()


def test_unsupported_language_cookie_falls_back_to_russian(client):
    client.cookies["django_language"] = "xx"
    assert 'lang="ru"' in client.get(reverse("home")).content.decode()


def test_static_stylesheet_is_linked(client):
    html = client.get(reverse("home")).content.decode()
    assert "/static/shop/shop.css" in html


def test_404_page_is_russian(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()


def test_500_page_renders_without_a_request():
    # Django renders 500.html with an empty Context: it must not need the database or a request.
    html = get_template("500.html").template.render(Context())
    assert "Ошибка на сервере" in html
