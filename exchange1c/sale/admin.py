"""Admin pages of the order exchange: mappings the admin edits, history and state to read.

Registered on import; the exchange app's admin module imports this one.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from exchange1c.models.orders import (
    OneCValueMapping,
    OrderExchangeEvent,
    OrderExport,
    OrderFieldMapping,
    QueryRecord,
)


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
    search_fields = ["order__number", "order__onec_number", "filename", "session_key"]
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
    list_display = ["created", "order", "version", "session_key", "committed_at"]
    list_filter = ["committed_at"]
    search_fields = ["order__number", "session_key"]
    date_hierarchy = "created"
    ordering = ["-created", "pk"]
    list_select_related = ["order"]
