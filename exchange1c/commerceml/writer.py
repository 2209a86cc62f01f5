"""Streaming writer of the order document 1C reads on `sale&mode=query` (PROTOCOL.md §4.2).

Pure Python (+ lxml for the small reference book), no Django. The root element's start and
end tags are written by hand (ASCII attributes, fixed names); each `Документ` is built as
text, escaped the way libxml2 escapes, encoded in the output charset, written and dropped,
so memory stays flat however many orders go out.

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

import functools
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


_CENT = Decimal("0.01")


def format_money(value: Decimal | int | str | None) -> str:
    """A sum as 1C writes it: plain decimal with two fraction digits ("150.00", "2499.90")."""
    amount = value if type(value) is Decimal else Decimal(str(value or 0))
    return format(amount.quantize(_CENT), "f")


def format_quantity(value: Decimal | int | str | None) -> str:
    """A quantity without trailing zeros ("1", "0.5", "2.125"), never in exponent form."""
    if not value:
        return "0"
    qty = value if type(value) is Decimal else Decimal(str(value))
    text = format(qty, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def content_type(charset: str) -> str:
    """The Content-Type promising `charset` (1C decodes the body by it)."""
    return f"application/xml; charset={charset}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


# What libxml2 escapes when it serialises text and attribute values: escaping the same
# characters the same way keeps the bytes equal to what lxml's serialiser would write.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
                               "\r": "&#13;", "\t": "&#9;"})
_NEEDS_ESCAPE = re.compile("[&<>\r]")


def _text(value, limit: int | None = None) -> str:
    """`value` as escaped element text, cut to `limit` characters.

    Hot path (~100 calls per order). Characters XML forbids are dropped from the whole
    document at once (`document_xml`); only a value longer than its limit is cleaned here
    first, so that the limit counts the characters that remain, as `clean_text` does.
    """
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if limit is not None and len(text) > limit:
        text = clean_text(text, limit)
    if _NEEDS_ESCAPE.search(text):
        text = text.translate(_TEXT_ESCAPES)
    return text


def _attr(value, limit: int | None = None) -> str:
    return clean_text(value, limit).translate(_ATTR_ESCAPES)


def _requisites(out: list, tag: str, pairs) -> None:
    pairs = [(n, v) for n, v in pairs if n]
    if not pairs:
        return
    out.append(f"<{tag}>")
    for name, value in pairs:
        out.append(f"<ЗначениеРеквизита><Наименование>{_text(name, NAME_MAX)}</Наименование>"
                   f"<Значение>{_text(value, VALUE_MAX)}</Значение></ЗначениеРеквизита>")
    out.append(f"</{tag}>")


def _counterparty(out: list, cp: Counterparty) -> None:
    out.append(f"<Контрагенты><Контрагент><Ид>{_text(cp.id, GLOBAL_ID_MAX)}</Ид>"
               f"<Наименование>{_text(cp.company or cp.name or cp.full_name, NAME_MAX)}</Наименование>")
    inn = cp.inn.strip() if 10 <= len(cp.inn.strip()) <= 12 else ""
    kpp = cp.kpp.strip() if len(cp.kpp.strip()) == 9 else ""
    if cp.company:
        # РеквизитыЮрЛица: ОфициальноеНаименование, ЮридическийАдрес?, ИНН?, КПП?
        out.append(f"<ОфициальноеНаименование>{_text(cp.company, NAME_MAX)}</ОфициальноеНаименование>")
        if cp.address:
            out.append(f"<ЮридическийАдрес><Представление>{_text(cp.address, NAME_MAX)}</Представление>"
                       "</ЮридическийАдрес>")
        if inn:
            out.append(f"<ИНН>{_text(inn)}</ИНН>")
        if kpp:
            out.append(f"<КПП>{_text(kpp)}</КПП>")
    else:
        # РеквизитыФизЛица: ПолноеНаименование, Обращение?, Фамилия?, Имя?, Отчество?, … ИНН?
        out.append(f"<ПолноеНаименование>{_text(cp.full_name or cp.name, NAME_MAX)}</ПолноеНаименование>")
        for tag, value in (("Фамилия", cp.last_name), ("Имя", cp.first_name), ("Отчество", cp.middle_name)):
            if value:
                out.append(f"<{tag}>{_text(value, STRING_MAX)}</{tag}>")
        if inn:
            out.append(f"<ИНН>{_text(inn)}</ИНН>")
    if cp.address:
        out.append(f"<Адрес><Представление>{_text(cp.address, NAME_MAX)}</Представление></Адрес>")
    contacts = [(kind, value) for kind, value in (("Почта", cp.email), ("Телефон рабочий", cp.phone)) if value]
    if contacts:
        out.append("<Контакты>")
        for kind, value in contacts:
            out.append(f"<Контакт><Тип>{kind}</Тип><Значение>{_text(value, STRING_MAX)}</Значение></Контакт>")
        out.append("</Контакты>")
    # Роль belongs to the document's extension of Контрагент: after Адрес and Контакты.
    out.append("<Роль>Покупатель</Роль></Контрагент></Контрагенты>")


def _kind_requisites(kind: str) -> str:
    parts: list[str] = []
    _requisites(parts, "ЗначенияРеквизитов", [("ВидНоменклатуры", kind), ("ТипНоменклатуры", kind)])
    return "".join(parts)


_KIND_REQUISITES = {False: _kind_requisites("Товар"), True: _kind_requisites("Услуга")}


@functools.lru_cache(maxsize=256)
def _unit(code: str, name: str) -> str:
    # Cached: a shop has a handful of units, and every line names one.
    attrs = ""
    code = code.strip()
    if 3 <= len(code) <= 4:
        attrs = f' Код="{_attr(code)}"'
    if name:
        attrs += f' НаименованиеПолное="{_attr(name, STRING_MAX)}"'
    return f"<БазоваяЕдиница{attrs}>{_text(name or 'шт', STRING_MAX)}</БазоваяЕдиница>"


def _line(out: list, line: DocumentLine) -> None:
    out.append("<Товар>")
    if line.id:
        out.append(f"<Ид>{_text(line.id, GOODS_ID_MAX)}</Ид>")
    if line.article:
        out.append(f"<Артикул>{_text(line.article, STRING_MAX)}</Артикул>")
    out.append(f"<Наименование>{_text(line.name or line.id or '-', NAME_MAX)}</Наименование>")
    out.append(_unit(line.unit_code, line.unit_name))
    out.append(_KIND_REQUISITES[bool(line.is_service)])
    out.append(f"<ЦенаЗаЕдиницу>{format_money(line.price)}</ЦенаЗаЕдиницу>"
               f"<Количество>{format_quantity(line.quantity)}</Количество>"
               f"<Сумма>{format_money(line.total)}</Сумма>")
    if line.vat_amount:
        out.append("<Налоги><Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме>"
                   f"<Сумма>{format_money(line.vat_amount)}</Сумма>")
        if line.vat_rate is not None:
            out.append(f"<Ставка>{format_quantity(line.vat_rate)}</Ставка>")
        out.append("</Налог></Налоги>")
    if line.discount:
        out.append(f"<Скидки><Скидка><Наименование>Скидка</Наименование><Сумма>{format_money(line.discount)}</Сумма>"
                   "<УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки>")
    out.append("</Товар>")


def document_xml(doc: OrderDocument) -> str:
    """The `Документ` element of one order as XML text, children in the schema's order.

    Text, not an lxml tree: building ~100 elements per order and serialising them cost
    more than everything else in a 10k-order query together.
    """
    out = [
        f"<Документ><Ид>{_text(doc.id, GLOBAL_ID_MAX)}</Ид><Номер>{_text(doc.number, STRING_MAX)}</Номер>"
        f"<Дата>{doc.date.isoformat()}</Дата><ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>"
        f"<Валюта>{_text((doc.currency or 'RUB')[:3])}</Валюта><Курс>1</Курс>"
        f"<Сумма>{format_money(doc.total)}</Сумма>"
    ]
    _counterparty(out, doc.counterparty)
    out.append(f"<Время>{doc.time.strftime('%H:%M:%S')}</Время>")
    if doc.comment:
        out.append(f"<Комментарий>{_text(doc.comment, COMMENT_MAX)}</Комментарий>")
    if doc.vat_total:
        out.append("<Налоги><Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме>"
                   f"<Сумма>{format_money(doc.vat_total)}</Сумма></Налог></Налоги>")
    if doc.discount_total:
        out.append(f"<Скидки><Скидка><Наименование>Скидка</Наименование><Сумма>{format_money(doc.discount_total)}"
                   "</Сумма><УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки>")
    if doc.lines:
        out.append("<Товары>")
        for line in doc.lines:
            _line(out, line)
        out.append("</Товары>")
    _requisites(out, "ЗначенияРеквизитов", doc.requisites)
    out.append("</Документ>")
    text = "".join(out)
    # One pass over the whole document instead of one per value (see `_text`).
    if _INVALID_XML_CHARS.search(text):
        text = _INVALID_XML_CHARS.sub("", text)
    return text


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
        text = document_xml(doc)
        if self.container:
            text = f"<Контейнер>{text}</Контейнер>"
        # The subtree has no namespace of its own, so it inherits the root's default one.
        # Characters the charset lacks become character references (&#1241;), as the module doc promises.
        self.fh.write(text.encode(self.charset, "xmlcharrefreplace") + b"\n")
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
                etree.SubElement(item, "Ид").text = clean_text(item_id, STRING_MAX)
                etree.SubElement(item, "Название").text = clean_text(name, NAME_MAX)
    fh.write(etree.tostring(root, encoding=charset, xml_declaration=False, pretty_print=True))
