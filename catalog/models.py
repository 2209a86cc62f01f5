"""The catalog: what 1C sends (groups, products, offers, prices, stock) and what the site adds.

Every model 1C is the source of carries `external_id`, 1C's `Ид` (a GUID as text), unique
and indexed: 1C identity never rests on names or articles (PROTOCOL.md §3). Objects an
admin creates by hand have no `external_id` (NULL, which unique constraints allow many of).

Storefront-facing figures are denormalised on purpose: each Variant keeps its storefront
price, old price and in-stock flag, and each Product the cheapest of its variants and
whether any is in stock, so group pages sort and filter on one table at 100k products.
`catalog.services.offer_summaries_refresh()` is their single write path.
"""

from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 3}


def external_id_field():
    return models.CharField(
        _("1C ID"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text=_("1C's Ид (GUID). Set by the exchange; empty for objects created on the site."),
    )


class Group(models.Model):
    """A catalog group (1C's Группа); a tree of any depth."""

    external_id = external_id_field()
    parent = models.ForeignKey(
        "self", verbose_name=_("parent group"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True, allow_unicode=False)
    description = models.TextField(_("description"), blank=True)
    position = models.IntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    #: "/<root pk>/<child pk>/.../<own pk>/": descendants are one indexed prefix match away.
    #: Kept by catalog.services.group_paths_rebuild().
    tree_path = models.CharField(_("tree path"), max_length=1000, blank=True, default="", db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)
    #: The last exchange that touched this group (for hiding what a full upload left out).
    #: Not indexed: hiding looks for rows whose mark is *not* the exchange's, which no index
    #: serves, and an index would make every re-import rewrite it (and, on PostgreSQL, the row
    #: could no longer be updated in place).
    sync_mark = models.BigIntegerField(_("exchange mark"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["tree_path", "position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:group", kwargs={"slug": self.slug})


class GroupSlugRedirect(models.Model):
    """An old group slug that still leads to its group."""

    slug = models.SlugField(_("old slug"), max_length=255, unique=True)
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="old_slugs")

    class Meta:
        verbose_name = _("old group address")
        verbose_name_plural = _("old group addresses")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Brand(models.Model):
    """A manufacturer: from 1C's Изготовитель or from the brand property (setting 5)."""

    external_id = external_id_field()
    name = models.CharField(_("name"), max_length=255, unique=True)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Unit(models.Model):
    """A unit of measure (БазоваяЕдиница): OKEI code, name, international abbreviation."""

    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("OKEI code, e.g. 796 for pieces."))
    name = models.CharField(_("short name"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=255, blank=True)
    intl_abbr = models.CharField(_("international abbreviation"), max_length=16, blank=True)
    #: Goods in this unit may be sold in fractions (kg, l, m), not just whole pieces.
    fractional = models.BooleanField(_("sold by weight or length"), default=False)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]

    def __str__(self):
        return self.name or self.code


class Product(models.Model):
    """A product (1C's Товар in the catalog file)."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("goods")
        SERVICE = "service", _("service")
        SET = "set", _("set")

    external_id = external_id_field()
    name = models.CharField(_("name"), max_length=500)
    full_name = models.CharField(_("full name"), max_length=1000, blank=True)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)
    article = models.CharField(_("article"), max_length=255, blank=True)
    barcode = models.CharField(_("barcode"), max_length=255, blank=True)
    code = models.CharField(_("1C code"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_html = models.TextField(_("description (HTML)"), blank=True)
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), null=True, blank=True, on_delete=models.SET_NULL, related_name="products",
        db_index=False,  # product_brand_active leads with it
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,  # only deleting a unit looks products up by it: a rare scan, not a write per import row
    )
    weight = models.DecimalField(_("weight, kg"), max_digits=12, decimal_places=3, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GOODS)
    groups = models.ManyToManyField(Group, verbose_name=_("groups"), through="ProductGroup", related_name="products")
    is_active = models.BooleanField(_("active"), default=True)
    #: 1C requisites we do not map to a field, kept as [[name, value], ...] (PROTOCOL.md §3).
    requisites = models.JSONField(_("other 1C requisites"), default=list, blank=True)
    #: Denormalised from the variants: the cheapest storefront price and whether any variant
    #: can be bought. Written only by catalog.services.offer_summaries_refresh().
    price = models.DecimalField(_("storefront price"), **MONEY, null=True, blank=True)
    old_price = models.DecimalField(_("old price"), **MONEY, null=True, blank=True)
    in_stock = models.BooleanField(_("in stock"), default=False)
    #: Lower-cased name, article and barcode: SQLite's LIKE folds only ASCII, so a Cyrillic
    #: query needs a column folded by Python (PostgreSQL uses full-text search instead).
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)
    #: Hash of the last 1C record applied; an unchanged record is skipped on re-import.
    source_hash = models.CharField(_("1C data hash"), max_length=64, blank=True, default="", editable=False)
    sync_mark = models.BigIntegerField(_("exchange mark"), null=True, blank=True)  # not indexed: see Group
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["is_active", "name"], name="product_active_name"),
            models.Index(fields=["is_active", "price"], name="product_active_price"),
            models.Index(fields=["brand", "is_active"], name="product_brand_active"),
        ]
        # No index on article or barcode: nothing looks a product up by either (search reads
        # ProductSearch, the admin's search is a substring scan), and an import writes every
        # index of this table for each product, twice on a first import (the row, then its
        # price summary).

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product", kwargs={"slug": self.slug})


class ProductSearch(models.Model):
    """A product's PostgreSQL search entry, in a table of its own.

    The full-text document and the trigram index of the folded text are the dearest indexes
    to keep: on catalog_product every price, stock or visibility update of a product rewrote
    them, and an import updates each product it writes. Here they change only when the
    searchable text does (catalog.search_index.refresh). SQLite searches Product.search_text
    itself and leaves this table empty.
    """

    product = models.OneToOneField(Product, primary_key=True, on_delete=models.CASCADE, related_name="search_entry")
    #: The weighted tsvector of name, full name, article and barcode (search_index.DOCUMENT_SQL).
    document = SearchVectorField(null=True)
    #: A copy of Product.search_text, for the trigram index (a partial article still matches).
    text = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("product search entry")
        verbose_name_plural = _("product search entries")

    def __str__(self):
        return str(self.product_id)


class ProductGroup(models.Model):
    """Membership of a product in a group (1C lets a product sit in several)."""

    # db_index=False on the keys below: each leads a composite index of the model already,
    # and an import writes every index of these tables once per row.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="group_links", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="product_links", db_index=False)

    class Meta:
        verbose_name = _("product in group")
        verbose_name_plural = _("products in groups")
        constraints = [models.UniqueConstraint(fields=["group", "product"], name="productgroup_unique")]
        indexes = [models.Index(fields=["product"], name="productgroup_product")]

    def __str__(self):
        return f"{self.product_id} in {self.group_id}"


class ProductSlugRedirect(models.Model):
    """An old product slug (changed in the admin) that still leads to its product."""

    slug = models.SlugField(_("old slug"), max_length=255, unique=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="old_slugs"
    )

    class Meta:
        verbose_name = _("old product address")
        verbose_name_plural = _("old product addresses")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Property(models.Model):
    """A product property (Свойство / СвойствоНоменклатуры)."""

    class ValueType(models.TextChoices):
        REFERENCE = "reference", _("list of values")
        STRING = "string", _("string")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        BOOL = "bool", _("yes/no")

    external_id = external_id_field()
    name = models.CharField(_("name"), max_length=255)
    value_type = models.CharField(_("value type"), max_length=16, choices=ValueType.choices, default=ValueType.STRING)
    position = models.IntegerField(_("position"), default=0)
    is_visible = models.BooleanField(_("shown on the product page"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("property")
        verbose_name_plural = _("properties")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class PropertyValue(models.Model):
    """One value of a list property (Справочник: ИдЗначения, Значение)."""

    external_id = external_id_field()
    property = models.ForeignKey(Property, verbose_name=_("property"), on_delete=models.CASCADE, related_name="values")
    value = models.CharField(_("value"), max_length=1000)

    class Meta:
        verbose_name = _("property value")
        verbose_name_plural = _("property values")
        ordering = ["property", "value"]
        indexes = [models.Index(fields=["property", "value"], name="propertyvalue_prop_value")]

    def __str__(self):
        return self.value


class ProductPropertyValue(models.Model):
    """A product's value of a property, typed by the property's value type."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="property_values", db_index=False)
    property = models.ForeignKey(Property, verbose_name=_("property"), on_delete=models.CASCADE, related_name="+",
                                 db_index=False)
    value_ref = models.ForeignKey(
        PropertyValue, verbose_name=_("value from list"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    value_text = models.CharField(_("text"), max_length=1000, blank=True)
    value_number = models.DecimalField(_("number"), max_digits=20, decimal_places=6, null=True, blank=True)
    value_date = models.DateField(_("date"), null=True, blank=True)
    value_bool = models.BooleanField(_("yes/no"), null=True, blank=True)

    class Meta:
        verbose_name = _("product property value")
        verbose_name_plural = _("product property values")
        ordering = ["product", "property"]
        indexes = [
            models.Index(fields=["product", "property"], name="ppv_product_property"),
            models.Index(fields=["property", "value_ref"], name="ppv_property_ref"),
        ]

    def __str__(self):
        return f"{self.property_id}: {self.display_value()}"

    def display_value(self):
        """The value as the storefront shows it, whatever the property's type."""
        if self.value_ref_id:
            return self.value_ref.value
        for value in (self.value_number, self.value_date, self.value_bool):
            if value is not None:
                return value
        return self.value_text


class Variant(models.Model):
    """An offer (Предложение): what is priced, stocked and put in a cart.

    `external_id` is 1C's offer Ид: "<product guid>" or "<product guid>#<feature guid>".
    A product without characteristics still has exactly one Variant, so prices and stock
    always have one home.
    """

    external_id = external_id_field()
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="variants",
                                db_index=False)  # variant_product_active leads with it
    name = models.CharField(_("name"), max_length=500, blank=True)
    article = models.CharField(_("article"), max_length=255, blank=True)
    barcode = models.CharField(_("barcode"), max_length=255, blank=True)
    #: 1C's ХарактеристикиТовара as [[name, value], ...], e.g. [["Размер", "XL"]].
    characteristics = models.JSONField(_("characteristics"), default=list, blank=True)
    position = models.IntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    #: Two-stage stock (as Oscar's stock records): 1C sets `quantity` (sum over warehouses);
    #: the site adds to `reserved` what it sold since. 1C's next stock update sets the
    #: quantity and resets `reserved`, because 1C's figure now includes those orders.
    quantity = models.DecimalField(_("quantity from 1C"), **QUANTITY, default=Decimal("0"))
    reserved = models.DecimalField(_("reserved since 1C's last update"), **QUANTITY, default=Decimal("0"))
    stock_updated_at = models.DateTimeField(_("stock updated by 1C"), null=True, blank=True)
    #: Denormalised (catalog.services.offer_summaries_refresh): storefront and old price
    #: from the price types flagged so, and whether quantity - reserved > 0.
    price = models.DecimalField(_("storefront price"), **MONEY, null=True, blank=True)
    old_price = models.DecimalField(_("old price"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    in_stock = models.BooleanField(_("in stock"), default=False)
    source_hash = models.CharField(_("1C data hash"), max_length=64, blank=True, default="", editable=False)
    sync_mark = models.BigIntegerField(_("exchange mark"), null=True, blank=True)  # not indexed: see Group
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["product", "position", "name"]
        indexes = [models.Index(fields=["product", "is_active"], name="variant_product_active")]
        constraints = [
            models.CheckConstraint(condition=Q(reserved__gte=0), name="variant_reserved_not_negative"),
        ]

    def __str__(self):
        return f"{self.product.name} {self.name}".strip() if self.name else self.product.name

    @property
    def available(self):
        """What the storefront may still sell: 1C's quantity minus the site's reservations."""
        return max(self.quantity - self.reserved, Decimal("0"))


class PriceType(models.Model):
    """A price type (ТипЦены; in UT 11 a "Типовое соглашение")."""

    external_id = external_id_field()
    name = models.CharField(_("name"), max_length=255)
    currency = models.CharField(_("currency"), max_length=3, default="RUB", help_text=_("ISO 4217 code, e.g. RUB."))
    tax_included = models.BooleanField(_("tax included in price"), default=True)
    is_storefront = models.BooleanField(
        _("storefront price"), default=False, help_text=_("Customers see and pay this price. Only one price type.")
    )
    is_old_price = models.BooleanField(
        _("old price"), default=False,
        help_text=_("Shown crossed out beside the storefront price when higher. At most one price type."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("price type")
        verbose_name_plural = _("price types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_storefront"], condition=Q(is_storefront=True),
                                    name="pricetype_one_storefront"),
            models.UniqueConstraint(fields=["is_old_price"], condition=Q(is_old_price=True),
                                    name="pricetype_one_old_price"),
            models.CheckConstraint(condition=~(Q(is_storefront=True) & Q(is_old_price=True)),
                                   name="pricetype_storefront_not_old"),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class Price(models.Model):
    """A variant's price of one price type (Цена)."""

    # Both keys lead a two-column index below (the unique pair, price_type_variant).
    variant = models.ForeignKey(Variant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="prices",
                                db_index=False)
    price_type = models.ForeignKey(PriceType, verbose_name=_("price type"), on_delete=models.CASCADE,
                                   related_name="prices", db_index=False)
    value = models.DecimalField(_("price"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    coefficient = models.DecimalField(_("unit coefficient"), max_digits=12, decimal_places=4, default=Decimal("1"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["variant", "price_type"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "price_type"], name="price_variant_type_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="price_not_negative"),
        ]
        indexes = [models.Index(fields=["price_type", "variant"], name="price_type_variant")]

    def __str__(self):
        return f"{self.value} {self.currency}"


class Warehouse(models.Model):
    """A warehouse (Склад)."""

    external_id = external_id_field()
    name = models.CharField(_("name"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Stock(models.Model):
    """A variant's quantity in one warehouse, as 1C last reported it."""

    # Both keys lead a two-column index below (the unique pair, stock_warehouse_variant).
    variant = models.ForeignKey(Variant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="stocks",
                                db_index=False)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.CASCADE,
                                  related_name="stocks", db_index=False)
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("0"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        ordering = ["variant", "warehouse"]
        constraints = [models.UniqueConstraint(fields=["variant", "warehouse"], name="stock_variant_warehouse_unique")]
        indexes = [models.Index(fields=["warehouse", "variant"], name="stock_warehouse_variant")]

    def __str__(self):
        return f"{self.quantity}"


def product_image_path(instance, filename):
    # Content-addressed: the same picture sent again lands on the same name, so re-sent
    # images never grow storage (PROTOCOL.md §3).
    h = instance.content_hash
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"products/{h[:2]}/{h}.{ext}"


class ProductImage(models.Model):
    """A product picture, stored once per content hash."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images")
    content_hash = models.CharField(_("content hash"), max_length=64, db_index=True)
    file = models.ImageField(_("file"), upload_to=product_image_path, max_length=255)
    position = models.IntegerField(_("position"), default=0)
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["product", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "content_hash"], name="productimage_product_hash_unique"),
        ]

    def __str__(self):
        return self.caption or self.file.name


class CatalogGeneration(models.Model):
    """One row whose value changes with every change to what the storefront lists.

    The storefront caches counts, brand facets and page ids per generation; reading the
    value from the database (not from a per-process cache) lets every server process see
    a change made by another one, e.g. an import running in another worker.
    """

    value = models.BigIntegerField(_("generation"), default=0)

    class Meta:
        verbose_name = _("catalog generation")
        verbose_name_plural = _("catalog generation")

    def __str__(self):
        return str(self.value)


__all__ = [
    "Brand",
    "CatalogGeneration",
    "Group",
    "GroupSlugRedirect",
    "Price",
    "PriceType",
    "Product",
    "ProductGroup",
    "ProductImage",
    "ProductPropertyValue",
    "ProductSlugRedirect",
    "Property",
    "PropertyValue",
    "Stock",
    "Unit",
    "Variant",
    "Warehouse",
]
