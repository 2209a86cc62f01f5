"""catalog.services.offer_summaries_refresh: a product's price, old price and in-stock from its variants."""

from decimal import Decimal

import pytest

from catalog.models import Price, Product, Variant
from catalog.services import offer_summaries_refresh
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def _summary(product):
    product.refresh_from_db()
    return product.price, product.old_price, product.in_stock


def test_the_cheapest_active_priced_variant_gives_both_prices_and_any_stocked_one_in_stock():
    product = make_product(variants=[
        {"price": "300", "old_price": "350", "stock": 0},
        {"price": "100", "old_price": "120", "stock": 0},
        {"price": "50", "old_price": "70", "stock": 5, "is_active": False},
        {"price": None, "stock": 9},
        {"price": "200", "stock": 3},
    ])
    # The cheapest active priced one is out of stock; the product is still in stock through another.
    assert _summary(product) == (Decimal("100.00"), Decimal("120.00"), True)


def test_ties_go_to_the_lowest_id_and_a_product_without_priced_variants_is_cleared():
    product = make_product(variants=[{"price": "100", "old_price": "111", "stock": 0},
                                     {"price": "100", "old_price": "199", "stock": 0}])
    other = make_product(price="40", stock=2)
    assert _summary(product) == (Decimal("100.00"), Decimal("111.00"), False)

    Variant.objects.filter(product=product).update(is_active=False)
    Price.objects.filter(variant__product=other).delete()
    Variant.objects.filter(product=other).update(price=None)
    offer_summaries_refresh(product_ids=[product.pk, other.pk])
    assert _summary(product) == (None, None, False)
    assert _summary(other) == (None, None, False)


def test_the_whole_catalog_and_a_batch_give_the_same_figures():
    products = [make_product(variants=[{"price": str(10 * n + 5), "stock": n % 2},
                                       {"price": str(10 * n), "old_price": str(10 * n + 1), "stock": 0}])
                for n in range(1, 6)]
    expected = {p.pk: _summary(p) for p in products}
    Product.objects.update(price=Decimal("1"), old_price=None, in_stock=True)
    offer_summaries_refresh()
    assert {p.pk: _summary(p) for p in products} == expected
    Product.objects.update(price=None, old_price=Decimal("9"), in_stock=False)
    offer_summaries_refresh(product_ids=[p.pk for p in products[:3]])
    assert {p.pk: _summary(p) for p in products[:3]} == {p.pk: expected[p.pk] for p in products[:3]}
    assert {_summary(p) for p in products[3:]} == {(None, Decimal("9.00"), False)}
