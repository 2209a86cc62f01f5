"""Orders in the Django admin.

Every change an admin makes to an order goes through orders.services: a status change
through `order_set_status` (history, stock release on cancellation, customer e-mail),
any other edit through `order_touch`, which bumps the version the 1C export compares
(PROTOCOL.md §4). Order lines are a snapshot of the sale and are shown read-only.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders import services
from orders.models import (
    Cart,
    CartLine,
    Customer,
    DeliveryMethod,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderStatus)
class OrderStatusAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "is_final", "is_cancelled", "notify_customer"]
    list_editable = ["position"]
    list_filter = ["is_final", "is_cancelled", "notify_customer"]
    search_fields = ["name", "code"]
    ordering = ["position", "name"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    ordering = ["position", "name"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(DeliveryMethod)
class DeliveryMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "price", "needs_address", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "needs_address"]
    search_fields = ["name", "code"]
    ordering = ["position", "name"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "key", "created_at"]
    search_fields = ["name", "email", "phone", "key", "=public_id"]
    ordering = ["name"]
    readonly_fields = ["public_id", "created_at"]
    date_hierarchy = "created_at"


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = ["variant", "quantity", "added_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Carts are the customers' own; the admin looks, and may delete abandoned ones."""

    list_display = ["session_key", "created_at", "updated_at"]
    search_fields = ["=session_key"]
    ordering = ["-updated_at"]
    readonly_fields = ["session_key", "created_at", "updated_at"]
    inlines = [CartLineInline]
    date_hierarchy = "updated_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["name", "article", "offer_external_id", "variant", "price", "quantity", "unit", "discount", "vat_rate",
              "total", "reserved_quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ["changed_at", "from_status", "to_status", "source", "user", "note"]
    readonly_fields = fields
    ordering = ["-changed_at", "-pk"]
    verbose_name_plural = _("status history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_status", "to_status", "user")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "customer_name", "phone", "status", "total", "is_paid", "is_shipped",
                    "is_cancelled", "onec_number"]
    list_display_links = ["number"]
    list_filter = ["status", "is_paid", "is_shipped", "is_cancelled", "payment_method", "delivery_method"]
    search_fields = ["number", "customer_name", "email", "phone", "onec_number", "company_name", "inn",
                     "=public_id"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["status"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["number", "public_id", "created_at", "updated_at", "version", "status_changed_at", "is_paid",
                       "paid_at", "is_shipped", "shipped_at", "is_cancelled", "onec_number", "onec_date",
                       "goods_total", "discount_total", "vat_total", "delivery_price", "total", "currency"]
    fieldsets = [
        (None, {"fields": ["number", "status", "status_changed_at", "created_at", "updated_at", "version"]}),
        (_("Customer"), {"fields": ["customer", "customer_name", "email", "phone", "address", "comment"]}),
        (_("Company"), {"classes": ["collapse"], "fields": ["company_name", "inn", "kpp"]}),
        (_("Delivery and payment"), {"fields": ["delivery_method", "delivery_name", "delivery_price",
                                                "payment_method", "payment_name"]}),
        (_("Totals"), {"fields": ["goods_total", "discount_total", "vat_total", "total", "currency"]}),
        (_("State"), {"fields": ["is_paid", "paid_at", "is_shipped", "shipped_at", "is_cancelled"]}),
        (_("1C"), {"fields": ["public_id", "onec_number", "onec_date"]}),
    ]
    inlines = [OrderLineInline, OrderStatusChangeInline]
    list_per_page = 50

    def has_add_permission(self, request):
        # Orders are placed on the site (or arrive from 1C): numbering, reservations and
        # totals live in orders.services, which a bare admin form would bypass.
        return False

    def save_model(self, request, obj, form, change):
        new_status = obj.status if "status" in form.changed_data else None
        other_changes = [name for name in form.changed_data if name != "status"]
        if new_status is not None:
            # The row keeps its current status here; order_set_status() moves it and
            # writes the history, so the status never changes without a history row.
            obj.status_id = Order.objects.filter(pk=obj.pk).values_list("status_id", flat=True).get()
        super().save_model(request, obj, form, change)
        if other_changes:
            services.order_touch(obj)
        if new_status is not None:
            services.order_set_status(order=obj, status=new_status, source="admin", user=request.user)
        obj.refresh_from_db()
