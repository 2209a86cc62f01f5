"""One e-mail per failed exchange (setting 8), sent after the exchange, never inside a poll."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from exchange1c.models import ExchangeLog, ExchangeRun, ExchangeSettings

logger = logging.getLogger(__name__)


def recipients(cfg) -> list[str]:
    return [a.strip() for a in (cfg.error_email or "").replace(";", ",").split(",") if a.strip()]


def send_failed_run_emails() -> int:
    """E-mail each failed exchange not reported yet; returns how many messages went out."""
    cfg = ExchangeSettings.get_solo()
    to = recipients(cfg)
    pending = ExchangeRun.objects.filter(status=ExchangeRun.Status.FAILED, error_emailed_at__isnull=True)
    if not to:
        return 0
    sent = 0
    with override(settings.LANGUAGE_CODE):
        for run in pending.order_by("pk"):
            first_failure = (ExchangeLog.objects.filter(run=run, status=ExchangeLog.Status.FAILURE)
                             .order_by("started_at", "pk").first())
            site = settings.SITE_URL.rstrip("/")
            link = site + reverse("admin:exchange1c_exchangerun_change", args=[run.pk])
            if first_failure:
                link_log = site + reverse("admin:exchange1c_exchangelog_change", args=[first_failure.pk])
            else:
                link_log = site + reverse("admin:exchange1c_exchangelog_changelist") + f"?run__id__exact={run.pk}"
            subject = _("[%(shop)s] 1C exchange #%(id)s failed") % {"shop": settings.SHOP_NAME, "id": run.pk}
            body = "\n".join([
                _("The exchange with 1C that started %(started)s from %(ip)s failed.")
                % {"started": timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M"), "ip": run.client_ip},
                "",
                _("Errors: %(count)s. Last error:") % {"count": run.error_count},
                run.last_error or "—",
                "",
                _("Exchange: %(link)s") % {"link": link},
                _("Log entry: %(link)s") % {"link": link_log},
            ])
            # Marked first: a mail server that fails after accepting must not make us send twice.
            if not ExchangeRun.objects.filter(pk=run.pk, error_emailed_at__isnull=True).update(
                    error_emailed_at=timezone.now()):
                continue
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
            except OSError:
                logger.exception("could not send the error e-mail of exchange %s", run.pk)
                ExchangeRun.objects.filter(pk=run.pk).update(error_emailed_at=None)
                continue
            sent += 1
    return sent
