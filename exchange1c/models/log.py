"""The exchange log: one row per request to /exchange, written only by exchange1c.log."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ExchangeLog"]


class ExchangeLog(models.Model):
    """One request of 1C (PROTOCOL.md §5): what was asked, what was answered, how long it took."""

    class Status(models.TextChoices):
        SUCCESS = "success", "success"
        PROGRESS = "progress", "progress"
        FAILURE = "failure", "failure"

    started_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("login"), max_length=150, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    kind = models.CharField(_("type"), max_length=32, blank=True, db_index=True)
    mode = models.CharField(_("mode"), max_length=32, blank=True, db_index=True)
    method = models.CharField(_("method"), max_length=8, blank=True)
    filename = models.CharField(_("file"), max_length=500, blank=True)
    status = models.CharField(_("answer"), max_length=16, choices=Status.choices, db_index=True)
    answer = models.TextField(_("answer text"), blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), default=200)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    bytes_in = models.BigIntegerField(_("bytes received"), default=0)
    bytes_out = models.BigIntegerField(_("bytes sent"), default=0)
    debug_mode = models.BooleanField(_("debug mode was on"), default=False)
    #: A wrong login or password from this address; counted for the rate limit.
    auth_failed = models.BooleanField(_("failed login"), default=False)
    traceback = models.TextField(_("traceback"), blank=True)
    run = models.ForeignKey(
        "exchange1c.ExchangeRun", verbose_name=_("exchange"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="log_entries",
    )

    class Meta:
        verbose_name = _("exchange log entry")
        verbose_name_plural = _("exchange log")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["client_ip", "auth_failed", "started_at"], name="exchangelog_auth_failures")]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.mode} {self.status}"
