"""The exchange protocol: one function per (type, mode), answering plain-text lines (PROTOCOL.md §1-4).

`handle(call, identity)` dispatches an authenticated call and returns a `Reply`;
`respond(call, reply)` turns a reply into the HTTP answer in the reply charset and writes
its exchange log row. Neither ever produces HTML. The catalog import itself lives in
exchange1c.importer.api; this module only decides when to call it and with what.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange1c import auth, files, locks
from exchange1c import log as exchange_log
from exchange1c.models import ExchangeRun, ExchangeSettings

logger = logging.getLogger(__name__)

#: CommerceML versions the reader understands; `init` echoes 1C's when it is one of them.
SUPPORTED_VERSIONS = ("2.03", "2.04", "2.05", "2.06", "2.07", "2.08", "2.09", "2.10", "3.1")
DEFAULT_VERSION = "2.08"
#: Part of the step time kept for writing the answer and the log.
STEP_MARGIN_SECONDS = 2.0


@dataclass
class Call:
    """One request of 1C, as the protocol sees it (nothing Django-specific but the request)."""

    request: object
    kind: str
    mode: str
    filename: str
    method: str
    cfg: ExchangeSettings
    started: float = field(default_factory=time.monotonic)
    started_at: object = field(default_factory=timezone.now)
    client_ip: str = ""

    @classmethod
    def from_request(cls, request) -> Call:
        cfg = ExchangeSettings.get_solo()
        return cls(
            request=request,
            kind=(request.GET.get("type") or "").strip().lower(),
            mode=(request.GET.get("mode") or "").strip().lower(),
            filename=request.GET.get("filename") or "",
            method=request.method or "",
            cfg=cfg,
            client_ip=auth.client_ip(request, trust_forwarded_for=cfg.trust_forwarded_for),
        )

    @property
    def deadline(self) -> float:
        """The moment (time.monotonic) by which this call must have its answer."""
        step = float(self.cfg.step_seconds)
        return self.started + max(1.0, step - min(STEP_MARGIN_SECONDS, step * 0.25))

    def budget(self) -> float:
        return max(0.5, self.deadline - time.monotonic())


@dataclass
class Reply:
    lines: list[str]
    http_status: int = 200
    cookie: tuple[str, str] | None = None
    challenge: bool = False
    run: ExchangeRun | None = None
    bytes_in: int = 0
    auth_failed: bool = False
    traceback: str = ""
    user: object | None = None
    identity: auth.Identity | None = None
    #: A ready body (the order exchange's XML and text answers) instead of `lines`;
    #: `lines` then only says what the log records.
    body: bytes | None = None
    content_type: str = ""
    #: A body streamed from an open file (the order query's XML), with its size.
    body_file: object | None = None
    body_size: int = 0


def failure(*reasons: str, **kwargs) -> Reply:
    return Reply(["failure", *[r for r in reasons if r]], **kwargs)


# --- dispatch --------------------------------------------------------------------------


def unknown_type(call: Call) -> Reply | None:
    """A `failure` naming the type when this site has no such exchange type (checked before auth)."""
    if call.kind in HANDLERS:
        return None
    return failure(_("Unknown exchange type type=%(type)s; this site knows: %(known)s.")
                   % {"type": call.kind or "—", "known": ", ".join(HANDLERS)})


ALLOWED_METHODS = ("GET", "POST")


def refused_request(call: Call) -> Reply | None:
    """A `failure` for requests 1C never makes: other HTTP methods, and requests a browser script sent.

    /exchange is exempt from CSRF because 1C sends no token; what protects it instead is
    auth. But an allow-listed address (setting 10), debug mode or credentials a browser has
    cached authenticate with no token either, so a page on any site could make a browser on
    the shop's network POST a catalog. 1C's HTTP client sends no Origin and no Sec-Fetch-*
    headers; browsers send them on every scripted request, and a CORS preflight is OPTIONS.
    A navigation the user typed (Sec-Fetch-Site: none) stays possible, for checking the URL.
    """
    if call.method not in ALLOWED_METHODS:
        return failure(_("HTTP method %(method)s is not used by the exchange: 1C sends GET and POST.")
                       % {"method": call.method}, http_status=405)
    headers = call.request.headers
    site = (headers.get("Sec-Fetch-Site") or "").lower()
    mode = (headers.get("Sec-Fetch-Mode") or "").lower()
    if headers.get("Origin") or site in ("cross-site", "same-site") or mode in ("cors", "no-cors", "websocket"):
        return failure(_("Requests sent by a web page are refused: only 1C talks to the exchange."),
                       http_status=403)
    return None


def handle(call: Call, identity: auth.Identity) -> Reply:
    """Answer an authenticated call; unknown types and modes get a `failure` that names them."""
    modes = HANDLERS.get(call.kind)
    if modes is None:
        reply = unknown_type(call)
    else:
        handler = modes.get(call.mode)
        if handler is None:
            if call.mode in LATER_MODES.get(call.kind, ()):
                reply = failure(_("type=%(type)s&mode=%(mode)s is not supported yet by this site.")
                                % {"type": call.kind, "mode": call.mode})
            else:
                reply = failure(_("Unknown mode mode=%(mode)s for type=%(type)s.")
                                % {"mode": call.mode or "—", "type": call.kind})
        else:
            reply = handler(call, identity)
    reply.identity = identity
    if call.mode != "checkauth":
        auth.touch(identity.session)
    return reply


def checkauth(call: Call, identity: auth.Identity) -> Reply:
    """success, cookie name, cookie value, sessid=, timestamp= (PROTOCOL.md §2)."""
    session = auth.open_session(identity, kind=call.kind, cfg=call.cfg)
    return Reply(
        ["success", auth.COOKIE_NAME, session.token, f"sessid={session.token}", f"timestamp={session.auth_timestamp}"],
        cookie=(auth.COOKIE_NAME, session.token),
    )


def _init_lines(call: Call, identity: auth.Identity, *, version: str | None = None) -> list[str]:
    lines = [f"zip={'yes' if call.cfg.use_zip else 'no'}", f"file_limit={call.cfg.file_limit}"]
    asked = (call.request.GET.get("version") or "").strip()
    if asked:
        if identity.session is not None:
            lines.append(f"sessid={identity.session.token}")
        lines.append(f"version={version or (asked if asked in SUPPORTED_VERSIONS else DEFAULT_VERSION)}")
    return lines


def sale_init(call: Call, identity: auth.Identity) -> Reply:
    """As catalog init; the package folder takes 1C's order-changes files (PROTOCOL.md §4.1)."""
    run = _start_package(call, identity) if _sale_handlers() is not None else None
    return Reply(_init_lines(call, identity, version=call.cfg.order_schema_version), run=run)


# --- catalog ---------------------------------------------------------------------------

LOCK_CATALOG = "catalog"


def _holder(identity: auth.Identity) -> str:
    if identity.session is not None:
        return identity.session.token
    return f"{identity.via}:{identity.client_ip}"


def _holder_label(identity: auth.Identity) -> str:
    who = identity.user.get_username() if identity.user else _("without login")
    return f"{who}, {identity.client_ip}"


def _take_lock(call: Call, identity: auth.Identity) -> Reply | None:
    busy = locks.acquire(LOCK_CATALOG, holder=_holder(identity), label=_holder_label(identity),
                         ttl=locks.ttl_for(call.cfg.step_seconds))
    if busy is None:
        return None
    since = timezone.localtime(busy.since).strftime("%Y-%m-%d %H:%M:%S")
    return failure(
        _("Another catalog exchange is in progress: %(holder)s, since %(since)s.") % {"holder": busy.label,
                                                                                     "since": since},
        _("Try again later; the lock is freed when that exchange completes or stops for %(seconds)s seconds.")
        % {"seconds": int(locks.ttl_for(call.cfg.step_seconds).total_seconds())},
    )


def current_run(identity: auth.Identity, kind: str) -> ExchangeRun | None:
    """The open run this caller's requests belong to (by session; by address without one)."""
    runs = ExchangeRun.objects.filter(kind=kind, status=ExchangeRun.Status.OPEN)
    if identity.session is not None:
        runs = runs.filter(session=identity.session)
    else:
        runs = runs.filter(session__isnull=True, client_ip=identity.client_ip or None)
    return runs.order_by("-started_at", "-pk").first()


def package_path(run: ExchangeRun) -> Path:
    return files.run_folder(run.package_folder)


def _start_package(call: Call, identity: auth.Identity) -> ExchangeRun:
    """`init`: continue this session's open run with a new, empty package folder, or start a run."""
    run = current_run(identity, call.kind)
    now = timezone.now()
    if run is None:
        run = ExchangeRun.objects.create(
            kind=call.kind, session=identity.session, user=identity.user, client_ip=identity.client_ip or None,
            started_at=now, updated_at=now, debug_mode=identity.debug_mode,
            auth_timestamp=identity.session.auth_timestamp if identity.session else None,
        )
        run.folder = f"{call.kind}/run-{run.pk:06d}"
    run.package += 1
    run.unpack_state = {}
    run.client_version = (call.request.GET.get("version") or "").strip()[:16]
    run.updated_at = now
    run.debug_mode = run.debug_mode or identity.debug_mode
    if identity.session is not None and identity.session.auth_timestamp:
        run.auth_timestamp = identity.session.auth_timestamp
    files.fresh_folder(package_path(run))
    run.save()
    return run


def catalog_init(call: Call, identity: auth.Identity) -> Reply:
    """zip=, file_limit= (+ sessid=, version=); opens a new package (PROTOCOL.md §3.2)."""
    busy = _take_lock(call, identity)
    if busy:
        return busy
    api = importer()
    # An apply an earlier exchange began is never abandoned: it is carried on here and in
    # this exchange's first import polls; init itself must still answer zip/file_limit.
    pending = api.finish_interrupted(budget_seconds=call.budget() / 2)
    if pending is not None:
        logger.info("init: continued an interrupted import: %s", " | ".join([pending.status, *pending.lines]))
    run = _start_package(call, identity)
    api.init_exchange(run=run)
    return Reply(_init_lines(call, identity), run=run)


def catalog_file(call: Call, identity: auth.Identity) -> Reply:
    """Append the POSTed body to the named file of the current package (PROTOCOL.md §3.3)."""
    return _store_upload(call, identity, take_lock=True)


def _store_upload(call: Call, identity: auth.Identity, *, take_lock: bool) -> Reply:
    run = current_run(identity, call.kind)
    if call.method != "POST":
        return failure(_("mode=file needs the file's bytes in a POST body."), run=run)
    try:
        files.safe_name(call.filename)
    except files.UnsafeName as exc:
        return failure(_("The file was not accepted: %(reason)s.") % {"reason": exc}, run=run)
    if run is None:
        return failure(_("No exchange was started: 1C must call mode=init before sending files."))
    busy = _take_lock(call, identity) if take_lock else None
    if busy:
        return busy
    try:
        target = files.resolve_inside(package_path(run), call.filename)
    except files.UnsafeName as exc:
        return failure(_("The file was not accepted: %(reason)s.") % {"reason": exc}, run=run)
    if target.is_dir():
        return failure(_("The file was not accepted: %(reason)s.") % {"reason": _("it names a folder")}, run=run)
    stream, content_length = body_stream(call.request)
    if stream is None:
        return failure(_("The file %(name)s was not saved: %(reason)s.") % {
            "name": call.filename, "reason": _("the request has no Content-Length")}, run=run)
    try:
        written = files.append_upload(
            target, stream, content_length=content_length,
            max_bytes=call.cfg.file_limit + files.BODY_SLACK,
        )
    except files.UploadError as exc:
        return failure(_("The file %(name)s was not saved: %(reason)s.") % {"name": call.filename, "reason": exc},
                       run=run, bytes_in=0)
    ExchangeRun.objects.filter(pk=run.pk).update(updated_at=timezone.now())
    return Reply(["success"], run=run, bytes_in=written)


def body_stream(request):
    """(readable, length) of the request body, never buffered in memory (request.body is never touched).

    With a Content-Length, Django's own limited stream. A chunked body has none: it is read
    from wsgi.input to its end where the server says that is safe (`wsgi.input_terminated`,
    set by gunicorn and mod_wsgi); elsewhere (None, None), so that it is refused rather than
    mistaken for an empty file.
    """
    meta = request.META
    raw_length = (meta.get("CONTENT_LENGTH") or "").strip()
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            return None, None
        # A negative length is no length at all: refused, not taken for an empty fragment.
        return (request, length) if length >= 0 else (None, None)
    if "chunked" in (meta.get("HTTP_TRANSFER_ENCODING") or "").lower():
        if meta.get("wsgi.input_terminated") and meta.get("wsgi.input") is not None:
            return meta["wsgi.input"], None
        return None, None
    return request, 0


def _note_failure(run: ExchangeRun, reason: str) -> None:
    reason = reason.replace("\x00", "\\x00")[:4000]
    ExchangeRun.objects.filter(pk=run.pk).update(error_count=F("error_count") + 1, last_error=reason)


def _unpack(call: Call, run: ExchangeRun, folder: Path) -> files.UnpackResult:
    """A step of unpacking the package's archives (name checks and caps); the state is kept on the run."""
    state = dict(run.unpack_state or {})
    unpacked = files.unpack_step(
        folder, state, deadline=call.deadline, max_bytes=call.cfg.zip_max_unpacked_mb * 1024 * 1024,
        max_members=call.cfg.zip_max_members,
    )
    ExchangeRun.objects.filter(pk=run.pk).update(unpack_state=state, updated_at=timezone.now())
    run.unpack_state = state
    return unpacked


def _unpacked_file(call: Call, run: ExchangeRun, folder: Path) -> tuple[Reply | None, Path | None]:
    """Unpack (a step), then the uploaded file `import` names: (a reply to answer instead, or the path).

    The path may not exist: the catalog refuses that, the order exchange answers it its own way.
    """
    unpacked = _unpack(call, run, folder)
    if unpacked.error:
        return failure(unpacked.error, run=run), None
    if not unpacked.done:
        return Reply(["progress", unpacked.message], run=run), None
    try:
        return None, files.resolve_inside(folder, call.filename)
    except files.UnsafeName as exc:
        return failure(_("The file %(name)s was not uploaded: %(reason)s.") % {"name": call.filename, "reason": exc},
                       run=run), None


def catalog_import(call: Call, identity: auth.Identity) -> Reply:
    """One poll: finish an interrupted apply, unpack, then a step of the named file (PROTOCOL.md §3.4)."""
    run = current_run(identity, call.kind)
    if run is None:
        return failure(_("No exchange was started: 1C must call mode=init and send the files before import."))
    busy = _take_lock(call, identity)
    if busy:
        return busy
    api = importer()
    pending = api.finish_interrupted(budget_seconds=call.budget())
    if pending is not None:
        if pending.status == "progress":
            return Reply(["progress", *pending.lines], run=run)
        # The earlier apply just ended; 1C asks again and gets its own file next time.
        return Reply(["progress", _("An interrupted import of an earlier exchange was finished."), *pending.lines],
                     run=run)
    folder = package_path(run)
    refusal, path = _unpacked_file(call, run, folder)
    if refusal is not None:
        return refusal
    if not path.is_file():
        return failure(_("The file %(name)s was not uploaded in this exchange.") % {"name": call.filename}, run=run)
    relative = path.relative_to(folder.resolve()).as_posix()
    answer = api.import_poll(run=run, folder=folder, filename=relative, budget_seconds=call.budget())
    return Reply([answer.status, *answer.lines], run=run)


def catalog_deactivate(call: Call, identity: auth.Identity) -> Reply:
    """Hide what this run's full uploads missed, once per run (PROTOCOL.md §3.5)."""
    run = current_run(identity, call.kind)
    if run is None:
        return Reply(["success", _("No exchange in progress: nothing to deactivate.")])
    busy = _take_lock(call, identity)
    if busy:
        return busy
    try:
        stamp = int(call.request.GET.get("timestamp") or 0) or None
    except ValueError:
        stamp = None
    ExchangeRun.objects.filter(pk=run.pk).update(deactivate_timestamp=stamp, updated_at=timezone.now())
    answer = importer().finalize_run(run=run, reason="deactivate")
    return Reply([answer.status, *answer.lines], run=run)


def catalog_complete(call: Call, identity: auth.Identity) -> Reply:
    """Finish the run: finalize (if deactivate did not), mark it done, free the lock."""
    run = current_run(identity, call.kind)
    if run is None:
        return Reply(["success", _("No exchange in progress: nothing to complete.")])
    answer = importer().finalize_run(run=run, reason="complete")
    if answer.status == "progress":
        return Reply([answer.status, *answer.lines], run=run)
    if answer.status == "failure":
        _note_failure(run, "\n".join(["complete", *answer.lines]))
    close_run(run)
    locks.release(LOCK_CATALOG, holder=_holder(identity))
    return Reply([answer.status, *answer.lines], run=run)


def close_run(run: ExchangeRun, *, reason: str = "") -> None:
    """Mark a run finished: failed when any of its requests failed, else completed."""
    with transaction.atomic():
        fresh = ExchangeRun.objects.select_for_update().get(pk=run.pk)
        if fresh.status != ExchangeRun.Status.OPEN:
            return
        failed = fresh.error_count > 0 or bool(reason)
        fresh.status = ExchangeRun.Status.FAILED if failed else ExchangeRun.Status.COMPLETED
        fresh.finished_at = timezone.now()
        if reason:
            fresh.last_error = (fresh.last_error + "\n" + reason).strip()[:4000]
        fresh.save(update_fields=["status", "finished_at", "last_error"])
    run.status = fresh.status


# --- sale (the order exchange's own code is exchange1c.sale.handlers) ----------------------


def _sale_handlers():
    """exchange1c.sale.handlers, or None while the order exchange is not part of the site."""
    if importlib.util.find_spec("exchange1c.sale.handlers") is None:
        return None
    return importlib.import_module("exchange1c.sale.handlers")


def _session_key(identity: auth.Identity) -> str:
    # `success` commits what the last `query` of the same session sent (PROTOCOL.md §4.3).
    return identity.session.token if identity.session is not None else f"{identity.via}:{identity.client_ip}"


def _sale_reply(body: bytes, content_type: str, *, run=None) -> Reply:
    if content_type.startswith("text/plain"):
        charset = content_type.partition("charset=")[2] or "utf-8"
        lines = body.decode(charset, errors="replace").rstrip("\n").split("\n")
    else:
        lines = ["success", f"{content_type}, {len(body)} B"]
    return Reply(lines, body=body, content_type=content_type, run=run)


def sale_exchange(call: Call, identity: auth.Identity) -> Reply:
    """query, success, info: answered by the order exchange as they are."""
    if call.mode == "query":
        from exchange1c.sale.query import sale_query_file

        fh, size, content_type = sale_query_file(session_key=_session_key(identity), settings=call.cfg)
        return Reply(["success", f"{content_type}, {size} B"], body_file=fh, body_size=size,
                     content_type=content_type)
    body, content_type = _sale_handlers().handle(call.mode, params=call.request.GET.dict(),
                                                 session_key=_session_key(identity), settings=call.cfg)
    return _sale_reply(body, content_type)


def _sale_documents(folder: Path, path: Path | None) -> list[Path | None]:
    """The order files an upload stands for: the XML files of a zip (already unpacked into
    `folder`, PROTOCOL.md §4.4 "a zip is accepted"), else the upload itself."""
    if path is None or not files.is_zip(path):
        return [path]
    with zipfile.ZipFile(path) as zf:
        names = [info.filename for info in zf.infolist() if not info.is_dir()]
    return [files.resolve_inside(folder, name) for name in names if name.casefold().endswith(".xml")]


def _sale_apply(call: Call, identity: auth.Identity, *, mode: str, run: ExchangeRun, folder: Path,
                path: Path | None, apply_now: bool = True) -> Reply:
    """Hands the upload (or each XML file of an uploaded zip) to the order exchange; one answer."""
    documents = _sale_documents(folder, path) if apply_now else [path]
    if not documents:
        return failure(_("The archive %(name)s holds no XML file.") % {"name": path.name}, run=run)
    answers = []
    for document in documents:
        body, content_type = _sale_handlers().handle(
            mode, params=call.request.GET.dict(), session_key=_session_key(identity), settings=call.cfg,
            upload_path=document, apply_now=apply_now,
        )
        answers.append(_sale_reply(body, content_type, run=run))
    if len(answers) == 1:
        return answers[0]
    status = "failure" if any(a.lines[0] != "success" for a in answers) else "success"
    lines = [status]
    for document, answer in zip(documents, answers, strict=True):
        lines += [f"{document.name}: {answer.lines[0]}", *answer.lines[1:]]
    body, content_type = _sale_handlers().text_answer(lines, call.cfg.reply_charset)
    return _sale_reply(body, content_type, run=run)


def sale_file(call: Call, identity: auth.Identity) -> Reply:
    """Store the order-changes file like a catalog upload; clients without version= get it applied now
    (a zip is unpacked first, as `import` would)."""
    stored = _store_upload(call, identity, take_lock=False)
    if stored.lines[0] != "success":
        return stored
    run = stored.run
    folder = package_path(run)
    target = files.resolve_inside(folder, call.filename)
    apply_now = not run.client_version
    if apply_now and files.is_zip(target):
        unpacked = _unpack(call, run, folder)
        if unpacked.error:
            return failure(unpacked.error, run=run, bytes_in=stored.bytes_in)
        if not unpacked.done:
            # No import poll follows for such a client: it has to be done in this call.
            return failure(_("The archive %(name)s could not be unpacked within the step time (%(message)s).")
                           % {"name": call.filename, "message": unpacked.message}, run=run, bytes_in=stored.bytes_in)
    reply = _sale_apply(call, identity, mode="file", run=run, folder=folder, path=target, apply_now=apply_now)
    reply.bytes_in = stored.bytes_in
    return reply


def sale_import(call: Call, identity: auth.Identity) -> Reply:
    run = current_run(identity, call.kind)
    if run is None:
        return failure(_("No exchange was started: 1C must call mode=init and send the files before import."))
    folder = package_path(run)
    refusal, path = _unpacked_file(call, run, folder)
    if refusal is not None:
        return refusal
    return _sale_apply(call, identity, mode="import", run=run, folder=folder, path=path if path.is_file() else None)


def importer():
    """The importer's API module (exchange1c.importer.api), imported when first needed."""
    from exchange1c.importer import api

    return api


HANDLERS = {
    "catalog": {
        "checkauth": checkauth,
        "init": catalog_init,
        "file": catalog_file,
        "import": catalog_import,
        "deactivate": catalog_deactivate,
        "complete": catalog_complete,
    },
    # Without exchange1c.sale the order exchange's other modes answer "not supported yet".
    "sale": {
        "checkauth": checkauth,
        "init": sale_init,
    },
}
LATER_MODES = {"sale": ("query", "success", "file", "import", "info", "complete")}
if _sale_handlers() is not None:
    HANDLERS["sale"].update({
        "query": sale_exchange, "success": sale_exchange, "info": sale_exchange,
        "file": sale_file, "import": sale_import,
    })


# --- the answer ------------------------------------------------------------------------


def plain_response(lines: list[str], *, charset: str, status: int = 200) -> HttpResponse:
    """Lines as 1C reads them: `\\n`-separated, in `charset` (what cannot be encoded becomes '?')."""
    body = ("\n".join(lines) + "\n").encode(charset, errors="replace")
    response = HttpResponse(body, status=status, content_type=f"text/plain; charset={charset}")
    response["Cache-Control"] = "no-store"
    return response


def internal_error(call: Call, traceback_text: str) -> Reply:
    """An unexpected exception: the answer names the log entry that keeps the traceback."""
    return Reply(["failure", _("Internal site error, see the exchange log (%(id)s)")], traceback=traceback_text)


def respond(call: Call, reply: Reply) -> HttpResponse:
    """The HTTP answer for `reply`, with its log row written (the only place that logs a call)."""
    identity = reply.identity
    user = reply.user or (identity.user if identity else None)
    entry_kwargs = {
        "kind": call.kind, "mode": call.mode, "method": call.method, "filename": call.filename,
        "http_status": reply.http_status, "user": user, "client_ip": call.client_ip,
        "bytes_in": reply.bytes_in, "debug_mode": bool(identity and identity.debug_mode) or call.cfg.debug_mode,
        "auth_failed": reply.auth_failed, "traceback": reply.traceback, "run": reply.run,
        "started_at": call.started_at,
    }
    charset = call.cfg.reply_charset
    if reply.run is not None and reply.lines[0] == "failure" and call.mode != "complete":
        # Any failure inside a run makes the exchange a failed one (one e-mail, setting 8).
        reason = reply.traceback.strip().splitlines()[-1] if reply.traceback else "\n".join(reply.lines[1:])
        _note_failure(reply.run, f"{call.mode} {call.filename}: {reason}".strip())
    if reply.traceback:
        entry = exchange_log.write(lines=reply.lines, duration_ms=(time.monotonic() - call.started) * 1000,
                                   **entry_kwargs)
        lines = [reply.lines[0], *[line % {"id": entry.pk} for line in reply.lines[1:]]]
        response = plain_response(lines, charset=charset, status=reply.http_status)
        exchange_log.set_bytes_out(entry, len(response.content))
    else:
        if reply.body_file is not None:
            # Streamed: the order query of 10k orders is tens of MB (memory stays flat).
            response = FileResponse(reply.body_file, status=reply.http_status, content_type=reply.content_type)
            response["Content-Length"] = str(reply.body_size)
            response["Cache-Control"] = "no-store"
            bytes_out = reply.body_size
        elif reply.body is not None:
            response = HttpResponse(reply.body, status=reply.http_status, content_type=reply.content_type)
            response["Cache-Control"] = "no-store"
            bytes_out = len(response.content)
        else:
            response = plain_response(reply.lines, charset=charset, status=reply.http_status)
            bytes_out = len(response.content)
        exchange_log.write(lines=reply.lines, duration_ms=(time.monotonic() - call.started) * 1000,
                           bytes_out=bytes_out, **entry_kwargs)
    if reply.cookie:
        name, value = reply.cookie
        response.set_cookie(name, value, max_age=call.cfg.session_hours * 3600, httponly=True, samesite="Lax",
                            secure=call.request.is_secure())
    if reply.challenge:
        response["WWW-Authenticate"] = 'Basic realm="1C exchange", charset="UTF-8"'
    return response
