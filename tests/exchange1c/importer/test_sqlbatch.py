"""sqlbatch: the same parameterised statements on SQLite and PostgreSQL (run the suite with each DATABASE_URL)."""

from decimal import Decimal

import pytest

from catalog.models import Price, PriceType, Product, Unit, Variant, Warehouse
from exchange1c.importer import sqlbatch as sb

pytestmark = pytest.mark.django_db

T = Warehouse._meta.db_table


def test_upsert_inserts_then_updates_only_what_differs():
    sb.upsert(T, ["external_id", "name", "is_active"], [("w1", "One", True), ("w2", "Two", True)],
              conflict=["external_id"], update=["name", "is_active"])
    assert dict(Warehouse.objects.values_list("external_id", "name")) == {"w1": "One", "w2": "Two"}
    sb.upsert(T, ["external_id", "name", "is_active"], [("w1", "Uno", False), ("w3", "Three", True)],
              conflict=["external_id"], update=["name", "is_active"])
    assert dict(Warehouse.objects.values_list("external_id", "name")) == {"w1": "Uno", "w2": "Two", "w3": "Three"}
    assert not Warehouse.objects.get(external_id="w1").is_active


def test_upsert_do_nothing_keeps_the_existing_row():
    Unit.objects.create(code="796", name="шт")
    sb.upsert(Unit._meta.db_table, ["code", "name", "full_name", "intl_abbr", "fractional"],
              [("796", "pcs", "", "", False), ("166", "кг", "", "", True)], conflict=["code"])
    assert dict(Unit.objects.values_list("code", "name")) == {"796": "шт", "166": "кг"}


def test_upsert_without_target_skips_any_unique_conflict():
    Warehouse.objects.create(external_id="w1", name="One")
    sb.upsert(T, ["external_id", "name", "is_active"], [("w1", "Other", True)], conflict=())
    assert Warehouse.objects.get().name == "One"


def test_decimals_round_trip_on_a_composite_conflict():
    product = Product.objects.create(name="P", slug="p")
    variant = Variant.objects.create(product=product, external_id="v")
    kind = PriceType.objects.create(external_id="t", name="Retail")
    cols = ["variant_id", "price_type_id", "value", "currency", "unit", "coefficient", "updated_at"]
    now = sb.db_datetime(product.created_at)
    sb.upsert(Price._meta.db_table, cols, [(variant.pk, kind.pk, Decimal("2499.90"), "RUB", "", Decimal("1"), now)],
              conflict=["variant_id", "price_type_id"], update=["value"])
    sb.upsert(Price._meta.db_table, cols, [(variant.pk, kind.pk, Decimal("0.10"), "RUB", "", Decimal("1"), now)],
              conflict=["variant_id", "price_type_id"], update=["value"])
    assert Price.objects.get().value == Decimal("0.10")


def test_select_map_chunks_past_the_parameter_limit():
    sb.insert(T, ["external_id", "name", "is_active"], [(f"w{i}", f"W{i}", True) for i in range(1300)])
    found = sb.select_map(T, "external_id", [f"w{i}" for i in range(1300)] + ["absent", None], ("name", "is_active"))
    assert len(found) == 1300 and found["w1299"][0] == "W1299"
    assert sb.select_map(T, "external_id", []) == {}
    rows = sb.select_rows(T, "is_active", [True], ["external_id"])
    assert len(rows) == 1300


def test_update_and_delete_helpers_count_rows():
    sb.insert(T, ["external_id", "name", "is_active"], [(f"w{i}", f"W{i}", True) for i in range(10)])
    assert sb.update_in(T, {"is_active": False}, "external_id", ["w1", "w2", "w3"], extra="name <> %s",
                        params=["W3"]) == 2
    assert sb.update_many(T, "external_id", ["name"], [("X", "w4"), ("Y", "w5")]) == 2
    assert sb.update_where(T, {"name": "Z"}, "is_active = %s", [False]) == 2
    assert sb.delete_in(T, "external_id", ["w1", "w2", "w9"]) == 3
    assert sorted(Warehouse.objects.values_list("name", flat=True)) == ["W0", "W3", "W6", "W7", "W8", "X", "Y"]


def test_look_ups_find_keys_with_quotes_backslashes_commas_and_braces():
    # On PostgreSQL the keys travel as one array literal: each must arrive exactly as 1C wrote it.
    keys = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "", "Склад №1", "x\\\"y"]
    sb.insert(T, ["external_id", "name", "is_active"], [(k, f"W{i}", i % 2 == 0) for i, k in enumerate(keys)])
    found = sb.select_map(T, "external_id", [*keys, "a", "c\\\\d"], ("name",))
    assert found == {k: f"W{i}" for i, k in enumerate(keys)}
    pks = list(Warehouse.objects.filter(external_id__in=keys[:3]).values_list("pk", flat=True))
    assert sorted(r[0] for r in sb.select_rows(T, "id", pks, ["external_id"])) == sorted(keys[:3])
    assert len(sb.select_rows(T, "is_active", [False], ["id"])) == 4
    assert sb.delete_in(T, "external_id", ["NULL", "e,f"]) == 2
