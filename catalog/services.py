"""Writes to the catalog that more than one caller needs (the admin, the exchange, orders).

Set-based where a catalog import calls them: one UPDATE per batch, never one per row.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When

from catalog.generation import catalog_changed
from catalog.models import Group, GroupSlugRedirect, Price, PriceType, Product, ProductSlugRedirect, Variant
from catalog.slugs import unique_slugs
from catalog.sql import in_values


def chunked(items: Iterable, size: int):
    """Yield lists of at most `size` items (itertools.batched needs Python 3.12)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def slugs_for_new(model, names_by_key: dict) -> dict:
    """Unique slugs for new rows of `model` (Product, Group or Brand), keyed as given."""
    def taken(candidates):
        # No ORDER BY: the models' default ordering would sort every batch's look-up for nothing.
        return set(model.objects.filter(slug__in=candidates).order_by().values_list("slug", flat=True))

    return unique_slugs(names_by_key, taken)


#: OKEI codes (and the short names 1C writes) of units goods are sold in fractions of:
#: mass, volume, length, area. Pieces, packs and sets stay whole.
FRACTIONAL_UNIT_CODES = frozenset({"163", "166", "168", "111", "112", "113", "004", "006", "018", "055", "008"})
FRACTIONAL_UNIT_NAMES = frozenset({"г", "кг", "т", "мл", "л", "м3", "см", "м", "пог. м", "пог.м", "м2", "км",
                                   "kg", "g", "l", "m", "m2", "m3"})


#: Russian short names of common OKEI codes, for 1C units that arrive without one
#: (<БазоваяЕдиница Код="796" МеждународноеСокращение="PCE"/>): customers read "шт", not "PCE".
OKEI_SHORT_NAMES = {
    "796": "шт", "166": "кг", "163": "г", "168": "т", "112": "л", "111": "мл", "006": "м", "004": "см",
    "055": "м²", "113": "м³", "018": "пог. м", "839": "компл", "778": "упак", "715": "пар", "704": "набор",
    "736": "рул", "625": "лист", "356": "ч",
}


def unit_short_name(*, code: str, name: str = "", full_name: str = "", intl_abbr: str = "") -> str:
    """The name a customer sees for a unit: 1C's short name, else the OKEI one, else what there is."""
    okei = (code or "").strip().lstrip("0").zfill(3)
    return (name or "").strip() or OKEI_SHORT_NAMES.get(okei) or (full_name or "").strip().lower() or \
        (intl_abbr or "").strip() or (code or "").strip()


def unit_is_fractional(*, code: str, name: str = "") -> bool:
    """Whether goods in this unit may be sold in fractions (kg, l, m), by OKEI code or short name."""
    code = (code or "").strip().lstrip("0").zfill(3)
    name = (name or "").strip().lower().rstrip(".")
    return code in FRACTIONAL_UNIT_CODES or name in FRACTIONAL_UNIT_NAMES


def search_text_for(*parts: str) -> str:
    """The case-folded text SQLite searches (its LIKE folds ASCII only)."""
    return " ".join(p for p in parts if p).casefold()


def group_paths_rebuild() -> int:
    """Recompute every group's `tree_path` and `depth` from the parent links.

    Groups number in the hundreds or thousands, so one read of (id, parent) and an update
    of only the rows that changed is cheap; a parent cycle (bad data) is cut at the loop.
    Returns how many groups changed.
    """
    rows = list(Group.objects.values_list("id", "parent_id", "tree_path", "depth"))
    parent = {gid: pid for gid, pid, _p, _d in rows}
    current = {gid: (path, depth) for gid, _pid, path, depth in rows}
    computed: dict[int, tuple[str, int]] = {}

    def path_of(gid):
        chain = []
        seen = set()
        node = gid
        while node is not None and node not in computed and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parent.get(node)
        prefix, depth = computed.get(node, ("/", -1)) if node is not None and node in computed else ("/", -1)
        for n in reversed(chain):
            depth += 1
            prefix = f"{prefix}{n}/"
            computed[n] = (prefix, depth)
        return computed[gid]

    changed = [gid for gid in parent if path_of(gid) != current[gid]]
    for batch in chunked(changed, 500):
        objs = [Group(id=gid, tree_path=computed[gid][0], depth=computed[gid][1]) for gid in batch]
        Group.objects.bulk_update(objs, ["tree_path", "depth"])
    if changed:
        catalog_changed()
    return len(changed)


def _service_ids():
    # An UPDATE cannot join (product__kind); a subquery of service ids is allowed.
    return Product.objects.filter(kind=Product.Kind.SERVICE).values("pk")


def summary_price_types() -> tuple[int | None, int | None]:
    """The pks of the price types a variant's price and old price come from (None: no such type)."""
    storefront = PriceType.objects.filter(is_storefront=True).values_list("id", flat=True).first()
    old = PriceType.objects.filter(is_old_price=True).values_list("id", flat=True).first()
    return storefront, old


def offer_summaries_refresh(*, product_ids: Iterable[int] | None = None, announce: bool = True) -> None:
    """Recompute the denormalised storefront figures of variants and their products.

    Variant.price/old_price/currency come from the price types flagged storefront/old;
    Variant.in_stock is quantity - reserved > 0 (services are always buyable); Product.price
    is its cheapest active variant's price, Product.in_stock whether any active variant is
    in stock. `product_ids=None` refreshes the whole catalog (e.g. after the admin changes
    which price type is the storefront one). `announce=False`: the caller starts the new catalog
    generation itself (an import batch does, once it committed, so batches side by side do not
    queue on the generation's row).
    """
    ids = None if product_ids is None else list(product_ids)
    if ids is not None and not ids:
        return
    storefront, old = summary_price_types()
    batches = [None] if ids is None else chunked(ids, 500)
    for batch in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            _variant_summaries(cursor, batch, storefront, old)
            _product_summaries(cursor, batch)
    # Prices and stock decide sort order and the in-stock filter of cached listings.
    if announce:
        catalog_changed()


# Set-based: one UPDATE … FROM (a joined SELECT) per table and batch, writing only the rows whose
# figures differ. Correlated subqueries per variant cost several times more on a large catalog.
# Table names come from _meta, values are parameters: what S608 cannot see.

def _differs() -> str:
    return "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"


def _variant_summaries(cursor, batch, storefront, old) -> None:
    q = connection.ops.quote_name
    variant, product, price = q(Variant._meta.db_table), q(Product._meta.db_table), q(Price._meta.db_table)
    if batch is None:
        where, target, params = "", "", []
    else:
        # The batch restricts the target too, so the planner looks rows up by index, not by a scan.
        source, params = in_values("v.product_id", batch)
        where, target = f"WHERE {source}", f"{in_values(f'{variant}.product_id', batch)[0]} AND "
    differs = _differs()
    cursor.execute(
        f"UPDATE {variant} SET price = s.price, currency = s.currency, old_price = s.old_price, "  # noqa: S608
        f"in_stock = s.in_stock FROM ("
        f"SELECT v.id AS id, sp.value AS price, COALESCE(sp.currency, '') AS currency, op.value AS old_price, "
        f"CASE WHEN pr.kind = %s THEN %s WHEN v.quantity > v.reserved THEN %s ELSE %s END AS in_stock "
        f"FROM {variant} v JOIN {product} pr ON pr.id = v.product_id "
        f"LEFT JOIN {price} sp ON sp.variant_id = v.id AND sp.price_type_id = %s "
        f"LEFT JOIN {price} op ON op.variant_id = v.id AND op.price_type_id = %s {where}) AS s "
        f"WHERE {target}{variant}.id = s.id AND ({variant}.price {differs} s.price "
        f"OR {variant}.currency {differs} s.currency "
        f"OR {variant}.old_price {differs} s.old_price OR {variant}.in_stock {differs} s.in_stock)",
        [Product.Kind.SERVICE.value, True, True, False, storefront, old, *params, *params],
    )


def _product_summaries(cursor, batch) -> None:
    """Product.price/old_price from its cheapest active priced variant (ties to the lowest id),
    Product.in_stock from whether any of those is in stock; no such variant clears all three.

    Two statements, each joining the batch's products only to their variants. One statement that
    joined the products to themselves (to clear those without variants) let PostgreSQL estimate
    the batch at one row once the table was large, and rescan the variants' ranking for each of
    the batch's products: 280 ms a batch at 100k products instead of about 25.
    """
    q = connection.ops.quote_name
    variant, product = q(Variant._meta.db_table), q(Product._meta.db_table)
    if batch is None:
        v_where, target, params = "", "", []
    else:
        source, params = in_values("product_id", batch)
        v_where, target = f"AND {source}", f"{in_values(f'{product}.id', batch)[0]} AND "
    differs = _differs()
    cursor.execute(
        f"UPDATE {product} SET price = s.price, old_price = s.old_price, in_stock = s.in_stock FROM ("  # noqa: S608
        f"SELECT product_id AS id, price, old_price, CASE WHEN stocked = 1 THEN %s ELSE %s END AS in_stock FROM ("
        f"SELECT product_id, price, old_price, ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY price, id) AS rn, "
        f"MAX(CASE WHEN in_stock = %s THEN 1 ELSE 0 END) OVER (PARTITION BY product_id) AS stocked "
        f"FROM {variant} WHERE is_active = %s AND price IS NOT NULL {v_where}) ranked WHERE rn = 1) AS s "
        f"WHERE {target}{product}.id = s.id AND ({product}.price {differs} s.price "
        f"OR {product}.old_price {differs} s.old_price OR {product}.in_stock {differs} s.in_stock)",
        [True, False, True, True, *params, *params],
    )
    cursor.execute(
        f"UPDATE {product} SET price = NULL, old_price = NULL, in_stock = %s "  # noqa: S608
        f"WHERE {target}(price IS NOT NULL OR old_price IS NOT NULL OR in_stock = %s) AND NOT EXISTS ("
        f"SELECT 1 FROM {variant} v WHERE v.product_id = {product}.id AND v.is_active = %s AND v.price IS NOT NULL)",
        [False, *params, True, True],
    )


def stock_reserve(*, variant_id: int, quantity: Decimal) -> None:
    """Add a placed order's quantity to the variant's reservations (one race-free UPDATE)."""
    Variant.objects.filter(pk=variant_id).update(
        reserved=F("reserved") + quantity,
        in_stock=Case(
            When(product_id__in=_service_ids(), then=Value(True)),
            When(quantity__gt=F("reserved") + quantity, then=Value(True)),
            default=Value(False),
        ),
    )


stock_reserve.alters_data = True


def stock_release(*, variant_id: int, quantity: Decimal, reserved_at) -> Decimal:
    """Give back what an order reserved, unless 1C has reported stock since.

    Once 1C sends stock after the order was placed, its figure already counts that order
    (or 1C never saw it) and `reserved` was reset to zero; releasing again would make
    stock appear that 1C does not have. Returns the quantity released.
    """
    with transaction.atomic():
        variant = Variant.objects.select_for_update().filter(pk=variant_id).first()
        if variant is None:
            return Decimal("0")
        if variant.stock_updated_at and reserved_at and variant.stock_updated_at >= reserved_at:
            return Decimal("0")
        released = min(quantity, variant.reserved)
        if released <= 0:
            return Decimal("0")
        Variant.objects.filter(pk=variant_id).update(reserved=F("reserved") - released)
        offer_summaries_refresh(product_ids=[variant.product_id])
        return released


stock_release.alters_data = True


def price_types_set_roles(*, storefront_id: int | None, old_price_id: int | None) -> None:
    """Make one price type the storefront price and (optionally) another the old price."""
    if storefront_id is not None and storefront_id == old_price_id:
        raise ValueError("the storefront and the old price must be different price types")
    with transaction.atomic():
        PriceType.objects.filter(Q(is_storefront=True) | Q(is_old_price=True)).update(
            is_storefront=False, is_old_price=False
        )
        if storefront_id:
            PriceType.objects.filter(pk=storefront_id).update(is_storefront=True)
        if old_price_id:
            PriceType.objects.filter(pk=old_price_id).update(is_old_price=True)
        offer_summaries_refresh()


def _slug_change(obj, new_slug: str, redirect_model, owner_field: str) -> None:
    old_slug = type(obj).objects.filter(pk=obj.pk).values_list("slug", flat=True).first()
    with transaction.atomic():
        # The live slug always wins: an old address equal to it (the admin going back to
        # a previous slug, or taking one another object gave up) must not shadow it.
        redirect_model.objects.filter(slug=new_slug).delete()
        if old_slug and old_slug != new_slug:
            redirect_model.objects.update_or_create(slug=old_slug, defaults={owner_field: obj})
        type(obj).objects.filter(pk=obj.pk).update(slug=new_slug)
    obj.slug = new_slug


def product_slug_change(product: Product, new_slug: str) -> None:
    """Give a saved product a new slug; its previous slug keeps leading to it (ProductSlugRedirect).

    Writes the slug to the database and to `product`. A no-op for an unchanged slug.
    """
    _slug_change(product, new_slug, ProductSlugRedirect, "product")


product_slug_change.alters_data = True


def group_slug_change(group: Group, new_slug: str) -> None:
    """Give a saved group a new slug; its previous slug keeps leading to it (GroupSlugRedirect)."""
    _slug_change(group, new_slug, GroupSlugRedirect, "group")


group_slug_change.alters_data = True


__all__ = [
    "chunked",
    "group_paths_rebuild",
    "unit_is_fractional",
    "unit_short_name",
    "group_slug_change",
    "offer_summaries_refresh",
    "summary_price_types",
    "price_types_set_roles",
    "product_slug_change",
    "search_text_for",
    "slugs_for_new",
    "stock_release",
    "stock_reserve",
]
