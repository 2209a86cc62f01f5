"""Streaming reader of the CommerceML 2.x / 3.1 files 1C sends to the site (PROTOCOL.md §3).

Pure Python + lxml, no Django: it can be tested and benchmarked on a file alone.

    info = sniff(path)                      # what the file is; reads only its head
    reader = CommerceMLReader(path)         # sniffs too: raises CommerceMLError for a bad file
    for record in reader:                   # Unit/Group/Property/PriceType/Warehouse/Product/Offer
        ...
    reader.warnings                         # [(line, message), ...] of what was skipped

Elements are matched by local name, so no namespace, `urn:1C.ru:commerceml_2`, `_210` and `_3` read
alike. A DOCTYPE is refused before lxml sees the file, and the parser never resolves entities nor
touches the network. Each record's subtree is cleared once it has been read, so memory stays flat on
a 350 MB catalog.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

from exchange1c.commerceml.records import (
    KIND_CATALOG,
    KIND_CLASSIFIER,
    KIND_OFFERS,
    KIND_ORDERS,
    KIND_PRICES,
    KIND_RESTS,
    PRODUCT_GOODS,
    PRODUCT_SERVICE,
    PRODUCT_SET,
    VALUE_BOOL,
    VALUE_DATE,
    VALUE_NUMBER,
    VALUE_REFERENCE,
    VALUE_STRING,
    CommerceMLError,
    DocumentInfo,
    GroupRecord,
    OfferRecord,
    PriceRecord,
    PriceTypeRecord,
    ProductRecord,
    PropertyRecord,
    PropertyValueRecord,
    ReaderWarning,
    StockRecord,
    UnitRecord,
    WarehouseRecord,
)

__all__ = [
    "CommerceMLError",
    "CommerceMLReader",
    "ReaderWarning",
    "parse_cml_bool",
    "parse_cml_datetime",
    "parse_cml_decimal",
    "sniff",
]

ROOT = "КоммерческаяИнформация"

# Entities stay unexpanded and nothing is fetched; huge_tree because 1C puts whole HTML
# descriptions into one text node, which can pass libxml2's 10 MB default.
_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": True,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}

# The prolog is scanned for a DOCTYPE before lxml sees the file; past this size the check falls back
# to the parser's docinfo at the first event.
_PROLOG_SCAN_LIMIT = 1 << 20

# 1C (and Bitrix re-exports) write an empty <ЦенаЗаЕдиницу/> or <Количество/> for zero: the price's
# Представление next to it reads "0 RUB за шт".
_ZERO = Decimal(0)

_TRUE = frozenset({"true", "1", "да", "истина", "yes"})
_FALSE = frozenset({"false", "0", "нет", "ложь", "no"})

_VALUE_TYPES = {
    "справочник": VALUE_REFERENCE,
    "строка": VALUE_STRING,
    "число": VALUE_NUMBER,
    "дата": VALUE_DATE,
    "датавремя": VALUE_DATE,
    "время": VALUE_DATE,
    "булево": VALUE_BOOL,
}

# What an offer may carry, for telling offers from prices-only and rests-only packages.
_OFFER_PRICE_TAGS = frozenset({"Цены"})
_OFFER_STOCK_TAGS = frozenset({"Количество", "Склад", "Остатки"})
_OFFER_DATA_TAGS = frozenset(
    {"Наименование", "Артикул", "Штрихкод", "БазоваяЕдиница", "ХарактеристикиТовара", "ЗначенияСвойств"}
)

# Record elements of the main pass; the container each must sit in tells them from same-named
# elements elsewhere (an offer's <Склад ИдСклада=…/>, a product's Группы/Ид).
_RECORD_CONTAINERS = {
    "Группа": "Группы",
    "Свойство": "Свойства",
    "СвойствоНоменклатуры": "Свойства",
    "ТипЦены": "ТипыЦен",
    "Склад": "Склады",
    "ЕдиницаИзмерения": "ЕдиницыИзмерения",
    "Товар": "Товары",
    "Предложение": "Предложения",
}
_RECORD_TAGS = [f"{{*}}{name}" for name in _RECORD_CONTAINERS]


class _LocalNames(dict):
    """Element tag -> local name, memoised: one dict lookup per element on the hot path."""

    def __missing__(self, tag):
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        self[tag] = name
        return name


# ---------------------------------------------------------------------------------------------
# Scalar parsing


_DATETIME_RE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?\s*",
    re.IGNORECASE,
)


def parse_cml_datetime(text: str | None) -> datetime | None:
    """ДатаФормирования and the like, leniently: a date, a datetime with or without a seconds
    fraction and zone, UT 10.3's hour without a leading zero ("2014-06-01T0:36:33").

    Returns a naive datetime (aware when the text has a zone); None for empty or unreadable text.
    """
    if not text:
        return None
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction + "000000")[:6]) if fraction else 0
    tz = None
    if zone:
        if zone.upper() == "Z":
            tz = UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
            try:
                tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
            except ValueError:
                return None
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz
        )
    except ValueError:
        return None


def parse_cml_bool(text: str | None) -> bool | None:
    """1C's ПереключательТип: "true"/"false" (also 1/0, да/нет); None when empty or unknown."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


_NUMBER_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t\r\n'")


def parse_cml_decimal(text: str | None) -> Decimal | None:
    """A number as 1C writes it: "2499.9", "150", "-3.5", "1 234,50" (also with a no-break space).

    Returns None for empty text; raises ValueError for anything else it cannot read (also NaN and
    infinities, which no price or quantity can be).
    """
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        cleaned = text.translate(_NUMBER_SPACES)
        if not cleaned:
            return None
        if "," in cleaned:
            # "1.234,50" and "1,234.50": the last separator is the decimal one.
            if "." in cleaned:
                thousands = "." if cleaned.rfind(",") > cleaned.rfind(".") else ","
                cleaned = cleaned.replace(thousands, "")
            cleaned = cleaned.replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"не число: «{text.strip()}»") from None
    if not value.is_finite():
        raise ValueError(f"не число: «{text.strip()}»")
    return value


def _value_type(text: str | None) -> str | None:
    if not text:
        return None
    return _VALUE_TYPES.get(text.strip().lower().replace(" ", ""))


# ---------------------------------------------------------------------------------------------
# Opening a file safely


def _syntax_error(exc: etree.XMLSyntaxError, path: str | None = None) -> CommerceMLError:
    line, column = exc.position if exc.position else (exc.lineno, None)
    message = (exc.msg or str(exc)).strip()
    return CommerceMLError(
        f"файл не является правильным XML (повреждён или передан не полностью): {message}",
        line=line or None,
        column=column or None,
        path=path,
        code="malformed",
    )


def _dtd_error(line: int | None = None) -> CommerceMLError:
    return CommerceMLError(
        "DTD и объявления сущностей (<!DOCTYPE>, <!ENTITY>) в файлах обмена не допускаются "
        "(DTD/entities are not allowed)",
        line=line,
        code="dtd",
    )


_DECLARED_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _check_prolog(path: str | os.PathLike) -> str | None:
    """Refuse a DOCTYPE (XXE, billion laughs) before any parser sees the file; return the encoding
    the XML declaration names, if any. Raises CommerceMLError for an empty file.

    Works on the raw bytes: 1C writes UTF-8 or windows-1251, both ASCII-compatible in the markup.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(64 * 1024)
            if not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
                raise CommerceMLError("файл пуст", code="malformed")
            encoding = None
            if data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
                end = data.find(b"?>")
                match = _DECLARED_ENCODING_RE.search(data, 0, end if end >= 0 else len(data))
                if match:
                    encoding = match.group(1).decode("ascii")
            pos = 0
            while True:
                lt = data.find(b"<", pos)
                if lt < 0 or lt + 4 > len(data):
                    more = handle.read(64 * 1024) if len(data) < _PROLOG_SCAN_LIMIT else b""
                    if not more:
                        # Let the parser judge; docinfo is checked again at its first event.
                        return encoding
                    data += more
                    continue
                if data.startswith(b"<?", lt):
                    end, skip = data.find(b"?>", lt + 2), 2
                elif data.startswith(b"<!--", lt):
                    end, skip = data.find(b"-->", lt + 4), 3
                elif data.startswith(b"<!", lt):
                    raise _dtd_error(data.count(b"\n", 0, lt) + 1)
                else:
                    return encoding
                if end < 0:
                    more = handle.read(64 * 1024) if len(data) < _PROLOG_SCAN_LIMIT else b""
                    if not more:
                        return encoding
                    data += more
                    continue
                pos = end + skip
    except OSError as exc:
        raise CommerceMLError(f"не удалось прочитать файл: {exc.strerror or exc}", code="io") from None


def _check_parsed_prolog(elem) -> None:
    """Second line behind `_check_prolog`: the parser's own view of the document type."""
    docinfo = elem.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _dtd_error()


def _not_commerceml(local: str, line: int | None) -> CommerceMLError:
    return CommerceMLError(
        f"корневой элемент файла — «{local}», а не «{ROOT}»: это не документ обмена CommerceML "
        "(возможно, фрагмент файла или файл другого формата)",
        line=line,
        path=local,
        code="not_commerceml",
    )


def _commerceml1(line: int | None, path: str | None) -> CommerceMLError:
    return CommerceMLError(
        "файл в формате CommerceML 1.x (обмен 1С:Предприятия 7.7), он не поддерживается "
        "(CommerceML 1.x is not supported): настройте в 1С обмен с сайтом в формате CommerceML 2",
        line=line,
        path=path,
        code="commerceml1",
    )


def _looks_commerceml1(section, has_version: bool) -> bool:
    """CommerceML 1.x (1C 7.7) writes data as attributes: <Каталог Идентификатор=… Наименование=…>."""
    attributes = section.attrib
    if "Идентификатор" in attributes:
        return True
    return not has_version and any(name != "СодержитТолькоИзменения" for name in attributes)


# ---------------------------------------------------------------------------------------------
# sniff


class _Sniffer:
    """Decides DocumentInfo from the events at the head of a file; `feed` says when it knows."""

    def __init__(self, declared_encoding: str | None) -> None:
        self.local = _LocalNames()
        self.encoding = declared_encoding
        self.depth = 0
        self.section: str | None = None
        self.sections: list[str] = []
        self.attrs: dict[str, str] = {}
        self.namespace: str | None = None
        self.has_catalog = self.has_classifier = self.has_package = self.is_orders = False
        self.changes_only: bool | None = None
        self.classifier_changes_only: bool | None = None
        self.classifier_id: str | None = None
        self.catalog_id: str | None = None
        self.package_id: str | None = None
        self.price_types_declared = self.warehouses_declared = False
        self.offer_kind: str | None = None

    def feed(self, event: str, elem) -> bool:
        local = self.local[elem.tag]
        if event == "start":
            self.depth += 1
            depth = self.depth
            if depth == 1:
                self._root(elem, local)
            elif depth == 2:
                return self._section(elem, local)
            elif depth == 3:
                if self.section == "Каталог" and local == "Товары":
                    return True
                if self.section == "ПакетПредложений":
                    if local == "ТипыЦен":
                        self.price_types_declared = True
                    elif local == "Склады":
                        self.warehouses_declared = True
            return False

        depth = self.depth
        self.depth -= 1
        if depth == 3:
            self._header_field(local, elem)
            _release(elem)
        elif depth == 2:
            if local == "Каталог":
                return True
            _release(elem)
        elif depth == 4:
            if local == "Предложение" and self.section == "ПакетПредложений":
                self.offer_kind = self._offer_kind(elem)
                return True
            _release(elem)
        elif local == "Группа":
            _release(elem)
        return False

    def _root(self, elem, local: str) -> None:
        _check_parsed_prolog(elem)
        if local != ROOT:
            raise _not_commerceml(local, elem.sourceline)
        qname = etree.QName(elem)
        self.namespace = qname.namespace
        self.attrs = dict(elem.attrib)
        version = (self.attrs.get("ВерсияСхемы") or "").strip()
        if version.startswith("1"):
            raise _commerceml1(elem.sourceline, ROOT)

    def _section(self, elem, local: str) -> bool:
        self.section = local
        self.sections.append(local)
        if _looks_commerceml1(elem, bool(self.attrs.get("ВерсияСхемы"))):
            raise _commerceml1(elem.sourceline, f"{ROOT}/{local}")
        changes = parse_cml_bool(elem.get("СодержитТолькоИзменения"))
        if local == "Каталог":
            self.has_catalog = True
            self.changes_only = changes
        elif local == "ПакетПредложений":
            self.has_package = True
            self.changes_only = changes
        elif local == "Классификатор":
            self.has_classifier = True
            self.classifier_changes_only = changes
        elif local in ("Документ", "Контейнер"):
            self.is_orders = True
            return True
        return False

    def _header_field(self, local: str, elem) -> None:
        section = self.section
        if local == "Ид":
            value = _text(elem) or None
            if section == "Каталог":
                self.catalog_id = value
            elif section == "Классификатор":
                self.classifier_id = self.classifier_id or value
            elif section == "ПакетПредложений":
                self.package_id = value
        elif local == "ИдКлассификатора" and section in ("Каталог", "ПакетПредложений"):
            self.classifier_id = _text(elem) or self.classifier_id
        elif local == "ИдКаталога" and section == "ПакетПредложений":
            self.catalog_id = _text(elem) or None

    def _offer_kind(self, offer) -> str:
        names = {self.local[child.tag] for child in offer}
        prices = bool(names & _OFFER_PRICE_TAGS)
        stock = bool(names & _OFFER_STOCK_TAGS)
        if names & _OFFER_DATA_TAGS:
            return KIND_OFFERS
        if prices and not stock and not self.warehouses_declared:
            return KIND_PRICES
        if stock and not prices and not self.price_types_declared:
            return KIND_RESTS
        return KIND_OFFERS

    def result(self) -> DocumentInfo:
        if self.is_orders:
            kind = KIND_ORDERS
        elif self.has_catalog:
            kind = KIND_CATALOG
        elif self.has_package:
            # A package of no offers (a 3.1 offers___ file with only its classifier) is still offers.
            kind = self.offer_kind or KIND_OFFERS
        elif self.has_classifier:
            kind = KIND_CLASSIFIER
        else:
            seen = ", ".join(dict.fromkeys(self.sections)) or "ничего"
            raise CommerceMLError(
                f"не удалось определить тип файла: в «{ROOT}» нет ни Каталога, ни Классификатора, "
                f"ни ПакетаПредложений, ни Документа (найдено: {seen})",
                path=ROOT,
                code="unknown_kind",
            )
        changes_only = self.classifier_changes_only if kind == KIND_CLASSIFIER else self.changes_only
        version = (self.attrs.get("ВерсияСхемы") or "").strip() or None
        return DocumentInfo(
            schema_version=version,
            generated_at=parse_cml_datetime(self.attrs.get("ДатаФормирования")),
            namespace=self.namespace or None,
            kind=kind,
            changes_only=changes_only,
            classifier_id=self.classifier_id,
            catalog_id=self.catalog_id,
            encoding=self.encoding,
            package_id=self.package_id,
            classifier_changes_only=self.classifier_changes_only,
        )


def sniff(path: str | os.PathLike) -> DocumentInfo:
    """Say what a CommerceML file is, reading only as far as needed.

    Stops at the first Товары of a Каталог, at the first finished Предложение of a
    ПакетПредложений, or at the first Документ/Контейнер; reads to the end only a file with no
    catalog, package or orders in it (a bare classifier). The offers kind comes from the first
    offer: product data (Наименование, Артикул, …) or both prices and stock → "offers"; only Цены →
    "prices"; only Количество/Склад/Остатки → "rests"; a package without offers → "offers".
    A declared ТипыЦен (Склады) keeps a stock-only (price-only) package "offers".

    Raises CommerceMLError: malformed XML (with lxml's line and column), a DOCTYPE, a root that is
    not КоммерческаяИнформация, CommerceML 1.x, or a document of unknown kind.
    """
    encoding = _check_prolog(path)
    sniffer = _Sniffer(encoding)
    try:
        with open(path, "rb") as handle:
            for event, elem in etree.iterparse(handle, events=("start", "end"), **_PARSER_OPTIONS):
                if sniffer.feed(event, elem):
                    break
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    except OSError as exc:
        raise CommerceMLError(f"не удалось прочитать файл: {exc.strerror or exc}", code="io") from None
    return sniffer.result()


# ---------------------------------------------------------------------------------------------
# Element helpers


def _text(elem) -> str:
    text = elem.text
    return text.strip() if text else ""


def _line(elem) -> int:
    """The line of `elem`'s start tag.

    libxml2 keeps 16-bit line numbers in elements; past line 65535 lxml reports the line of the
    element's first child node instead, i.e. one line late in 1C's indented files. When the
    element and its first child report the same line, the whitespace between them says by how much.
    """
    line = elem.sourceline
    if line is not None and line >= 65535:
        text = elem.text
        if text and "\n" in text and len(elem) and elem[0].sourceline == line:
            line -= text.count("\n")
    return line


def _release(elem) -> None:
    """Drop a finished element and its already-read preceding siblings: memory stays flat."""
    elem.clear(keep_tail=True)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _is_deleted(elem, local: _LocalNames) -> bool:
    """Статус="Удален" (attribute or child) or ПометкаУдаления=true (attribute or child)."""
    status = elem.get("Статус")
    if status is not None and status.strip().lower() == "удален":
        return True
    if parse_cml_bool(elem.get("ПометкаУдаления")):
        return True
    for child in elem:
        name = local[child.tag]
        if name == "ПометкаУдаления":
            if parse_cml_bool(child.text):
                return True
        elif name == "Статус" and _text(child).lower() == "удален":
            return True
    return False


def _pairs(container, key: str, value: str, local: _LocalNames) -> list[tuple[str, str]]:
    """(key, value) per item of a list like ХарактеристикиТовара/ХарактеристикаТовара."""
    pairs = []
    for entry in container:
        k = v = ""
        for child in entry:
            name = local[child.tag]
            if name == key:
                k = _text(child)
            elif name == value:
                v = _text(child)
        pairs.append((k, v))
    return pairs


def _unit(elem, local: _LocalNames) -> UnitRecord:
    """БазоваяЕдиница: text is the short name; Код/НаименованиеПолное/МеждународноеСокращение as
    attributes (2.x) or, in some exports, as children."""
    code = (elem.get("Код") or "").strip()
    full_name = (elem.get("НаименованиеПолное") or "").strip()
    intl = (elem.get("МеждународноеСокращение") or "").strip()
    name = _text(elem)
    for child in elem:
        child_name = local[child.tag]
        if child_name == "Код" and not code:
            code = _text(child)
        elif child_name == "НаименованиеПолное" and not full_name:
            full_name = _text(child)
        elif child_name == "МеждународноеСокращение" and not intl:
            intl = _text(child)
        elif child_name == "НаименованиеКраткое" and not name:
            name = _text(child)
    if not code and name.isdigit():
        # A bare <БазоваяЕдиница>796</БазоваяЕдиница> names the unit by its OKEI code.
        code, name = name, ""
    return UnitRecord(code=code, name=name, full_name=full_name, intl_abbr=intl)


def _nomenclature_kind(value: str) -> str | None:
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith(("услуг", "работ")):
        return PRODUCT_SERVICE
    if value.startswith(("набор", "комплект")):
        return PRODUCT_SET
    return PRODUCT_GOODS


# ---------------------------------------------------------------------------------------------
# The reader


class _GroupFrame:
    """A yielded group (or the top level): the id its subgroups get as parent_id, and how many
    subgroups it has had so far (their `position`)."""

    __slots__ = ("effective_id", "children")

    def __init__(self, effective_id: str | None) -> None:
        self.effective_id = effective_id
        self.children = 0


class CommerceMLReader:
    """Yields the records of one CommerceML file in document order.

    `CommerceMLReader(path)` sniffs the file at once (`.info`), so a file that is not a readable
    CommerceML 2/3 document raises CommerceMLError here. Iterating yields UnitRecord
    (Классификатор/ЕдиницыИзмерения), GroupRecord (parents before children), PropertyRecord,
    PriceTypeRecord, WarehouseRecord, ProductRecord and OfferRecord, wherever they sit: a 2.07
    offers.xml's Классификатор and a 3.1 offers file's Классификатор/Свойства are read as well as
    ТипыЦен/Склады inside ПакетПредложений. Order documents ("orders") yield nothing.

    `skip=N` passes over the first N Товар/Предложение elements without building their records
    (to resume an interrupted import); classifier records are always yielded.

    Iteration raises CommerceMLError for malformed XML (records before the fault have been
    yielded: read the whole file before applying it) and for a Товар/Предложение without Ид.
    What is skipped instead (an unreadable number, a classifier item without Ид) goes to
    `warnings`, (line, message) pairs of the last iteration, at most `max_warnings` of them;
    `warning_count` counts all. A product's or offer's own problems are also in its `warnings`.
    Each iteration re-reads the file.
    """

    def __init__(self, path: str | os.PathLike, skip: int = 0, max_warnings: int = 1000) -> None:
        self.path = os.fspath(path)
        self.skip = max(0, int(skip))
        self.max_warnings = max_warnings
        self.info: DocumentInfo = sniff(self.path)
        self.warnings: list[ReaderWarning] = []
        self.warning_count = 0
        self._local = _LocalNames()
        self._item: tuple[str, int] = ("", 0)
        self._units: dict[tuple, UnitRecord] = {}

    def __repr__(self) -> str:
        return f"<CommerceMLReader {self.path!r} kind={self.info.kind}>"

    # -- warnings ------------------------------------------------------------------------------

    def _warn(self, line: int | None, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < self.max_warnings:
            self.warnings.append(ReaderWarning(line, message))

    def _problem(self, problems: list[str], line: int | None, message: str) -> None:
        problems.append(message)
        self._warn(line, message)

    def _number(
        self,
        text: str | None,
        where: tuple[str, ...],
        elem,
        problems: list[str],
        empty: Decimal | None = None,
    ) -> Decimal | None:
        """Lenient Decimal; `empty` for absent or blank text. Unreadable text gives None and is
        reported at `elem`'s line as "".join(where) + ": …" (joined only then: this path is hot)."""
        try:
            value = Decimal(text)  # what 1C writes nearly always: "2499.9", "150"
        except (InvalidOperation, TypeError):
            if text is None or not text.strip():
                return empty
            try:
                return parse_cml_decimal(text)
            except ValueError as exc:
                self._problem(problems, _line(elem), f"{''.join(where)}: {exc}")
                return None
        if value.is_finite():
            return value
        self._problem(problems, _line(elem), f"{''.join(where)}: не число: «{text.strip()}»")
        return None

    def _unit(self, elem) -> UnitRecord:
        """БазоваяЕдиница, shared: a catalog has a handful of units over thousands of products."""
        if len(elem):
            return _unit(elem, self._local)
        key = (elem.text, tuple(elem.items()))
        unit = self._units.get(key)
        if unit is None:
            unit = _unit(elem, self._local)
            if len(self._units) < 1000:
                self._units[key] = unit
        return unit

    # -- iteration -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[object]:
        self.warnings = []
        self.warning_count = 0
        if self.info.kind == KIND_ORDERS:
            return
        try:
            with open(self.path, "rb") as handle:
                context = etree.iterparse(handle, events=("end",), tag=_RECORD_TAGS, **_PARSER_OPTIONS)
                yield from self._walk(context)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc) from None
        except OSError as exc:
            raise CommerceMLError(f"не удалось прочитать файл: {exc.strerror or exc}", code="io") from None

    def _walk(self, context) -> Iterator[object]:
        local = self._local
        containers = _RECORD_CONTAINERS
        skip = self.skip
        # Groups already yielded whose element has not ended yet (their subgroups are being read),
        # keyed by the element: lxml hands out the same proxy while one is alive.
        open_groups: dict[object, _GroupFrame] = {}
        top_level = _GroupFrame(None)
        items = 0  # Товар + Предложение seen, for skip and for error paths
        first = True
        for _event, elem in context:
            if first:
                _check_parsed_prolog(elem)
                first = False
            name = local[elem.tag]
            parent = elem.getparent()
            if parent is None or local[parent.tag] != containers[name]:
                continue  # an offer's <Склад ИдСклада=…/>, a Свойство outside Свойства, …
            if name == "Товар":
                items += 1
                if items > skip:
                    self._item = ("Каталог/Товары/Товар", items)
                    yield self._product(elem)
            elif name == "Предложение":
                items += 1
                if items > skip:
                    self._item = ("ПакетПредложений/Предложения/Предложение", items)
                    yield self._offer(elem)
            elif name == "Группа":
                frame = open_groups.pop(elem, None)
                if frame is None:
                    yield from self._groups(elem, open_groups, top_level)
                    open_groups.pop(elem, None)
            elif name in _CLASSIFIER_PARSERS:
                record = _CLASSIFIER_PARSERS[name](self, elem)
                if record is not None:
                    yield record
            _release(elem)

    # -- classifier ----------------------------------------------------------------------------

    def _groups(self, elem, open_groups: dict, top_level: _GroupFrame) -> Iterator[GroupRecord]:
        """At the end of a Группа not yet yielded: yield its ancestors that are not yet yielded,
        outermost first, then the group itself, so parents always precede their subgroups.

        An ancestor's Ид and Наименование precede its Группы, so they are parsed by now; yielding
        in order of the first finished descendant is the document order of the start tags.
        """
        local = self._local
        chain = [elem]
        parent_frame = top_level
        node = elem
        while True:
            container = node.getparent()  # Группы
            owner = container.getparent() if container is not None else None
            if owner is None or local[owner.tag] != "Группа":
                break
            frame = open_groups.get(owner)
            if frame is not None:
                parent_frame = frame
                break
            chain.append(owner)
            node = owner
        for group in reversed(chain):
            frame = _GroupFrame(parent_frame.effective_id)
            open_groups[group] = frame
            record = self._group(group, frame, parent_frame)
            if record is not None:
                yield record
            parent_frame = frame

    def _id_and_name(self, elem) -> tuple[str, str]:
        """The Ид and Наименование children of a classifier item ("" where absent)."""
        local = self._local
        external_id = name = ""
        for child in elem:
            child_name = local[child.tag]
            if child_name == "Ид":
                external_id = _text(child)
            elif child_name == "Наименование":
                name = _text(child)
        return external_id, name

    def _group(self, elem, frame: _GroupFrame, parent: _GroupFrame) -> GroupRecord | None:
        local = self._local
        external_id, name = self._id_and_name(elem)
        if not external_id:
            # Its subgroups hang on the nearest ancestor that has an Ид (frame keeps the parent's).
            self._warn(_line(elem), f"группа «{name}» без Ид пропущена")
            return None
        frame.effective_id = external_id
        position = parent.children
        parent.children += 1
        return GroupRecord(
            external_id=external_id,
            name=name,
            parent_id=parent.effective_id,
            position=position,
            deleted=_is_deleted(elem, local),
            line=_line(elem),
        )

    def _property(self, elem) -> PropertyRecord | None:
        local = self._local
        external_id = name = ""
        type_text = None
        references: list[PropertyValueRecord] = []
        plain: list[str] = []
        for child in elem:
            child_name = local[child.tag]
            if child_name == "Ид":
                external_id = _text(child)
            elif child_name == "Наименование":
                name = _text(child)
            elif child_name == "ТипЗначений":
                type_text = child.text
            elif child_name == "ВариантыЗначений":
                for variant in child:
                    variant_name = local[variant.tag]
                    if variant_name == "Справочник" or variant_name == "Вариант":
                        value_id = value = ""
                        for part in variant:
                            part_name = local[part.tag]
                            if part_name == "ИдЗначения" or part_name == "Ид":
                                value_id = _text(part)
                            elif part_name == "Значение":
                                value = _text(part)
                        if value_id:
                            references.append(PropertyValueRecord(value_id, value))
                    elif variant_name == "Значение":
                        plain.append(_text(variant))
        if not external_id:
            self._warn(_line(elem), f"свойство «{name}» без Ид пропущено: товары не могут на него сослаться")
            return None
        value_type = _value_type(type_text)
        if value_type is None:
            # No ТипЗначений (Bitrix-made files): a list of id'd variants is a reference all the same.
            value_type = VALUE_REFERENCE if references else VALUE_STRING
        if not references and plain:
            # Older files list a string property's allowed values without ids: the text is the id.
            references = [PropertyValueRecord(value, value) for value in plain if value]
        return PropertyRecord(
            external_id=external_id,
            name=name,
            value_type=value_type,
            values=tuple(references),
            deleted=_is_deleted(elem, local),
            line=_line(elem),
        )

    def _price_type(self, elem) -> PriceTypeRecord | None:
        local = self._local
        external_id = name = currency = ""
        tax_name = None
        tax_included = None
        for child in elem:
            child_name = local[child.tag]
            if child_name == "Ид":
                external_id = _text(child)
            elif child_name == "Наименование":
                name = _text(child)
            elif child_name == "Валюта":
                currency = _text(child)
            elif child_name == "Налог":
                for part in child:
                    part_name = local[part.tag]
                    if part_name == "Наименование":
                        tax_name = _text(part) or None
                    elif part_name == "УчтеноВСумме":
                        tax_included = parse_cml_bool(part.text)
        if not external_id:
            self._warn(_line(elem), f"тип цен «{name}» без Ид пропущен")
            return None
        return PriceTypeRecord(external_id, name, currency, tax_name, tax_included, _line(elem))

    def _warehouse(self, elem) -> WarehouseRecord | None:
        local = self._local
        external_id, name = self._id_and_name(elem)
        if not external_id:
            self._warn(_line(elem), f"склад «{name}» без Ид пропущен")
            return None
        return WarehouseRecord(external_id, name, _is_deleted(elem, local), _line(elem))

    def _classifier_unit(self, elem) -> UnitRecord | None:
        local = self._local
        values = dict.fromkeys(
            ("Ид", "Код", "НаименованиеКраткое", "НаименованиеПолное", "МеждународноеСокращение"), ""
        )
        for child in elem:
            child_name = local[child.tag]
            if child_name in values:
                values[child_name] = _text(child)
        if not values["Код"] and not values["Ид"]:
            self._warn(_line(elem), "единица измерения без Кода и Ид пропущена")
            return None
        return UnitRecord(
            code=values["Код"],
            name=values["НаименованиеКраткое"],
            full_name=values["НаименованиеПолное"],
            intl_abbr=values["МеждународноеСокращение"],
            external_id=values["Ид"] or None,
        )

    # -- catalog -------------------------------------------------------------------------------

    def _missing_id(self, elem, what: str) -> CommerceMLError:
        return CommerceMLError(
            f"у элемента {what} нет Ид: 1С всегда выгружает Ид, файл неполный или изменён вручную",
            line=_line(elem),
            path=f"{ROOT}/{self._item[0]}[{self._item[1]}]",
            code="missing_id",
        )

    def _product(self, elem) -> ProductRecord:
        # The hot path of a catalog import (≈50 elements per Товар): texts are read inline rather
        # than through helpers, and list items are not checked by name (the parser drops comments;
        # an item without its Ид or Наименование is skipped).
        local = self._local
        external_id = name = ""
        full_name = article = barcode = code = description = description_html = None
        weight_text = kind = unit = manufacturer = None
        group_ids: list[str] = []
        properties: list[tuple[str, str]] = []
        requisites: list[tuple[str, str]] = []
        pictures: list[str] = []
        characteristics: list[tuple[str, str]] = []
        taxes: list[tuple[str, str]] = []
        deleted = False
        status = elem.get("Статус")
        if status is not None and status.strip().lower() == "удален":
            deleted = True
        else:
            mark = elem.get("ПометкаУдаления")
            if mark is not None and parse_cml_bool(mark):
                deleted = True

        for child in elem:
            tag = local[child.tag]
            if tag == "ЗначенияСвойств":
                add_property = properties.append
                for item in child:
                    property_id = ""
                    values = []
                    nested = None
                    for part in item:
                        part_name = local[part.tag]
                        if part_name == "Значение":
                            text = part.text
                            if text:
                                text = text.strip()
                                if text:
                                    values.append(text)
                        elif part_name == "Ид":
                            text = part.text
                            if text:
                                property_id = text.strip()
                        elif part_name == "ЗначениеСвойства":
                            # Bitrix also nests each value as ЗначениеСвойства/Значение; read it only
                            # when the plain Значение is absent, or values would double.
                            if nested is None:
                                nested = []
                            for value in part:
                                if local[value.tag] == "Значение":
                                    text = value.text
                                    if text and (text := text.strip()):
                                        nested.append(text)
                    if property_id:
                        for value in values or nested or ():
                            add_property((property_id, value))
            elif tag == "ЗначенияРеквизитов":
                add_requisite = requisites.append
                for item in child:
                    requisite = None
                    values = []
                    for part in item:
                        part_name = local[part.tag]
                        text = part.text
                        text = text.strip() if text else ""
                        if part_name == "Значение":
                            values.append(text)
                        elif part_name == "Наименование":
                            requisite = text
                    if requisite is None:
                        continue
                    if values:
                        for value in values:
                            add_requisite((requisite, value))
                    else:
                        add_requisite((requisite, ""))
            elif tag == "Ид":
                text = child.text
                external_id = text.strip() if text else ""
            elif tag == "Наименование":
                text = child.text
                name = text.strip() if text else ""
            elif tag == "Артикул":
                text = child.text
                article = (text.strip() or None) if text else None
            elif tag == "Группы":
                for group in child:
                    text = group.text
                    if text and (text := text.strip()) and local[group.tag] == "Ид":
                        group_ids.append(text)
            elif tag == "БазоваяЕдиница":
                unit = self._unit(child)
            elif tag == "Код":
                text = child.text
                code = (text.strip() or None) if text else None
            elif tag == "Описание":
                text = child.text
                if text and text.strip():
                    description = text
                    if child.get("ФорматHTML") is not None and parse_cml_bool(child.get("ФорматHTML")):
                        description_html = text
            elif tag == "Картинка":
                text = child.text
                if text and (text := text.strip()):
                    pictures.append(text)
            elif tag == "Изготовитель":
                maker_id = maker_name = ""
                for part in child:
                    part_name = local[part.tag]
                    if part_name == "Ид":
                        maker_id = _text(part)
                    elif part_name == "Наименование":
                        maker_name = _text(part)
                if maker_id or maker_name:
                    manufacturer = (maker_id, maker_name)
            elif tag == "СтавкиНалогов":
                taxes = _pairs(child, "Наименование", "Ставка", local)
            elif tag == "Штрихкод":
                text = child.text
                barcode = (text.strip() or None) if text else None
            elif tag == "ХарактеристикиТовара":
                characteristics = _pairs(child, "Наименование", "Значение", local)
            elif tag == "ПолноеНаименование":
                text = child.text
                full_name = (text.strip() or None) if text else None
            elif tag == "Вес":
                weight_text = child.text
            elif tag == "ПометкаУдаления":
                if parse_cml_bool(child.text):
                    deleted = True
            elif tag == "Статус":
                if _text(child).lower() == "удален":
                    deleted = True
            elif tag == "ТипНоменклатуры":
                kind = _nomenclature_kind(_text(child)) or kind
            elif tag == "Услуга":
                if parse_cml_bool(child.text):
                    kind = PRODUCT_SERVICE

        if not external_id:
            raise self._missing_id(elem, "Товар")

        captions = None
        species_kind = None
        for requisite, value in requisites:
            if requisite == "ОписаниеФайла":
                path, _, caption = value.partition("#")
                if captions is None:
                    captions = {}
                captions[path.strip()] = caption.strip()
            elif requisite == "ТипНоменклатуры":
                kind = _nomenclature_kind(value) or kind
            elif requisite == "Полное наименование" or requisite == "ПолноеНаименование":
                if full_name is None and value:
                    full_name = value
            elif requisite == "ВидНоменклатуры":
                if value.lower() in ("услуга", "услуги"):
                    species_kind = PRODUCT_SERVICE
            elif requisite == "ОписаниеВФорматеHTML":
                if value:
                    description_html = value
            elif requisite == "Вес":
                if weight_text is None or not weight_text.strip():
                    weight_text = value
            elif requisite == "Штрихкод":
                if barcode is None and value:
                    barcode = value
            elif requisite == "Код":
                if code is None and value:
                    code = value
            elif requisite == "Услуга":
                if parse_cml_bool(value):
                    species_kind = PRODUCT_SERVICE

        problems = None
        weight = None
        if weight_text is not None and weight_text.strip():
            problems = []
            weight = self._number(weight_text, ("товар ", external_id, ", вес"), elem, problems)
        if pictures:
            images = tuple((picture, captions.get(picture, "") if captions else "") for picture in pictures)
        else:
            images = ()
        return ProductRecord(
            external_id,
            name,
            full_name,
            article,
            barcode,
            code,
            description,
            description_html,
            tuple(group_ids),
            unit,
            manufacturer,
            tuple(properties),
            tuple(requisites),
            images,
            kind or species_kind or PRODUCT_GOODS,
            weight,
            tuple(characteristics),
            tuple(taxes),
            deleted,
            _line(elem),
            tuple(problems) if problems else (),
        )

    # -- offers --------------------------------------------------------------------------------

    def _offer(self, elem) -> OfferRecord:
        local = self._local
        line = _line(elem)
        external_id = ""
        name = article = barcode = None
        unit = None
        characteristics: list[tuple[str, str]] = []
        prices: list[PriceRecord] = []
        stocks: list[StockRecord] = []
        problems: list[str] = []
        quantity_text = None
        rest_total = None
        has_prices = has_stock = False
        deleted = False
        status = elem.get("Статус")
        if status is not None and status.strip().lower() == "удален":
            deleted = True
        elif elem.get("ПометкаУдаления") is not None and parse_cml_bool(elem.get("ПометкаУдаления")):
            deleted = True
        price_lines = []
        stock_lines = []  # (warehouse id, quantity text, element)

        for child in elem:
            tag = local[child.tag]
            if tag == "Ид":
                external_id = _text(child)
            elif tag == "Цены":
                has_prices = True
                price_lines.extend(price for price in child if local[price.tag] == "Цена")
            elif tag == "Количество":
                has_stock = True
                quantity_text = child.text
            elif tag == "Склад":
                has_stock = True
                stock_lines.append((child.get("ИдСклада"), child.get("КоличествоНаСкладе"), child))
            elif tag == "Остатки":
                has_stock = True
                for rest in child:
                    if local[rest.tag] != "Остаток":
                        continue
                    total_text = None
                    had_warehouse = False
                    for part in rest:
                        part_name = local[part.tag]
                        if part_name == "Склад":
                            had_warehouse = True
                            warehouse_id = quantity = None
                            for field in part:
                                field_name = local[field.tag]
                                if field_name == "Ид":
                                    warehouse_id = field.text
                                elif field_name == "Количество":
                                    quantity = field.text
                            stock_lines.append((warehouse_id, quantity, part))
                        elif part_name == "Количество":
                            total_text = part.text
                    if not had_warehouse and total_text is not None:
                        where = ("предложение ", external_id, ", остаток")
                        value = self._number(total_text, where, rest, problems, _ZERO)
                        if value is not None:
                            rest_total = value if rest_total is None else rest_total + value
            elif tag == "Наименование":
                name = _text(child) or None
            elif tag == "Артикул":
                article = _text(child) or None
            elif tag == "Штрихкод":
                barcode = _text(child) or None
            elif tag == "БазоваяЕдиница":
                unit = self._unit(child)
            elif tag == "ХарактеристикиТовара":
                characteristics = _pairs(child, "Наименование", "Значение", local)
            elif tag == "ПометкаУдаления":
                if parse_cml_bool(child.text):
                    deleted = True
            elif tag == "Статус":
                if _text(child).lower() == "удален":
                    deleted = True

        if not external_id:
            raise self._missing_id(elem, "Предложение")

        for price in price_lines:
            price_type_id = ""
            value_text = currency = unit_name = coefficient_text = None
            for part in price:
                part_name = local[part.tag]
                if part_name == "ЦенаЗаЕдиницу":
                    value_text = part.text
                elif part_name == "ИдТипаЦены":
                    price_type_id = _text(part)
                elif part_name == "Валюта":
                    currency = _text(part) or None
                elif part_name == "Единица":
                    unit_name = _text(part) or None
                elif part_name == "Коэффициент":
                    coefficient_text = part.text
            if not price_type_id:
                self._problem(
                    problems, _line(price), f"предложение {external_id}: цена без ИдТипаЦены пропущена"
                )
                continue
            where = ("предложение ", external_id, ", цена ", price_type_id)
            value = self._number(value_text, where, price, problems, _ZERO)
            if value is None:
                continue
            coefficient = None
            if coefficient_text is not None:
                where = ("предложение ", external_id, ", коэффициент цены ", price_type_id)
                coefficient = self._number(coefficient_text, where, price, problems)
            prices.append(PriceRecord(price_type_id, value, currency, unit_name, coefficient))

        for warehouse_id, stock_text, stock_elem in stock_lines:
            warehouse_id = (warehouse_id or "").strip()
            if not warehouse_id:
                self._problem(
                    problems,
                    _line(stock_elem),
                    f"предложение {external_id}: остаток без Ид склада пропущен",
                )
                continue
            where = ("предложение ", external_id, ", остаток на складе ", warehouse_id)
            quantity = self._number(stock_text, where, stock_elem, problems, _ZERO)
            if quantity is None:
                continue
            stocks.append(StockRecord(warehouse_id, quantity))

        quantity = None
        if quantity_text is not None:
            where = ("предложение ", external_id, ", количество")
            quantity = self._number(quantity_text, where, elem, problems, _ZERO)
        if quantity is None and rest_total is not None:
            quantity = rest_total

        product_id, sep, feature = external_id.partition("#")
        return OfferRecord(
            external_id=external_id,
            product_id=product_id.strip(),
            feature_id=(feature.strip() or None) if sep else None,
            name=name,
            article=article,
            barcode=barcode,
            characteristics=tuple(characteristics),
            prices=tuple(prices),
            quantity=quantity,
            stocks=tuple(stocks),
            has_prices=has_prices,
            has_stock=has_stock,
            deleted=deleted,
            line=line,
            unit=unit,
            warnings=tuple(problems),
        )


#: Classifier items a file may carry, by element name: each parser returns a record, or None
#: (with a warning) for an item it must skip.
_CLASSIFIER_PARSERS = {
    "Свойство": CommerceMLReader._property,
    "СвойствоНоменклатуры": CommerceMLReader._property,
    "ТипЦены": CommerceMLReader._price_type,
    "Склад": CommerceMLReader._warehouse,
    "ЕдиницаИзмерения": CommerceMLReader._classifier_unit,
}
