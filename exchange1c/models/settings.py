"""The exchange settings: one row, edited on one admin page (PROTOCOL.md §6).

Numbered as in seed 000 (1-12), plus ours. The storefront and old price types are not
here: they are flags on catalog.PriceType, because the storefront never reads exchange
settings; the settings page edits them there.
"""

from django.conf import settings as django_settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ExchangeSettings"]

SINGLETON_PK = 1


class ExchangeSettings(models.Model):
    """Every exchange setting; always row pk=1 (see `get_solo()`)."""

    class ProductPolicy(models.TextChoices):
        OVERWRITE = "overwrite", _("overwrite with 1C's data")
        FILL_EMPTY = "fill_empty", _("fill only empty fields")
        KEEP = "keep", _("keep existing products as edited on the site")

    class MissingProducts(models.TextChoices):
        HIDE = "hide", _("hide them")
        LEAVE = "leave", _("leave them as they are")

    class Charset(models.TextChoices):
        CP1251 = "windows-1251", "windows-1251"
        UTF8 = "utf-8", "UTF-8"

    class SchemaVersion(models.TextChoices):
        V205 = "2.05", "2.05"
        V208 = "2.08", "2.08"
        V210 = "2.10", "2.10"
        V31 = "3.1", _("3.1 (each order in <Контейнер>)")

    # 1
    use_zip = models.BooleanField(
        _("1. 1C sends packages in zip"), default=True,
        help_text=_("init answers zip=yes: 1C packs all files and pictures into one archive. Fewer requests; "
                    "the archive is unpacked on the first import call."),
    )
    # 2
    file_limit = models.PositiveIntegerField(
        _("2. Largest piece of a file, bytes"), default=2048000,
        validators=[MinValueValidator(64 * 1024), MaxValueValidator(100 * 1024 * 1024)],
        help_text=_("1C splits bigger files into pieces of this size (2048000 B = 2000 KB = 1.95 MB). Up to 100 MB; "
                    "the web server's body limit (nginx client_max_body_size) must allow it."),
    )
    # 3
    backup_before_import = models.BooleanField(
        _("3. Back up the database before an import"), default=False,
        help_text=_("Copies the whole database before an exchange's first write. May slow the exchange down "
                    "noticeably; skipped, with a warning in the log, when the database is larger than the limit."),
    )
    backup_size_limit_mb = models.PositiveIntegerField(
        _("3a. Backup size limit, MB"), default=50,
        help_text=_("No backup is made for a larger database (the log says so)."),
    )
    backup_keep = models.PositiveSmallIntegerField(
        _("3b. Backups to keep"), default=3, validators=[MinValueValidator(1)],
        help_text=_("Older backups are deleted."),
    )
    # 4
    export_status = models.ForeignKey(
        "orders.OrderStatus", verbose_name=_("4. Status of orders sent to 1C"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text=_("Orders in this status go out on sale&mode=query. After 1C confirms (mode=success) they "
                    "move to the status of setting 6."),
    )
    # 5
    brand_property = models.CharField(
        _("5. Brand property (Ид or name)"), max_length=255, blank=True, default="Производитель",
        help_text=_("If 1C sends the brand as a property, give its Ид or Наименование (e.g. Производитель, "
                    "Виробник): it becomes the product's brand instead of a property."),
    )
    # 6
    status_after_export = models.ForeignKey(
        "orders.OrderStatus", verbose_name=_("6. Status after 1C confirms the export"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text=_("Set on mode=success. Must differ from setting 4, or the same orders would go out again "
                    "at every exchange."),
    )
    # 7
    resize_photos = models.BooleanField(
        _("7. Resize photos after the exchange"), default=False,
        help_text=_("Builds the storefront picture sizes after the exchange, never inside an import step. "
                    "Costs time and disk for catalogs with many pictures."),
    )
    # 8
    error_email = models.CharField(
        _("8. E-mail for exchange errors"), max_length=500, blank=True,
        help_text=_("One message per failed exchange (access or import errors). Several addresses: comma."),
    )
    # 9
    debug_mode = models.BooleanField(
        _("9. Debug mode (no authorization)"), default=False,
        help_text=_("DANGEROUS: 1C and the site talk with no password and no address check. Anyone on the "
                    "internet can upload a catalog. Switch it off after debugging."),
    )
    # 10
    allowed_ips = models.TextField(
        _("10. Addresses allowed without login"), blank=True,
        help_text=_("One address or network (CIDR, e.g. 192.168.1.0/24) per line or comma-separated. Requests "
                    "from them need no login and password."),
    )
    allowed_ips_only = models.BooleanField(
        _("10a. Only listed addresses"), default=False,
        help_text=_("Refuse every other address, even with a correct login and password."),
    )
    # 11
    require_login = models.BooleanField(
        _("11. Login and password"), default=True,
        help_text=_("Required when the address list is empty or the address is not listed. The login is a site "
                    "user with the exchange permission."),
    )
    exchange_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, verbose_name=_("11a. 1C login"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text=_("The user 1C logs in as (any active user with the exchange permission is accepted)."),
    )
    # 12
    product_policy = models.CharField(
        _("12. Existing products"), max_length=16, choices=ProductPolicy.choices, default=ProductPolicy.OVERWRITE,
        help_text=_("What an upload does to products that already exist: overwrite them, fill only empty fields, "
                    "or keep them as edited in the admin. New products are always created; prices and stock "
                    "always update."),
    )
    # Ours
    step_seconds = models.PositiveSmallIntegerField(
        _("Step time, seconds"), default=20, validators=[MinValueValidator(2), MaxValueValidator(300)],
        help_text=_("Longest work in one answer to 1C's import call. 1C and proxies give up after their "
                    "timeout (often 60 s); smaller is safer, larger means fewer calls."),
    )
    reply_charset = models.CharField(
        _("Charset of the answers"), max_length=16, choices=Charset.choices, default=Charset.CP1251,
        help_text=_("Old 1C decodes failure texts as windows-1251."),
    )
    missing_products = models.CharField(
        _("Products missing from a full upload"), max_length=8, choices=MissingProducts.choices,
        default=MissingProducts.HIDE,
        help_text=_("A full (not changes-only) upload hides products it did not mention, once per exchange. "
                    "Nothing is ever deleted."),
    )
    order_schema_version = models.CharField(
        _("Order export schema version"), max_length=8, choices=SchemaVersion.choices, default=SchemaVersion.V208,
        help_text=_("CommerceML version of the orders sent to 1C. 3.1 wraps each order in <Контейнер> "
                    "(exchange module 6.5+)."),
    )
    order_charset = models.CharField(
        _("Charset of exported orders"), max_length=16, choices=Charset.choices, default=Charset.CP1251,
        help_text=_("UTF-8 is always written with a BOM: 1C 8.3 cannot read it without one."),
    )
    export_changed_orders = models.BooleanField(
        _("Send orders changed since their export again"), default=True,
        help_text=_("An order already confirmed by 1C goes out again when it changes on the site "
                    "(a cancellation, a new address)."),
    )
    accept_order_line_changes = models.BooleanField(
        _("Apply line and sum changes made in 1C"), default=True,
        help_text=_("When 1C sends an order back with other goods, quantities, prices or delivery cost, the "
                    "site's order takes them. Off: only 1C's number, dates, flags and status are applied."),
    )
    create_unknown_orders = models.BooleanField(
        _("Create orders 1C sends that the site does not know"), default=False,
        help_text=_("Orders entered in 1C (phone orders) appear on the site. Lines are matched to the site's "
                    "variants by the offer Ид (product#variant); unknown goods are kept as lines with their 1C "
                    "name and no variant link. Off: such orders are skipped with a warning."),
    )
    keep_days = models.PositiveSmallIntegerField(
        _("Keep exchange files and log, days"), default=14, validators=[MinValueValidator(1)],
        help_text=_("Older files and log rows are purged after the exchange."),
    )
    trust_forwarded_for = models.BooleanField(
        _("Behind a trusted proxy (use X-Forwarded-For)"), default=False,
        help_text=_("Take the client address from X-Forwarded-For. Only behind your own proxy: the header is "
                    "trivial to forge."),
    )
    session_hours = models.PositiveSmallIntegerField(
        _("Exchange session lifetime, hours"), default=12, validators=[MinValueValidator(1)],
    )
    zip_max_unpacked_mb = models.PositiveIntegerField(
        _("Largest unpacked archive, MB"), default=4096,
        help_text=_("Protects the disk from zip bombs."),
    )
    zip_max_members = models.PositiveIntegerField(_("Most files in an archive"), default=200000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("exchange settings")
        verbose_name_plural = _("exchange settings")
        permissions = [("exchange_with_1c", _("Can exchange data with 1C"))]

    def __str__(self):
        return str(_("Exchange settings"))

    def save(self, *args, **kwargs):
        self.pk = SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def get_solo(cls):
        """The settings row, created with defaults on first use.

        Read from the database every time (one primary-key lookup), never from a
        per-process cache: with several server processes, switching debug mode off or
        removing an allowed address must take effect in all of them at once.
        """
        obj, created = cls.objects.get_or_create(pk=SINGLETON_PK)
        if created:
            obj.set_default_statuses()
        return obj

    def set_default_statuses(self):
        """Settings 4 and 6 start as the statuses "new" and "accepted" (seed 000), when those exist."""
        from orders.models import OrderStatus

        by_code = {s.code: s for s in OrderStatus.objects.filter(code__in=["new", "accepted"])}
        changed = []
        if self.export_status_id is None and "new" in by_code:
            self.export_status = by_code["new"]
            changed.append("export_status")
        if self.status_after_export_id is None and "accepted" in by_code:
            self.status_after_export = by_code["accepted"]
            changed.append("status_after_export")
        if changed:
            self.save(update_fields=changed)
