"""The import job admin: read-only list and detail with counts, warnings and errors."""

import pytest
from django.urls import reverse

from exchange1c.importer.api import run_files_now
from exchange1c.models import ImportJob

pytestmark = pytest.mark.django_db


def test_jobs_list_and_detail_are_read_only(admin_client, gen, tmp_path):
    out = gen("cat", "--products", 10)
    (out / "offers.xml").unlink()
    (tmp_path / "bad.xml").write_text("<Прайслист/>", "utf-8")
    run_files_now(out, ["import.xml"])
    run_files_now(tmp_path, ["bad.xml"])
    url = reverse("admin:exchange1c_importjob_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "import.xml" in page.content.decode() and "bad.xml" in page.content.decode()
    assert admin_client.get(url, {"state__exact": "failed"}).content.decode().count("bad.xml") >= 1
    assert admin_client.get(url, {"warnings": "yes"}).status_code == 200
    failed = ImportJob.objects.get(filename="bad.xml")
    detail = admin_client.get(reverse("admin:exchange1c_importjob_change", args=[failed.pk]))
    assert detail.status_code == 200 and "Прайслист" in detail.content.decode()
    assert admin_client.get(reverse("admin:exchange1c_importjob_add")).status_code == 403
    assert admin_client.post(reverse("admin:exchange1c_importjob_delete", args=[failed.pk])).status_code == 403
