"""The order exchange's entry point for the protocol dispatch (`type=sale`, PROTOCOL.md §4).

    body, content_type = handle(mode, params=request.GET.dict(), session_key=session.token,
                                settings=ExchangeSettings.get_solo(), upload_path=path_or_None)

Modes handled here: `query` (XML), `success`, `info` (XML), `import` (apply the uploaded
file at `upload_path`), and `file` with `apply_now=True` for clients whose `init` carried no
`version=` (they expect the file applied in the `file` request itself; the protocol has
already appended the body to `upload_path` and checked its name). `checkauth`, `init` and the
plain upload of `file` are the protocol's. Text answers are encoded in `settings.reply_charset`.
Unknown modes raise `KeyError`; the protocol turns exceptions into `failure` (§1).
Applying is idempotent, so an `import` after the `file` call already applied answers
`success` again and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from exchange1c.sale.apply import sale_apply_file
from exchange1c.sale.commit import sale_success
from exchange1c.sale.info import sale_info
from exchange1c.sale.query import sale_query

__all__ = ["MODES", "handle", "text_answer"]

MODES = ("query", "success", "info", "file", "import")


def text_answer(lines: list[str], charset: str) -> tuple[bytes, str]:
    """Plain-text protocol lines, encoded for 1C (characters the charset lacks become "?")."""
    body = "\n".join(lines) + "\n"
    return body.encode(charset, errors="replace"), f"text/plain; charset={charset}"


def handle(mode: str, *, params: dict, session_key: str, settings, upload_path: Path | None = None,
           apply_now: bool = True) -> tuple[bytes, str]:
    """Runs one `type=sale` mode; returns (body, Content-Type). See the module doc."""
    charset = settings.reply_charset
    if mode == "query":
        return sale_query(session_key=session_key, settings=settings)
    if mode == "success":
        return text_answer(sale_success(session_key=session_key, settings=settings), charset)
    if mode == "info":
        return sale_info(settings=settings)
    if mode in ("file", "import"):
        if mode == "file" and not apply_now:
            return text_answer(["success"], charset)
        if upload_path is None or not Path(upload_path).is_file():
            return text_answer(["failure", _("No uploaded order file “%(name)s” in this exchange.")
                                % {"name": params.get("filename", "")}], charset)
        status, lines = sale_apply_file(path=Path(upload_path), settings=settings)
        return text_answer([status, *lines], charset)
    raise KeyError(mode)
