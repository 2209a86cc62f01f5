"""Admin of import jobs: read-only, what each file did (counts, warnings, errors) and where it stands."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from exchange1c.models import ImportJob


class HasWarningsFilter(admin.SimpleListFilter):
    title = _("warnings")
    parameter_name = "warnings"

    def lookups(self, request, model_admin):
        return [("yes", _("with warnings")), ("no", _("without warnings"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(warning_count__gt=0)
        if self.value() == "no":
            return queryset.filter(warning_count=0)
        return queryset


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "filename", "kind", "state", "progress", "created", "updated", "unchanged",
                    "deactivated", "hidden", "warning_count", "run"]
    list_filter = ["state", "kind", "changes_only", HasWarningsFilter]
    search_fields = ["filename", "error"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_select_related = ["run"]
    fieldsets = [
        (None, {"fields": ["run", "filename", "kind", "schema_version", "changes_only", "state", "progress", "error"]}),
        (_("Result"), {"fields": ["created", "updated", "unchanged", "deactivated", "hidden", "warning_count",
                                  "warning_list"]}),
        (_("Technical"), {"classes": ["collapse"], "fields": [
            "mark", "folder", "work_path", "fingerprint", "items_done", "items_total", "groups_total",
            "classifier_done", "worker", "heartbeat_at", "apply_started_at", "finished_at", "finalized_at",
            "created_at"]}),
    ]

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.items_total:
            return f"{obj.items_done} / {obj.items_total}"
        return "—"

    @admin.display(description=_("first warnings"))
    def warning_list(self, obj):
        if not obj.warnings:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in obj.warnings)))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ImportJob._meta.fields] + ["progress", "warning_list"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A job's row is the state of an import that may be under way: never delete by hand.
        return False
