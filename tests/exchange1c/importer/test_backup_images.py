"""Setting 3 (backup before an import) and setting 7 (storefront picture sizes after it)."""

import pytest
from django.db import connection

from catalog.models import ProductImage
from exchange1c.importer.api import resize_pending, run_files_now
from exchange1c.importer.backup import backup_database
from exchange1c.importer.images import SIZES, safe_source, sized_name
from exchange1c.models import ExchangeSettings, ImportJob

pytestmark = pytest.mark.django_db


def _settings(**values):
    options = ExchangeSettings.get_solo()
    for name, value in values.items():
        setattr(options, name, value)
    options.save()


@pytest.mark.django_db(transaction=True)  # the backup reads committed data through its own connection
def test_backup_once_per_exchange_and_only_the_newest_kept(gen, settings):
    _settings(backup_before_import=True, backup_keep=2)
    out = gen("cat", "--products", 20)
    for _ in range(3):
        answers = run_files_now(out, ["import.xml", "offers.xml"])
        assert [a.status for a in answers] == ["success", "success"]
    backups = sorted(settings.EXCHANGE_BACKUP_ROOT.iterdir())
    assert len(backups) == 2  # three exchanges, one backup each, two kept
    if connection.vendor == "sqlite":
        import sqlite3

        copy = sqlite3.connect(backups[-1])
        assert copy.execute("SELECT count(*) FROM catalog_product").fetchone()[0] == 20
        copy.close()


def test_backup_skipped_above_the_size_limit(gen, settings):
    run_files_now(gen("cat", "--products", 1500), ["import.xml"])
    path, note = backup_database(size_limit_mb=1, keep=3)
    assert path is None and "1 MB" in note
    assert not settings.EXCHANGE_BACKUP_ROOT.exists() or not any(settings.EXCHANGE_BACKUP_ROOT.iterdir())
    _settings(backup_before_import=True, backup_size_limit_mb=1)
    [answer] = run_files_now(gen("more", "--products", 10), ["import.xml"])
    assert answer.status == "success"
    assert any("1 MB" in w for w in ImportJob.objects.latest("id").warnings)


def test_resize_builds_storefront_sizes_once(gen, settings):
    run_files_now(gen("img", "--products", 15, "--images"), ["import.xml"])
    assert resize_pending() == 0  # setting 7 is off
    _settings(resize_photos=True)
    names = set(ProductImage.objects.values_list("file", flat=True))
    assert resize_pending() == len(names) > 0
    for name in names:
        for size in SIZES:
            assert (settings.MEDIA_ROOT / sized_name(name, size)).is_file()
    assert resize_pending() == 0


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../x.jpg", "C:/x.jpg", "", "a\x00b"])
def test_picture_paths_cannot_leave_the_upload_folder(tmp_path, path):
    assert safe_source(tmp_path, path) is None


def test_windows_separators_are_accepted(tmp_path):
    assert safe_source(tmp_path, "import_files\\ab\\x.jpg") == (tmp_path / "import_files/ab/x.jpg").resolve()


def _gif_bytes():
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="GIF")
    return out.getvalue()


def test_stored_extension_comes_from_the_bytes_not_from_1c_name(tmp_path):
    """A GIF with HTML appended, named .html, must never be stored (and served) as a page."""
    from exchange1c.importer.images import store_image

    (tmp_path / "import_files").mkdir()
    (tmp_path / "import_files" / "x.html").write_bytes(_gif_bytes() + b"<script>alert(document.domain)</script>")
    stored = store_image(tmp_path, "import_files/x.html")
    assert not stored.problem, stored
    assert stored.file.endswith(".gif") and ".html" not in stored.file


def test_pictures_declaring_huge_canvases_are_warnings_not_failures(tmp_path):
    import struct
    import zlib

    from exchange1c.importer.images import store_image

    # A valid PNG header declaring 20000x20000 pixels: a few bytes that would decode to 1.2 GB.
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (tmp_path / "big.png").write_bytes(png)
    stored = store_image(tmp_path, "big.png")
    assert stored.problem and not stored.file


def test_formats_a_storefront_cannot_show_are_refused(tmp_path):
    from io import BytesIO

    from PIL import Image

    from exchange1c.importer.images import store_image

    out = BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="TIFF")
    (tmp_path / "x.jpg").write_bytes(out.getvalue())
    stored = store_image(tmp_path, "x.jpg")
    assert "unsupported" in stored.problem and not stored.file
