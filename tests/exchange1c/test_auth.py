"""Who gets in (PROTOCOL.md §2; settings 9, 10, 11): allow-list, debug mode, sessions, proxies, the user command."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from exchange1c.auth import COOKIE_NAME, parse_networks
from exchange1c.models import ExchangeLog, ExchangeRun, ExchangeSession, ExchangeSettings
from tests.exchange1c.test_protocol_support import (
    OneC,
    basic,
    configure,
    lines_of,
    make_exchange_user,
)

pytestmark = pytest.mark.django_db

INIT = "/exchange?type=catalog&mode=init"


def test_listed_address_needs_no_login(client):
    configure(allowed_ips="192.168.10.0/24\n2001:db8::/32")
    listed = OneC(client, REMOTE_ADDR="192.168.10.5")
    assert lines_of(listed.get("checkauth"))[0] == "success"
    assert listed.init()[0] == "zip=yes"
    v6 = Client()
    assert lines_of(v6.get("/exchange?type=catalog&mode=checkauth", REMOTE_ADDR="2001:db8::7"))[0] == "success"
    other = Client().get(INIT, REMOTE_ADDR="10.0.0.1")
    assert lines_of(other)[0] == "failure"


def test_unlisted_address_still_gets_in_with_a_password(client):
    configure(allowed_ips="192.168.10.0/24")
    make_exchange_user()
    c = OneC(client, REMOTE_ADDR="10.0.0.1")
    assert c.checkauth()[0] == "success"
    assert c.init()[0] == "zip=yes"


@pytest.mark.parametrize("option", [{"allowed_ips_only": True}, {"require_login": False}])
def test_only_listed_addresses_refuses_even_a_good_password(client, option):
    configure(allowed_ips="192.168.10.7", **option)
    make_exchange_user()
    out = lines_of(client.get("/exchange?type=catalog&mode=checkauth", REMOTE_ADDR="10.0.0.1", **basic()))
    assert out[0] == "failure" and "10.0.0.1" in out[1] and "пункт 10" in out[1]
    assert not ExchangeSession.objects.exists()
    ok = lines_of(Client().get("/exchange?type=catalog&mode=checkauth", REMOTE_ADDR="192.168.10.7"))
    assert ok[0] == "success"


def test_require_login_off_without_a_list_still_asks_for_a_password(client):
    # The settings form refuses this combination; a row written otherwise must not open the door.
    configure(require_login=False, allowed_ips="")
    assert lines_of(client.get(INIT))[0] == "failure"


def test_debug_mode_switches_auth_off_and_marks_the_log(client):
    configure(debug_mode=True, allowed_ips="192.168.10.7", allowed_ips_only=True)
    c = OneC(client, REMOTE_ADDR="203.0.113.9")
    assert lines_of(c.get("checkauth"))[0] == "success"
    assert c.init()[0] == "zip=yes"
    assert ExchangeLog.objects.count() == 2
    assert set(ExchangeLog.objects.values_list("debug_mode", flat=True)) == {True}
    assert ExchangeRun.objects.get().debug_mode is True
    configure(debug_mode=False)
    assert lines_of(c.get("init"))[0] == "failure"
    assert ExchangeLog.objects.latest("pk").debug_mode is False


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(client):
    configure(allowed_ips="198.51.100.4")
    forged = client.get(INIT, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert lines_of(forged)[0] == "failure"
    configure(trust_forwarded_for=True)
    proxied = Client().get(INIT, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1, 198.51.100.4")
    assert lines_of(proxied)[0] == "zip=yes"
    assert ExchangeLog.objects.latest("pk").client_ip == "198.51.100.4"


def test_later_calls_need_the_cookie(client):
    make_exchange_user()
    no_cookie = lines_of(client.get(INIT))
    assert no_cookie[0] == "failure" and no_cookie[1].startswith("Не авторизован")
    assert "cookie" in no_cookie[1]
    client.cookies[COOKIE_NAME] = "made-up"
    unknown = lines_of(client.get(INIT))
    assert unknown[0] == "failure" and "неизвестная сессия" in unknown[1]


def test_session_expires_after_session_hours(client):
    configure(session_hours=2)
    make_exchange_user()
    c = OneC(client)
    c.checkauth()
    session = ExchangeSession.objects.get()
    assert timedelta(hours=1, minutes=59) < session.expires_at - timezone.now() <= timedelta(hours=2)
    ExchangeSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    out = c.init()
    assert out[0] == "failure" and "истекла" in out[1]
    assert not ExchangeRun.objects.exists()


def test_sessid_parameter_and_repeated_basic_authenticate_too():
    make_exchange_user()
    out = OneC(Client()).checkauth()
    token = out[2]
    by_sessid = Client().get(f"{INIT}&sessid={token}")
    assert lines_of(by_sessid)[0] == "zip=yes"
    by_basic = Client().get(INIT, **basic())
    assert lines_of(by_basic)[0] == "zip=yes"
    # Both found the one session, so they share the one run.
    assert ExchangeRun.objects.get().session.token == token


def test_a_session_of_one_type_does_not_open_the_other(client):
    make_exchange_user()
    OneC(client, kind="sale").checkauth()
    assert lines_of(client.get(INIT))[0] == "failure"


def test_parse_networks():
    nets = parse_networks("10.0.0.1, 192.168.0.0/16\n# comment\n::1  # loopback")
    assert [str(n) for n in nets] == ["10.0.0.1/32", "192.168.0.0/16", "::1/128"]
    with pytest.raises(ValueError, match="300.1.1.1"):
        parse_networks("10.0.0.1\n300.1.1.1")


def test_exchange_user_command_creates_and_updates(client, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("First-secret-9\n"))
    call_command("exchange_user", "ut11", "--password-stdin", stdout=io.StringIO())
    user = get_user_model().objects.get(username="ut11")
    assert user.is_active and not user.is_staff
    assert user.password.startswith("md5$")  # hashed by the configured hasher, never plain
    assert user.has_perm("exchange1c.exchange_with_1c")
    assert ExchangeSettings.get_solo().exchange_user == user
    assert lines_of(client.get("/exchange?type=catalog&mode=checkauth",
                               **basic("ut11", "First-secret-9")))[0] == "success"
    monkeypatch.setattr("sys.stdin", io.StringIO("Second-secret-9\n"))
    call_command("exchange_user", "ut11", "--password-stdin", "--staff", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.is_staff and user.check_password("Second-secret-9")
    assert get_user_model().objects.filter(username="ut11").count() == 1


def test_exchange_user_command_refuses_weak_or_missing_passwords(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("exchange_user", "ut11", "--password-stdin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="ut11").exists()


@pytest.mark.parametrize("headers", [
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "no-cors"},
    {"HTTP_SEC_FETCH_MODE": "cors"},
])
def test_requests_from_a_web_page_are_refused_even_for_listed_addresses(client, headers):
    """A browser on an allow-listed network must not become a way to upload a catalog (CSRF)."""
    configure(allowed_ips="127.0.0.1")
    response = client.post("/exchange?type=catalog&mode=file&filename=import.xml", data=b"<x/>",
                           content_type="application/octet-stream", REMOTE_ADDR="127.0.0.1", **headers)
    assert lines_of(response)[0] == "failure" and response.status_code == 403
    assert not ExchangeRun.objects.exists()
    log = ExchangeLog.objects.get()
    assert log.status == "failure"


def test_a_typed_navigation_still_reaches_the_exchange(client):
    configure(allowed_ips="127.0.0.1")
    response = client.get("/exchange?type=catalog&mode=checkauth", REMOTE_ADDR="127.0.0.1",
                          HTTP_SEC_FETCH_SITE="none", HTTP_SEC_FETCH_MODE="navigate")
    assert lines_of(response)[0] == "success"


@pytest.mark.parametrize("method", ["put", "delete", "options"])
def test_methods_1c_never_uses_are_refused(client, method):
    configure(allowed_ips="127.0.0.1")
    response = getattr(client, method)("/exchange?type=catalog&mode=init", REMOTE_ADDR="127.0.0.1")
    assert lines_of(response)[0] == "failure" and response.status_code == 405
    assert not ExchangeRun.objects.exists()
