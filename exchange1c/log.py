"""The one write path of the exchange log (like django.contrib.admin's LogEntry).

Never put passwords, cookies or Authorization headers in here (STYLE.md 13).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from exchange1c.models import ExchangeLog

logger = logging.getLogger(__name__)

ANSWER_MAX_CHARS = 2000


def write(
    *,
    kind: str = "",
    mode: str = "",
    method: str = "",
    filename: str = "",
    lines: list[str] | None = None,
    http_status: int = 200,
    user=None,
    client_ip: str | None = None,
    duration_ms: int = 0,
    bytes_in: int = 0,
    bytes_out: int = 0,
    debug_mode: bool = False,
    auth_failed: bool = False,
    traceback: str = "",
    run=None,
    started_at=None,
) -> ExchangeLog:
    """Record one exchange request and return the saved row.

    `lines` is the answer as sent; `status` is its first line when that is failure or
    progress, else success (init answers `zip=...`, which is a success). The text is kept up
    to ANSWER_MAX_CHARS characters.
    """
    lines = lines or ["failure"]
    status = lines[0] if lines[0] in (ExchangeLog.Status.FAILURE, ExchangeLog.Status.PROGRESS) else "success"
    user = user if getattr(user, "pk", None) else None
    entry = ExchangeLog.objects.create(
        started_at=started_at or timezone.now(),
        user=user,
        username=user.get_username() if user else "",
        client_ip=client_ip or None,
        kind=_text(kind, 32),
        mode=_text(mode, 32),
        method=_text(method, 8),
        filename=_text(filename, 500),
        status=status,
        answer=_text("\n".join(redacted(lines, mode=mode)), ANSWER_MAX_CHARS),
        http_status=http_status,
        duration_ms=max(0, int(duration_ms)),
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        debug_mode=debug_mode,
        auth_failed=auth_failed,
        traceback=_text(traceback, 100_000),
        run=run,
    )
    if status == "failure":
        logger.info("exchange %s %s %s from %s: %s", kind, mode, filename, client_ip, " | ".join(lines[1:3]))
    return entry


def redacted(lines: list[str], *, mode: str) -> list[str]:
    """The answer without the live session token (checkauth's cookie value, `sessid=` lines).

    Whoever reads the log must not be able to continue 1C's exchange session with it.
    """
    out = [("sessid=…" if line.startswith("sessid=") else line) for line in lines]
    if mode == "checkauth" and out and out[0] == "success" and len(out) > 2:
        out[2] = "…"
    return out


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; 1C's (or an attacker's) file names can.
    return (value or "").replace("\x00", "\\x00")[:limit]


def set_bytes_out(entry: ExchangeLog, bytes_out: int) -> None:
    """Fill in the size of an answer that could only be built once its log row existed."""
    ExchangeLog.objects.filter(pk=entry.pk).update(bytes_out=bytes_out)


def failed_logins(client_ip: str | None, *, minutes: int) -> int:
    """How many wrong logins came from this address in the last `minutes` (rate limit)."""
    if not client_ip:
        return 0
    since = timezone.now() - timedelta(minutes=minutes)
    return ExchangeLog.objects.filter(client_ip=client_ip, auth_failed=True, started_at__gte=since).count()


def purge(*, older_than) -> int:
    """Delete log rows older than the given moment; returns how many went."""
    deleted, _details = ExchangeLog.objects.filter(started_at__lt=older_than).delete()
    return deleted
