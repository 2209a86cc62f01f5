"""Admin pages of the order exchange: mappings the admin edits, history and state to read.

Registered on import; the exchange app's admin module imports this one.
"""

import hashlib
import importlib

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from exchange1c.models.orders import (
    OneCValueMapping,
    OrderExchangeEvent,
    OrderExport,
    OrderFieldMapping,
    QueryRecord,
)
from orders.models import Order


def session_ref(obj):
    """A short, stable reference to the exchange session: never the token itself.

    The token is a live credential for 1C's session; staff who read the history need only
    tell sessions apart.
    """
    key = getattr(obj, "session_key", "") or ""
    return hashlib.sha256(key.encode()).hexdigest()[:10] if key else ""


session_ref.short_description = _("exchange session")


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the exchange writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderFieldMappingForm(forms.ModelForm):
    field_name = forms.ChoiceField(label=_("order field"), choices=())

    class Meta:
        model = OrderFieldMapping
        fields = ["field_name", "requisite", "position", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from exchange1c.sale.query import mappable_order_fields

        self.fields["field_name"].choices = [(name, f"{label} ({name})") for name, label in mappable_order_fields()]


@admin.register(OrderFieldMapping)
class OrderFieldMappingAdmin(admin.ModelAdmin):
    form = OrderFieldMappingForm
    list_display = ["field_name", "requisite", "position", "is_active"]
    list_editable = ["position", "is_active"]
    ordering = ["position", "pk"]


@admin.register(OneCValueMapping)
class OneCValueMappingAdmin(admin.ModelAdmin):
    list_display = ["kind", "target_display", "onec_name", "onec_id"]
    list_filter = ["kind"]
    search_fields = ["onec_name", "onec_id", "status__name", "payment_method__name", "delivery_method__name"]
    fields = ["kind", "status", "payment_method", "delivery_method", "onec_name", "onec_id"]
    ordering = ["kind", "pk"]

    @admin.display(description=_("on the site"))
    def target_display(self, obj):
        return obj.target


@admin.register(OrderExchangeEvent)
class OrderExchangeEventAdmin(_ReadOnlyAdmin):
    list_display = ["created", "order", "kind", "version", "summary", "filename"]
    list_filter = ["kind"]
    search_fields = ["order__number", "order__onec_number", "filename"]
    date_hierarchy = "created"
    ordering = ["-created", "-pk"]
    list_select_related = ["order"]


@admin.register(OrderExport)
class OrderExportAdmin(_ReadOnlyAdmin):
    list_display = ["order", "exported_version", "exported_at", "onec_posted", "onec_deletion_mark", "onec_status",
                    "changed_by_1c_at"]
    list_filter = ["onec_posted", "onec_deletion_mark"]
    search_fields = ["order__number", "order__onec_number"]
    ordering = ["-exported_at", "pk"]
    list_select_related = ["order"]


@admin.register(QueryRecord)
class QueryRecordAdmin(_ReadOnlyAdmin):
    list_display = ["created", "order", "version", session_ref, "committed_at"]
    list_filter = ["committed_at"]
    search_fields = ["order__number"]
    date_hierarchy = "created"
    ordering = ["-created", "pk"]
    list_select_related = ["order"]


# --- The order's own change page shows its exchange history -------------------------------
#
# The orders app registers OrderAdmin and must not import exchange1c: orders are the core,
# the exchange is built on them, and dependencies point one way only. So the exchange adds
# its inlines from here, by re-registering a subclass of whatever ModelAdmin the orders app
# registered (its fields, permissions and save_model stay as they are).


class _ReadOnlyOrderInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderExportInline(_ReadOnlyOrderInline):
    """What 1C has confirmed of this order, and what 1C last said about it."""

    model = OrderExport
    fields = ["export_state", "exported_at", "onec_posted", "onec_deletion_mark", "onec_status", "changed_by_1c_at"]
    readonly_fields = fields
    verbose_name_plural = _("1C export state")

    @admin.display(description=_("confirmed export"))
    def export_state(self, obj):
        if obj.exported_version is None:
            return gettext("not exported yet")
        return gettext("exported at version %(version)s") % {"version": obj.exported_version}


class OrderExchangeEventInline(_ReadOnlyOrderInline):
    """The order's exchange history, newest first: confirmed exports and 1C's changes."""

    model = OrderExchangeEvent
    fields = ["created", "history_line", "filename", "session"]
    readonly_fields = fields

    @admin.display(description=_("exchange session"))
    def session(self, obj):
        return session_ref(obj)
    ordering = ["-created", "-pk"]
    verbose_name_plural = _("1C exchange history")

    @admin.display(description=_("what happened"))
    def history_line(self, obj):
        values = {"version": obj.version, "summary": obj.summary}
        if obj.kind == OrderExchangeEvent.Kind.EXPORTED:
            return gettext("exported at version %(version)s") % values
        if obj.kind == OrderExchangeEvent.Kind.CHANGED_BY_1C:
            return gettext("changed by 1C (version %(version)s): %(summary)s") % values
        return gettext("1C's change not applied (version %(version)s): %(summary)s") % values


def order_admin_add_exchange_history(site: admin.AdminSite = admin.site) -> type[admin.ModelAdmin]:
    """Re-register Order on `site` with OrderExportInline and OrderExchangeEventInline added.

    Idempotent; returns the ModelAdmin class now registered for Order.
    """
    if Order not in site._registry:
        importlib.import_module("orders.admin")  # registers OrderAdmin on admin.site
    base = type(site._registry[Order])
    if getattr(base, "_with_exchange_history", False):
        return base
    extra = [OrderExportInline, OrderExchangeEventInline]
    order_admin = type(f"{base.__name__}WithExchangeHistory", (base,), {
        "__module__": __name__,
        "__doc__": base.__doc__,
        "inlines": [*base.inlines, *extra],
        "_with_exchange_history": True,
    })
    site.unregister(Order)
    site.register(Order, order_admin)
    return order_admin


order_admin_add_exchange_history()
