"""mode=file and the exchange folders (PROTOCOL.md §3.3): appending, untrusted names, limits, zips, purging."""

import io
import os
import resource
import signal
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone, translation

from exchange1c import files
from exchange1c.models import ExchangeLog, ExchangeRun
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    lines_of,
    make_exchange_user,
    zip_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def onec(client):
    make_exchange_user()
    c = OneC(client)
    c.start()
    return c


def all_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def package(settings):
    return settings.EXCHANGE_ROOT / ExchangeRun.objects.get().package_folder


def test_fragments_are_appended_in_order(onec, settings):
    assert onec.upload("import.xml", b"<a>") == ["success"]
    assert onec.upload("import.xml", b"</a>") == ["success"]
    assert onec.upload("import_files/bf/x_y.jpg", b"\xff\xd8jpeg") == ["success"]
    assert onec.upload("import_files\\bf\\z.jpg", b"win") == ["success"]
    folder = package(settings)
    assert (folder / "import.xml").read_bytes() == b"<a></a>"
    assert (folder / "import_files/bf/x_y.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert (folder / "import_files/bf/z.jpg").read_bytes() == b"win"
    assert ExchangeLog.objects.filter(mode="file").values_list("bytes_in", flat=True).first() == 3


@pytest.mark.parametrize("name", [
    "../x", "/etc/x", "C:\\x", "c:x", "a\x00b", "sub/../../x", "..\\..\\x", "a\nb", "", "import_files/../../x",
])
def test_unsafe_names_are_refused_and_nothing_is_written(onec, settings, name):
    before = all_files(settings.EXCHANGE_ROOT.parent)
    out = onec.upload(name, b"evil")
    assert out[0] == "failure" and "Файл не принят" in out[1]
    assert all_files(settings.EXCHANGE_ROOT.parent) == before


def test_a_symlink_out_of_the_folder_is_refused(onec, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, package(settings) / "link")
    assert onec.upload("link/x.xml", b"evil")[0] == "failure"
    assert not (outside / "x.xml").exists()


def test_body_larger_than_file_limit_is_refused(onec, settings):
    configure(file_limit=64 * 1024)
    big = b"x" * (64 * 1024 + files.BODY_SLACK + 1)
    out = onec.upload("import.xml", big)
    assert out[0] == "failure" and "предела" in out[1]
    assert not (package(settings) / "import.xml").exists()
    assert onec.upload("import.xml", b"x" * (64 * 1024)) == ["success"]


def test_file_needs_post_and_init(client, onec):
    assert onec.lines("file", filename="import.xml")[0] == "failure"
    onec.lines("complete")
    out = onec.upload("import.xml", b"<a/>")
    assert out[0] == "failure" and "mode=init" in out[1]


def test_a_failed_write_leaves_no_half_piece(onec, settings):
    """A write error (here: the process's file size limit; a full disk alike) cuts the file back."""
    assert onec.upload("import.xml", b"a" * 100_000) == ["success"]
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, hard))
    try:
        out = onec.upload("import.xml", b"b" * 200_000)
        new_file = onec.upload("other.xml", b"c" * 200_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert out[0] == "failure" and "не сохранён" in out[1]
    assert (package(settings) / "import.xml").read_bytes() == b"a" * 100_000
    assert new_file[0] == "failure"
    assert not (package(settings) / "other.xml").exists()


def test_disk_full_is_said_so(tmp_path):
    """ENOSPC from the kernel itself: /dev/full refuses every write with it."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with translation.override("ru"), pytest.raises(files.UploadError, match="диск сайта заполнен"):
        files.append_upload(Path("/dev/full"), io.BytesIO(b"x" * 10), content_length=10, max_bytes=100)


def test_zip_is_unpacked_on_the_first_import(onec, settings):
    archive = zip_bytes({"import.xml": b"<a/>", "import_files/ab/p.jpg": b"jpg"})
    assert onec.upload("v8_3B8F_3e.zip", archive[:100]) == ["success"]
    assert onec.upload("v8_3B8F_3e.zip", archive[100:]) == ["success"]
    folder = package(settings)
    assert not (folder / "import.xml").exists()
    out = onec.import_("missing.xml")
    assert out[0] == "failure" and "не загружен" in out[1]
    assert (folder / "import.xml").read_bytes() == b"<a/>"
    assert (folder / "import_files/ab/p.jpg").read_bytes() == b"jpg"


@pytest.mark.parametrize("member", ["../evil.xml", "/abs.xml", "a/../../evil.xml", "C:/evil.xml"])
def test_zip_with_traversal_member_is_refused(onec, settings, member):
    assert onec.upload("v8_1.zip", zip_bytes({"import.xml": b"<a/>", member: b"evil"})) == ["success"]
    out = onec.import_("import.xml")
    assert out[0] == "failure" and "архив v8_1.zip" in out[1]
    assert all_files(package(settings)) == ["v8_1.zip"]
    assert not (settings.EXCHANGE_ROOT / "catalog" / "evil.xml").exists()
    assert ExchangeRun.objects.get().error_count == 1


def test_zip_bomb_is_capped(onec, settings):
    configure(zip_max_unpacked_mb=1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("import.xml", b"\0" * (20 * 1024 * 1024))
    assert len(buf.getvalue()) < 100_000
    assert onec.upload("v8_bomb.zip", buf.getvalue()) == ["success"]
    out = onec.import_("import.xml")
    assert out[0] == "failure" and "1 МБ" in out[1]
    assert all_files(package(settings)) == ["v8_bomb.zip"]


def test_archives_inside_archives_stay_packed(onec, settings):
    """A nested zip bomb: each level under the cap, the whole far above it."""
    configure(zip_max_unpacked_mb=1)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("import.xml", b"\0" * (800 * 1024))
    outer = zip_bytes({"import.xml": b"<a/>", "inner1.zip": inner.getvalue(), "inner2.zip": inner.getvalue()})
    assert onec.upload("v8_nest.zip", outer) == ["success"]
    onec.import_("import.xml")
    folder = package(settings)
    assert (folder / "import.xml").read_bytes() == b"<a/>"  # the outer archive's own member, never overwritten
    assert sorted(all_files(folder)) == ["import.xml", "inner1.zip", "inner2.zip", "v8_nest.zip"]


def test_the_size_cap_counts_all_archives_of_a_package(onec, settings):
    configure(zip_max_unpacked_mb=1)
    half = b"x" * (600 * 1024)
    assert onec.upload("a.zip", zip_bytes({"a.xml": half})) == ["success"]
    assert onec.upload("b.zip", zip_bytes({"b.xml": half})) == ["success"]
    out = onec.import_("a.xml")
    assert out[0] == "failure" and "1 МБ" in out[1]


def test_zip_member_count_is_capped(onec, settings):
    configure(zip_max_members=3)
    onec.upload("v8_many.zip", zip_bytes({f"f{i}.xml": b"<a/>" for i in range(4)}))
    out = onec.import_("f0.xml")
    assert out[0] == "failure" and "4" in out[1] and "3" in out[1]


def test_unpacking_goes_in_steps(tmp_path):
    (tmp_path / "a.zip").write_bytes(zip_bytes({f"f{i}.xml": b"<a/>" for i in range(5)}))
    state = {}
    first = files.unpack_step(tmp_path, state, deadline=time.monotonic() - 1, max_bytes=10**6, max_members=10)
    assert not first.done and not first.error and "1" in first.message and "5" in first.message
    assert state["a.zip"]["next"] == 1
    second = files.unpack_step(tmp_path, state, deadline=time.monotonic() + 60, max_bytes=10**6, max_members=10)
    assert second.done
    assert sorted(p.name for p in tmp_path.glob("f*.xml")) == [f"f{i}.xml" for i in range(5)]
    # Done archives are not unpacked again.
    (tmp_path / "f0.xml").write_bytes(b"changed")
    assert files.unpack_step(tmp_path, state, deadline=time.monotonic() + 60, max_bytes=10**6, max_members=10).done
    assert (tmp_path / "f0.xml").read_bytes() == b"changed"


def test_maintenance_purges_old_folders_and_log_rows(onec, settings):
    configure(keep_days=3)
    onec.upload("import.xml", b"<a/>")
    assert onec.lines("complete")[0] == "success"
    run = ExchangeRun.objects.get()
    folder = settings.EXCHANGE_ROOT / run.folder
    assert folder.is_dir()
    stray = settings.EXCHANGE_ROOT / "catalog" / "run-999999"
    stray.mkdir()
    configure(resize_photos=True)
    out = io.StringIO()
    call_command("exchange_maintenance", stdout=out)
    assert "photos_resized: 0" in out.getvalue()
    assert folder.is_dir() and stray.is_dir()  # young: kept
    old = timezone.now() - timedelta(days=4)
    ExchangeRun.objects.update(finished_at=old)
    ExchangeLog.objects.update(started_at=old)
    os.utime(stray, (old.timestamp(), old.timestamp()))
    call_command("exchange_maintenance", stdout=io.StringIO())
    assert not folder.exists() and not stray.exists()
    assert not ExchangeLog.objects.exists()
    run.refresh_from_db()
    assert run.files_purged_at is not None


def test_maintenance_closes_abandoned_exchanges(onec):
    onec.upload("import.xml", b"<a/>")
    ExchangeRun.objects.update(updated_at=timezone.now() - timedelta(hours=13))
    call_command("exchange_maintenance", stdout=io.StringIO())
    assert ExchangeRun.objects.get().status == "completed"


def test_a_chunked_body_is_read_where_the_server_allows_it(onec, settings, client):
    """gunicorn decodes chunked bodies and says so (wsgi.input_terminated); other servers: refused."""
    refused = onec.client.post(onec.url_for("file", filename="import.xml"), data=b"<a/>",
                               content_type="application/octet-stream", CONTENT_LENGTH="",
                               HTTP_TRANSFER_ENCODING="chunked")
    assert lines_of(refused)[0] == "failure" and "Content-Length" in lines_of(refused)[1]
    assert not (package(settings) / "import.xml").exists()

    token = ExchangeRun.objects.get().session.token
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/exchange", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
        "QUERY_STRING": f"type=catalog&mode=file&filename=import.xml&sessid={token}", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"<catalog/>" * 1000),
        "wsgi.input_terminated": True, "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
    }
    status = []
    # As Django's test client does: the test's transaction must survive the request's signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(WSGIHandler()(environ, lambda s, h: status.append(s)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert status == ["200 OK"] and body == b"success\n"
    assert (package(settings) / "import.xml").read_bytes() == b"<catalog/>" * 1000


def test_exchange_root_inside_media_is_reported(settings):
    from exchange1c.checks import exchange_root

    assert exchange_root(None) == []
    settings.EXCHANGE_ROOT = settings.MEDIA_ROOT / "exchange"
    assert [e.id for e in exchange_root(None)] == ["exchange1c.E001"]


@pytest.mark.parametrize("name", ["a/\u202egpj.exe", "x\u200b.xml", "a\u2028b.xml"])
def test_invisible_and_bidi_characters_in_names_are_refused(name):
    with pytest.raises(files.UnsafeName):
        files.safe_name(name)


def test_a_file_where_a_folder_is_needed_is_a_clean_failure(onec, settings):
    assert onec.upload("a/b", b"x") == ["success"]
    out = onec.upload("a/b/c", b"y")
    assert out[0] == "failure" and "Внутренняя ошибка" not in " ".join(out)


def test_negative_content_length_is_refused(onec, settings):
    response = onec.client.post(onec.url_for("file", filename="import.xml"), data=b"",
                                content_type="application/octet-stream", CONTENT_LENGTH="-5")
    assert lines_of(response)[0] == "failure"
