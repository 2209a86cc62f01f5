"""mode=import, deactivate, complete (PROTOCOL.md §3.4-3.5) with the real importer and real files."""

import subprocess
import sys

import pytest

from catalog.models import Product
from exchange1c.models import ExchangeLog, ExchangeRun
from tests.exchange1c.test_protocol_support import (
    OneC,
    configure,
    make_exchange_user,
)


@pytest.fixture(scope="module")
def small_catalog(shared, tmp_path_factory):
    out = tmp_path_factory.mktemp("catalog")
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", "20", "--images",
                    "--zip", "--quiet", "--out", str(out)], check=True)
    return out


@pytest.mark.django_db
def test_import_before_init_or_of_a_file_never_uploaded_fails(client):
    make_exchange_user()
    c = OneC(client)
    c.checkauth()
    before = c.import_("import.xml")
    assert before[0] == "failure" and "mode=init" in before[1]
    c.init()
    never = c.import_("import.xml")
    assert never[0] == "failure" and "Файл import.xml не загружен" in never[1]
    unsafe = c.import_("../../etc/passwd")
    assert unsafe[0] == "failure" and "не загружен" in unsafe[1]


@pytest.mark.django_db(transaction=True)
def test_plain_files_are_imported_and_the_run_completes(client, small_catalog):
    make_exchange_user()
    configure(use_zip=False)
    c = OneC(client)
    assert c.start() == ["zip=no", "file_limit=2048000"]
    for name in ("import.xml", "offers.xml"):
        data = (small_catalog / name).read_bytes()
        for start in range(0, len(data), 65536):
            assert c.upload(name, data[start:start + 65536]) == ["success"]
    for path in sorted((small_catalog / "import_files").rglob("*.jpg")):
        assert c.upload(path.relative_to(small_catalog).as_posix(), path.read_bytes()) == ["success"]
    assert c.poll("import.xml")[0] == "success"
    assert c.poll("offers.xml")[0] == "success"
    assert Product.objects.count() == 20
    assert c.lines("deactivate", timestamp="1700000000")[0] == "success"
    assert c.lines("complete")[0] == "success"
    run = ExchangeRun.objects.get()
    assert run.status == "completed" and run.deactivate_timestamp == 1700000000 and run.finished_at
    assert run.import_jobs.count() == 2
    assert set(ExchangeLog.objects.filter(mode="import").values_list("run", flat=True)) == {run.pk}


@pytest.mark.django_db(transaction=True)
def test_a_zip_upload_is_imported(client, small_catalog):
    make_exchange_user()
    c = OneC(client)
    c.start()
    archive = next(small_catalog.glob("*.zip")).read_bytes()
    assert c.upload("v8_3B8F_3e.zip", archive) == ["success"]
    assert c.poll("import.xml")[0] == "success"
    assert c.poll("offers.xml")[0] == "success"
    assert Product.objects.filter(is_active=True).count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_failed_file_is_counted_against_the_run(client):
    make_exchange_user()
    c = OneC(client)
    c.start()
    c.upload("import.xml", b"<?xml version='1.0'?><html><body>not CommerceML</body></html>")
    out = c.poll("import.xml")
    assert out[0] == "failure"
    assert c.lines("complete")[0] == "success"
    run = ExchangeRun.objects.get()
    assert run.error_count == 1 and run.status == "failed" and "import.xml" in run.last_error


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_big_file_is_imported_in_steps_within_the_step_time(client, shared, tmp_path):
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), "--products", "10000", "--quiet",
                    "--out", str(tmp_path)], check=True)
    configure(step_seconds=2, use_zip=False, file_limit=1024 * 1024)
    make_exchange_user()
    c = OneC(client)
    c.start()
    data = (tmp_path / "import.xml").read_bytes()
    for start in range(0, len(data), 1024 * 1024):
        assert c.upload("import.xml", data[start:start + 1024 * 1024]) == ["success"]
    answers = []
    while not answers or answers[-1][0] == "progress":
        answers.append(c.import_("import.xml"))
        assert len(answers) < 500
    assert answers[-1][0] == "success", answers[-1]
    assert any(a[0] == "progress" for a in answers)
    assert all(len(a) >= 2 and a[1] for a in answers)  # every progress says where it is
    polls = ExchangeLog.objects.filter(mode="import")
    # The step time bounds every answer; the margin is for a loaded test machine, not the site.
    assert max(polls.values_list("duration_ms", flat=True)) < 2000 + 1500
    assert Product.objects.count() == 10000
