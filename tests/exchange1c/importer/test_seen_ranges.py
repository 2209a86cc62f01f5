"""Hiding what an exchange did not list: products seen unchanged are kept as runs of ids (SeenRange)."""

import pytest

from catalog.models import Product
from exchange1c.importer import apply
from exchange1c.models import SeenRange
from tests.factories import make_product

pytestmark = pytest.mark.django_db

MARK = 41


def test_products_listed_unchanged_are_recorded_as_runs_of_ids():
    pks = [make_product().pk for _ in range(6)]
    ctx = apply.Context(job_id=0, mark=MARK)
    apply._mark_unchanged([pks[4], pks[0], pks[1], pks[2], pks[1]], ctx, active=True)
    assert sorted(SeenRange.objects.values_list("first_id", "last_id")) == [(pks[0], pks[2]), (pks[4], pks[4])]


def test_hiding_spares_every_product_inside_any_run_even_when_runs_repeat_or_overlap():
    products = [make_product() for _ in range(12)]
    pks = [p.pk for p in products]
    Product.objects.filter(pk=pks[11]).update(sync_mark=MARK)  # written by this exchange
    Product.objects.filter(pk=pks[10]).update(external_id=None)  # the site's own product: never hidden
    for first, last in [(0, 2), (1, 1), (0, 2), (5, 8), (6, 9), (4, 4)]:
        SeenRange.objects.create(mark=MARK, first_id=pks[first], last_id=pks[last])
    SeenRange.objects.create(mark=MARK + 1, first_id=pks[3], last_id=pks[3])  # another exchange's

    assert apply.hide_untouched(MARK, groups=False) == (1, 0)
    assert list(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == [pks[3]]
    assert list(SeenRange.objects.values_list("mark", flat=True)) == [MARK + 1]


def test_hiding_reads_the_candidates_in_chunks(monkeypatch):
    pks = [make_product().pk for _ in range(7)]
    monkeypatch.setattr(apply, "HIDE_CHUNK", 2)
    SeenRange.objects.create(mark=MARK, first_id=pks[1], last_id=pks[4])
    assert apply.hide_untouched(MARK, groups=False) == (3, 0)
    assert sorted(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == [pks[0], pks[5], pks[6]]
