"""A file that cannot be understood fails and changes nothing (PROTOCOL.md §3.4, STYLE.md Obmen 5)."""

import re

import pytest

from exchange1c.importer.api import run_files_now
from tests.exchange1c.importer.conftest import catalog_dump

pytestmark = pytest.mark.django_db

XXE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE КоммерческаяИнформация [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<КоммерческаяИнформация ВерсияСхемы="2.05"><Каталог><Ид>c</Ид><Товары><Товар><Ид>p1</Ид>
<Наименование>&xxe;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>
"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<КоммерческаяИнформация ВерсияСхемы="2.05"><Каталог><Ид>c</Ид><Товары><Товар><Ид>p1</Ид>
<Наименование>&lol3;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>
"""

UNKNOWN_ROOT = """<?xml version="1.0" encoding="UTF-8"?>
<Прайслист><Товар><Ид>p1</Ид></Товар></Прайслист>
"""


@pytest.fixture
def existing(gen):
    """A catalog already on the site: a bad file must leave it exactly as it is."""
    out = gen("good", "--products", 30)
    run_files_now(out, ["import.xml", "offers.xml"])
    return catalog_dump()


def _fails(folder, name, *, says=""):
    [answer] = run_files_now(folder, [name])
    assert answer.status == "failure", answer
    assert says in "\n".join(answer.lines)
    return answer


def test_truncated_file(gen, existing):
    other = gen("other", "--products", 60)
    text = (other / "import.xml").read_bytes()
    (other / "cut.xml").write_bytes(text[: int(len(text) * 0.9)])
    _fails(other, "cut.xml", says="cut.xml")
    assert catalog_dump() == existing


def test_unknown_root_is_named(tmp_path, existing):
    (tmp_path / "price.xml").write_text(UNKNOWN_ROOT, "utf-8")
    _fails(tmp_path, "price.xml", says="Прайслист")
    assert catalog_dump() == existing


@pytest.mark.parametrize("text", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entities_are_refused(tmp_path, existing, text):
    (tmp_path / "evil.xml").write_text(text, "utf-8")
    answer = _fails(tmp_path, "evil.xml")
    assert "root:" not in "\n".join(answer.lines)
    assert catalog_dump() == existing


def test_product_without_id_at_the_end_changes_nothing(gen, existing):
    other = gen("other", "--products", 1200)
    text = (other / "import.xml").read_text("utf-8")
    last = text.rfind("<Товар>")
    broken = text[:last] + re.sub(r"<Ид>[^<]*</Ид>", "", text[last:], count=1)
    (other / "import.xml").write_text(broken, "utf-8")
    _fails(other, "import.xml", says="Ид")
    assert catalog_dump() == existing


def test_missing_file(tmp_path, existing):
    _fails(tmp_path, "import.xml", says="import.xml")
    assert catalog_dump() == existing
