"""1C's side of an exchange as the site remembers it: sessions, runs and the exchange lock.

An `ExchangeSession` is what the checkauth cookie points at (PROTOCOL.md §2). An
`ExchangeRun` is one exchange of one kind: it starts at `init`, owns the upload folder of
that exchange and ends at `complete` (or is abandoned). An `ExchangeLock` row makes one
catalog exchange at a time hold across processes (exchange1c.locks).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ExchangeLock", "ExchangeRun", "ExchangeSession"]


class ExchangeKind(models.TextChoices):
    CATALOG = "catalog", _("catalog")
    SALE = "sale", _("orders")


class ExchangeSession(models.Model):
    """A server-side exchange session behind the checkauth cookie; expires per setting."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=ExchangeKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    #: How the session was let in: "password", "address" (allow-list) or "debug".
    via = models.CharField(_("let in by"), max_length=16, default="password")
    #: The unix time checkauth answered (`timestamp=`); 1C echoes it on deactivate.
    auth_timestamp = models.BigIntegerField(_("checkauth timestamp"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    last_seen_at = models.DateTimeField(_("last request"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange session")
        verbose_name_plural = _("exchange sessions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.user or self.client_ip} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


class ExchangeRun(models.Model):
    """One exchange: from `init` to `complete`.

    `folder` is relative to EXCHANGE_ROOT (e.g. "catalog/run-000042"); each `init` of the
    run opens a fresh package folder `<folder>/p<package>` that 1C's uploads land in, so a
    second package never appends to the first one's files. The importer's jobs point here.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("in progress")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("type"), max_length=16, choices=ExchangeKind.choices)
    session = models.ForeignKey(
        ExchangeSession, verbose_name=_("session"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="runs",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("last request"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    folder = models.CharField(_("folder"), max_length=255, blank=True)
    package = models.PositiveIntegerField(_("packages"), default=0)
    #: Per archive of the current package: {"name": {"size": n, "next": i, "done": bool}}.
    unpack_state = models.JSONField(_("archive unpacking"), default=dict, blank=True)
    auth_timestamp = models.BigIntegerField(_("checkauth timestamp"), null=True, blank=True)
    #: `version=` of the last init ("" when 1C sent none: plain UT 11, 1C 7.7).
    client_version = models.CharField(_("1C's schema version"), max_length=16, blank=True)
    deactivate_timestamp = models.BigIntegerField(_("deactivate timestamp"), null=True, blank=True)
    debug_mode = models.BooleanField(_("debug mode"), default=False)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    error_emailed_at = models.DateTimeField(_("error e-mail sent"), null=True, blank=True)
    files_purged_at = models.DateTimeField(_("files purged"), null=True, blank=True)

    class Meta:
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "status"], name="exchangerun_kind_status")]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def package_folder(self) -> str:
        """The current package folder, relative to EXCHANGE_ROOT ("" before the first init)."""
        return f"{self.folder}/p{self.package}" if self.folder and self.package else ""


class ExchangeLock(models.Model):
    """Who holds the exchange of one kind right now (one row per kind).

    Taken and refreshed only by conditional UPDATE/INSERT in exchange1c.locks, so two
    processes cannot both win; a holder silent for three step times loses it.
    """

    name = models.CharField(_("name"), max_length=32, unique=True)
    holder = models.CharField(_("holder session"), max_length=64)
    holder_label = models.CharField(_("holder"), max_length=255, blank=True)
    since = models.DateTimeField(_("since"))
    last_seen = models.DateTimeField(_("last request"))

    class Meta:
        verbose_name = _("exchange lock")
        verbose_name_plural = _("exchange locks")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}: {self.holder_label}"
