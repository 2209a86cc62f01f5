"""The summary an offer's variant row is written with equals what catalog.services' refresh computes."""

import pytest

from catalog.models import PriceType, Product, Variant
from catalog.services import offer_summaries_refresh
from exchange1c.commerceml.reader import CommerceMLReader
from exchange1c.commerceml.records import OfferRecord
from exchange1c.importer import apply
from exchange1c.importer.api import run_files_now

pytestmark = pytest.mark.django_db


def _stored():
    return {vid: row for vid, *row in Variant.objects.values_list("external_id", "price", "currency", "old_price",
                                                                   "in_stock")}


def _from_file(path, existing):
    """What apply_offers would write with the variants of `path`'s offers, given the variants that exist."""
    offers = [r for r in CommerceMLReader(path) if isinstance(r, OfferRecord)]
    offers = list({apply.variant_external_id(r): r for r in offers}.values())
    prices = apply._offer_prices([r for r in offers if r.has_prices], apply.Context(job_id=0, mark=0))
    quantities = {apply.v_id(r): apply._offer_quantity(r) for r in offers if r.has_stock}
    kinds = dict(Product.objects.values_list("external_id", "kind"))
    return offers, apply._variant_summaries(offers, existing, prices, quantities, kinds)


def test_offers_decide_their_variants_summaries_as_the_refresh_does(gen):
    out = gen("full", "--products", 40, "--variants-share", 0.5)
    assert [a.status for a in run_files_now(out, ["import.xml", "offers.xml"])] == ["success", "success"]
    # An old-price type and a service make every branch of the summary count.
    PriceType.objects.filter(pk=PriceType.objects.filter(is_storefront=False).order_by("pk")[0].pk) \
        .update(is_old_price=True)
    service = Product.objects.order_by("pk").first()
    Product.objects.filter(pk=service.pk).update(kind=Product.Kind.SERVICE)
    Variant.objects.filter(product=service).update(quantity=0)
    offer_summaries_refresh()
    stored = _stored()
    assert any(row[2] is not None for row in stored.values()), "no old price to compare"
    assert any(not row[3] for row in stored.values()) and any(row[3] for row in stored.values())

    # As new variants: every offer's summary comes from the offer itself.
    offers, fresh = _from_file(out / "offers.xml", existing=set())
    assert len(fresh) == len(offers) > 40
    assert fresh == {vid: tuple(stored[vid]) for vid in fresh}
    # As existing ones: these offers carry both price types and their stock, so the same holds.
    _offers, again = _from_file(out / "offers.xml", existing=set(stored))
    assert again == fresh


def test_an_offer_without_stock_or_one_of_the_price_types_leaves_its_summary_to_the_refresh(gen):
    out = gen("split", "--products", 30, "--layout", "split")
    names = sorted(p.name for p in out.glob("*.xml"))
    order = [n for prefix in ("import", "offers", "prices", "rests") for n in names if n.startswith(prefix)]
    assert [a.status for a in run_files_now(out, order)] == ["success"] * len(order)
    stored = _stored()
    prices_file = next(n for n in order if n.startswith("prices"))
    rests_file = next(n for n in order if n.startswith("rests"))
    # Prices without stock say nothing of an existing variant's stock; stock says nothing of its price.
    assert _from_file(out / prices_file, existing=set(stored))[1] == {}
    assert _from_file(out / rests_file, existing=set(stored))[1] == {}
    offers, fresh = _from_file(out / rests_file, existing=set())
    assert fresh and all(row[0] is None and row[2] is None for row in fresh.values())
