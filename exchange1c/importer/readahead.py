"""Reading a package's next files in a second process while the current one imports.

1C uploads every file of a package before it asks to import the first, then imports them one
after another (PROTOCOL.md §3.3-3.4). Reading and checking a file (stage 1) is Python on one
CPU with the database idle, and the second file's turn comes only after the first is applied.
So when a poll starts a file of a package, the package's other large XML files are read by a
child process (`python -m exchange1c.importer.readahead`), one at a time, into staged frames
(staging.py) with every product's and offer's digest, beside a summary (`.meta`). When 1C asks
for such a file, its stage 1 takes the frames instead of parsing the file; it still screens
them against the catalog as the earlier files left it, stores their pictures and stages them.

Nothing read ahead is trusted blindly: the summary names the file's size and modification time,
and a job uses it only when they are still the job's; digests made with another brand setting
are made again. The child only reads: it never sets Django up (the reader and the digests need
none, and it starts in a tenth of a second instead of a third), opens no database connection and
writes only in its own folder under the jobs root, whose names it derives from the file's path.

Who reads a file is settled by a claim file created exclusively: `reader <pid>` (the child,
which touches it every second while reading) or `job <pk>` (a job reading the file itself,
which the child then leaves alone). A job that finds a live reader's claim waits for its
summary; a reader's claim not touched for `CLAIM_STALE_SECONDS` is a dead reader's and is taken over.
"""

import hashlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from exchange1c.commerceml.reader import CommerceMLReader
from exchange1c.commerceml.records import CommerceMLError, OfferRecord, ProductRecord
from exchange1c.importer import collector, staging
from exchange1c.importer.digests import record_hash

logger = logging.getLogger(__name__)

CLAIM_STALE_SECONDS = 10.0
BEAT_SECONDS = 1.0
#: Leftovers of readers that died mid-file are swept after this long.
PART_STALE_SECONDS = 3600.0

_lock = threading.Lock()
_children: list[subprocess.Popen] = []


@dataclass(frozen=True)
class _Names:
    claim: Path
    records: Path
    meta: Path


def _names(root: Path, source: Path) -> _Names:
    key = hashlib.blake2b(os.fsencode(os.path.abspath(source)), digest_size=16).hexdigest()
    root = Path(root)
    return _Names(root / f"{key}.claim", root / f"{key}.records", root / f"{key}.meta")


def fingerprint(path: Path) -> str:
    """What tells one upload of a file from another: its size and modification time ("" when it is gone).

    Here rather than in pipeline.py, which uses it too, because the reader process imports no Django."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def min_bytes() -> int:
    """Files smaller than this are not worth a process (0: reading ahead is off)."""
    return max(0, int(getattr(settings, "EXCHANGE_READ_AHEAD_BYTES", 0) or 0))


# --- the importing process's side --------------------------------------------------------------


def start(*, root: Path, folder: Path, current: str, imported, brand_key: str) -> bool:
    """Start a reader for `folder`'s other large XML files, unless this process has one running.

    `current` is the file being imported now and `imported` the names that already have a job:
    neither is read ahead. Files go in upload order (modification time). True when one started.
    """
    limit = min_bytes()
    if not limit:
        return False
    skip = {current, *imported}
    with _lock:
        _children[:] = [child for child in _children if child.poll() is None]
        if _children:
            return False
        try:
            entries = [entry for entry in os.scandir(folder)
                       if entry.name.lower().endswith(".xml") and entry.name not in skip
                       and entry.is_file(follow_symlinks=False)]
        except OSError:
            return False
        files = []
        for entry in sorted(entries, key=lambda e: (e.stat().st_mtime_ns, e.name)):
            names = _names(root, Path(entry.path))
            if entry.stat().st_size >= limit and not (names.meta.exists() or names.claim.exists()):
                files.append(entry.path)
        if not files:
            return False
        Path(root).mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "exchange1c.importer.readahead",
                   "--root", str(root), "--brand-key", brand_key, "--", *files]
        try:
            child = subprocess.Popen(command, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL,  # noqa: S603
                                     stdout=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            logger.warning("read-ahead: cannot start a reader: %s", exc)
            return False
        _children.append(child)
        # Reaped as soon as it ends, not at the next package (no zombie in a long-lived worker).
        threading.Thread(target=child.wait, name=f"read-ahead-{child.pid}", daemon=True).start()
    logger.info("read-ahead: reader %s started for %s", child.pid, ", ".join(Path(f).name for f in files))
    return True


def wait_readers(timeout: float = 60.0) -> bool:
    """Wait for this process's readers to end (tests); True when none is left running."""
    deadline = time.monotonic() + timeout
    with _lock:
        children = list(_children)
    for child in children:
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
    return True


@dataclass
class ReadAhead:
    """A file's records as a reader left them: what stage 1 takes instead of a CommerceMLReader."""

    names: _Names
    info: object
    warnings: list
    warning_count: int
    brand_key: str
    error: str | None

    def chunks(self, brand_key: str):
        """(records, frame) per frame; `frame` is None when the records had to change (digests made again)."""
        same_key = brand_key == self.brand_key
        for frame in staging.frames(self.names.records):
            records = staging.loads(frame)
            if same_key:
                yield records, frame
                continue
            for record in records:
                if type(record) in (ProductRecord, OfferRecord):
                    object.__setattr__(record, "digest", "")
            yield records, None


def take(*, root: Path, source: Path, expected: str, job_pk: int, beat) -> ReadAhead | None:
    """The file's read-ahead if one matches `expected` (its fingerprint), waiting while a live reader has it.

    None: nothing usable; the caller reads the file itself, and its claim keeps a reader away.
    `beat()` is called while waiting (the job's heartbeat).
    """
    names = _names(root, source)
    while True:
        found = _finished(names, expected)
        if found is not None:
            return found
        try:
            _claim(names.claim, f"job {job_pk}")
        except FileExistsError:
            holder, age = _holder(names.claim)
            if holder == "reader" and age < CLAIM_STALE_SECONDS:
                beat()
                time.sleep(0.05)
                continue
            if holder == "reader":
                names.claim.unlink(missing_ok=True)  # a dead reader's
                continue
            return _finished(names, expected)  # another job's claim: this job reads the file itself
        except OSError:
            return None  # no read-ahead folder (never started): read the file itself
        # A reader may have finished between the look and the claim.
        return _finished(names, expected)


def _finished(names: _Names, expected: str) -> ReadAhead | None:
    try:
        with open(names.meta, "rb") as file:
            meta = pickle.load(file)  # noqa: S301 - written by our own reader in the private jobs folder
    except FileNotFoundError:
        return None
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        logger.warning("read-ahead: unreadable summary %s, ignored", names.meta)
        forget_names(names)
        return None
    if not expected or meta.get("fingerprint") != expected:
        forget_names(names)  # another upload of the file: its job reads it again
        return None
    if meta.get("error") is None and not names.records.exists():
        forget_names(names)
        return None
    return ReadAhead(names=names, info=meta.get("info"), warnings=meta.get("warnings") or [],
                     warning_count=meta.get("warning_count") or 0, brand_key=meta.get("brand_key", ""),
                     error=meta.get("error"))


def forget(root: Path, source: Path) -> None:
    """Drop what was read ahead for `source` (once its job has taken it, or no longer needs it)."""
    forget_names(_names(root, source))


def forget_names(names: _Names) -> None:
    names.meta.unlink(missing_ok=True)
    names.records.unlink(missing_ok=True)
    holder, _age = _holder(names.claim)
    if holder != "reader":
        names.claim.unlink(missing_ok=True)


def sweep(root: Path) -> None:
    """At `init`: drop whatever earlier packages' readers left, except live readers' claims and part files."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        try:
            age = now - entry.stat().st_mtime
        except OSError:
            continue
        if entry.name.endswith(".claim"):
            holder, age = _holder(Path(entry.path))
            if holder == "reader" and age < CLAIM_STALE_SECONDS:
                continue
        elif entry.name.endswith(".part") and age < PART_STALE_SECONDS:
            continue
        Path(entry.path).unlink(missing_ok=True)


def _claim(path: Path, holder: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, holder.encode("ascii"))
    finally:
        os.close(fd)


def _holder(path: Path) -> tuple[str, float]:
    """Who holds a claim ("reader", "job" or "" when there is none) and seconds since it was touched."""
    try:
        age = time.time() - path.stat().st_mtime
        text = path.read_text("ascii", errors="replace")
    except OSError:
        return "", 0.0
    return text.partition(" ")[0], age


# --- the reader's side (the child process) ------------------------------------------------------


def read_files(root: Path, brand_key: str, files) -> None:
    """The child's work: read each file not claimed yet, in order."""
    with collector.bulk():
        for source in files:
            try:
                read_file(Path(root), Path(source), brand_key)
            except Exception:
                logger.exception("read-ahead: reading %s failed", source)


def read_file(root: Path, source: Path, brand_key: str) -> bool:
    """Read one file ahead; False when someone else has it, it changed meanwhile, or it is gone."""
    names = _names(root, source)
    if names.meta.exists():
        return False
    Path(root).mkdir(parents=True, exist_ok=True)
    try:
        _claim(names.claim, f"reader {os.getpid()}")
    except FileExistsError:
        return False
    try:
        before = fingerprint(source)
        meta = _read(source, names, brand_key)
        if not before or fingerprint(source) != before:
            names.records.unlink(missing_ok=True)
            return False
        meta["fingerprint"] = before
        part = names.meta.with_name(f"{names.meta.name}.{os.getpid()}.part")
        with open(part, "wb") as file:
            pickle.dump(meta, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, names.meta)
        return True
    finally:
        try:
            mine = names.claim.read_text("ascii", errors="replace") == f"reader {os.getpid()}"
        except OSError:
            mine = False
        if mine:
            names.claim.unlink(missing_ok=True)


def _read(source: Path, names: _Names, brand_key: str) -> dict:
    writer = staging.Writer(names.records, str(os.getpid()))
    beat = time.monotonic()
    try:
        reader = CommerceMLReader(source)
        for chunk in staging.chunks(reader):
            for record in chunk:
                kind = type(record)
                if kind is ProductRecord:
                    object.__setattr__(record, "digest", record_hash(record, brand_key))
                elif kind is OfferRecord:
                    object.__setattr__(record, "digest", record_hash(record))
            writer.add(chunk)
            if time.monotonic() - beat > BEAT_SECONDS:
                os.utime(names.claim)
                beat = time.monotonic()
    except CommerceMLError as exc:
        writer.discard()
        names.records.unlink(missing_ok=True)
        return {"error": str(exc)}
    except BaseException:
        writer.discard()
        raise
    writer.commit()
    return {"error": None, "info": reader.info, "warnings": reader.warnings[:100],
            "warning_count": reader.warning_count, "brand_key": brand_key}


def main(argv=None) -> int:
    """The reader process: `python -m exchange1c.importer.readahead --root DIR --brand-key KEY -- FILE...`."""
    import argparse

    parser = argparse.ArgumentParser(description="Read uploaded CommerceML files ahead of their import.")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--brand-key", default="")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s read-ahead %(process)d: %(message)s")
    read_files(args.root, args.brand_key, args.files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
