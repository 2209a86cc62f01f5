"""mode=checkauth (PROTOCOL.md §2): the cookie answer, the transport rules, login failures."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from exchange1c.auth import COOKIE_NAME, RATE_LIMIT_FAILURES
from exchange1c.models import ExchangeLog, ExchangeSession
from tests.exchange1c.test_protocol_support import (
    LOGIN,
    OneC,
    basic,
    configure,
    lines_of,
    make_exchange_user,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/exchange", "/exchange/", "/bitrix/admin/1c_exchange.php"])
def test_checkauth_answers_cookie_sessid_and_timestamp(url):
    user = make_exchange_user()
    client = Client(enforce_csrf_checks=True)
    response = client.get(f"{url}?type=catalog&mode=checkauth", **basic())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=windows-1251"
    out = lines_of(response)
    assert out[0] == "success"
    assert out[1] == COOKIE_NAME
    session = ExchangeSession.objects.get(token=out[2])
    assert session.user == user and session.kind == "catalog"
    assert out[3] == f"sessid={out[2]}"
    assert out[4] == f"timestamp={session.auth_timestamp}"
    assert response.cookies[COOKIE_NAME].value == out[2]
    entry = ExchangeLog.objects.get()
    assert (entry.mode, entry.status, entry.username) == ("checkauth", "success", LOGIN)


def test_csrf_does_not_apply_to_posts():
    make_exchange_user()
    client = Client(enforce_csrf_checks=True)
    response = client.post("/exchange?type=catalog&mode=checkauth", data=b"", content_type="text/plain", **basic())
    assert lines_of(response)[0] == "success"


def test_superuser_may_exchange(client):
    get_user_model().objects.create_superuser("root", "root@example.com", "Root-pass-1")
    response = client.get("/exchange?type=catalog&mode=checkauth", **basic("root", "Root-pass-1"))
    assert lines_of(response)[0] == "success"


@pytest.mark.parametrize("key", ["HTTP_AUTHORIZATION", "REDIRECT_HTTP_AUTHORIZATION"])
def test_credentials_from_environ_fallbacks(client, key):
    make_exchange_user()
    response = client.get("/exchange?type=catalog&mode=checkauth", **basic(key=key))
    assert lines_of(response)[0] == "success"


def test_wrong_password_is_told_apart_from_missing_credentials(client):
    make_exchange_user()
    wrong = client.get("/exchange?type=catalog&mode=checkauth", **basic(password="nope"))
    missing = client.get("/exchange?type=catalog&mode=checkauth")
    assert wrong.status_code == 401 and missing.status_code == 401
    wrong_text, missing_text = lines_of(wrong), lines_of(missing)
    assert wrong_text[0] == missing_text[0] == "failure"
    assert "Неверный логин или пароль" in wrong_text[1]
    assert "не дошли до сайта" in missing_text[1]
    assert "Authorization" in " ".join(missing_text)
    assert missing["WWW-Authenticate"].startswith("Basic")
    assert wrong["WWW-Authenticate"].startswith("Basic")  # a 401 always says how to authenticate
    assert not ExchangeSession.objects.exists()
    failed = ExchangeLog.objects.get(auth_failed=True)
    assert failed.status == "failure" and "nope" not in failed.answer


def test_user_without_permission_or_inactive_is_refused(client):
    get_user_model().objects.create_user("clerk", password="Clerk-pass-1")
    make_exchange_user("gone", active=False)
    no_perm = lines_of(client.get("/exchange?type=catalog&mode=checkauth", **basic("clerk", "Clerk-pass-1")))
    inactive = lines_of(client.get("/exchange?type=catalog&mode=checkauth", **basic("gone")))
    assert no_perm[0] == "failure" and "clerk" in no_perm[1] and "exchange_user" in no_perm[1]
    assert inactive[0] == "failure" and "Неверный логин или пароль" in inactive[1]
    assert not ExchangeSession.objects.exists()


def test_failed_logins_are_rate_limited_per_address(client):
    make_exchange_user()
    for _ in range(RATE_LIMIT_FAILURES):
        assert lines_of(client.get("/exchange?type=catalog&mode=checkauth", **basic(password="bad")))[0] == "failure"
    blocked = client.get("/exchange?type=catalog&mode=checkauth", **basic())
    assert lines_of(blocked)[0] == "failure" and "Слишком много" in lines_of(blocked)[1]
    # Another address is not punished for this one.
    other = client.get("/exchange?type=catalog&mode=checkauth", REMOTE_ADDR="10.9.8.7", **basic())
    assert lines_of(other)[0] == "success"


def test_second_checkauth_keeps_the_session(client):
    """1C may log in twice (and again per package): one session, so one run (PROTOCOL.md §3.2)."""
    make_exchange_user()
    c = OneC(client)
    first = c.checkauth()
    second = c.checkauth()
    assert first[2] == second[2]
    fresh = OneC(Client()).checkauth()  # same user and address, no cookie: found again by Basic
    assert fresh[2] == first[2]
    assert ExchangeSession.objects.count() == 1


@pytest.mark.parametrize(("charset", "encoded"), [
    ("windows-1251", "Неверный".encode("cp1251")),
    ("utf-8", "Неверный".encode()),
])
def test_reply_charset_setting(client, charset, encoded):
    configure(reply_charset=charset)
    make_exchange_user()
    response = client.get("/exchange?type=catalog&mode=checkauth", **basic(password="bad"))
    assert response["Content-Type"] == f"text/plain; charset={charset}"
    assert encoded in response.content
    assert response.content.startswith(b"failure\n")


def test_nul_bytes_in_login_or_session_are_just_refused(client):
    make_exchange_user()
    out = lines_of(client.get("/exchange?type=catalog&mode=checkauth", **basic(login="on\x00ec")))
    assert out[0] == "failure" and "Неверный логин или пароль" in out[1]
    out = lines_of(client.get("/exchange?type=catalog&mode=init&sessid=ab%00cd"))
    assert out[0] == "failure" and "неизвестная сессия" in out[1]


def test_the_log_never_keeps_the_session_token(client):
    from exchange1c.models import ExchangeLog

    make_exchange_user()
    c = OneC(client)
    answer = c.checkauth()
    token = answer[2]
    c.init(version="2.08")
    for entry in ExchangeLog.objects.all():
        assert token not in entry.answer, entry.answer
    assert "sessid=…" in ExchangeLog.objects.get(mode="checkauth").answer


def test_session_cookie_is_secure_over_https(client):
    make_exchange_user()
    plain = client.get("/exchange?type=catalog&mode=checkauth", **basic())
    secure = client.get("/exchange?type=catalog&mode=checkauth", secure=True, **basic())
    from exchange1c.auth import COOKIE_NAME

    assert not plain.cookies[COOKIE_NAME]["secure"]
    assert secure.cookies[COOKIE_NAME]["secure"]
