"""Never an HTML page on the exchange (PROTOCOL.md §1): Django's own errors, unknown calls, crashes."""

import pytest

from exchange1c.models import ExchangeLog
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    lines_of,
    make_exchange_user,
)

pytestmark = pytest.mark.django_db


def assert_plain_failure(response):
    assert response["Content-Type"].startswith("text/plain; charset=")
    assert b"<html" not in response.content.lower() and b"<!doctype" not in response.content.lower()
    out = lines_of(response)
    assert out[0] == "failure"
    return out


def test_disallowed_host_is_a_failure_line(client):
    response = client.get("/exchange?type=catalog&mode=checkauth", HTTP_HOST="evil.example")
    out = assert_plain_failure(response)
    assert "evil.example" in out[1] and "ALLOWED_HOSTS" in out[1]
    entry = ExchangeLog.objects.get()
    assert (entry.mode, entry.status) == ("checkauth", "failure")


def test_disallowed_host_elsewhere_is_still_djangos_business(client):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
    assert not ExchangeLog.objects.exists()


def test_suspicious_request_is_a_failure_line(client):
    fields = "&".join(f"f{i}=1" for i in range(1200))  # more than DATA_UPLOAD_MAX_NUMBER_FIELDS
    out = assert_plain_failure(client.get(f"/exchange?type=catalog&mode=checkauth&{fields}"))
    assert "HTTP 400" in out[1]


def test_unknown_exchange_path_is_a_failure_line(client):
    out = assert_plain_failure(client.get("/exchange/nothing/here?type=catalog&mode=init"))
    assert "HTTP 404" in out[1]


@pytest.mark.parametrize(("query", "text"), [
    ("type=bogus&mode=init", "type=bogus"),
    ("mode=init", "type=—"),
    ("type=catalog&mode=bogus", "mode=bogus"),
    ("type=catalog", "mode=—"),
])
def test_unknown_type_or_mode(client, query, text):
    make_exchange_user()
    OneC(client).checkauth()
    response = client.get(f"/exchange?{query}")
    out = assert_plain_failure(response)
    assert text in out[1]


def test_an_unexpected_error_names_its_log_entry(client, settings):
    make_exchange_user()
    c = OneC(client)
    c.checkauth()
    # A real fault, not a mock: the exchange folder's place is taken by a file.
    settings.EXCHANGE_ROOT.parent.mkdir(parents=True, exist_ok=True)
    settings.EXCHANGE_ROOT.write_text("not a folder")
    response = c.get("init")
    out = assert_plain_failure(response)
    entry = ExchangeLog.objects.get(mode="init")
    assert out[1] == f"Внутренняя ошибка сайта, см. журнал обмена ({entry.pk})"
    assert "Traceback" in entry.traceback and "Error" in entry.traceback
    assert entry.bytes_out == len(response.content)


def test_utf8_answers_when_set(client):
    configure(reply_charset="utf-8")
    out = assert_plain_failure(client.get("/exchange?type=catalog&mode=init"))
    assert out[1].startswith("Не авторизован")
