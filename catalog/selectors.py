"""Storefront reads of the catalog.

Group pages filter and sort on the denormalised Product.price/in_stock columns, never by
joining prices or stock, and each page costs a fixed number of queries whatever its size.
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from catalog.generation import catalog_generation
from catalog.models import (
    Brand,
    Group,
    GroupSlugRedirect,
    Product,
    ProductGroup,
    ProductImage,
    ProductPropertyValue,
    ProductSlugRedirect,
    Variant,
)

#: Cached listing facts (counts, brand facets, page ids) live at most this long, so after a
#: writer that does not call catalog_changed() (bulk updates send no signals) they are stale
#: for minutes, no more. Prices and stock shown are always read fresh from the rows.
LISTING_CACHE_SECONDS = 300

# Products without a price go last either way (SQLite and PostgreSQL disagree on NULLs).
SORTS = {
    "name": ("name", "pk"),
    "price": (F("price").asc(nulls_last=True), "name", "pk"),
    "-price": (F("price").desc(nulls_last=True), "name", "pk"),
}
DEFAULT_SORT = "name"
#: The same orders, with the first key written so that no index can produce it (`name || ''`,
#: `price + 0`). A group of up to SORT_APART_MAX products is sorted this way: its products are
#: found from its memberships and sorted, a few ms per thousand. Sorted by the plain column,
#: the planner walks the whole catalog's (is_active, name) index in order and tests each product
#: for membership, expecting a page of a group that holds 2% of the catalog within 50 rows; but
#: the names of one kind of goods sort together, and a group whose names come late was found
#: after 86,000 rows (270-400 ms at 100k products, PostgreSQL). A bigger group still walks the
#: index: it meets its products soon, and sorting it apart would cost more.
SORTS_APART = {
    "name": (Concat("name", Value("")), "pk"),
    "price": ((F("price") + 0).asc(nulls_last=True), "name", "pk"),
    "-price": ((F("price") + 0).desc(nulls_last=True), "name", "pk"),
}
SORT_APART_MAX = 20_000


@dataclass(frozen=True)
class ProductFilters:
    """What a visitor narrowed a listing to; empty means no filter."""

    brand_ids: tuple[int, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool = False
    sort: str = DEFAULT_SORT


@dataclass
class Lookup:
    """The result of finding a page by slug: the object, or the slug it moved to."""

    obj: object | None = None
    redirect_to: str | None = None
    extra: dict = field(default_factory=dict)


def _cache_key(*parts) -> str:
    """A listing cache key; callers put the catalog generation (read once per page) in `parts`."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"catalog:listing:{digest}"


def _cached_page(products: QuerySet[Product], key: tuple, page_number, per_page: int, *, ids_first: bool) -> Page:
    """A page of `products` whose count and ids are cached; with `ids_first` a miss finds the
    ids with a narrow query (one an index can cover) before reading the rows by pk."""
    paginator = Paginator(products, per_page)
    count_key = _cache_key(*key, "count")
    count = cache.get(count_key)
    if count is None:
        count = products.count()
        cache.set(count_key, count, LISTING_CACHE_SECONDS)
    paginator.count = count  # overrides the cached_property: no COUNT(*) query
    page = paginator.get_page(page_number)
    ids_key = _cache_key(*key, "page", page.number)
    ids = cache.get(ids_key)
    if ids is None and not ids_first:
        page.object_list = list(page.object_list)
        cache.set(ids_key, [p.pk for p in page.object_list], LISTING_CACHE_SECONDS)
        return page
    if ids is None:
        ids = list(page.object_list.values_list("pk", flat=True)) if count else []
        cache.set(ids_key, ids, LISTING_CACHE_SECONDS)
    # By pk alone: repeating the listing's filters here would let the planner start from them.
    rows = _with_list_images(Product.objects.filter(pk__in=ids, is_active=True)) if ids else []
    by_pk = {p.pk: p for p in rows}
    page.object_list = [by_pk[pk] for pk in ids if pk in by_pk]
    return page


def group_listing(*, group: Group, filters: ProductFilters, page_number, per_page: int) -> tuple[Page, list[Brand]]:
    """One page of the group's filtered products (a Page with a list) and the brand facets.

    Counting and faceting a big subtree walks all its memberships, and so does finding the
    first page sorted; these only change with the catalog, so the count, the facets and each
    page's product ids are cached for the catalog generation. A page already seen is then
    read by primary key.
    """
    in_group = group_products(group=group)
    products = products_filter(products=in_group, filters=filters)
    generation = catalog_generation()
    key = ("group", generation, group.pk, group.tree_path, filters)
    facets_key = _cache_key("group", generation, group.pk, group.tree_path, "brands")
    facets = cache.get(facets_key)
    if facets is None:
        facets = brand_facets(products=in_group)
        cache.set(facets_key, facets, LISTING_CACHE_SECONDS)
    brands, total = facets
    if not (filters.brand_ids or filters.in_stock or filters.price_min is not None or filters.price_max is not None):
        # Unfiltered, the count is the facets' total: no second scan of the subtree.
        cache.add(_cache_key(*key, "count"), total, LISTING_CACHE_SECONDS)
    if total <= SORT_APART_MAX:
        products = products.order_by(*SORTS_APART.get(filters.sort, SORTS_APART[DEFAULT_SORT]))
    page = _cached_page(products, key, page_number, per_page, ids_first=False)
    return page, brands


def group_find(*, slug: str) -> Lookup:
    """The active group with this slug, else a redirect if it is an old slug, else nothing."""
    group = Group.objects.filter(slug=slug, is_active=True).first()
    if group is not None:
        return Lookup(obj=group)
    moved = GroupSlugRedirect.objects.filter(slug=slug, group__is_active=True).select_related("group").first()
    if moved is not None:
        return Lookup(redirect_to=moved.group.get_absolute_url())
    return Lookup()


def product_find(*, slug: str) -> Lookup:
    """The active product with this slug (brand and unit joined), else its redirect, else nothing."""
    product = Product.objects.filter(slug=slug, is_active=True).select_related("brand", "unit").first()
    if product is not None:
        return Lookup(obj=product)
    moved = ProductSlugRedirect.objects.filter(slug=slug, product__is_active=True).select_related("product").first()
    if moved is not None:
        return Lookup(redirect_to=moved.product.get_absolute_url())
    return Lookup()


def group_ancestors(*, group: Group) -> list[Group]:
    """The groups above `group`, root first (one query, read off tree_path)."""
    ids = [int(part) for part in group.tree_path.strip("/").split("/") if part.isdigit() and int(part) != group.pk]
    if not ids:
        return []
    by_id = {g.pk: g for g in Group.objects.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def group_children(*, group: Group | None) -> QuerySet[Group]:
    """Active direct subgroups (roots when `group` is None), in display order."""
    return Group.objects.filter(parent=group, is_active=True).order_by("position", "name")


def top_groups_with_counts() -> list[Group]:
    """Active root groups, each with `product_count`: active products anywhere in its subtree.

    One query for the roots plus one grouped count over the memberships; a product in two
    subgroups of the same root counts once.
    """
    roots = list(group_children(group=None))
    if not roots:
        return roots
    rows = (
        ProductGroup.objects.filter(product__is_active=True, group__is_active=True)
        .values_list("group__tree_path", "product_id")
    )
    root_of = {f"/{r.pk}/": r for r in roots}
    seen: dict[int, set] = {r.pk: set() for r in roots}
    for path, product_id in rows.iterator(chunk_size=5000):
        root = root_of.get("/" + path.strip("/").split("/")[0] + "/")
        if root is not None:
            seen[root.pk].add(product_id)
    for r in roots:
        r.product_count = len(seen[r.pk])
    return roots


def _with_list_images(qs: QuerySet[Product]) -> QuerySet[Product]:
    return qs.select_related("brand", "unit").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk"), to_attr="list_images")
    )


def group_products(*, group: Group) -> QuerySet[Product]:
    """Active products of `group` and of all its active subgroups, each once.

    The subtree is resolved on the few groups (an indexed prefix match on tree_path) and the
    products are picked by an uncorrelated `pk IN (memberships of those groups)`, so no
    product row is ever matched against a path pattern and no DISTINCT is needed; the
    listing can then walk the (is_active, name) / (is_active, price) indexes in order.
    """
    if group.tree_path:
        groups = Group.objects.filter(tree_path__startswith=group.tree_path, is_active=True).values("pk")
    else:
        # Paths not rebuilt yet (a group just created by hand): its own products at least,
        # rather than an empty prefix that would match the whole catalog.
        groups = [group.pk]
    members = ProductGroup.objects.filter(group_id__in=groups).values("product_id")
    return Product.objects.filter(pk__in=Subquery(members), is_active=True)


def products_filter(*, products: QuerySet[Product], filters: ProductFilters) -> QuerySet[Product]:
    """Apply a visitor's filters and sort; adds brand, unit and the images for a listing."""
    if filters.brand_ids:
        products = products.filter(brand_id__in=filters.brand_ids)
    if filters.price_min is not None:
        products = products.filter(price__gte=filters.price_min)
    if filters.price_max is not None:
        products = products.filter(price__lte=filters.price_max)
    if filters.in_stock:
        products = products.filter(in_stock=True)
    return _with_list_images(products.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT])))


def brand_facets(*, products: QuerySet[Product]) -> tuple[list[Brand], int]:
    """Brands present among `products` (before brand filtering), each with `product_count`,
    in name order; and how many products there are in all, branded or not.

    One GROUP BY over the products; the brands come with their id and name loaded (other
    fields deferred), which is all a facet shows.
    """
    rows = (
        products.order_by().values_list("brand_id", "brand__name").annotate(n=Count("pk")).order_by("brand__name")
    )
    brands, total = [], 0
    for brand_id, name, n in rows:
        total += n
        if brand_id is not None:
            brand = Brand.from_db(products.db, ["id", "name"], [brand_id, name])
            brand.product_count = n
            brands.append(brand)
    return brands, total


def brands_of(*, products: QuerySet[Product]) -> list[Brand]:
    """Brands present among `products` (before brand filtering), with `product_count`."""
    return brand_facets(products=products)[0]


def product_search(*, query: str) -> QuerySet[Product]:
    """Active products matching `query`, best first.

    PostgreSQL: full-text over the name with the Russian stemmer plus the 'simple' config
    (articles and barcodes are not words a stemmer knows), and a substring match of the
    case-folded text so a partial article still finds its product; both read the product's
    search entry (catalog.models.ProductSearch: GIN on its document, trigram GIN on its text)
    and the rank is computed for matches only. SQLite: only the substring match; search_text
    is folded by Python because SQLite's LIKE folds ASCII only, so a plain case-sensitive
    instr() is enough (and cheaper).
    """
    query = (query or "").strip()[:200]
    products = Product.objects.filter(is_active=True)
    if not query:
        return products.none()
    folded = query.casefold()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        search = SearchQuery(query, config="russian", search_type="plain") | SearchQuery(
            query, config="simple", search_type="plain"
        )
        products = (
            # The substring test first: the trigram index needs a recheck of the whole
            # condition, and a row it already matches then skips the document test.
            products.filter(Q(search_entry__text__contains=folded) | Q(search_entry__document=search))
            .alias(rank=SearchRank(F("search_entry__document"), search))
            .order_by("-rank", "name", "pk")
        )
    else:
        found_at = Func(F("search_text"), Value(folded), function="INSTR", output_field=IntegerField())
        products = products.alias(found_at=found_at).filter(found_at__gt=0).order_by("name", "pk")
    return _with_list_images(products)


def search_page(*, query: str, page_number, per_page: int) -> Page:
    """One page of `product_search(query)` (a Page with a list of products).

    The count and the page's ids are cached for the catalog generation; the ids are found by
    a narrow query and the page's products then read by primary key.
    """
    key = ("search", catalog_generation(), query.strip()[:200])
    return _cached_page(product_search(query=query), key, page_number, per_page, ids_first=True)


def product_variants(*, product: Product) -> list[Variant]:
    """The product's active variants in display order (each with `product` set, no query)."""
    variants = list(Variant.objects.filter(product=product, is_active=True).order_by("position", "name", "pk"))
    for v in variants:
        v.product = product
    return variants


def product_images(*, product: Product) -> list[ProductImage]:
    return list(ProductImage.objects.filter(product=product).order_by("position", "pk"))


def product_properties(*, product: Product) -> list[ProductPropertyValue]:
    """Visible property values of the product, in the properties' order."""
    return list(
        ProductPropertyValue.objects.filter(product=product, property__is_visible=True, property__is_active=True)
        .select_related("property", "value_ref")
        .order_by("property__position", "property__name", "pk")
    )


def product_main_group(*, product: Product) -> Group | None:
    """The deepest active group the product sits in (for breadcrumbs)."""
    link = (
        ProductGroup.objects.filter(product=product, group__is_active=True)
        .select_related("group")
        .order_by("-group__depth", "group__pk")
        .first()
    )
    return link.group if link else None
