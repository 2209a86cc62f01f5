"""Exchange folders on disk: untrusted names, appended uploads, lazy zip unpacking, purging.

Everything 1C names is untrusted (PROTOCOL.md §3.3): a name is normalised and checked
before any byte is written, and every path is resolved and proved to stay inside its folder.
The folders live under settings.EXCHANGE_ROOT, which is outside MEDIA_ROOT and STATIC_ROOT,
so nothing 1C uploads is ever served by the web server.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

CHUNK = 256 * 1024
#: 1C never sends more than file_limit in one body; this much more is tolerated (headers of
#: a multipart-happy proxy, a limit lowered between init and file) before a body is refused.
BODY_SLACK = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Unicode format and separator characters (bidi overrides, zero-width joiners, line and
#: paragraph separators): a name like "a/\u202egpj.exe" would show in the admin as
#: "a/exe.jpg". No 1C file name needs them.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Cc", "Cs", "Co", "Cn"})
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeName(ValueError):
    """A file name 1C sent that may not be written or read; str() is the operator's text."""


class UploadError(Exception):
    """An upload that could not be stored; nothing of it is left on disk."""


def root() -> Path:
    return Path(settings.EXCHANGE_ROOT)


def safe_name(name: str) -> PurePosixPath:
    """`name` as a relative POSIX path, or UnsafeName.

    Backslashes count as separators (1C on Windows); absolute paths, drive letters, `..`,
    NUL and control characters are refused, never "cleaned" into something else.
    """
    if name is None or not name.strip():
        raise UnsafeName(_("no file name given"))
    if _CONTROL.search(name) or any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in name):
        raise UnsafeName(_("file name %(name)r contains control characters") % {"name": name})
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        raise UnsafeName(_("file name %(name)r is an absolute path") % {"name": name})
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if not parts:
        raise UnsafeName(_("no file name given"))
    if any(p == ".." for p in parts):
        raise UnsafeName(_("file name %(name)r leaves the exchange folder") % {"name": name})
    if any(len(p.encode("utf-8")) > 255 for p in parts) or len(parts) > 32:
        raise UnsafeName(_("file name %(name)r is too long") % {"name": name})
    return PurePosixPath(*parts)


def resolve_inside(folder: Path, name: str) -> Path:
    """The path of `name` inside `folder`, proved not to leave it (also through symlinks)."""
    relative = safe_name(name)
    base = folder.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise UnsafeName(_("file name %(name)r leaves the exchange folder") % {"name": name})
    return target


def run_folder(relative: str) -> Path:
    """An exchange folder given relative to EXCHANGE_ROOT, checked to stay under it."""
    base = root().resolve()
    path = (base / relative).resolve()
    if base not in path.parents:
        raise UnsafeName(_("folder %(name)r is outside the exchange root") % {"name": relative})
    return path


def fresh_folder(path: Path) -> Path:
    """Create `path` empty: a leftover of a crashed exchange must never leak into the next."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def append_upload(target: Path, stream, *, content_length: int | None, max_bytes: int) -> int:
    """Append the body read from `stream` to `target`; return the bytes written.

    The body is read in chunks (never held in memory). On any failure (a body larger than
    `max_bytes`, a short body, a full disk) the file is cut back to its previous size, or
    removed if it did not exist, and UploadError says why: no half fragment stays behind.
    """
    if content_length is not None and content_length > max_bytes:
        raise UploadError(
            _("the piece is %(size)s bytes, more than the limit of %(limit)s bytes (setting 2)")
            % {"size": content_length, "limit": max_bytes}
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # e.g. "a/b" was uploaded as a file and now "a/b/c" wants it as a folder.
        raise UploadError(_("the file could not be written (%(error)s); nothing of this piece was kept")
                          % {"error": exc.strerror or exc}) from exc
    if target.is_dir():
        raise UploadError(_("the file could not be written (%(error)s); nothing of this piece was kept")
                          % {"error": "is a folder"})
    existed = target.exists()
    previous = target.stat().st_size if existed else 0
    written = 0
    try:
        if existed:
            _unshare(target)
        with open(target, "ab") as out:
            remaining = content_length
            while remaining is None or remaining > 0:
                chunk = stream.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    break
                written += len(chunk)
                if written > max_bytes:
                    raise UploadError(
                        _("the piece is larger than the limit of %(limit)s bytes (setting 2)") % {"limit": max_bytes}
                    )
                out.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
            if remaining:
                raise UploadError(_("the connection broke off: %(got)s of %(size)s bytes arrived")
                                  % {"got": written, "size": content_length})
            out.flush()
            os.fsync(out.fileno())
    except (OSError, UploadError) as exc:
        _roll_back(target, existed, previous)
        if isinstance(exc, UploadError):
            raise
        if exc.errno == errno.ENOSPC:
            raise UploadError(_("the site's disk is full; nothing of this piece was kept")) from exc
        raise UploadError(_("the file could not be written (%(error)s); nothing of this piece was kept")
                          % {"error": exc.strerror or exc}) from exc
    return written


def _unshare(target: Path) -> None:
    """Give `target` an inode of its own when an import job holds a hard link to it.

    Appending in place would change the job's file under it (importer.pipeline links rather
    than copies the files it imports); a copy renamed over the name leaves the job's intact.
    """
    if target.stat().st_nlink < 2:
        return
    partial = target.with_name(target.name + ".unsharing")
    try:
        shutil.copyfile(target, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _roll_back(target: Path, existed: bool, previous: int) -> None:
    try:
        if existed:
            os.truncate(target, previous)
        else:
            target.unlink(missing_ok=True)
    except OSError:
        pass


# --- zip -----------------------------------------------------------------------------------

ZIP_STATE_DONE = "done"
#: The key of the unpack state listing the top-level files archives produced.
UNPACKED_KEY = "_unpacked"


@dataclass
class UnpackResult:
    done: bool
    message: str = ""
    error: str = ""


def is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04" and zipfile.is_zipfile(path)
    except OSError:
        return False


def archives_in(folder: Path) -> list[Path]:
    """Uploaded archives in the top of a package folder (1C names them freely: sniff bytes)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and is_zip(p))


def unpack_step(folder: Path, state: dict, *, deadline: float, max_bytes: int, max_members: int) -> UnpackResult:
    """Unpack the archives of `folder` until done or `deadline` (time.monotonic()).

    `state` is kept by the caller in the database between polls:
    {archive name: {"size": bytes, "next": member index, "done": bool}}; an archive that
    grew (another fragment arrived) starts over. Every member name is checked like an
    upload name, and the declared sizes and member count are capped before anything is
    written (zipfile stops reading a member at its declared size, so a bomb cannot lie).
    """
    # Only what 1C uploaded is unpacked: an archive that came out of an archive is a file
    # like any other, or a nested zip bomb would multiply past the size cap at every level.
    # The cap counts all archives of the package together, for the same reason.
    unpacked_members = set(state.get(UNPACKED_KEY, []))
    archives = [a for a in archives_in(folder) if a.name not in unpacked_members]
    for archive in archives:
        size = archive.stat().st_size
        entry = state.get(archive.name)
        if entry and entry.get("size") == size and entry.get("done"):
            continue
        if not entry or entry.get("size") != size:
            entry = {"size": size, "next": 0, "done": False}
            state[archive.name] = entry
        try:
            with zipfile.ZipFile(archive) as zf:
                members = zf.infolist()
                if entry["next"] == 0:
                    spent = sum(e.get("bytes", 0) for name, e in state.items()
                                if name != archive.name and isinstance(e, dict))
                    problem = check_members(folder, archive.name, members, max_bytes=max_bytes - spent,
                                            max_members=max_members, limit_bytes=max_bytes)
                    if problem:
                        state.pop(archive.name, None)
                        return UnpackResult(done=False, error=problem)
                    entry["bytes"] = sum(info.file_size for info in members)
                    top_level = [info.filename for info in members if "/" not in info.filename.strip("/")]
                    state[UNPACKED_KEY] = sorted(unpacked_members | set(top_level))
                total = len(members)
                while entry["next"] < total:
                    info = members[entry["next"]]
                    _extract(zf, info, folder)
                    entry["next"] += 1
                    if time.monotonic() >= deadline and entry["next"] < total:
                        return UnpackResult(done=False, message=_(
                            "unpacking %(archive)s: %(done)s of %(total)s files (%(percent)s%%)") % {
                            "archive": archive.name, "done": entry["next"], "total": total,
                            "percent": entry["next"] * 100 // total})
                entry["done"] = True
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            state.pop(archive.name, None)
            return UnpackResult(done=False, error=_("archive %(archive)s cannot be unpacked: %(error)s")
                                % {"archive": archive.name, "error": exc})
        except OSError as exc:
            state.pop(archive.name, None)
            return UnpackResult(done=False, error=_("archive %(archive)s cannot be unpacked: %(error)s")
                                % {"archive": archive.name, "error": exc.strerror or exc})
    return UnpackResult(done=True)


def check_members(folder: Path, archive: str, members, *, max_bytes: int, max_members: int,
                  limit_bytes: int | None = None) -> str:
    """Why the archive may not be unpacked ("" when it may).

    `max_bytes` is what this archive may still unpack to; `limit_bytes` the package's whole
    cap, named in the message.
    """
    if len(members) > max_members:
        return _("archive %(archive)s holds %(count)s files, more than the limit of %(limit)s") % {
            "archive": archive, "count": len(members), "limit": max_members}
    total = 0
    for info in members:
        try:
            resolve_inside(folder, info.filename)
        except UnsafeName as exc:
            return _("archive %(archive)s: %(error)s") % {"archive": archive, "error": exc}
        total += info.file_size
        if total > max_bytes:
            return _("archive %(archive)s unpacks to more than %(limit)s MB (setting: largest unpacked archive)") % {
                "archive": archive, "limit": (limit_bytes or max_bytes) // (1024 * 1024)}
    return ""


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path) -> None:
    target = resolve_inside(folder, info.filename)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".unpacking")
    with zf.open(info) as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    os.replace(partial, target)


# --- keeping and purging -----------------------------------------------------------------


def files_of(folder: Path) -> list[Path]:
    """Every file under an exchange folder, sorted, for the admin's download list."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
