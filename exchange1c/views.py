"""The one exchange view: authenticate, let the protocol answer, never an HTML page (PROTOCOL.md §1)."""

import logging
import traceback

from django.conf import settings
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from exchange1c import auth, protocol

logger = logging.getLogger(__name__)


@csrf_exempt
def exchange(request):
    """/exchange, /exchange/ and /bitrix/admin/1c_exchange.php, every type and mode."""
    # Failure texts are for the 1C operator: the admin's language, not 1C's Accept-Language.
    with translation.override(settings.LANGUAGE_CODE):
        call = protocol.Call.from_request(request)
        try:
            reply = protocol.unknown_type(call) or protocol.refused_request(call)
            if reply is None:
                identity = auth.authenticate(request, kind=call.kind, mode=call.mode, cfg=call.cfg)
                reply = protocol.handle(call, identity)
        except auth.Denied as denied:
            reply = protocol.failure(*denied.lines, http_status=denied.http_status, challenge=denied.challenge,
                                     auth_failed=denied.auth_failed, user=denied.user)
        except Exception:  # noqa: BLE001 - 1C must get a failure line, the log keeps the traceback
            logger.exception("exchange %s %s failed", call.kind, call.mode)
            reply = protocol.internal_error(call, traceback.format_exc())
        return protocol.respond(call, reply)
