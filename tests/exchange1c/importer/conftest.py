"""Fixtures of the importer tests: gen_catalog.py output in tmp_path, and a full catalog dump."""

import subprocess
import sys

import pytest

from catalog.models import (
    Brand,
    Group,
    Price,
    PriceType,
    Product,
    ProductGroup,
    ProductImage,
    ProductPropertyValue,
    Property,
    PropertyValue,
    Stock,
    Unit,
    Variant,
    Warehouse,
)


@pytest.fixture
def gen(shared, tmp_path):
    """gen("name", "--products", "50", ...) runs shared/tools/gen_catalog.py into tmp_path/name."""

    def run(name, *args):
        out = tmp_path / name
        subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--out", str(out), "--quiet",
                        *map(str, args)], check=True)
        return out

    return run


def catalog_dump() -> dict:
    """Everything the import writes, keyed by 1C ids instead of pks and without timestamps."""
    return {
        "groups": sorted(Group.objects.values_list("external_id", "parent__external_id", "name", "slug", "is_active",
                                                   "depth")),
        "products": sorted(Product.objects.values_list(
            "external_id", "name", "full_name", "slug", "article", "barcode", "code", "description", "brand__name",
            "unit__code", "weight", "kind", "is_active", "requisites", "price", "old_price", "in_stock",
            "search_text", "source_hash")),
        "links": sorted(ProductGroup.objects.values_list("product__external_id", "group__external_id")),
        "properties": sorted(Property.objects.values_list("external_id", "name", "value_type", "is_active")),
        "values": sorted(PropertyValue.objects.values_list("external_id", "property__external_id", "value")),
        "ppv": sorted(ProductPropertyValue.objects.values_list(
            "product__external_id", "property__external_id", "value_ref__external_id", "value_text",
            "value_number", "value_date", "value_bool"), key=repr),
        "brands": sorted(Brand.objects.values_list("name", "slug")),
        "units": sorted(Unit.objects.values_list("code", "name")),
        "variants": sorted(Variant.objects.values_list(
            "external_id", "product__external_id", "name", "article", "characteristics", "is_active", "quantity",
            "reserved", "price", "old_price", "currency", "in_stock", "source_hash"), key=repr),
        "price_types": sorted(PriceType.objects.values_list("external_id", "name", "currency", "is_storefront")),
        "prices": sorted(Price.objects.values_list("variant__external_id", "price_type__external_id", "value",
                                                   "currency")),
        "warehouses": sorted(Warehouse.objects.values_list("external_id", "name")),
        "stock": sorted(Stock.objects.values_list("variant__external_id", "warehouse__external_id", "quantity")),
        "images": sorted(ProductImage.objects.values_list("product__external_id", "content_hash", "file", "position",
                                                          "caption")),
    }
