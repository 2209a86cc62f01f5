"""Streaming writer of the order document 1C reads on `sale&mode=query` (PROTOCOL.md §4.2).

Pure Python + lxml, no Django. The root element's start and end tags are written by hand
(ASCII attributes, fixed names); each `Документ` is built as a small lxml tree, serialised
in the output charset and dropped, so memory stays flat however many orders go out.

    with OrderDocumentWriter(fh, charset="windows-1251", schema_version="2.08") as writer:
        for doc in documents:            # OrderDocument, see below
            writer.write(doc)

Charset promises (1C 8.3 is strict about them): the XML declaration names the charset of
the bytes; UTF-8 always starts with a BOM; characters windows-1251 lacks (Kazakh ә ғ қ,
emoji) become character references (&#1241;), never dropped or replaced by "?".

Element order follows commerceml_2.08/2.10.xsd (identical for documents), so 2.08 and 2.10
output validates against the published schemas; values are cut to the schemas' lengths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal

from lxml import etree

__all__ = [
    "BOM",
    "CML2_NAMESPACE",
    "CML3_NAMESPACE",
    "Counterparty",
    "DocumentLine",
    "OrderDocument",
    "OrderDocumentWriter",
    "content_type",
    "format_money",
    "format_quantity",
    "write_reference_book",
]

CML2_NAMESPACE = "urn:1C.ru:commerceml_2"
CML3_NAMESPACE = "urn:1C.ru:commerceml_3"
BOM = b"\xef\xbb\xbf"
DELIVERY_ID = "ORDER_DELIVERY"

# XML 1.0 forbids these; a stray control character in a customer's comment must not make
# the whole answer unreadable for 1C.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Lengths of the schema's simple types (НаименованиеТип, СтрокаТип, КомментарийТип, ЗначениеТип).
NAME_MAX = 255
STRING_MAX = 255
COMMENT_MAX = 3000
VALUE_MAX = 1000
GLOBAL_ID_MAX = 40
GOODS_ID_MAX = 80


@dataclass
class Counterparty:
    """The buyer. `company` set → a legal entity (ОфициальноеНаименование, ИНН, КПП)."""

    id: str
    name: str
    full_name: str = ""
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    company: str = ""
    inn: str = ""
    kpp: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class DocumentLine:
    """One Товар of the document; `is_service` marks delivery (ТипНоменклатуры Услуга)."""

    id: str
    name: str
    price: Decimal
    quantity: Decimal
    total: Decimal
    article: str = ""
    unit_code: str = ""
    unit_name: str = ""
    is_service: bool = False
    discount: Decimal = Decimal("0")
    vat_rate: Decimal | None = None
    vat_amount: Decimal = Decimal("0")


@dataclass
class OrderDocument:
    """Everything one order's `Документ` carries, already in 1C's terms."""

    id: str
    number: str
    date: date
    time: dtime
    currency: str
    total: Decimal
    counterparty: Counterparty
    lines: list[DocumentLine] = field(default_factory=list)
    comment: str = ""
    vat_total: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    #: (name, value) pairs, in order: Метод оплаты, Заказ оплачен, … plus mapped fields.
    requisites: list[tuple[str, str]] = field(default_factory=list)


def clean_text(value, limit: int | None = None) -> str:
    """`value` as XML-safe text, cut to `limit` characters (the schema's maxLength)."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if _INVALID_XML_CHARS.search(text):
        text = _INVALID_XML_CHARS.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[:limit]
    return text


def format_money(value: Decimal | int | str | None) -> str:
    """A sum as 1C writes it: plain decimal with at most two fraction digits ("150", "2499.90")."""
    amount = Decimal(str(value or 0)).quantize(Decimal("0.01"))
    return format(amount, "f")


def format_quantity(value: Decimal | int | str | None) -> str:
    """A quantity without trailing zeros ("1", "0.5", "2.125"), never in exponent form."""
    qty = Decimal(str(value or 0))
    text = format(qty, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def content_type(charset: str) -> str:
    """The Content-Type promising `charset` (1C decodes the body by it)."""
    return f"application/xml; charset={charset}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


_SubElement = etree.SubElement


def _sub(parent, tag: str, text=None, limit: int | None = None, **attrs):
    # Hot path: ~80 calls per order. Attribute values are cleaned by the caller.
    el = _SubElement(parent, tag, attrs) if attrs else _SubElement(parent, tag)
    if text is not None:
        el.text = clean_text(text, limit)
    return el


def _requisites(parent, tag: str, pairs) -> None:
    pairs = [(n, v) for n, v in pairs if n]
    if not pairs:
        return
    box = etree.SubElement(parent, tag)
    for name, value in pairs:
        item = etree.SubElement(box, "ЗначениеРеквизита")
        _sub(item, "Наименование", name, NAME_MAX)
        _sub(item, "Значение", value, VALUE_MAX)


def _counterparty(parent, cp: Counterparty) -> None:
    box = etree.SubElement(etree.SubElement(parent, "Контрагенты"), "Контрагент")
    _sub(box, "Ид", cp.id, GLOBAL_ID_MAX)
    _sub(box, "Наименование", cp.company or cp.name or cp.full_name, NAME_MAX)
    inn = cp.inn.strip() if 10 <= len(cp.inn.strip()) <= 12 else ""
    kpp = cp.kpp.strip() if len(cp.kpp.strip()) == 9 else ""
    if cp.company:
        # РеквизитыЮрЛица: ОфициальноеНаименование, ЮридическийАдрес?, ИНН?, КПП?
        _sub(box, "ОфициальноеНаименование", cp.company, NAME_MAX)
        if cp.address:
            _sub(_sub(box, "ЮридическийАдрес"), "Представление", cp.address, NAME_MAX)
        if inn:
            _sub(box, "ИНН", inn)
        if kpp:
            _sub(box, "КПП", kpp)
    else:
        # РеквизитыФизЛица: ПолноеНаименование, Обращение?, Фамилия?, Имя?, Отчество?, … ИНН?
        _sub(box, "ПолноеНаименование", cp.full_name or cp.name, NAME_MAX)
        for tag, value in (("Фамилия", cp.last_name), ("Имя", cp.first_name), ("Отчество", cp.middle_name)):
            if value:
                _sub(box, tag, value, STRING_MAX)
        if inn:
            _sub(box, "ИНН", inn)
    if cp.address:
        _sub(_sub(box, "Адрес"), "Представление", cp.address, NAME_MAX)
    contacts = [("Почта", cp.email), ("Телефон рабочий", cp.phone)]
    contacts = [(kind, value) for kind, value in contacts if value]
    if contacts:
        box_contacts = etree.SubElement(box, "Контакты")
        for kind, value in contacts:
            contact = etree.SubElement(box_contacts, "Контакт")
            _sub(contact, "Тип", kind)
            _sub(contact, "Значение", value, STRING_MAX)
    # Роль belongs to the document's extension of Контрагент: after Адрес and Контакты.
    _sub(box, "Роль", "Покупатель")


def _line(parent, line: DocumentLine) -> None:
    item = etree.SubElement(parent, "Товар")
    if line.id:
        _sub(item, "Ид", line.id, GOODS_ID_MAX)
    if line.article:
        _sub(item, "Артикул", line.article, STRING_MAX)
    _sub(item, "Наименование", line.name or line.id or "-", NAME_MAX)
    unit_attrs = {}
    if 3 <= len(line.unit_code.strip()) <= 4:
        unit_attrs["Код"] = line.unit_code.strip()
    if line.unit_name:
        unit_attrs["НаименованиеПолное"] = clean_text(line.unit_name, STRING_MAX)
    if "Код" in unit_attrs:
        unit_attrs["Код"] = clean_text(unit_attrs["Код"])
    _sub(item, "БазоваяЕдиница", line.unit_name or "шт", STRING_MAX, **unit_attrs)
    kind = "Услуга" if line.is_service else "Товар"
    _requisites(item, "ЗначенияРеквизитов", [("ВидНоменклатуры", kind), ("ТипНоменклатуры", kind)])
    _sub(item, "ЦенаЗаЕдиницу", format_money(line.price))
    _sub(item, "Количество", format_quantity(line.quantity))
    _sub(item, "Сумма", format_money(line.total))
    if line.vat_amount:
        tax = etree.SubElement(etree.SubElement(item, "Налоги"), "Налог")
        _sub(tax, "Наименование", "НДС")
        _sub(tax, "УчтеноВСумме", "true")
        _sub(tax, "Сумма", format_money(line.vat_amount))
        if line.vat_rate is not None:
            _sub(tax, "Ставка", format_quantity(line.vat_rate))
    if line.discount:
        discount = etree.SubElement(etree.SubElement(item, "Скидки"), "Скидка")
        _sub(discount, "Наименование", "Скидка")
        _sub(discount, "Сумма", format_money(line.discount))
        _sub(discount, "УчтеноВСумме", "true")


def document_element(doc: OrderDocument):
    """The `Документ` element of one order, children in the schema's order."""
    el = etree.Element("Документ")
    _sub(el, "Ид", doc.id, GLOBAL_ID_MAX)
    _sub(el, "Номер", doc.number, STRING_MAX)
    _sub(el, "Дата", doc.date.isoformat())
    _sub(el, "ХозОперация", "Заказ товара")
    _sub(el, "Роль", "Продавец")
    _sub(el, "Валюта", (doc.currency or "RUB")[:3])
    _sub(el, "Курс", "1")
    _sub(el, "Сумма", format_money(doc.total))
    _counterparty(el, doc.counterparty)
    _sub(el, "Время", doc.time.strftime("%H:%M:%S"))
    if doc.comment:
        _sub(el, "Комментарий", doc.comment, COMMENT_MAX)
    if doc.vat_total:
        tax = etree.SubElement(etree.SubElement(el, "Налоги"), "Налог")
        _sub(tax, "Наименование", "НДС")
        _sub(tax, "УчтеноВСумме", "true")
        _sub(tax, "Сумма", format_money(doc.vat_total))
    if doc.discount_total:
        discount = etree.SubElement(etree.SubElement(el, "Скидки"), "Скидка")
        _sub(discount, "Наименование", "Скидка")
        _sub(discount, "Сумма", format_money(doc.discount_total))
        _sub(discount, "УчтеноВСумме", "true")
    if doc.lines:
        goods = etree.SubElement(el, "Товары")
        for line in doc.lines:
            _line(goods, line)
    _requisites(el, "ЗначенияРеквизитов", doc.requisites)
    return el


def _namespace(schema_version: str) -> str | None:
    if schema_version.startswith("3"):
        return CML3_NAMESPACE
    if schema_version in ("2.08", "2.09", "2.10"):
        return CML2_NAMESPACE
    # 2.05 and older: real files carry no namespace (the 2.05 XSD's own one has a space).
    return None


def _declaration(fh, charset: str) -> None:
    if charset.lower().replace("_", "-") in ("utf-8", "utf8"):
        fh.write(BOM)
        charset = "UTF-8"
    fh.write(f'<?xml version="1.0" encoding="{charset}"?>\n'.encode("ascii"))


class OrderDocumentWriter:
    """Writes one `КоммерческаяИнформация` of order documents to a binary file object.

    `charset` is "windows-1251" or "utf-8" (written with a BOM). `schema_version` is one of
    2.05, 2.08, 2.10, 3.1; 3.x wraps each document in `<Контейнер>`. `formed_at` is the
    ДатаФормирования (local time, as 1C writes it).
    """

    def __init__(self, fh, *, charset: str = "windows-1251", schema_version: str = "2.08",
                 formed_at: datetime | None = None):
        self.fh = fh
        self.charset = "UTF-8" if charset.lower() in ("utf-8", "utf8") else charset
        self.schema_version = schema_version
        self.container = schema_version.startswith("3")
        self.formed_at = (formed_at or datetime.now()).replace(microsecond=0, tzinfo=None)
        self.count = 0
        self._open = False

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()

    def open(self) -> None:
        _declaration(self.fh, self.charset)
        namespace = _namespace(self.schema_version)
        attrs = f' xmlns="{namespace}"' if namespace else ""
        head = (f'<КоммерческаяИнформация{attrs} ВерсияСхемы="{self.schema_version}" '
                f'ДатаФормирования="{self.formed_at.isoformat()}">\n')
        self.fh.write(head.encode(self.charset))
        self._open = True

    def write(self, doc: OrderDocument) -> None:
        el = document_element(doc)
        if self.container:
            box = etree.Element("Контейнер")
            box.append(el)
            el = box
        # The subtree has no namespace of its own, so it inherits the root's default one.
        self.fh.write(etree.tostring(el, encoding=self.charset, xml_declaration=False))
        self.fh.write(b"\n")
        self.count += 1

    def close(self) -> None:
        if self._open:
            self.fh.write("</КоммерческаяИнформация>\n".encode(self.charset))
            self._open = False


def write_reference_book(fh, *, charset: str, sections: list[tuple[list[str], list[tuple[str, str]]]]) -> None:
    """Writes the `Справочник` answer of `sale&mode=info`.

    `sections`: (tag names, [(id, name), …]); every tag of a section gets the same
    `Элемент`s (the reference writes `Cтатусы` with a Latin "C", which 1C's module reads).
    """
    charset = "UTF-8" if charset.lower() in ("utf-8", "utf8") else charset
    _declaration(fh, charset)
    root = etree.Element("Справочник")
    for tags, items in sections:
        for tag in tags:
            box = etree.SubElement(root, tag)
            for item_id, name in items:
                item = etree.SubElement(box, "Элемент")
                _sub(item, "Ид", item_id, STRING_MAX)
                _sub(item, "Название", name, NAME_MAX)
    fh.write(etree.tostring(root, encoding=charset, xml_declaration=False, pretty_print=True))
