"""The streaming CommerceML reader (exchange1c/commerceml/reader.py): PROTOCOL.md §3 "What the catalog
files mean", on every file of ../shared/corpus, on gen_catalog.py catalogs and on small files written
here. Pure: no database, no Django settings; runs with `-p no:django` too.
"""

import dataclasses
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET  # noqa: S405 - independent counts of trusted test files
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from exchange1c.commerceml.reader import (
    CommerceMLReader,
    parse_cml_bool,
    parse_cml_datetime,
    parse_cml_decimal,
    sniff,
)
from exchange1c.commerceml.records import (
    CommerceMLError,
    DocumentInfo,
    GroupRecord,
    OfferRecord,
    PriceRecord,
    PriceTypeRecord,
    ProductRecord,
    PropertyRecord,
    PropertyValueRecord,
    StockRecord,
    UnitRecord,
    WarehouseRecord,
)

REPO = Path(__file__).resolve().parents[3]


def _shared_dir() -> Path | None:
    for candidate in (os.environ.get("OBMEN_SHARED_DIR"), REPO.parent / "shared"):
        if candidate and Path(candidate, "corpus").is_dir():
            return Path(candidate)
    return None


SHARED = _shared_dir()
CORPUS = SHARED / "corpus" if SHARED else None
CORPUS_FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.xml")) if CORPUS else []
# PROVENANCE.md: not a full CommerceML 2/3 document, and what the reader must say about it.
REFUSED = {
    "carono-php/classifier.xml": ("not_commerceml", "Классификатор"),
    "rakov-legacy/Sale77.xml": ("commerceml1", "CommerceML 1"),
}


def need_shared() -> Path:
    if SHARED is None:
        if os.environ.get("CI") == "true":
            pytest.fail("../shared (or $OBMEN_SHARED_DIR) is missing; CI must have the corpus")
        pytest.skip("../shared (or $OBMEN_SHARED_DIR) not found: corpus tests skipped")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_media():
    """Overrides the root conftest's autouse fixture: the reader touches no Django settings, and
    this module must also run with `-p no:django`."""


# ---------------------------------------------------------------------------------------------
# Independent truth: xml.etree, local names


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(elem, name: str) -> str:
    for child in elem:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


# (element, the list it must sit in) -> the record the reader yields for it
_RECORD_OF = {
    ("Группа", "Группы"): GroupRecord,
    ("Свойство", "Свойства"): PropertyRecord,
    ("СвойствоНоменклатуры", "Свойства"): PropertyRecord,
    ("ТипЦены", "ТипыЦен"): PriceTypeRecord,
    ("Склад", "Склады"): WarehouseRecord,
    ("Товар", "Товары"): ProductRecord,
    ("Предложение", "Предложения"): OfferRecord,
    ("ЕдиницаИзмерения", "ЕдиницыИзмерения"): UnitRecord,
}


def etree_counts(path: Path) -> tuple[Counter, int]:
    """Records the reader must yield, by type, and how many classifier items lack an Ид (those are
    skipped with a warning: nothing could refer to them)."""
    root = ET.parse(path).getroot()  # noqa: S314 - test files
    counts: Counter = Counter()
    without_id = 0
    for parent in root.iter():
        for elem in parent:
            record = _RECORD_OF.get((_local(elem.tag), _local(parent.tag)))
            if record is None:
                continue
            if (
                record in (ProductRecord, OfferRecord)
                or _child_text(elem, "Ид")
                or (record is UnitRecord and _child_text(elem, "Код"))
            ):
                counts[record] += 1
            else:
                without_id += 1
    return counts, without_id


def root_sections(path: Path) -> list[str]:
    return [_local(child.tag) for child in ET.parse(path).getroot()]  # noqa: S314


def read_all(path, **kwargs) -> tuple[CommerceMLReader, list]:
    reader = CommerceMLReader(path, **kwargs)
    return reader, list(reader)


def without_lines(records) -> list:
    return [dataclasses.replace(r, line=0) if hasattr(r, "line") else r for r in records]


def of_type(records, cls) -> list:
    return [r for r in records if type(r) is cls]


# ---------------------------------------------------------------------------------------------
# The corpus: every real file


@pytest.mark.parametrize("name", CORPUS_FILES or ["<corpus missing>"])
def test_corpus_file_is_read_whole_or_refused_as_documented(name):
    path = need_shared() / "corpus" / name
    if name in REFUSED:
        code, says = REFUSED[name]
        with pytest.raises(CommerceMLError) as refused:
            sniff(path)
        assert refused.value.code == code
        assert says in str(refused.value)
        with pytest.raises(CommerceMLError):
            CommerceMLReader(path)
        return

    sections = root_sections(path)
    if "Документ" in sections or "Контейнер" in sections:
        assert sniff(path).kind == "orders"
        assert read_all(path)[1] == []  # orders are the sale side's business
        return

    reader, records = read_all(path)
    expected, without_id = etree_counts(path)
    assert Counter(type(r) for r in records) == expected
    assert sum("без Ид" in w.message for w in reader.warnings) == without_id
    assert reader.info == sniff(path)
    assert reader.info.kind in {"catalog", "classifier", "offers", "prices", "rests"}
    if "Каталог" in sections:
        assert reader.info.kind == "catalog"
    elif "ПакетПредложений" in sections:
        assert reader.info.kind in {"offers", "prices", "rests"}
    # Document order: groups before the products that sit in them, line numbers increasing.
    lines = [r.line for r in records if hasattr(r, "line")]
    assert lines == sorted(lines)


def corpus(name: str) -> Path:
    return need_shared() / "corpus" / name


def test_okaycms_import_deleted_products_images_groups_units():
    reader, records = read_all(corpus("okaycms/import.xml"))
    info = reader.info
    assert (info.kind, info.schema_version, info.namespace) == ("catalog", "2.08", "urn:1C.ru:commerceml_210")
    assert info.generated_at == datetime(2019, 4, 22, 15, 52, 34)
    assert info.changes_only is False and info.encoding == "UTF-8"
    assert info.classifier_id == "9548da99-bb14-6a64-18cc-970109ad6aec"

    groups = {g.external_id: g for g in of_type(records, GroupRecord)}
    sub = groups["82d38077-61b8-11e9-a23f-00155d01c80d"]
    assert (
        sub.parent_id == "bf4e77a8-60e5-11e9-a0bc-00155d01c806" and sub.name == "подгруппа моей номенклатуры"
    )
    assert [g.position for g in groups.values() if g.parent_id is None] == [0, 1]
    # A group is yielded before its subgroups, and groups before products.
    order = [r.external_id for r in records if isinstance(r, GroupRecord | ProductRecord)]
    assert order.index(sub.parent_id) < order.index(sub.external_id)

    assert of_type(records, UnitRecord) == [
        UnitRecord("356", "", "Час", "HUR"),
        UnitRecord("796", "", "Штука", "PCE"),
    ]
    products = {p.external_id: p for p in of_type(records, ProductRecord)}
    deleted = {pid for pid, p in products.items() if p.deleted}
    assert deleted == {
        "bf4e77a9-60e5-11e9-a0bc-00155d01c806",
        "091c70f7-6107-11e9-a23f-00155d01c80d",
        "091c70f8-6107-11e9-a23f-00155d01c80d",
    }
    first = products["bf4e77a3-60e5-11e9-a0bc-00155d01c806"]
    assert first.images == (
        (
            "import_files/bf/bf4e77a360e511e9a0bc00155d01c806_bf4e77a660e511e9a0bc00155d01c806.jpg",
            "1b857ad6f816",
        ),
        ("import_files/bf/bf4e77a360e511e9a0bc00155d01c806_091c70f6610711e9a23f00155d01c80d.png", "test"),
    )
    assert first.group_ids == ("091c70f5-6107-11e9-a23f-00155d01c80d",)
    assert (first.article, first.code, first.full_name) == ("112233", "ФР-00000001", first.name)
    assert first.unit == UnitRecord("356", "", "Час", "HUR")
    assert first.taxes == (("НДС", "20"),)
    assert ("ТипНоменклатуры", "Запас") in first.requisites and first.kind == "goods"
    assert first.properties == (
        ("091c70fa-6107-11e9-a23f-00155d01c80d", "091c70fd-6107-11e9-a23f-00155d01c80d"),
        ("091c70fe-6107-11e9-a23f-00155d01c80d", "091c70ff-6107-11e9-a23f-00155d01c80d"),
    )
    assert products["dac626f0-60f0-11e9-a0bc-00155d01c806"].kind == "service"  # Доставка
    assert first.line == 105


def test_carono_offers_warehouse_attributes_and_features():
    reader, records = read_all(corpus("carono-yii2/offers.xml"))
    assert reader.info.kind == "offers" and reader.info.namespace == "urn:1C.ru:commerceml_2"
    assert reader.info.catalog_id == "07cfe53d-5145-4c4e-a81c-899be39cc5bd"
    assert reader.info.package_id == "07cfe53d-5145-4c4e-a81c-899be39cc5bd#"
    assert len(of_type(records, WarehouseRecord)) == 5
    [price_type] = of_type(records, PriceTypeRecord)
    assert (price_type.name, price_type.currency, price_type.tax_name, price_type.tax_included) == (
        "Розничная",
        "RUB",
        "НДС",
        True,
    )
    offer = of_type(records, OfferRecord)[0]
    assert offer.product_id == "bd72d910-55bc-11d9-848a-00112f43529a"
    assert offer.feature_id == "90c55447-d3a8-11e4-9423-e0cb4ed5eed4"
    assert offer.external_id == f"{offer.product_id}#{offer.feature_id}"
    assert offer.prices == (PriceRecord(price_type.external_id, Decimal("1719"), "RUB", None, Decimal("1")),)
    assert offer.quantity == Decimal("20")
    assert offer.stocks == (StockRecord("b6112590-41ba-11dd-ac9d-0015e9b8c48d", Decimal("20")),)
    assert offer.has_prices and offer.has_stock and not offer.deleted
    assert offer.unit.code == "715" and offer.unit.full_name == "Пара (2 шт.)"


def test_stee1cat_commerceml_31_split_files():
    reader, records = read_all(corpus("stee1cat/import___29d3f7f0-36dd-4eea-a06c-4c325bed4285.xml"))
    assert reader.info.namespace == "urn:1C.ru:commerceml_3" and reader.info.schema_version == "3.1"
    assert reader.info.kind == "catalog" and reader.info.changes_only is True
    assert reader.info.classifier_changes_only is True
    units = of_type(records, UnitRecord)
    kg = next(u for u in units if u.name == "кг")
    assert kg == UnitRecord("166", "кг", "Килограмм", "KGM", "bd72d8fb-55bc-11d9-848a-00112f43529a")  # "166 "
    assert len(of_type(records, WarehouseRecord)) == 13
    groups = of_type(records, GroupRecord)
    assert len(groups) == 25 and all(
        g.parent_id is None or g.parent_id in {x.external_id for x in groups} for g in groups
    )

    reader, records = read_all(corpus("stee1cat/offers___cd9ce019-f901-4dd4-aed7-a76bec5faac2.xml"))
    # ПакетПредложений first, then Классификатор/Свойства: an offers file with no offers.
    assert reader.info.kind == "offers" and reader.info.classifier_changes_only is True
    properties = of_type(records, PropertyRecord)
    assert len(properties) == 25 and {type(r) for r in records} == {PropertyRecord}
    sizes = next(p for p in properties if p.external_id == "14ed8afe-55bd-11d9-848a-00112f43529a")
    assert sizes.value_type == "reference" and sizes.deleted is False
    assert sizes.values[0] == PropertyValueRecord("14ed8aff-55bd-11d9-848a-00112f43529a", "120*60*30")


def test_bxmaker_prices_and_rests_files():
    reader, records = read_all(corpus("bxmaker/prices.xml"))
    assert reader.info.kind == "prices" and reader.info.changes_only is True
    offer = records[0]
    assert offer.prices == (
        PriceRecord("9f0943e7-44a2-11e5-8bb6-00155d5b6a04", Decimal("2000"), "руб", "шт", Decimal("1")),
    )
    assert offer.has_prices and not offer.has_stock and offer.quantity is None and offer.stocks == ()

    reader, records = read_all(corpus("bxmaker/rests.xml"))
    assert reader.info.kind == "rests"
    by_id = {o.external_id: o for o in records}
    offer = by_id["21720551-4efc-11e1-8614-20cf30ae5c99"]
    assert offer.stocks == (StockRecord("277e3391-fb26-11e7-80e9-00155d00930f", Decimal("10")),)
    assert offer.has_stock and not offer.has_prices and offer.prices == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sosloow/import.test.xml", datetime(2014, 11, 25, 8, 0, 0)),  # "T8:00:00"
        ("irpsv/cs-cart_import.xml", datetime(2014, 6, 1, 0, 36, 33)),  # "T0:36:33", UT 10.3
        ("carono-yii2/from.xml", datetime(2007, 10, 30)),  # date only
        (
            "avdivo/import.xml",
            datetime(2024, 1, 8, 15, 47, 2, 82000, timezone(timedelta(hours=3))),
        ),
        ("rakov-legacy/Order8x.xml", None),  # no ДатаФормирования at all
    ],
)
def test_corpus_dates(name, expected):
    assert sniff(corpus(name)).generated_at == expected


def test_changes_only_flags():
    info = sniff(corpus("irpsv/ready-script_import.xml"))
    assert (info.kind, info.changes_only, info.classifier_changes_only) == ("catalog", True, True)
    assert sniff(corpus("christina/import_changes.xml")).changes_only is True
    assert sniff(corpus("christina/offers_changes.xml")).changes_only is True
    assert sniff(corpus("christina/import_full.xml")).changes_only is False
    assert sniff(corpus("christina/offers_full.xml")).changes_only is False


def test_bitrix_made_christina_files():
    reader, records = read_all(corpus("christina/import_full.xml"))
    # Three Свойство without Ид: nothing can refer to them, skipped with a warning.
    assert [w.message for w in reader.warnings if "без Ид" in w.message] == [
        "свойство «Объем, мл» без Ид пропущено: товары не могут на него сослаться",
        "свойство «Состав» без Ид пропущено: товары не могут на него сослаться",
        "свойство «Тип» без Ид пропущено: товары не могут на него сослаться",
    ]
    line = next(p for p in of_type(records, PropertyRecord) if p.external_id == "LINE")
    assert line.value_type == "reference"  # no ТипЗначений, but id'd Вариант values
    assert PropertyValueRecord("biophyto", "Biophyto") in line.values
    product = of_type(records, ProductRecord)[0]
    # Bitrix repeats each value as ЗначениеСвойства/Значение: read once.
    assert [v for p, v in product.properties if p == "LINE"] == ["probright"]

    reader, records = read_all(corpus("christina/offers_full.xml"))
    # <ЦенаЗаЕдиницу/> next to Представление "0 RUB за шт": an empty number is zero, not a fault.
    offer = next(o for o in records if o.external_id == "9797a078-affc-11e6-949e-f01fafe5cf33")
    club = next(p for p in offer.prices if p.price_type_id == "3cc4033c-fe47-11e1-bff7-003048c59fb0_CLUB_")
    assert club.value == Decimal(0)
    assert reader.warnings == [] and offer.warnings == ()


def test_manufacturer_and_barcode():
    records = read_all(corpus("d16izhevsk/import_test.xml"))[1]
    products = of_type(records, ProductRecord)
    assert all(p.manufacturer and p.manufacturer[1] for p in products)
    assert any(p.barcode for p in of_type(read_all(corpus("carono-yii2/import.xml"))[1], ProductRecord))


# ---------------------------------------------------------------------------------------------
# Small files written here


NS = "urn:1C.ru:commerceml_210"


def cml(
    body: str,
    *,
    ns: str | None = NS,
    version: str | None = "2.08",
    date="2024-03-01T09:05:00",
    encoding: str | None = "UTF-8",
) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    xmlns = f' xmlns="{ns}"' if ns else ""
    schema = f' ВерсияСхемы="{version}"' if version else ""
    return (
        f'{declaration}<КоммерческаяИнформация{xmlns}{schema} ДатаФормирования="{date}">\n'
        f"{textwrap.dedent(body).strip()}\n</КоммерческаяИнформация>\n"
    )


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def write(tmp_path: Path, text: str, name="file.xml", encoding="utf-8", bom=False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding, errors="xmlcharrefreplace"))
    return path


CLASSIFIER = """
<Классификатор СодержитТолькоИзменения="false">
  <Ид>cls-1</Ид>
  <Наименование>Классификатор</Наименование>
  <Группы>
    <Группа>
      <Ид>g-1</Ид>
      <Наименование>Обувь</Наименование>
      <Группы>
        <Группа>
          <Ид>g-1-1</Ид>
          <Наименование>Ботинки</Наименование>
          <Группы>
            <Группа><Ид>g-1-1-1</Ид><Наименование>Зимние</Наименование></Группа>
          </Группы>
        </Группа>
        <Группа>
          <Ид>g-1-2</Ид>
          <ПометкаУдаления>true</ПометкаУдаления>
          <Наименование>Туфли</Наименование>
        </Группа>
        <Группа><Наименование>Без Ид</Наименование>
          <Группы><Группа><Ид>g-orphan</Ид><Наименование>Сирота</Наименование></Группа></Группы>
        </Группа>
      </Группы>
    </Группа>
    <Группа><Ид> g-2 </Ид><Наименование>Сумки</Наименование></Группа>
  </Группы>
  <Свойства>
    <Свойство>
      <Ид>p-brand</Ид><Наименование>Производитель</Наименование><ТипЗначений>Справочник</ТипЗначений>
      <ВариантыЗначений>
        <Справочник><ИдЗначения>v-1</ИдЗначения><Значение>Ecco</Значение></Справочник>
        <Справочник><ИдЗначения>v-2</ИдЗначения><Значение>Geox</Значение></Справочник>
      </ВариантыЗначений>
    </Свойство>
    <Свойство><Ид>p-num</Ид><Наименование>Размер</Наименование><ТипЗначений>Число</ТипЗначений></Свойство>
    <Свойство><Ид>p-date</Ид><Наименование>Дата</Наименование><ТипЗначений>Дата</ТипЗначений></Свойство>
    <Свойство><Ид>p-bool</Ид><Наименование>Новинка</Наименование><ТипЗначений>Булево</ТипЗначений></Свойство>
    <Свойство><Ид>p-odd</Ид><Наименование>Странное</Наименование><ТипЗначений>Неведомое</ТипЗначений></Свойство>
    <Свойство><Ид>p-none</Ид><Наименование>Без типа</Наименование>
      <ПометкаУдаления>true</ПометкаУдаления></Свойство>
    <СвойствоНоменклатуры><Ид>p-old</Ид><Наименование>Старое</Наименование></СвойствоНоменклатуры>
  </Свойства>
  <ЕдиницыИзмерения>
    <ЕдиницаИзмерения><Код>796 </Код><НаименованиеКраткое>шт</НаименованиеКраткое>
      <НаименованиеПолное>Штука</НаименованиеПолное><МеждународноеСокращение>PCE</МеждународноеСокращение>
    </ЕдиницаИзмерения>
  </ЕдиницыИзмерения>
</Классификатор>
"""

PRODUCTS = """
<Каталог СодержитТолькоИзменения="true">
  <Ид>cat-1</Ид>
  <ИдКлассификатора>cls-1</ИдКлассификатора>
  <Наименование>Каталог</Наименование>
  <Неизвестный><Ид>ignored</Ид></Неизвестный>
  <Товары>
    <Товар>
      <Ид> prod-1 </Ид>
      <Штрихкод>4600000000001</Штрихкод>
      <Артикул>A-1</Артикул>
      <Код>УТ-001  </Код>
      <Наименование>Ботинки «Зима» &amp; Ко</Наименование>
      <БазоваяЕдиница Код="796 " НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>
      <Группы><Ид>g-1-1</Ид><Ид>g-2</Ид></Группы>
      <Описание>Тёплые</Описание>
      <Картинка>import_files/ab/one.jpg</Картинка>
      <Картинка>import_files/ab/two.jpg</Картинка>
      <Изготовитель><Ид>m-1</Ид><Наименование>Ecco</Наименование></Изготовитель>
      <ЗначенияСвойств>
        <ЗначенияСвойства><Ид>p-brand</Ид><Значение>v-1</Значение></ЗначенияСвойства>
        <ЗначенияСвойства><Ид>p-num</Ид><Значение/></ЗначенияСвойства>
        <ЗначенияСвойства><Ид>p-old</Ид><Значение>красный</Значение><Значение>синий</Значение></ЗначенияСвойства>
      </ЗначенияСвойств>
      <СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>
      <ХарактеристикиТовара>
        <ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>42</Значение></ХарактеристикаТовара>
      </ХарактеристикиТовара>
      <ЗначенияРеквизитов>
        <ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Обувь</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>Вес</Наименование><Значение>1,25</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>ОписаниеВФорматеHTML</Наименование>
          <Значение>&lt;p&gt;Тёплые&lt;/p&gt;</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>ОписаниеФайла</Наименование>
          <Значение>import_files/ab/two.jpg#Вид #2</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>Полное наименование</Наименование>
          <Значение>Ботинки зимние</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>Цвета</Наименование>
          <Значение>чёрный</Значение><Значение>белый</Значение></ЗначениеРеквизита>
        <ЗначениеРеквизита><Наименование>Пусто</Наименование></ЗначениеРеквизита>
      </ЗначенияРеквизитов>
      <Неизвестный>ignored</Неизвестный>
    </Товар>
    <Товар Статус="Удален"><Ид>prod-2</Ид><Наименование>Старый</Наименование></Товар>
    <Товар><Ид>prod-3</Ид><Наименование>Доставка</Наименование><Статус>Удален</Статус>
      <ЗначенияРеквизитов>
        <ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Услуга</Значение></ЗначениеРеквизита>
      </ЗначенияРеквизитов>
    </Товар>
    <Товар ПометкаУдаления="true"><Ид>prod-4</Ид><Наименование>Набор</Наименование><Вес>0.5</Вес>
      <ЗначенияРеквизитов>
        <ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Набор</Значение></ЗначениеРеквизита>
      </ЗначенияРеквизитов>
    </Товар>
    <Товар><Ид>prod-5</Ид><Наименование>Ещё</Наименование><ПометкаУдаления>true</ПометкаУдаления></Товар>
  </Товары>
</Каталог>
"""

OFFERS = """
<ПакетПредложений СодержитТолькоИзменения="false">
  <Ид>cat-1#</Ид>
  <ИдКаталога>cat-1</ИдКаталога>
  <ИдКлассификатора>cls-1</ИдКлассификатора>
  <ТипыЦен>
    <ТипЦены><Ид>pt-1</Ид><Наименование>Розничная</Наименование><Валюта>руб</Валюта>
      <Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме></Налог></ТипЦены>
    <ТипЦены><Ид>pt-2</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены>
  </ТипыЦен>
  <Склады>
    <Склад><Ид>wh-1</Ид><Наименование>Основной</Наименование></Склад>
    <Склад><Ид>wh-2</Ид><Наименование>Закрыт</Наименование><ПометкаУдаления>true</ПометкаУдаления></Склад>
  </Склады>
  <Предложения>
    <Предложение>
      <Ид>prod-1#feat-42</Ид>
      <Артикул>A-1</Артикул>
      <Наименование>Ботинки (42)</Наименование>
      <БазоваяЕдиница Код="796">шт</БазоваяЕдиница>
      <ХарактеристикиТовара>
        <ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>42</Значение></ХарактеристикаТовара>
      </ХарактеристикиТовара>
      <Цены>
        <Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>1 234,50</ЦенаЗаЕдиницу><Валюта>руб</Валюта>
          <Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена>
        <Цена><ИдТипаЦены>pt-2</ИдТипаЦены><ЦенаЗаЕдиницу>1\u00a0000</ЦенаЗаЕдиницу></Цена>
      </Цены>
      <Количество>-2.5</Количество>
      <Склад ИдСклада="wh-1" КоличествоНаСкладе="0,5"/>
      <Склад ИдСклада="wh-2" КоличествоНаСкладе=""/>
    </Предложение>
    <Предложение>
      <Ид>prod-2#</Ид>
      <Цены>
        <Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>abc</ЦенаЗаЕдиницу></Цена>
        <Цена><ИдТипаЦены>pt-2</ИдТипаЦены><ЦенаЗаЕдиницу></ЦенаЗаЕдиницу></Цена>
      </Цены>
      <Остатки>
        <Остаток><Склад><Ид>wh-1</Ид><Количество>3</Количество></Склад></Остаток>
        <Остаток><Количество>7</Количество></Остаток>
      </Остатки>
      <ПометкаУдаления>true</ПометкаУдаления>
    </Предложение>
    <Предложение Статус="Удален"><Ид>prod-3</Ид><Количество>1e400x</Количество></Предложение>
  </Предложения>
</ПакетПредложений>
"""


def test_classifier_groups_properties_units(tmp_path):
    text = cml(CLASSIFIER)
    reader, records = read_all(write(tmp_path, text))
    assert reader.info.kind == "classifier" and reader.info.changes_only is False
    assert reader.info.classifier_id == "cls-1"
    groups = of_type(records, GroupRecord)
    assert [(g.external_id, g.parent_id, g.position, g.deleted) for g in groups] == [
        ("g-1", None, 0, False),
        ("g-1-1", "g-1", 0, False),
        ("g-1-1-1", "g-1-1", 0, False),
        ("g-1-2", "g-1", 1, True),
        ("g-orphan", "g-1", 0, False),  # its parent has no Ид: hangs on the nearest ancestor that has
        ("g-2", None, 1, False),
    ]
    assert [g.name for g in groups][:2] == ["Обувь", "Ботинки"]
    assert [(line, "без Ид" in message) for line, message in reader.warnings] == [
        (line_of(text, "<Группа><Наименование>Без Ид"), True)
    ]

    properties = {p.external_id: p for p in of_type(records, PropertyRecord)}
    assert {k: p.value_type for k, p in properties.items()} == {
        "p-brand": "reference",
        "p-num": "number",
        "p-date": "date",
        "p-bool": "bool",
        "p-odd": "string",
        "p-none": "string",
        "p-old": "string",
    }
    assert properties["p-brand"].values == (
        PropertyValueRecord("v-1", "Ecco"),
        PropertyValueRecord("v-2", "Geox"),
    )
    assert properties["p-none"].deleted and not properties["p-brand"].deleted
    assert of_type(records, UnitRecord) == [UnitRecord("796", "шт", "Штука", "PCE")]
    # Classifier records come in document order: groups, then properties, then units.
    kinds = [type(r).__name__ for r in records]
    assert kinds == sorted(kinds, key=["GroupRecord", "PropertyRecord", "UnitRecord"].index)


def test_products(tmp_path):
    text = cml(CLASSIFIER + PRODUCTS)
    reader, records = read_all(write(tmp_path, text))
    info = reader.info
    assert (info.kind, info.changes_only, info.classifier_changes_only) == ("catalog", True, False)
    assert (info.catalog_id, info.classifier_id) == ("cat-1", "cls-1")
    products = {p.external_id: p for p in of_type(records, ProductRecord)}
    assert list(products) == ["prod-1", "prod-2", "prod-3", "prod-4", "prod-5"]
    p = products["prod-1"]
    assert p.name == "Ботинки «Зима» & Ко" and p.full_name == "Ботинки зимние"
    assert (p.article, p.barcode, p.code) == ("A-1", "4600000000001", "УТ-001")
    assert p.description == "Тёплые" and p.description_html == "<p>Тёплые</p>"
    assert p.group_ids == ("g-1-1", "g-2")
    assert p.unit == UnitRecord("796", "шт", "Штука", "PCE")
    assert p.manufacturer == ("m-1", "Ecco")
    # Empty <Значение/> is no value; several Значение are several pairs.
    assert p.properties == (("p-brand", "v-1"), ("p-old", "красный"), ("p-old", "синий"))
    assert p.requisites == (
        ("ВидНоменклатуры", "Обувь"),
        ("Вес", "1,25"),
        ("ОписаниеВФорматеHTML", "<p>Тёплые</p>"),
        ("ОписаниеФайла", "import_files/ab/two.jpg#Вид #2"),
        ("Полное наименование", "Ботинки зимние"),
        ("Цвета", "чёрный"),
        ("Цвета", "белый"),
        ("Пусто", ""),
    )
    assert p.images == (("import_files/ab/one.jpg", ""), ("import_files/ab/two.jpg", "Вид #2"))
    assert p.weight == Decimal("1.25") and p.kind == "goods" and not p.deleted
    assert p.characteristics == (("Размер", "42"),) and p.taxes == (("НДС", "20"),)
    assert p.line == line_of(text, "<Ид> prod-1 </Ид>") - 1 and p.warnings == ()

    assert [products[k].deleted for k in products] == [False, True, True, True, True]
    assert products["prod-3"].kind == "service" and products["prod-4"].kind == "set"
    assert products["prod-4"].weight == Decimal("0.5") and products["prod-2"].unit is None
    assert products["prod-2"].full_name is None and products["prod-2"].images == ()


def test_offers(tmp_path):
    text = cml(OFFERS)
    reader, records = read_all(write(tmp_path, text))
    assert reader.info.kind == "offers" and reader.info.package_id == "cat-1#"
    assert of_type(records, PriceTypeRecord) == [
        PriceTypeRecord("pt-1", "Розничная", "руб", "НДС", True, line_of(text, "<ТипЦены><Ид>pt-1")),
        PriceTypeRecord("pt-2", "Оптовая", "RUB", None, None, line_of(text, "<ТипЦены><Ид>pt-2")),
    ]
    assert [(w.external_id, w.deleted) for w in of_type(records, WarehouseRecord)] == [
        ("wh-1", False),
        ("wh-2", True),
    ]
    first, second, third = of_type(records, OfferRecord)
    assert (first.product_id, first.feature_id, first.name, first.article) == (
        "prod-1",
        "feat-42",
        "Ботинки (42)",
        "A-1",
    )
    assert first.prices == (
        PriceRecord("pt-1", Decimal("1234.50"), "руб", "шт", Decimal("1")),
        PriceRecord("pt-2", Decimal("1000"), None, None, None),
    )
    assert first.quantity == Decimal("-2.5")  # fractional and negative: kept as 1C sent it
    assert first.stocks == (StockRecord("wh-1", Decimal("0.5")), StockRecord("wh-2", Decimal(0)))
    assert first.characteristics == (("Размер", "42"),) and first.unit.code == "796"
    assert first.has_prices and first.has_stock and not first.deleted and first.warnings == ()

    # "abc" is reported and left out; an empty price is zero.
    assert (second.product_id, second.feature_id) == ("prod-2", None)
    assert second.prices == (PriceRecord("pt-2", Decimal(0), None, None, None),)
    assert second.stocks == (StockRecord("wh-1", Decimal("3")),)
    assert second.quantity == Decimal("7")  # Остаток/Количество without Склад
    assert second.deleted and len(second.warnings) == 1 and "abc" in second.warnings[0]

    assert third.deleted and third.quantity is None and third.has_stock and not third.has_prices
    assert [(line, "abc" in m or "1e400x" in m) for line, m in reader.warnings] == [
        (line_of(text, "<Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>abc"), True),
        (line_of(text, '<Предложение Статус="Удален">'), True),
    ]
    assert reader.warning_count == 2


def test_namespaces_read_alike(tmp_path):
    body = CLASSIFIER + PRODUCTS
    results = []
    for i, (ns, version) in enumerate(
        [(None, "2.05"), ("urn:1C.ru:commerceml_2", "2.07"), (NS, "2.08"), ("urn:1C.ru:commerceml_3", "3.1")]
    ):
        reader, records = read_all(write(tmp_path, cml(body, ns=ns, version=version), f"{i}.xml"))
        assert reader.info.namespace == ns and reader.info.schema_version == version
        results.append(records)
    assert results[0] == results[1] == results[2] == results[3]
    assert len(results[0]) == 19


def test_windows_1251_and_bom(tmp_path):
    text = cml(CLASSIFIER + PRODUCTS, encoding="windows-1251")
    cp1251 = write(tmp_path, text, "cp1251.xml", encoding="cp1251")
    assert "Ботинки".encode("cp1251") in cp1251.read_bytes()
    reader, records = read_all(cp1251)
    assert reader.info.encoding == "windows-1251"
    utf8 = read_all(write(tmp_path, cml(CLASSIFIER + PRODUCTS), "utf8.xml"))[1]
    assert records == utf8
    bom_reader, bom = read_all(write(tmp_path, cml(CLASSIFIER + PRODUCTS), "bom.xml", bom=True))
    assert bom == utf8 and bom_reader.info.encoding == "UTF-8"
    no_declaration = read_all(
        write(tmp_path, cml(CLASSIFIER + PRODUCTS, encoding=None), "plain.xml", bom=True)
    )
    assert no_declaration[0].info.encoding is None
    assert without_lines(no_declaration[1]) == without_lines(utf8)  # one line less: no declaration


def test_skip_resumes_without_building_the_skipped_items(tmp_path):
    path = write(tmp_path, cml(CLASSIFIER + PRODUCTS))
    records = read_all(path)[1]
    resumed = read_all(path, skip=3)[1]
    classifier = [r for r in records if not isinstance(r, ProductRecord)]
    assert resumed == classifier + of_type(records, ProductRecord)[3:]
    assert of_type(read_all(path, skip=99)[1], ProductRecord) == []
    offers = write(tmp_path, cml(OFFERS), "offers.xml")
    assert [o.external_id for o in of_type(read_all(offers, skip=2)[1], OfferRecord)] == ["prod-3"]


# ---------------------------------------------------------------------------------------------
# What is refused


def test_error_text_has_line_and_column():
    error = CommerceMLError("не то", line=12, column=5, path="КоммерческаяИнформация/Каталог")
    assert str(error) == "Строка 12, столбец 5 (КоммерческаяИнформация/Каталог): не то"
    assert str(CommerceMLError("не то", line=3)) == "Строка 3: не то"
    assert str(CommerceMLError("не то")) == "не то" and error.message == "не то"


def test_malformed_head_is_refused_with_lxml_position(tmp_path):
    text = '<?xml version="1.0"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08">\n  <Каталог>\n</Товар>'
    path = write(tmp_path, text)
    with pytest.raises(CommerceMLError) as refused:
        sniff(path)
    assert refused.value.code == "malformed"
    assert (refused.value.line, refused.value.column) == (4, 9)
    assert str(refused.value).startswith("Строка 4, столбец 9: ")


def test_truncated_file_fails_while_reading_after_a_quick_sniff(tmp_path):
    text = cml(CLASSIFIER + PRODUCTS)
    cut = text.index("<Товар><Ид>prod-5</Ид>") + 15
    path = write(tmp_path, text[:cut])
    assert sniff(path).kind == "catalog"  # stops at the first Товары: never sees the end
    reader = CommerceMLReader(path)
    seen = []
    with pytest.raises(CommerceMLError) as refused:
        for record in reader:
            seen.append(record)
    assert refused.value.code == "malformed"
    assert refused.value.line == text[:cut].count("\n") + 1 and refused.value.column
    assert [p.external_id for p in of_type(seen, ProductRecord)] == ["prod-1", "prod-2", "prod-3", "prod-4"]


def test_sniff_stops_at_the_first_offer(tmp_path):
    text = cml(OFFERS)
    cut = text.index("<Предложение>", text.index("</Предложение>"))
    path = write(tmp_path, text[:cut] + "<<<garbage")
    assert sniff(path).kind == "offers"
    with pytest.raises(CommerceMLError):
        list(CommerceMLReader(path))


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("", "malformed", "пуст"),
        ("\ufeff  \n", "malformed", "пуст"),
        (
            '<?xml version="1.0"?>\n<Классификатор><Ид>x</Ид></Классификатор>',
            "not_commerceml",
            "Классификатор",
        ),
        ("<html><body>502 Bad Gateway</body></html>", "not_commerceml", "«html»"),
        (cml("<Справочник/>"), "unknown_kind", "Справочник"),
        (cml(""), "unknown_kind", "ничего"),
        (cml('<Каталог Идентификатор="1" Наименование="Т"/>', version=None), "commerceml1", "CommerceML 1"),
        (cml("<Документ/>", version="1.04"), "commerceml1", "CommerceML 2"),
    ],
)
def test_refused_documents(tmp_path, text, code, says):
    path = write(tmp_path, text)
    with pytest.raises(CommerceMLError) as refused:
        CommerceMLReader(path)
    assert refused.value.code == code
    assert says in str(refused.value)


def test_product_or_offer_without_id_is_an_error(tmp_path):
    text = cml(PRODUCTS.replace("<Ид>prod-3</Ид>", ""))
    reader = CommerceMLReader(write(tmp_path, text))
    with pytest.raises(CommerceMLError) as refused:
        list(reader)
    assert refused.value.code == "missing_id"
    assert refused.value.path == "КоммерческаяИнформация/Каталог/Товары/Товар[3]"
    assert refused.value.line == text[: text.index("<Наименование>Доставка")].count("\n") + 1

    reader = CommerceMLReader(write(tmp_path, cml(OFFERS.replace("<Ид>prod-2#</Ид>", "<Ид> </Ид>")), "o.xml"))
    with pytest.raises(CommerceMLError) as refused:
        list(reader)
    assert refused.value.path.endswith("Предложения/Предложение[2]")


def test_orders_yield_nothing(tmp_path):
    path = write(tmp_path, cml("<Контейнер><Документ><Ид>1</Ид></Документ></Контейнер>", version="3.1"))
    assert sniff(path).kind == "orders" and list(CommerceMLReader(path)) == []


# Hostile files are opened in a child process: if the parser ever opened the external entity (a FIFO
# with no writer), the child would hang and time out instead of failing politely.
# VmHWM is the child's own high-water mark; ru_maxrss would include the forking pytest process.
PEAK_MIB = r"""
def peak_mib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
"""

HOSTILE = (
    PEAK_MIB
    + r"""
import sys
from exchange1c.commerceml.reader import CommerceMLReader, sniff
from exchange1c.commerceml.records import CommerceMLError
for path in sys.argv[1:]:
    for attempt in (sniff, lambda p: list(CommerceMLReader(p))):
        try:
            attempt(path)
        except CommerceMLError as error:
            print(error.code, str(error))
        else:
            print("accepted")
print("peak", peak_mib())
"""
)

BILLION_LAUGHS = (
    '<!DOCTYPE КоммерческаяИнформация [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


def hostile_files(tmp_path: Path) -> tuple[list[Path], str]:
    secret = tmp_path / "secret"
    os.mkfifo(secret)
    xxe = f'<!DOCTYPE КоммерческаяИнформация [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>\n'
    system = f'<!DOCTYPE КоммерческаяИнформация SYSTEM "file://{secret}">\n'
    body = cml("<Каталог><Ид>&xxe;</Ид><Наименование>&lol9;</Наименование><Товары/></Каталог>")
    head, _, rest = body.partition("\n")
    # The prolog scan stops at 1 MB; past it the parser's own view of the document type decides.
    padding = "<!--" + "x" * (1 << 20) + "-->\n"
    files = []
    for i, doctype in enumerate([xxe, BILLION_LAUGHS, system, padding + xxe, padding + BILLION_LAUGHS]):
        files.append(write(tmp_path, f"{head}\n{doctype}{rest}", f"hostile{i}.xml"))
    return files, str(secret)


def test_dtd_xxe_and_billion_laughs_are_refused_unexpanded(tmp_path):
    files, secret = hostile_files(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", HOSTILE, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 2 * len(files) + 1, done.stdout + done.stderr
    for line in lines[:-1]:
        assert line.startswith("dtd ") and "DTD" in line
    assert int(lines[-1].split()[1]) < 200  # MiB: nothing was expanded


def test_reader_imports_no_django():
    code = (
        "import sys, exchange1c.commerceml.reader, exchange1c.commerceml.records; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# Scalars


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2499.9", Decimal("2499.9")),
        ("150", Decimal("150")),
        ("-3.5", Decimal("-3.5")),
        ("1 234,50", Decimal("1234.50")),
        ("1\u00a0234,50", Decimal("1234.50")),
        ("1\u202f234", Decimal("1234")),
        ("0,001", Decimal("0.001")),
        ("1.234,5", Decimal("1234.5")),
        ("1,234.5", Decimal("1234.5")),
        (" 7 ", Decimal("7")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_cml_decimal(text, expected):
    assert parse_cml_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "NaN", "Infinity", "12 руб", "--1"])
def test_parse_cml_decimal_refuses(text):
    with pytest.raises(ValueError, match="не число"):
        parse_cml_decimal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-04-22T15:52:34", datetime(2019, 4, 22, 15, 52, 34)),
        ("2014-06-01T0:36:33", datetime(2014, 6, 1, 0, 36, 33)),
        ("2014-11-25T8:00:00", datetime(2014, 11, 25, 8, 0)),
        ("2007-10-30", datetime(2007, 10, 30)),
        (
            "2024-01-08T15:47:02.082+03:00",
            datetime(2024, 1, 8, 15, 47, 2, 82000, timezone(timedelta(hours=3))),
        ),
        ("2024-01-08T15:47:02Z", datetime(2024, 1, 8, 15, 47, 2, tzinfo=UTC)),
        ("2024-01-08 15:47", datetime(2024, 1, 8, 15, 47)),
        ("2024-01-08T15:47:02.1234567", datetime(2024, 1, 8, 15, 47, 2, 123456)),
        ("", None),
        (None, None),
        ("вчера", None),
        ("2024-13-01", None),
        ("2024-02-30T10:00:00", None),
        ("2024-01-08T25:00:00", None),
    ],
)
def test_parse_cml_datetime(text, expected):
    assert parse_cml_datetime(text) == expected


def test_parse_cml_bool():
    assert [parse_cml_bool(t) for t in ("true", " TRUE ", "1", "да", "false", "0", "нет", "", None, "x")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        None,
        None,
        None,
    ]


# ---------------------------------------------------------------------------------------------
# gen_catalog.py: realistic 1C catalogs, both layouts


def gen_catalog(out: Path, *args: str) -> Path:
    tool = need_shared() / "tools" / "gen_catalog.py"
    subprocess.run([sys.executable, str(tool), "--out", str(out), "--quiet", *args], check=True, timeout=300)
    return out


@pytest.fixture(scope="module", params=["classic", "split"])
def generated(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"gen-{request.param}")
    return gen_catalog(
        out,
        "--products",
        "2000",
        "--variants-share",
        "0.3",
        "--deleted",
        "0.02",
        "--layout",
        request.param,
        "--seed",
        "7",
    )


def etree_offers(path: Path) -> tuple[dict, dict, dict]:
    """Prices {(offer, price type): value}, stocks {(offer, warehouse): qty}, totals {offer: qty}."""
    prices, stocks, totals = {}, {}, {}
    for offer in ET.parse(path).getroot().iter():  # noqa: S314
        if _local(offer.tag) != "Предложение":
            continue
        offer_id = _child_text(offer, "Ид")
        for child in offer:
            name = _local(child.tag)
            if name == "Цены":
                for price in child:
                    value = Decimal(_child_text(price, "ЦенаЗаЕдиницу"))
                    prices[offer_id, _child_text(price, "ИдТипаЦены")] = value
            elif name == "Количество":
                totals[offer_id] = Decimal(child.text)
            elif name == "Склад":
                stocks[offer_id, child.get("ИдСклада")] = Decimal(child.get("КоличествоНаСкладе"))
            elif name == "Остатки":
                for rest in child:
                    for place in rest:
                        stocks[offer_id, _child_text(place, "Ид")] = Decimal(_child_text(place, "Количество"))
    return prices, stocks, totals


def test_generated_catalog_counts_prices_and_stocks(generated):
    files = sorted(generated.glob("*.xml"))
    kinds = {}
    all_prices, all_stocks, all_totals = {}, {}, {}
    expected_prices, expected_stocks, expected_totals = {}, {}, {}
    for path in files:
        reader, records = read_all(path)
        kinds[path.name.split("_")[0].removesuffix(".xml")] = reader.info.kind
        expected, without_id = etree_counts(path)
        assert Counter(type(r) for r in records) == expected
        assert without_id == 0 and reader.warnings == []
        lines = path.read_text(encoding="utf-8").splitlines()
        for offer in of_type(records, OfferRecord):
            assert lines[offer.line - 1].lstrip().startswith("<Предложение")
            for price in offer.prices:
                all_prices[offer.external_id, price.price_type_id] = price.value
            for stock in offer.stocks:
                all_stocks[offer.external_id, stock.warehouse_id] = stock.quantity
            if offer.quantity is not None:
                all_totals[offer.external_id] = offer.quantity
        prices, stocks, totals = etree_offers(path)
        expected_prices |= prices
        expected_stocks |= stocks
        expected_totals |= totals
    assert all_prices == expected_prices and len(all_prices) > 2000
    assert all_stocks == expected_stocks and len(all_stocks) > 2000
    assert all_totals == expected_totals
    if "offers" in kinds and "prices" not in kinds:
        assert kinds == {"import": "catalog", "offers": "offers"}
    else:
        # Split: prices___ declares ТипыЦен and carries only Цены; rests___ only Остатки.
        assert kinds == {"import": "catalog", "offers": "offers", "prices": "prices", "rests": "rests"}


def test_generated_catalog_products(generated):
    [path] = generated.glob("import*.xml")
    reader, records = read_all(path)
    products = of_type(records, ProductRecord)
    assert len(products) == 2000 and reader.info.namespace == NS
    group_ids = {g.external_id for g in of_type(records, GroupRecord)}
    assert all(set(p.group_ids) <= group_ids and p.group_ids for p in products)
    assert 0 < sum(p.deleted for p in products) < 100
    assert all(p.manufacturer and p.unit and p.unit.code for p in products)
    property_ids = {p.external_id for p in of_type(records, PropertyRecord)}
    assert all(pid in property_ids and value for p in products for pid, value in p.properties)
    # Past line 65535 libxml2's own line numbers drift; the reader's stay on the start tag.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 65535 and products[-1].line > 65535
    assert all(lines[p.line - 1].lstrip().startswith("<Товар") for p in products)


def test_memory_stays_flat_on_a_big_catalog(tmp_path):
    """A 10k-product catalog is ~35 MB; a whole lxml tree of it takes several hundred MB."""
    out = gen_catalog(tmp_path / "big", "--products", "10000", "--seed", "3")
    code = PEAK_MIB + (
        "import sys\nfrom exchange1c.commerceml.reader import CommerceMLReader\n"
        "n = sum(1 for _ in CommerceMLReader(sys.argv[1]))\n"
        "print(n, peak_mib())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out / "import.xml")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        timeout=300,
    )
    records, peak_mib = map(int, done.stdout.split())
    assert records > 10000
    assert peak_mib < 100


def test_document_info_is_frozen():
    info = DocumentInfo("2.08", None, None, "catalog", None, None, None, None)
    with pytest.raises(AttributeError):
        info.kind = "offers"
