"""The importer on gen_catalog.py catalogs: layouts, encodings, pictures, deletion, settings 5 and 12."""

import re
from decimal import Decimal

import pytest

from catalog.models import Brand, Group, Price, PriceType, Product, ProductImage, Property, Stock, Variant, Warehouse
from exchange1c.importer.api import run_files_now
from exchange1c.models import ExchangeSettings, ImportJob
from tests.exchange1c.importer.conftest import catalog_dump

pytestmark = pytest.mark.django_db


def products_in(folder) -> int:
    return len(re.findall(r"<Товар[ >]", (folder / "import.xml").read_text("utf-8")))


def test_classic_import_then_offers(gen):
    out = gen("full", "--products", 60, "--variants-share", 0.3)
    answers = run_files_now(out, ["import.xml", "offers.xml"])
    assert [a.status for a in answers] == ["success", "success"], answers
    assert Product.objects.count() == 60
    assert Group.objects.filter(parent__isnull=True).exists() and Group.objects.filter(depth__gt=0).exists()
    assert all(g.tree_path for g in Group.objects.all())
    # Every product has its bare variant from birth; products with characteristics hide it.
    assert Variant.objects.filter(external_id__in=Product.objects.values("external_id")).count() == 60
    featured = Variant.objects.filter(external_id__contains="#")
    assert featured.exists()
    assert not Variant.objects.filter(external_id__in=featured.values("product__external_id"), is_active=True).exists()
    storefront = PriceType.objects.get(is_storefront=True)
    assert Price.objects.filter(price_type=storefront).count() == Variant.objects.filter(is_active=True).count()
    assert Product.objects.filter(price__isnull=False).count() == 60
    sample = Product.objects.exclude(search_text="").first()
    assert sample.search_text == sample.search_text.casefold()
    assert Product.objects.values("slug").distinct().count() == 60


def test_second_exchange_with_changes_only_updates_prices_and_hides_nothing(gen):
    full = gen("full", "--products", 80)
    changes = gen("changes", "--products", 80, "--changes-only")
    run_files_now(full, ["import.xml", "offers.xml"])
    before = dict(Price.objects.values_list("variant__external_id", "value"))
    names_before = dict(Product.objects.values_list("external_id", "name"))
    answers = run_files_now(changes, ["import.xml", "offers.xml"])
    assert [a.status for a in answers] == ["success", "success"]
    job = ImportJob.objects.filter(filename="import.xml").latest("id")
    assert job.created == 0 and job.updated == 0 and job.unchanged == products_in(changes)
    after = dict(Price.objects.values_list("variant__external_id", "value"))
    assert after != before and set(after) == set(before)
    assert dict(Product.objects.values_list("external_id", "name")) == names_before
    assert Product.objects.filter(is_active=False).count() == 0


def test_reimport_of_the_same_files_writes_nothing_new(gen):
    out = gen("full", "--products", 40)
    run_files_now(out, ["import.xml", "offers.xml"])

    before = catalog_dump()
    answers = run_files_now(out, ["import.xml", "offers.xml"])
    assert "создано 0, обновлено 0, без изменений 40" in answers[0].lines[0]
    assert catalog_dump() == before


def test_split_layout_with_per_warehouse_stock(gen):
    out = gen("split", "--products", 50, "--layout", "split", "--warehouses", 3)
    names = sorted(p.name for p in out.glob("*.xml"))
    order = [n for prefix in ("import", "offers", "prices", "rests") for n in names if n.startswith(prefix)]
    answers = run_files_now(out, order)
    assert [a.status for a in answers] == ["success"] * 4, answers
    assert Warehouse.objects.count() == 3
    assert Stock.objects.exists() and Price.objects.exists()
    for variant in Variant.objects.filter(stocks__isnull=False).distinct()[:20]:
        assert variant.quantity == sum((s.quantity for s in variant.stocks.all()), Decimal("0"))
        assert variant.stock_updated_at is not None


def test_pictures_are_stored_once_by_content(gen, settings):
    out = gen("img", "--products", 30, "--images")
    run_files_now(out, ["import.xml", "offers.xml"])
    media = settings.MEDIA_ROOT / "products"
    files = sorted(p for p in media.rglob("*") if p.is_file())
    assert files and ProductImage.objects.count() >= len(files)
    image = ProductImage.objects.exclude(caption="").first()
    assert image is not None and image.width == 8
    run_files_now(out, ["import.xml", "offers.xml"])
    assert sorted(p for p in media.rglob("*") if p.is_file()) == files


def test_missing_and_broken_pictures_are_warnings(gen):
    out = gen("img", "--products", 10, "--images")
    pictures = sorted((out / "import_files").rglob("*.jpg"))
    pictures[0].unlink()
    pictures[1].write_bytes(b"not a picture at all")
    [answer, _offers] = run_files_now(out, ["import.xml", "offers.xml"])
    assert answer.status == "success"
    text = "\n".join(answer.lines)
    assert pictures[0].name in text and pictures[1].name in text


@pytest.mark.parametrize("options", [["--encoding", "windows-1251", "--no-namespace"], ["--bom", "--crlf"]],
                         ids=["windows-1251", "utf8-bom"])
def test_encodings_read_alike(gen, options):
    utf = gen("utf", "--products", 30)
    other = gen("other", "--products", 30, *options)
    run_files_now(utf, ["import.xml", "offers.xml"])
    names = dict(Product.objects.values_list("external_id", "name"))
    assert any(re.search("[а-я]", n) for n in names.values())
    Product.objects.all().delete()
    answers = run_files_now(other, ["import.xml", "offers.xml"])
    assert [a.status for a in answers] == ["success", "success"]
    assert dict(Product.objects.values_list("external_id", "name")) == names


def test_deleted_products_are_deactivated_never_deleted(gen):
    run_files_now(gen("full", "--products", 100), ["import.xml", "offers.xml"])
    changes = gen("changes", "--products", 100, "--changes-only", "--deleted", 0.1)
    deleted = re.findall(r'<Товар Статус="Удален">\s*<Ид>([^<]+)</Ид>', (changes / "import.xml").read_text("utf-8"))
    assert deleted
    [answer, _offers] = run_files_now(changes, ["import.xml", "offers.xml"])
    assert answer.status == "success"
    assert Product.objects.count() == 100
    assert set(Product.objects.filter(is_active=False).values_list("external_id", flat=True)) == set(deleted)


def test_full_run_now_hides_products_missing_from_it(gen):
    run_files_now(gen("big", "--products", 45), ["import.xml", "offers.xml"])
    small = gen("small", "--products", 40)
    answers = run_files_now(small, ["import.xml", "offers.xml"])
    assert Product.objects.filter(is_active=False).count() == 5
    assert "5" in answers[-1].lines[-1]


def test_missing_products_leave_setting_hides_nothing(gen):
    options = ExchangeSettings.get_solo()
    options.missing_products = ExchangeSettings.MissingProducts.LEAVE
    options.save()
    run_files_now(gen("big", "--products", 45), ["import.xml", "offers.xml"])
    run_files_now(gen("small", "--products", 40), ["import.xml", "offers.xml"])
    assert not Product.objects.filter(is_active=False).exists()


def _renamed_copy(src, dst):
    dst.mkdir()
    for path in src.iterdir():
        if path.is_file():
            text = path.read_text("utf-8")
            if path.name == "import.xml":
                text = re.sub(r"(<Товар>\s*<Ид>[^<]+</Ид>\s*(?:<[^Н][^>]*>[^<]*</[^>]+>\s*)*<Наименование>)",
                              r"\1НОВОЕ ", text)
            else:
                text = text.replace("<ЦенаЗаЕдиницу>", "<ЦенаЗаЕдиницу>1")
            path_out = dst / path.name
            path_out.write_text(text, "utf-8")
    return dst


@pytest.mark.parametrize("policy", ["overwrite", "fill_empty", "keep"])
def test_product_policy(gen, tmp_path, policy):
    options = ExchangeSettings.get_solo()
    options.product_policy = policy
    options.save()
    first = gen("first", "--products", 20)
    run_files_now(first, ["import.xml", "offers.xml"])
    product = Product.objects.order_by("external_id").first()
    Product.objects.filter(pk=product.pk).update(name="Admin name", article="", description="Admin text")
    product.group_links.all().delete()
    old_prices = dict(Price.objects.values_list("variant__external_id", "value"))
    Price.objects.update(value=Decimal("1.00"))
    second = _renamed_copy(first, tmp_path / "second")
    assert "НОВОЕ" in (second / "import.xml").read_text("utf-8")
    run_files_now(second, ["import.xml", "offers.xml"])
    product.refresh_from_db()
    if policy == "overwrite":
        assert product.name.startswith("НОВОЕ ") and product.article and product.group_links.exists()
    elif policy == "fill_empty":
        assert product.name == "Admin name" and product.article and product.group_links.exists()
    else:
        assert product.name == "Admin name" and product.description == "Admin text"
        assert not product.group_links.exists()
    # Prices always update, whatever the policy.
    new_prices = dict(Price.objects.values_list("variant__external_id", "value"))
    assert new_prices.keys() == old_prices.keys()
    assert all(new_prices[k] > old_prices[k] for k in old_prices)


def test_storefront_search_finds_what_an_import_named(gen, tmp_path):
    """On PostgreSQL the search reads each product's search entry, which the import writes."""
    from catalog.selectors import product_search

    first = gen("first", "--products", 20)
    run_files_now(first, ["import.xml", "offers.xml"])
    product = Product.objects.order_by("external_id").first()
    word = product.name.split()[0]
    assert product.pk in {p.pk for p in product_search(query=word)}
    assert [p.pk for p in product_search(query=product.article[2:])] == [product.pk]
    assert not product_search(query="НОВОЕ").exists()
    run_files_now(_renamed_copy(first, tmp_path / "second"), ["import.xml", "offers.xml"])
    assert product_search(query="новое").count() == 20  # the stemmed word, and the folded text


def test_brand_property_becomes_brand(gen):
    out = gen("brands", "--products", 40, "--no-manufacturer")
    run_files_now(out, ["import.xml", "offers.xml"])
    assert Brand.objects.exists()
    assert Product.objects.filter(brand__isnull=False).count() > 20
    assert not Property.objects.filter(name="Производитель").exists()


def test_brand_from_manufacturer_without_brand_property(gen):
    options = ExchangeSettings.get_solo()
    options.brand_property = ""
    options.save()
    run_files_now(gen("maker", "--products", 20), ["import.xml"])
    assert Product.objects.filter(brand__isnull=False).count() == 20
    assert Property.objects.filter(name="Производитель").exists()


def test_offers_of_unknown_products_are_warnings(gen):
    out = gen("orphans", "--products", 10)
    [answer] = run_files_now(out, ["offers.xml"])
    assert answer.status == "success"
    assert answer.lines[1] == "Предупреждений: 10"
    ids = re.findall(r"<Предложение>\s*<Ид>([^<#]+)", (out / "offers.xml").read_text("utf-8"))
    assert ids[0] in "\n".join(answer.lines)
    assert not Price.objects.exists()


def test_units_sold_by_weight_allow_fractions(gen):
    from catalog.models import Unit

    out = gen("units", "--products", 300)
    run_files_now(out, ["import.xml", "offers.xml"])
    units = dict(Unit.objects.values_list("code", "fractional"))
    assert units.get("166") is True, units  # килограмм
    assert units.get("796") is False, units  # штука


def test_storefront_listings_see_what_an_import_changed(gen, client):
    """The import writes in bulk (no signals); the cached group pages must still show its changes."""
    from django.urls import reverse

    run_files_now(gen("full", "--products", 80), ["import.xml", "offers.xml"])
    roots = list(Group.objects.filter(parent__isnull=True, is_active=True))
    urls = [reverse("catalog:group", kwargs={"slug": g.slug}) for g in roots]
    before = sum(client.get(url).context["page"].paginator.count for url in urls)  # now cached
    assert before == 80
    run_files_now(gen("changes", "--products", 80, "--changes-only", "--deleted", "0.25"), ["import.xml"])
    hidden = Product.objects.filter(is_active=False).count()
    assert hidden > 0
    after = sum(client.get(url).context["page"].paginator.count for url in urls)
    assert after == 80 - hidden


def test_stock_from_1c_restarts_reservations(gen):
    """Two-stage stock: 1C's new figure already counts the site's orders."""
    from catalog.services import stock_reserve

    out = gen("stock", "--products", 30)
    run_files_now(out, ["import.xml", "offers.xml"])
    variant = Variant.objects.filter(quantity__gt=1, is_active=True).first()
    stock_reserve(variant_id=variant.pk, quantity=Decimal("1"))
    assert Variant.objects.get(pk=variant.pk).reserved == 1
    run_files_now(out, ["offers.xml"])  # the same stock again, even unchanged
    variant.refresh_from_db()
    assert variant.reserved == 0 and variant.stock_updated_at is not None


def test_existing_variants_get_their_missing_rows_inserted_and_stale_ones_dropped(gen):
    """A batch inserts the price and stock rows it finds missing and upserts the others."""
    out = gen("mixed", "--products", 30, "--variants-share", 0.5)
    assert [a.status for a in run_files_now(out, ["import.xml", "offers.xml"])] == ["success", "success"]
    before = catalog_dump()
    damaged = list(Variant.objects.filter(prices__isnull=False, stocks__isnull=False).distinct()
                   .order_by("pk")[:5])
    spare = Warehouse.objects.create(external_id="spare-warehouse", name="Spare")
    for variant in damaged:
        variant.prices.order_by("pk").first().delete()
        variant.stocks.order_by("pk").first().delete()
        Stock.objects.create(variant=variant, warehouse=spare, quantity=Decimal("7"))
        Price.objects.filter(variant=variant).update(value=Decimal("1.00"))
    # Not screened as unchanged: the offers are applied again over what is left of them.
    Variant.objects.filter(pk__in=[v.pk for v in damaged]).update(source_hash="")
    answers = run_files_now(out, ["offers.xml"])
    assert answers[0].status == "success", answers[0].lines
    assert not Stock.objects.filter(warehouse=spare).exists()
    after = catalog_dump()
    after["warehouses"] = [w for w in after["warehouses"] if w[0] != "spare-warehouse"]
    assert after == before
