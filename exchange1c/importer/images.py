"""Product pictures from 1C: content-addressed copies in media storage, and their storefront sizes.

A picture is stored under its SHA-256 (catalog.models.product_image_path), so the same
picture sent again, by any product or any exchange, lands on the same name and never grows
storage (PROTOCOL.md §3). A missing or broken picture is a warning for the caller, never
an exception. Resizing (setting 7) happens after the exchange, never inside a polled step.
"""

import hashlib
import logging
import posixpath
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from catalog.models import ProductImage, product_image_path

logger = logging.getLogger(__name__)

#: Storefront sizes (longest side, px), written next to the original as <hash>_<size>.<ext>.
SIZES = (600, 200)
#: A picture bigger than this is not read (a 1C upload of a raw scan, or a hostile file).
MAX_BYTES = 50 * 1024 * 1024
#: Nor one with more pixels than this (a small file can declare a 20000x20000 canvas).
MAX_PIXELS = 40_000_000
#: The formats a storefront shows, and the extension each is stored under. The extension
#: comes from what Pillow found in the bytes, never from 1C's file name: a GIF with HTML
#: appended, sent as "x.html", would otherwise be served as a page on the shop's domain.
STORED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


@dataclass(frozen=True)
class StoredImage:
    content_hash: str = ""
    file: str = ""
    width: int | None = None
    height: int | None = None
    problem: str = ""


def safe_source(folder: Path, relative: str) -> Path | None:
    """The file `relative` names inside `folder`, or None when it would leave the folder.

    1C writes Windows separators in some versions (`import_files\\bf\\x.jpg`).
    """
    text = (relative or "").replace("\\", "/").strip()
    if not text or "\x00" in text:
        return None
    pure = PurePosixPath(posixpath.normpath(text))
    if pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
        return None
    base = folder.resolve()
    candidate = (base / pure).resolve()
    if candidate != base and base not in candidate.parents:
        return None
    return candidate


def store_image(folder: Path, relative: str) -> StoredImage:
    """Copy the picture `relative` (inside `folder`) into media storage; report a problem instead of raising."""
    source = safe_source(folder, relative)
    if source is None:
        return StoredImage(problem="unsafe path")
    try:
        if source.stat().st_size > MAX_BYTES:
            return StoredImage(problem="file too large")
        data = source.read_bytes()
    except FileNotFoundError:
        return StoredImage(problem="file not found")
    except OSError as exc:
        return StoredImage(problem=f"cannot read: {exc.strerror or exc}")
    try:
        with Image.open(BytesIO(data)) as probe:
            width, height = probe.size
            image_format = probe.format
            if width * height > MAX_PIXELS:
                return StoredImage(problem=f"picture too large ({width}x{height} px)")
            probe.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return StoredImage(problem=f"not a readable picture ({exc.__class__.__name__})")
    extension = STORED_FORMATS.get(image_format or "")
    if extension is None:
        return StoredImage(problem=f"unsupported picture format ({image_format})")
    digest = hashlib.sha256(data).hexdigest()
    name = product_image_path(SimpleNamespace(content_hash=digest), f"picture.{extension}")
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:
            # Another worker stored the same picture between exists() and save(): keep one copy.
            default_storage.delete(saved)
    return StoredImage(content_hash=digest, file=name, width=width, height=height)


def sized_name(name: str, size: int) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}_{size}.{ext}" if dot else f"{name}_{size}"


def resize_pending() -> int:
    """Build the storefront sizes (SIZES) of every stored picture that lacks them; returns pictures resized.

    Does nothing unless setting 7 is on. Meant for a maintenance command after the exchange.
    """
    from exchange1c.models import ExchangeSettings

    if not ExchangeSettings.get_solo().resize_photos:
        return 0
    done = 0
    seen: set[str] = set()
    for name in ProductImage.objects.values_list("file", flat=True).distinct().iterator(chunk_size=1000):
        if not name or name in seen:
            continue
        seen.add(name)
        missing = [size for size in SIZES if not default_storage.exists(sized_name(name, size))]
        if not missing:
            continue
        try:
            with default_storage.open(name, "rb") as handle, Image.open(handle) as original:
                original.load()
                for size in missing:
                    copy = original.copy()
                    copy.thumbnail((size, size))
                    if copy.mode not in ("RGB", "L") and original.format == "JPEG":
                        copy = copy.convert("RGB")
                    out = BytesIO()
                    copy.save(out, format=original.format or "JPEG")
                    default_storage.save(sized_name(name, size), ContentFile(out.getvalue()))
            done += 1
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            logger.warning("cannot resize %s: %s", name, exc)
    return done
