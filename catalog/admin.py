"""The catalog in the Django admin.

Built for a 100k-product catalog: every foreign key to a big table (products, variants,
groups, brands, property values) is an autocomplete or raw-id widget, never a <select>
with every row; changelists select their related rows in the same query. Writes that
keep denormalised data right (old slugs, search text, storefront figures, price type
roles) go through catalog.services.
"""

import hashlib

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch, Sum
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog import search_index, services
from catalog.models import (
    Brand,
    Group,
    GroupSlugRedirect,
    Price,
    PriceType,
    Product,
    ProductGroup,
    ProductImage,
    ProductPropertyValue,
    ProductSlugRedirect,
    Property,
    PropertyValue,
    Stock,
    Unit,
    Variant,
    Warehouse,
)

THUMBNAIL_SIZE = 64
#: A list property with more values than this is edited on the property value pages, not inline.
INLINE_VALUES_LIMIT = 200


def thumbnail(image: ProductImage | None, size: int = THUMBNAIL_SIZE):
    """An <img> of a product picture scaled by the browser, or a dash."""
    if image is None or not image.file:
        return "—"
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="width:{}px;height:{}px;object-fit:contain;'
        'background:#fff;border:1px solid #ddd;border-radius:4px">',
        image.file.url, size, size,
    )


class SearchTextMixin:
    """Product search that also finds Cyrillic case-insensitively on SQLite.

    SQLite's LIKE folds ASCII only, so "чайник" would miss "Чайник"; Product.search_text is
    the casefolded name, article and barcode (catalog.services.search_text_for).
    """

    search_text_path = "search_text"

    def get_search_results(self, request, queryset, search_term):
        result, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        words = search_term.casefold().split()
        if words:
            folded = queryset
            for word in words:
                folded = folded.filter(**{f"{self.search_text_path}__contains": word})
            result = result | folded
        return result, may_have_duplicates


# --- Groups ----------------------------------------------------------------------------


class GroupSlugRedirectInline(admin.TabularInline):
    model = GroupSlugRedirect
    extra = 0
    fields = ["slug"]
    readonly_fields = ["slug"]
    can_delete = True
    verbose_name_plural = _("old group addresses")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["indented_name", "slug", "position", "is_active", "updated_at"]
    list_display_links = ["indented_name"]
    list_filter = ["is_active", "depth"]
    search_fields = ["name", "slug", "external_id"]
    ordering = ["tree_path", "position", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["external_id", "tree_path", "depth", "sync_mark", "created_at", "updated_at"]
    fields = ["name", "slug", "parent", "description", "position", "is_active", *readonly_fields]
    inlines = [GroupSlugRedirectInline]
    list_per_page = 100

    @admin.display(description=_("name"), ordering="tree_path")
    def indented_name(self, obj):
        return format_html('<span style="display:inline-block;padding-left:{}em">{}</span>', obj.depth * 1.5,
                           obj.name)

    def save_model(self, request, obj, form, change):
        if change and "slug" in form.changed_data:
            services.group_slug_change(obj, obj.slug)
        super().save_model(request, obj, form, change)
        if not change or "parent" in form.changed_data:
            services.group_paths_rebuild()


@admin.register(GroupSlugRedirect)
class GroupSlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["slug", "group"]
    search_fields = ["slug", "group__name"]
    ordering = ["slug"]
    list_select_related = ["group"]
    autocomplete_fields = ["group"]


# --- Reference data --------------------------------------------------------------------


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "external_id"]
    search_fields = ["name", "slug", "external_id"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["external_id"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "full_name", "intl_abbr", "fractional"]
    list_filter = ["fractional"]
    search_fields = ["code", "name", "full_name", "intl_abbr"]
    ordering = ["code"]


class PropertyValueInline(admin.TabularInline):
    model = PropertyValue
    extra = 0
    fields = ["value", "external_id"]
    readonly_fields = ["external_id"]


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = ["name", "value_type", "position", "is_visible", "is_active", "external_id"]
    list_filter = ["value_type", "is_visible", "is_active"]
    list_editable = ["position", "is_visible"]
    search_fields = ["name", "external_id"]
    ordering = ["position", "name"]
    readonly_fields = ["external_id"]

    def get_inlines(self, request, obj):
        # A brand-like list of thousands of values would make the page unusable; such
        # lists are edited on the property value changelist instead.
        if obj is not None and obj.value_type == Property.ValueType.REFERENCE:
            if obj.values.count() <= INLINE_VALUES_LIMIT:
                return [PropertyValueInline]
        return []


@admin.register(PropertyValue)
class PropertyValueAdmin(admin.ModelAdmin):
    list_display = ["value", "property", "external_id"]
    list_filter = [("property", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["value", "external_id"]
    ordering = ["property", "value"]
    list_select_related = ["property"]
    autocomplete_fields = ["property"]
    readonly_fields = ["external_id"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "external_id"]
    list_filter = ["is_active"]
    search_fields = ["name", "external_id"]
    ordering = ["name"]
    readonly_fields = ["external_id"]


@admin.register(PriceType)
class PriceTypeAdmin(admin.ModelAdmin):
    """The storefront and old price flags are unique (DB constraints), so they are set by
    actions through catalog.services.price_types_set_roles, which also refreshes every
    product's storefront price."""

    list_display = ["name", "currency", "tax_included", "is_storefront", "is_old_price", "external_id"]
    list_filter = ["is_storefront", "is_old_price", "tax_included"]
    search_fields = ["name", "external_id"]
    ordering = ["name"]
    readonly_fields = ["is_storefront", "is_old_price", "external_id", "created_at"]
    actions = ["make_storefront", "make_old_price", "clear_old_price"]

    def _single(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one price type."), messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description=_("Make the storefront price"))
    def make_storefront(self, request, queryset):
        chosen = self._single(request, queryset)
        if chosen is None:
            return
        old = PriceType.objects.filter(is_old_price=True).exclude(pk=chosen.pk).values_list("id", flat=True).first()
        services.price_types_set_roles(storefront_id=chosen.pk, old_price_id=old)
        self.message_user(request, _("“%(name)s” is now the storefront price.") % {"name": chosen.name})

    @admin.action(description=_("Make the old (crossed-out) price"))
    def make_old_price(self, request, queryset):
        chosen = self._single(request, queryset)
        if chosen is None:
            return
        storefront = PriceType.objects.filter(is_storefront=True).values_list("id", flat=True).first()
        if storefront == chosen.pk:
            self.message_user(request, _("The storefront price cannot also be the old price."), messages.ERROR)
            return
        services.price_types_set_roles(storefront_id=storefront, old_price_id=chosen.pk)
        self.message_user(request, _("“%(name)s” is now the old price.") % {"name": chosen.name})

    @admin.action(description=_("Show no old price"))
    def clear_old_price(self, request, queryset):
        storefront = PriceType.objects.filter(is_storefront=True).values_list("id", flat=True).first()
        services.price_types_set_roles(storefront_id=storefront, old_price_id=None)
        self.message_user(request, _("No price type is shown as the old price now."))


# --- Products --------------------------------------------------------------------------


class ProductGroupInline(admin.TabularInline):
    model = ProductGroup
    extra = 0
    autocomplete_fields = ["group"]
    verbose_name = _("group")
    verbose_name_plural = _("groups")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["label"] = _("group")  # the through model's field has no verbose name
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["name", "article", "barcode", "position", "is_active", "price", "old_price", "quantity", "reserved",
              "in_stock"]
    readonly_fields = ["price", "old_price", "reserved", "in_stock"]
    show_change_link = True


class ProductImageForm(forms.ModelForm):
    """Fills the content hash (the stored name derives from it) and the size of an uploaded picture."""

    class Meta:
        model = ProductImage
        fields = ["product", "file", "position", "caption"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload and "file" in self.changed_data:
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            self.instance.content_hash = digest.hexdigest()
            product_id = cleaned.get("product").pk if cleaned.get("product") else self.instance.product_id
            duplicate = ProductImage.objects.filter(product_id=product_id, content_hash=self.instance.content_hash)
            if product_id and duplicate.exclude(pk=self.instance.pk).exists():
                raise forms.ValidationError(_("This product already has this picture."))
            image = getattr(upload, "image", None)  # set by forms.ImageField after Pillow opened it
            if image is not None:
                self.instance.width, self.instance.height = image.size
        return cleaned


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 0
    fields = ["preview", "file", "position", "caption", "width", "height"]
    readonly_fields = ["preview", "width", "height"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        return thumbnail(obj, 96)


class ProductPropertyValueInline(admin.TabularInline):
    model = ProductPropertyValue
    extra = 0
    fields = ["property", "value_ref", "value_text", "value_number", "value_date", "value_bool"]
    autocomplete_fields = ["property", "value_ref"]
    verbose_name = _("property")
    verbose_name_plural = _("properties")

    def get_fields(self, request, obj=None):
        # Date and yes/no columns only for shops that have such properties: most 1C
        # catalogs send lists, strings and numbers, and empty widgets crowd the page.
        used = set(Property.objects.filter(value_type__in=[Property.ValueType.DATE, Property.ValueType.BOOL])
                   .values_list("value_type", flat=True).distinct())
        return [f for f in self.fields
                if (f != "value_date" or Property.ValueType.DATE in used)
                and (f != "value_bool" or Property.ValueType.BOOL in used)]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("property", "value_ref")


class ProductSlugRedirectInline(admin.TabularInline):
    model = ProductSlugRedirect
    extra = 0
    fields = ["slug"]
    readonly_fields = ["slug"]
    verbose_name_plural = _("old product addresses")

    def has_add_permission(self, request, obj=None):
        return False


class HasPictureFilter(admin.SimpleListFilter):
    title = _("picture")
    parameter_name = "has_image"

    def lookups(self, request, model_admin):
        return [("yes", _("with a picture")), ("no", _("without a picture"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(images__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(images__isnull=True)
        return queryset


@admin.register(Product)
class ProductAdmin(SearchTextMixin, admin.ModelAdmin):
    list_display = ["picture", "name", "article", "brand", "price", "old_price", "in_stock", "is_active",
                    "updated_at"]
    list_display_links = ["picture", "name"]
    list_filter = ["is_active", "in_stock", "kind", HasPictureFilter, ("brand", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "article", "barcode", "code", "=external_id"]
    ordering = ["name"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand", "unit"]
    readonly_fields = ["picture_large", "price", "old_price", "in_stock", "external_id", "sync_mark", "created_at",
                       "updated_at"]
    fieldsets = [
        (None, {"fields": ["picture_large", "name", "full_name", "slug", "is_active", "kind"]}),
        (_("Identification"), {"fields": ["article", "barcode", "code", "external_id"]}),
        (_("Description"), {"fields": ["description", "description_html"]}),
        (_("Properties"), {"fields": ["brand", "unit", "weight"]}),
        (_("Storefront figures (from the variants)"), {"fields": ["price", "old_price", "in_stock"]}),
        (_("1C"), {"classes": ["collapse"], "fields": ["requisites", "sync_mark", "created_at", "updated_at"]}),
    ]
    inlines = [ProductGroupInline, VariantInline, ProductImageInline, ProductPropertyValueInline,
               ProductSlugRedirectInline]
    list_per_page = 50
    show_full_result_count = False  # COUNT(*) over 100k rows on every search is wasted work

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk"), to_attr="ordered_images")
        )

    def _first_image(self, obj):
        images = getattr(obj, "ordered_images", None)
        if images is None:
            images = list(obj.images.order_by("position", "pk")[:1])
        return images[0] if images else None

    @admin.display(description=_("picture"))
    def picture(self, obj):
        return thumbnail(self._first_image(obj), 48)

    @admin.display(description=_("picture"))
    def picture_large(self, obj):
        return thumbnail(self._first_image(obj), 160) if obj.pk else "—"

    def save_model(self, request, obj, form, change):
        if change and "slug" in form.changed_data:
            services.product_slug_change(obj, obj.slug)
        obj.search_text = services.search_text_for(obj.name, obj.article, obj.barcode)
        super().save_model(request, obj, form, change)
        search_index.refresh([obj.pk])

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A variant switched off or added here changes the product's cheapest price.
        services.offer_summaries_refresh(product_ids=[form.instance.pk])


# --- Variants --------------------------------------------------------------------------


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ["price_type", "value", "currency", "unit", "coefficient"]


class StockInline(admin.TabularInline):
    model = Stock
    extra = 0
    fields = ["warehouse", "quantity", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["__str__", "article", "price", "old_price", "quantity", "reserved", "in_stock", "is_active"]
    list_filter = ["is_active", "in_stock"]
    search_fields = ["name", "article", "barcode", "product__name", "=external_id"]
    ordering = ["product_id", "position"]  # indexed; sorting by product name would sort the whole table
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["price", "old_price", "currency", "in_stock", "reserved", "stock_updated_at", "external_id",
                       "sync_mark", "created_at", "updated_at"]
    fields = ["product", "name", "article", "barcode", "characteristics", "position", "is_active", "quantity",
              *readonly_fields]
    inlines = [PriceInline, StockInline]
    list_per_page = 50
    show_full_result_count = False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        variant = form.instance
        stock_changed = any(fs.model is Stock and fs.has_changed() for fs in formsets)
        if stock_changed:
            # Per-warehouse figures edited by hand: the total follows them, as 1C's would.
            total = variant.stocks.aggregate(total=Sum("quantity"))["total"]
            Variant.objects.filter(pk=variant.pk).update(quantity=total or 0)
        services.offer_summaries_refresh(product_ids=[variant.product_id])


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    form = ProductImageForm
    list_display = ["preview", "product", "position", "caption", "width", "height"]
    search_fields = ["product__name", "caption", "=content_hash"]
    ordering = ["product", "position"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["preview", "content_hash", "width", "height"]
    fields = ["preview", "product", "file", "position", "caption", "content_hash", "width", "height"]
    show_full_result_count = False

    @admin.display(description=_("preview"))
    def preview(self, obj):
        return thumbnail(obj, 64)



@admin.register(ProductSlugRedirect)
class ProductSlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["slug", "product"]
    search_fields = ["slug", "product__name"]
    ordering = ["slug"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
