"""The exchange log and the exchanges in the admin (issue item 11): read-only, files, re-run, error e-mail."""

import io
import subprocess
import sys

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from catalog.models import Product
from exchange1c.models import ExchangeLog, ExchangeRun
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    make_exchange_user,
)

LOG_LIST = reverse("admin:exchange1c_exchangelog_changelist")


def exchange_with_failure(client):
    make_exchange_user()
    c = OneC(client)
    c.start()
    c.upload("import.xml", b"<a/>")
    c.upload("../evil.xml", b"x")
    return c


@pytest.mark.django_db
def test_log_is_listed_filtered_searched_and_read_only(admin_client, client):
    exchange_with_failure(client)
    assert ExchangeLog.objects.count() == 4
    page = admin_client.get(LOG_LIST)
    assert page.status_code == 200
    assert page.context["cl"].result_count == 4
    failures = admin_client.get(LOG_LIST + "?status__exact=failure")
    assert [e.mode for e in failures.context["cl"].result_list] == ["file"]
    assert admin_client.get(LOG_LIST + "?mode__exact=init").context["cl"].result_count == 1
    assert admin_client.get(LOG_LIST + "?q=evil").context["cl"].result_count == 1
    entry = ExchangeLog.objects.first()
    assert admin_client.get(reverse("admin:exchange1c_exchangelog_add")).status_code == 403
    change = admin_client.post(reverse("admin:exchange1c_exchangelog_change", args=[entry.pk]), {"mode": "x"})
    assert change.status_code == 403
    assert admin_client.post(reverse("admin:exchange1c_exchangelog_delete", args=[entry.pk])).status_code == 403


@pytest.mark.django_db
def test_kept_files_are_listed_and_downloadable_by_staff_only(admin_client, client):
    exchange_with_failure(client)
    run = ExchangeRun.objects.get()
    page = admin_client.get(reverse("admin:exchange1c_exchangerun_change", args=[run.pk])).content.decode()
    url = reverse("admin:exchange1c_exchangerun_file", args=[run.pk, "p1/import.xml"])
    assert url in page
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<a/>"
    assert "attachment" in response["Content-Disposition"]
    for bad in ("p1/../../../../etc/passwd", "p1/nothing.xml"):
        assert admin_client.get(reverse("admin:exchange1c_exchangerun_file", args=[run.pk, bad])).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


@pytest.mark.django_db
def test_one_error_email_per_failed_exchange(client):
    configure(error_email="ops@example.com, boss@example.com")
    c = exchange_with_failure(client)
    c.lines("complete")
    run = ExchangeRun.objects.get()
    assert run.status == "failed"
    assert mail.outbox == []  # never inside a request
    call_command("exchange_maintenance", stdout=io.StringIO())
    call_command("exchange_maintenance", stdout=io.StringIO())
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "boss@example.com"]
    assert f"№{run.pk}" in message.subject
    failure = ExchangeLog.objects.get(status="failure")
    assert reverse("admin:exchange1c_exchangelog_change", args=[failure.pk]) in message.body
    assert "evil.xml" in message.body


@pytest.mark.django_db(transaction=True)
def test_rerun_import_from_kept_files(admin_client, client, shared, tmp_path):
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", "12", "--quiet",
                    "--out", str(tmp_path)], check=True)
    make_exchange_user()
    c = OneC(client)
    c.start()
    for name in ("import.xml", "offers.xml"):
        assert c.upload(name, (tmp_path / name).read_bytes()) == ["success"]
        assert c.poll(name)[0] == "success"
    c.lines("complete")
    assert Product.objects.count() == 12
    Product.objects.all().delete()  # lost on the site: the kept files bring the catalog back
    run = ExchangeRun.objects.get()
    response = admin_client.post(reverse("admin:exchange1c_exchangerun_changelist"),
                                 {"action": "rerun_import", "_selected_action": [run.pk]}, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) == 2 and all("success" in t for t in texts), texts
    assert texts[0].startswith(f"#{run.pk} import.xml")
    assert Product.objects.count() == 12
