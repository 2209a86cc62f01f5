"""Django's own errors on exchange paths come out as 1C `failure` lines, never HTML (PROTOCOL.md §1).

This middleware is first in MIDDLEWARE. Django turns an exception raised in any later
middleware or view into an HTML error response before it reaches us, so: the host check
(DisallowedHost, raised lazily by request.get_host(), which CommonMiddleware calls) is done
here first, and any non-plain-text error response for an exchange path (400 for
SuspiciousOperation / RequestDataTooBig, 403, 404, 500) is replaced by a failure answer.
"""

import logging
import re
import time

from django.conf import settings
from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
EXCHANGE_PATH = re.compile(r"^/(?:exchange(?:/.*)?|bitrix/admin/1c_exchange\.php)$")


def is_exchange_path(path: str) -> bool:
    return bool(EXCHANGE_PATH.match(path or ""))


class ExchangePlainTextErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_exchange_path(request.path_info):
            return self.get_response(request)
        started = time.monotonic()
        try:
            request.get_host()
        except DisallowedHost:
            host = request.META.get("HTTP_HOST", "")
            return self._failure(request, started, 200, [
                _("The site does not answer to the host name %(host)s (ALLOWED_HOSTS).") % {"host": host[:200]},
                _("Use the site's own address in the 1C exchange node or add the name to ALLOWED_HOSTS."),
            ])
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("text/plain"):
            return self._failure(request, started, 200, [
                _("The site answered HTTP %(status)s to this exchange request.") % {"status": response.status_code},
            ], http_status=response.status_code)
        return response

    def _failure(self, request, started, status, reasons, *, http_status=None):
        # Imported here: middleware is loaded before the apps' models are ready.
        from exchange1c import log as exchange_log
        from exchange1c import protocol
        from exchange1c.auth import client_ip
        from exchange1c.models import ExchangeSettings

        with translation.override(settings.LANGUAGE_CODE):
            lines = ["failure", *[str(r) for r in reasons]]
            try:
                cfg = ExchangeSettings.get_solo()
            except DatabaseError:
                # The database itself is what failed: still a failure line, in the default charset.
                return protocol.plain_response(lines, charset=ExchangeSettings.Charset.CP1251, status=status)
            response = protocol.plain_response(lines, charset=cfg.reply_charset, status=status)
            params = _params(request)
            try:
                exchange_log.write(
                    kind=params.get("type", ""), mode=params.get("mode", ""), method=request.method or "",
                    filename=params.get("filename", ""), lines=lines, http_status=http_status or status,
                    client_ip=client_ip(request, trust_forwarded_for=cfg.trust_forwarded_for),
                    duration_ms=(time.monotonic() - started) * 1000, bytes_out=len(response.content),
                    debug_mode=cfg.debug_mode,
                )
            except DatabaseError:
                logger.exception("could not log a refused exchange request")
        return response


def _params(request):
    """The query parameters, or none when the query itself is what Django refused."""
    try:
        return request.GET
    except SuspiciousOperation:
        return {}
