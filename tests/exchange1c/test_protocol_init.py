"""mode=init (PROTOCOL.md §3.2) and the one-exchange-at-a-time lock (issue item 10)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from exchange1c.locks import acquire, release, ttl_for
from exchange1c.models import ExchangeLock, ExchangeRun
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    make_exchange_user,
)

pytestmark = pytest.mark.django_db


def test_init_answers_zip_and_file_limit_from_the_settings(client):
    make_exchange_user()
    assert OneC(client).start() == ["zip=yes", "file_limit=2048000"]
    configure(use_zip=False, file_limit=100 * 1024 * 1024)
    assert OneC(client).init() == ["zip=no", f"file_limit={100 * 1024 * 1024}"]


def test_init_with_version_adds_sessid_and_version(client):
    make_exchange_user()
    c = OneC(client)
    token = c.checkauth()[2]
    assert c.init(version="2.08") == ["zip=yes", "file_limit=2048000", f"sessid={token}", "version=2.08"]
    assert c.init(version="9.99")[-1] == "version=2.08"


def test_init_before_checkauth_is_refused(client):
    make_exchange_user()
    out = OneC(client).init()
    assert out[0] == "failure" and out[1].startswith("Не авторизован")
    assert not ExchangeRun.objects.exists()


def test_each_init_gives_a_fresh_package_folder_in_one_run(client, settings):
    make_exchange_user()
    c = OneC(client)
    c.start()
    assert c.upload("import.xml", b"<first/>") == ["success"]
    run = ExchangeRun.objects.get()
    first = settings.EXCHANGE_ROOT / run.package_folder
    assert (first / "import.xml").read_bytes() == b"<first/>"
    # 1C sends its next package: checkauth again, init again, the same name again.
    c.start()
    assert c.upload("import.xml", b"<second/>") == ["success"]
    run.refresh_from_db()
    assert ExchangeRun.objects.count() == 1 and run.package == 2
    second = settings.EXCHANGE_ROOT / run.package_folder
    assert second != first
    assert (second / "import.xml").read_bytes() == b"<second/>"  # not appended to the first package's file
    assert (first / "import.xml").read_bytes() == b"<first/>"  # kept for the admin


def test_a_completed_exchange_is_not_continued(client):
    make_exchange_user()
    c = OneC(client)
    c.start()
    assert c.lines("complete")[0] == "success"
    c.start()
    assert ExchangeRun.objects.count() == 2
    assert list(ExchangeRun.objects.order_by("pk").values_list("status", flat=True)) == ["completed", "open"]


def test_a_second_exchange_waits_for_the_first(client):
    make_exchange_user()
    first = OneC(client)
    first.start()
    second = OneC(Client(), REMOTE_ADDR="10.20.30.40")
    second.checkauth(HTTP_COOKIE="")
    # A different session (another address): the lock names who has it and since when.
    out = second.init()
    assert out[0] == "failure"
    assert "onec, 127.0.0.1" in out[1] and "с 20" in out[1]
    assert ExchangeRun.objects.count() == 1
    assert first.lines("complete")[0] == "success"
    assert second.init()[0] == "zip=yes"


def test_the_lock_expires_after_three_silent_step_times(client):
    configure(step_seconds=5)
    make_exchange_user()
    OneC(client).start()
    other = OneC(Client(), REMOTE_ADDR="10.20.30.40")
    other.checkauth()
    ExchangeLock.objects.update(last_seen=timezone.now() - timedelta(seconds=14))
    assert other.init()[0] == "failure"
    ExchangeLock.objects.update(last_seen=timezone.now() - timedelta(seconds=16))
    assert other.init()[0] == "zip=yes"
    assert ExchangeLock.objects.get().holder_label == "onec, 10.20.30.40"


def test_lock_functions():
    ttl = ttl_for(20)
    assert ttl == timedelta(seconds=60)
    assert acquire("catalog", holder="a", label="A", ttl=ttl) is None
    assert acquire("catalog", holder="a", label="A", ttl=ttl) is None  # refresh by the holder
    busy = acquire("catalog", holder="b", label="B", ttl=ttl)
    assert busy is not None and busy.label == "A"
    assert release("catalog", holder="b") is False
    assert release("catalog", holder="a") is True
    assert acquire("catalog", holder="b", label="B", ttl=ttl) is None
