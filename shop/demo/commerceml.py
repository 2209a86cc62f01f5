"""Writes a DemoCatalog as the CommerceML 2.08 files 1C:Enterprise 8 (UT 11) sends.

`import.xml` (Классификатор + Каталог), `offers.xml` (ПакетПредложений with price types,
warehouses, prices and stock) and the pictures under `import_files/`. One pass over the
products feeds both files, written as they go, so memory does not grow with the catalog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from shop.demo import pictures
from shop.demo.content import DemoCatalog, Product, stable_guid

NAMESPACES = ('xmlns="urn:1C.ru:commerceml_210" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
OWNER_NAME = "ООО «Обмен-Демо»"
OWNER_INN = "7701234567"
IMPORT_FILE = "import.xml"
OFFERS_FILE = "offers.xml"


def text(value) -> str:
    return escape(str(value))


def attr(value) -> str:
    return escape(str(value), {'"': "&quot;"})


def number(value: Decimal) -> str:
    """1C writes numbers with a dot and without trailing zeros: 2499.9, 150, 12.35."""
    out = format(value, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out


def presentation(value: Decimal, unit: str) -> str:
    """1C's Представление of a price, e.g. "2 499,90 RUB за шт" (no-break spaces)."""
    roubles, kopecks = divmod(int(value * 100), 100)
    return f"{roubles:,}".replace(",", "\u00a0") + f",{kopecks:02d} RUB за {unit}"


def element(name: str, value) -> str:
    value = "" if value is None else str(value)
    return f"<{name}>{text(value)}</{name}>" if value else f"<{name}/>"


@dataclass
class Written:
    """What `write_catalog` put in the folder."""

    folder: Path
    filenames: list[str]
    products: int = 0
    offers: int = 0
    pictures: int = 0
    picture_files: dict = field(default_factory=dict)  # picture key -> relative path


class PictureBook:
    """Draws each picture key once and writes it under import_files/, as 1C lays them out."""

    def __init__(self, catalog: DemoCatalog, folder: Path):
        self.catalog = catalog
        self.folder = folder
        self.paths: dict[str, str] = {}

    def path(self, key: str, product: Product) -> str:
        known = self.paths.get(key)
        if known is not None:
            return known
        group_name, brand, view = key.split("|")
        guid = stable_guid(self.catalog.seed, "picture", key)
        relative = f"import_files/{guid[:2]}/{guid}.jpg"
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pictures.render(shape=product.group.leaf.shape, colour=product.group.colour,
                                           group=group_name, brand=brand, view=int(view)))
        self.paths[key] = relative
        return relative


def _owner(indent: str) -> str:
    return (f"{indent}<Владелец><Ид>{stable_guid('owner')}</Ид><Наименование>{text(OWNER_NAME)}</Наименование>"
            f"<ОфициальноеНаименование>{text(OWNER_NAME)}</ОфициальноеНаименование><ИНН>{OWNER_INN}</ИНН>"
            f"</Владелец>\n")


def _groups(catalog: DemoCatalog, indexes, depth: int) -> str:
    pad = "\t" * depth
    out = [f"{pad}<Группы>\n"]
    for index in indexes:
        group = catalog.groups[index]
        out.append(f"{pad}\t<Группа>\n{pad}\t\t<Ид>{group.external_id}</Ид>\n"
                   f"{pad}\t\t<Наименование>{text(group.name)}</Наименование>\n")
        if group.children:
            out.append(_groups(catalog, group.children, depth + 2))
        out.append(f"{pad}\t</Группа>\n")
    out.append(f"{pad}</Группы>\n")
    return "".join(out)


def _classifier(catalog: DemoCatalog) -> str:
    out = ["\t<Классификатор>\n", f"\t\t<Ид>{catalog.catalog_id}</Ид>\n",
           "\t\t<Наименование>Классификатор (Основной каталог товаров)</Наименование>\n", _owner("\t\t"),
           _groups(catalog, catalog.top_groups(), 2), "\t\t<Свойства>\n"]
    for prop in catalog.properties:
        out.append(f"\t\t\t<Свойство>\n\t\t\t\t<Ид>{prop.external_id}</Ид>\n"
                   f"\t\t\t\t<Наименование>{text(prop.name)}</Наименование>\n"
                   f"\t\t\t\t<ТипЗначений>{prop.value_type}</ТипЗначений>\n")
        if prop.values:
            out.append("\t\t\t\t<ВариантыЗначений>\n")
            for value_id, value in prop.values:
                out.append(f"\t\t\t\t\t<Справочник><ИдЗначения>{value_id}</ИдЗначения>"
                           f"<Значение>{text(value)}</Значение></Справочник>\n")
            out.append("\t\t\t\t</ВариантыЗначений>\n")
        out.append("\t\t\t\t<ДляТоваров>true</ДляТоваров>\n\t\t\t</Свойство>\n")
    out.append("\t\t</Свойства>\n\t</Классификатор>\n")
    return "".join(out)


def _unit(unit) -> str:
    code, short, full, intl = unit
    return (f'<БазоваяЕдиница Код="{code}" НаименованиеПолное="{attr(full)}" '
            f'МеждународноеСокращение="{intl}">{text(short)}</БазоваяЕдиница>')


def _requisite(name: str, value: str) -> str:
    return (f"\t\t\t\t\t<ЗначениеРеквизита><Наименование>{text(name)}</Наименование>"
            f"<Значение>{text(value)}</Значение></ЗначениеРеквизита>\n")


def _product(catalog: DemoCatalog, product: Product, book: PictureBook) -> tuple[str, list[str]]:
    status = ' Статус="Удален"' if product.deleted else ""
    out = [f"\t\t\t<Товар{status}>\n", f"\t\t\t\t<Ид>{product.external_id}</Ид>\n"]
    if product.barcode:
        out.append(f"\t\t\t\t<Штрихкод>{product.barcode}</Штрихкод>\n")
    out += [f"\t\t\t\t{element('Артикул', product.article)}\n",
            f"\t\t\t\t<Код>{text(product.code)}</Код>\n",
            f"\t\t\t\t<Наименование>{text(product.name)}</Наименование>\n",
            f"\t\t\t\t{_unit(product.unit)}\n",
            f"\t\t\t\t<Группы><Ид>{product.group.external_id}</Ид></Группы>\n",
            f"\t\t\t\t{element('Описание', product.description)}\n"]
    paths = [] if product.deleted else [book.path(key, product) for key in product.pictures]
    for path in paths:
        out.append(f"\t\t\t\t<Картинка>{path}</Картинка>\n")
    if product.maker_element:
        out.append(f"\t\t\t\t<Изготовитель><Ид>{stable_guid(catalog.seed, 'maker', product.brand)}</Ид>"
                   f"<Наименование>{text(product.brand)}</Наименование>"
                   f"<ОфициальноеНаименование>{text(product.brand)}</ОфициальноеНаименование></Изготовитель>\n")
    out.append("\t\t\t\t<ЗначенияСвойств>\n")
    for prop_id, value in product.properties:
        out.append(f"\t\t\t\t\t<ЗначенияСвойства><Ид>{prop_id}</Ид>{element('Значение', value)}"
                   f"</ЗначенияСвойства>\n")
    out.append("\t\t\t\t</ЗначенияСвойств>\n")
    vat = "10" if product.group.leaf.unit[0] == "166" or product.group.name in ("Чай", "Кофе", "Шоколад") else "20"
    out.append(f"\t\t\t\t<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>{vat}</Ставка>"
               f"</СтавкаНалога></СтавкиНалогов>\n")
    out.append("\t\t\t\t<ЗначенияРеквизитов>\n")
    out.append(_requisite("ВидНоменклатуры", "Товар"))
    out.append(_requisite("ТипНоменклатуры", "Товар"))
    out.append(_requisite("Полное наименование", product.name))
    if product.weight is not None:
        out.append(_requisite("Вес", number(product.weight)))
    for path in paths:
        out.append(_requisite("ОписаниеФайла", f"{path}#{product.name}"))
    out.append("\t\t\t\t</ЗначенияРеквизитов>\n\t\t\t</Товар>\n")
    return "".join(out), paths


def _offers(catalog: DemoCatalog, product: Product) -> str:
    price_type_ids = dict((name, guid) for guid, name in catalog.price_types)
    unit_name = product.unit[1]
    out = []
    for offer in product.offers:
        out.append(f"\t\t\t<Предложение>\n\t\t\t\t<Ид>{offer.external_id}</Ид>\n")
        if product.barcode and not offer.characteristics:
            out.append(f"\t\t\t\t<Штрихкод>{product.barcode}</Штрихкод>\n")
        out.append(f"\t\t\t\t{element('Артикул', product.article)}\n"
                   f"\t\t\t\t<Наименование>{text(offer.name)}</Наименование>\n\t\t\t\t{_unit(product.unit)}\n")
        if offer.characteristics:
            out.append("\t\t\t\t<ХарактеристикиТовара>\n")
            for name, value in offer.characteristics:
                out.append(f"\t\t\t\t\t<ХарактеристикаТовара><Наименование>{text(name)}</Наименование>"
                           f"<Значение>{text(value)}</Значение></ХарактеристикаТовара>\n")
            out.append("\t\t\t\t</ХарактеристикиТовара>\n")
        if offer.prices:
            out.append("\t\t\t\t<Цены>\n")
            for name, value in offer.prices.items():
                out.append(f"\t\t\t\t\t<Цена><Представление>{presentation(value, unit_name)}</Представление>"
                           f"<ИдТипаЦены>{price_type_ids[name]}</ИдТипаЦены>"
                           f"<ЦенаЗаЕдиницу>{number(value)}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта>"
                           f"<Единица>{text(unit_name)}</Единица><Коэффициент>1</Коэффициент></Цена>\n")
            out.append("\t\t\t\t</Цены>\n")
        out.append(f"\t\t\t\t<Количество>{number(sum(offer.stocks, Decimal(0)))}</Количество>\n")
        for (warehouse_id, _name), quantity in zip(catalog.warehouses, offer.stocks, strict=True):
            out.append(f'\t\t\t\t<Склад ИдСклада="{warehouse_id}" КоличествоНаСкладе="{number(quantity)}"/>\n')
        out.append("\t\t\t</Предложение>\n")
    return "".join(out)


def write_catalog(catalog: DemoCatalog, folder: Path, *, generated_at: dt.datetime | None = None) -> Written:
    """Write import.xml, offers.xml and import_files/ for `catalog` into `folder`.

    Returns the file names in the order 1C sends them (catalog first, then offers).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (generated_at or dt.datetime.now()).replace(microsecond=0).isoformat()
    root = f'<КоммерческаяИнформация {NAMESPACES} ВерсияСхемы="2.08" ДатаФормирования="{stamp}">\n'
    written = Written(folder=folder, filenames=[IMPORT_FILE, OFFERS_FILE])
    book = PictureBook(catalog, folder)
    with (open(folder / IMPORT_FILE, "w", encoding="utf-8", buffering=1 << 20) as imports,
          open(folder / OFFERS_FILE, "w", encoding="utf-8", buffering=1 << 20) as offers):
        for out in (imports, offers):
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            out.write(root)
        imports.write(_classifier(catalog))
        imports.write(f'\t<Каталог СодержитТолькоИзменения="false">\n\t\t<Ид>{catalog.catalog_id}</Ид>\n'
                      f"\t\t<ИдКлассификатора>{catalog.catalog_id}</ИдКлассификатора>\n"
                      f"\t\t<Наименование>Основной каталог товаров</Наименование>\n{_owner(chr(9) * 2)}"
                      f"\t\t<Товары>\n")
        offers.write(f'\t<ПакетПредложений СодержитТолькоИзменения="false">\n'
                     f"\t\t<Ид>{catalog.catalog_id}#</Ид>\n"
                     f"\t\t<Наименование>Пакет предложений (Основной каталог товаров)</Наименование>\n"
                     f"\t\t<ИдКаталога>{catalog.catalog_id}</ИдКаталога>\n"
                     f"\t\t<ИдКлассификатора>{catalog.catalog_id}</ИдКлассификатора>\n{_owner(chr(9) * 2)}"
                     f"\t\t<ТипыЦен>\n")
        for guid, name in catalog.price_types:
            offers.write(f"\t\t\t<ТипЦены><Ид>{guid}</Ид><Наименование>{text(name)}</Наименование>"
                         f"<Валюта>RUB</Валюта><Налог><Наименование>НДС</Наименование>"
                         f"<УчтеноВСумме>true</УчтеноВСумме></Налог></ТипЦены>\n")
        offers.write("\t\t</ТипыЦен>\n\t\t<Склады>\n")
        for guid, name in catalog.warehouses:
            offers.write(f"\t\t\t<Склад><Ид>{guid}</Ид><Наименование>{text(name)}</Наименование></Склад>\n")
        offers.write("\t\t</Склады>\n\t\t<Предложения>\n")

        for product in catalog.products():
            xml, _paths = _product(catalog, product, book)
            imports.write(xml)
            written.products += 1
            if not product.deleted:
                offers.write(_offers(catalog, product))
                written.offers += len(product.offers)

        imports.write("\t\t</Товары>\n\t</Каталог>\n</КоммерческаяИнформация>\n")
        offers.write("\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n")
    written.picture_files = dict(book.paths)
    written.pictures = len(book.paths)
    return written
