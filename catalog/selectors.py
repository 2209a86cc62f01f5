"""Storefront reads of the catalog.

Group pages filter and sort on the denormalised Product.price/in_stock columns, never by
joining prices or stock, and each page costs a fixed number of queries whatever its size.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

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

# Products without a price go last either way (SQLite and PostgreSQL disagree on NULLs).
SORTS = {
    "name": ("name", "pk"),
    "price": (F("price").asc(nulls_last=True), "name", "pk"),
    "-price": (F("price").desc(nulls_last=True), "name", "pk"),
}
DEFAULT_SORT = "name"


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
    """Active products of `group` and of all its active subgroups, each once."""
    if group.tree_path:
        in_subtree = ProductGroup.objects.filter(
            product_id=OuterRef("pk"), group__tree_path__startswith=group.tree_path, group__is_active=True
        )
    else:
        # Paths not rebuilt yet (a group just created by hand): its own products at least,
        # rather than an empty prefix that would match the whole catalog.
        in_subtree = ProductGroup.objects.filter(product_id=OuterRef("pk"), group=group)
    return Product.objects.filter(Exists(in_subtree), is_active=True)


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


def brands_of(*, products: QuerySet[Product]) -> list[Brand]:
    """Brands present among `products` (before brand filtering), with `product_count`."""
    return list(
        Brand.objects.filter(products__in=products.order_by().values("pk"))
        .annotate(product_count=Count("products"))
        .order_by("name")
    )


def product_search(*, query: str) -> QuerySet[Product]:
    """Active products matching `query`, best first.

    PostgreSQL: full-text over the name with the Russian stemmer plus the 'simple' config
    (articles and barcodes are not words a stemmer knows), and a substring match of the
    case-folded search_text so a partial article still finds its product. SQLite: only the
    substring match; search_text is folded by Python because SQLite's LIKE folds ASCII only.
    """
    query = (query or "").strip()[:200]
    products = Product.objects.filter(is_active=True)
    if not query:
        return products.none()
    folded = query.casefold()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("name", config="russian", weight="A")
            + SearchVector("full_name", config="russian", weight="B")
            + SearchVector("article", "barcode", "search_text", config="simple", weight="A")
        )
        search = SearchQuery(query, config="russian", search_type="plain") | SearchQuery(
            query, config="simple", search_type="plain"
        )
        products = (
            products.annotate(rank=SearchRank(vector, search))
            .filter(Q(rank__gt=0) | Q(search_text__contains=folded))
            .order_by("-rank", "name", "pk")
        )
    else:
        products = products.filter(search_text__contains=folded).order_by("name", "pk")
    return _with_list_images(products)


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
