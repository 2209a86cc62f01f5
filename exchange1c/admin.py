"""Admin: the exchange settings page, the exchange log, the exchanges with their files."""

import functools
import importlib.util
import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.services import price_types_set_roles
from exchange1c import (
    checks,  # noqa: F401 - registers the exchange folder check
    files,
)
from exchange1c.forms import ExchangeSettingsForm
from exchange1c.models import ExchangeLock, ExchangeLog, ExchangeRun, ExchangeSettings

logger = logging.getLogger(__name__)

# The importer's (ImportJob) and the order exchange's admins live in their packages.
for _module in ("exchange1c.importer.admin", "exchange1c.sale.admin"):
    if importlib.util.find_spec(_module) is not None:
        importlib.import_module(_module)


def debug_mode_warning() -> str:
    return gettext("1C exchange debug mode is ON: anyone can upload a catalog to this site without a password. "
                   "Switch it off in the exchange settings (setting 9).")


def _with_debug_warning(each_context):
    """Wrap AdminSite.each_context: while debug mode is on, every admin page shows a red message."""

    @functools.wraps(each_context)
    def wrapper(request):
        context = each_context(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_active and user.is_staff
                and not getattr(request, "_exchange_debug_warned", False)
                and ExchangeSettings.get_solo().debug_mode):
            request._exchange_debug_warned = True
            messages.error(request, debug_mode_warning(), fail_silently=True)
        return context

    wrapper._exchange_debug_warning = True
    return wrapper


if not getattr(admin.site.each_context, "_exchange_debug_warning", False):
    admin.site.each_context = _with_debug_warning(admin.site.each_context)


@admin.register(ExchangeSettings)
class ExchangeSettingsAdmin(admin.ModelAdmin):
    """One page for every setting (a singleton: no list, no add, no delete)."""

    form = ExchangeSettingsForm
    fieldsets = [
        (_("1–2. Files from 1C"), {"fields": ["use_zip", "file_limit"]}),
        (_("3. Backup"), {"fields": ["backup_before_import", "backup_size_limit_mb", "backup_keep"]}),
        (_("4, 6. Order statuses"), {"fields": ["export_status", "status_after_export"]}),
        (_("5. Brand"), {"fields": ["brand_property"]}),
        (_("7. Photos"), {"fields": ["resize_photos"]}),
        (_("8. Error e-mail"), {"fields": ["error_email"]}),
        (_("9–11. Access"), {"fields": ["debug_mode", "allowed_ips", "allowed_ips_only", "require_login",
                                         "exchange_user", "trust_forwarded_for", "session_hours"]}),
        (_("12. Products and prices"), {"fields": ["product_policy", "missing_products", "storefront_price_type",
                                                  "old_price_type"]}),
        (_("Import steps, answers and files"), {"fields": ["step_seconds", "reply_charset", "zip_max_unpacked_mb",
                                                          "zip_max_members", "keep_days"]}),
        (_("Order export"), {"fields": ["order_schema_version", "order_charset", "export_changed_orders",
                                         "accept_order_line_changes", "create_unknown_orders"]}),
    ]
    raw_id_fields = ["exchange_user"]

    def get_fieldsets(self, request, obj=None):
        listed = {name for _title, options in self.fieldsets for name in options["fields"]}
        other = [name for name in ExchangeSettingsForm._meta.fields if name not in listed]
        return [*self.fieldsets, (_("Other"), {"fields": other})] if other else self.fieldsets

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = ExchangeSettings.get_solo()
        return redirect(reverse("admin:exchange1c_exchangesettings_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ExchangeSettings.get_solo()  # the row exists before its page is opened
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.price_type_roles_changed():
            storefront = form.cleaned_data.get("storefront_price_type")
            old = form.cleaned_data.get("old_price_type")
            price_types_set_roles(storefront_id=storefront.pk if storefront else None,
                                  old_price_id=old.pk if old else None)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExchangeLog)
class ExchangeLogAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "mode", "status", "filename", "username", "client_ip", "duration_ms",
                    "bytes_in", "bytes_out", "debug_mode", "run_link"]
    list_filter = ["status", "kind", "mode", "debug_mode", "auth_failed", "started_at"]
    search_fields = ["filename", "username", "client_ip", "answer"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-pk"]
    list_select_related = ["run"]

    @admin.display(description=_("exchange"))
    def run_link(self, obj):
        if not obj.run_id:
            return "—"
        return format_html('<a href="{}">#{}</a>', reverse("admin:exchange1c_exchangerun_change", args=[obj.run_id]),
                           obj.run_id)


@admin.register(ExchangeRun)
class ExchangeRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "started_at", "finished_at", "user", "client_ip", "package",
                    "error_count", "debug_mode"]
    list_filter = ["status", "kind", "debug_mode", "started_at"]
    search_fields = ["=id", "client_ip", "user__username", "last_error"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-pk"]
    readonly_fields = ["kept_files", "log_link"]
    actions = ["rerun_import"]

    def get_fields(self, request, obj=None):
        return ["kind", "status", "user", "client_ip", "started_at", "updated_at", "finished_at", "folder", "package",
                "auth_timestamp", "deactivate_timestamp", "debug_mode", "error_count", "last_error",
                "error_emailed_at", "files_purged_at", "log_link", "kept_files"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_rerun_permission(self, request):
        # Re-running writes the catalog: the same right as changing an exchange.
        return request.user.has_perm("exchange1c.change_exchangerun")

    @admin.display(description=_("log"))
    def log_link(self, obj):
        url = reverse("admin:exchange1c_exchangelog_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("requests of this exchange"))

    @admin.display(description=_("kept files"))
    def kept_files(self, obj):
        if not obj.folder:
            return "—"
        try:
            folder = files.run_folder(obj.folder)
        except files.UnsafeName:
            return "—"
        found = files.files_of(folder)
        if not found:
            return gettext("No files kept.")
        rows = [
            (reverse("admin:exchange1c_exchangerun_file", args=[obj.pk, p.relative_to(folder).as_posix()]),
             p.relative_to(folder).as_posix(), p.stat().st_size)
            for p in found[:500]
        ]
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> ({} B)</li>', rows))

    def get_urls(self):
        return [
            path("<int:run_id>/files/<path:name>", self.admin_site.admin_view(self.download_file),
                 name="exchange1c_exchangerun_file"),
            *super().get_urls(),
        ]

    def download_file(self, request, run_id, name):
        """Stream one kept file of an exchange to staff (the name is checked like an upload's)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ExchangeRun, pk=run_id)
        try:
            path_ = files.resolve_inside(files.run_folder(run.folder), name)
        except files.UnsafeName as exc:
            raise Http404(str(exc)) from exc
        if not path_.is_file():
            raise Http404(name)
        return FileResponse(open(path_, "rb"), as_attachment=True, filename=path_.name,  # noqa: SIM115
                            content_type="application/octet-stream")

    @admin.action(description=_("Re-run the import from the kept files"), permissions=["rerun"])
    def rerun_import(self, request, queryset):
        from exchange1c.importer.api import run_files_now

        for run in queryset.filter(kind="catalog"):
            for folder, names in files_to_rerun(run):
                for name, answer in zip(names, run_files_now(folder, names), strict=False):
                    level = messages.ERROR if answer.status == "failure" else messages.SUCCESS
                    self.message_user(request, f"#{run.pk} {name}: {answer.status} {' '.join(answer.lines)}", level)


def files_to_rerun(run: ExchangeRun) -> list[tuple]:
    """(package folder, [file names]) of a run, in the order 1C imported them."""
    try:
        base = files.run_folder(run.folder)
    except files.UnsafeName:
        return []
    logged = list(dict.fromkeys(
        ExchangeLog.objects.filter(run=run, mode="import").exclude(filename="").order_by("started_at", "pk")
        .values_list("filename", flat=True)
    ))
    out = []
    for number in range(1, run.package + 1):
        folder = base / f"p{number}"
        if not folder.is_dir():
            continue
        names = [n for n in logged if _exists(folder, n)]
        if not names:  # the log was purged: the XML files at the top, catalog before offers
            names = sorted((p.name for p in folder.glob("*.xml")), key=lambda n: (not n.startswith("import"), n))
        if names:
            out.append((folder, names))
    return out


def _exists(folder, name) -> bool:
    try:
        return files.resolve_inside(folder, name).is_file()
    except files.UnsafeName:
        return False


@admin.register(ExchangeLock)
class ExchangeLockAdmin(admin.ModelAdmin):
    """Who holds the exchange now; deleting the row frees a lock by hand."""

    list_display = ["name", "holder_label", "since", "last_seen"]
    readonly_fields = ["name", "holder", "holder_label", "since", "last_seen"]

    def has_add_permission(self, request):
        return False
