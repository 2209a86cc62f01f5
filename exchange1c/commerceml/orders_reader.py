"""Reader of the order documents 1C sends back on `sale&mode=file` (PROTOCOL.md §4.4).

Pure Python + lxml, no Django. `read_order_changes(path)` reads the whole file first and
returns every `Документ` as an `OrderChange` (one bad document carries its own `errors`
and does not stop the others), or raises `OrderFileError` for a file that cannot be
understood at all (malformed XML, a DOCTYPE, not CommerceML 2 or 3, CommerceML 1.x). The
caller applies nothing until the whole file was read, so a malformed file changes nothing.

Elements are matched by local name (no namespace, `urn:1C.ru:commerceml_2`, `_210`, `_3`
alike); 3.x documents inside `<Контейнер>` are read too. Requisite names are compared
case-insensitively with "ё" as "е", because 1C configurations spell them differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

__all__ = [
    "OrderChange",
    "OrderChangeCounterparty",
    "OrderChangeLine",
    "OrderFileError",
    "norm",
    "parse_bool",
    "parse_datetime",
    "read_order_changes",
]

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_HEAD_BYTES = 4096


class OrderFileError(Exception):
    """The file as a whole cannot be read; the message says why (for 1C's operator)."""


@dataclass
class OrderChangeLine:
    id: str
    name: str
    article: str
    price: Decimal | None
    quantity: Decimal | None
    total: Decimal | None
    is_service: bool
    discount: Decimal = Decimal("0")
    unit: str = ""
    unit_code: str = ""


@dataclass
class OrderChangeCounterparty:
    """The buyer (`Контрагент` with `Роль` Покупатель, else the first one) as 1C sent it."""

    id: str = ""
    name: str = ""
    full_name: str = ""
    official_name: str = ""
    inn: str = ""
    kpp: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class OrderChange:
    """One `Документ` as 1C sent it. `requisites` keys are `norm()`-ed names."""

    line: int
    id: str = ""
    number: str = ""
    operation: str = ""
    date: date | None = None
    currency: str = ""
    total: Decimal | None = None
    requisites: dict[str, str] = field(default_factory=dict)
    lines: list[OrderChangeLine] = field(default_factory=list)
    has_goods: bool = False
    errors: list[str] = field(default_factory=list)
    counterparty: OrderChangeCounterparty | None = None
    comment: str = ""

    def requisite(self, *names: str) -> str | None:
        """The first of `names` present (any spelling `norm` folds together), else None."""
        for name in names:
            value = self.requisites.get(norm(name))
            if value is not None:
                return value
        return None

    @property
    def label(self) -> str:
        return self.number or self.id or f"line {self.line}"


def norm(name: str) -> str:
    """A requisite name folded for comparison: case, "ё", repeated spaces."""
    return " ".join(name.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el, name: str):
    for ch in el:
        if _local(ch.tag) == name:
            return ch
    return None


def _children(el, name: str):
    return [ch for ch in el if _local(ch.tag) == name]


def _text(el, name: str) -> str:
    ch = _child(el, name)
    if ch is None:
        return ""
    return "".join(ch.itertext()).strip()


def parse_bool(value: str | None) -> bool | None:
    """1C's booleans: true/false, истина/ложь, да/нет, 1/0; None when absent or unreadable."""
    if value is None:
        return None
    v = value.strip().casefold()
    if v in ("true", "истина", "да", "1", "yes"):
        return True
    if v in ("false", "ложь", "нет", "0", "no", ""):
        return False
    return None


_DT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?)?")


def parse_datetime(value: str | None) -> datetime | None:
    """A naive datetime from 1C's dates: "2019-04-19", "2019-04-19T0:00:00" (UT 10.3), with
    a zone or fraction (ignored), "2007-10-30 15:19:27"; 1C's empty "0001-01-01" is None."""
    if not value:
        return None
    m = _DT.match(value.strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if year <= 1:
        return None
    hour, minute, second = (int(m.group(i) or 0) for i in (4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


MAX_ABS_NUMBER = Decimal("1e11")


def _decimal(text: str, what: str, errors: list[str]) -> Decimal | None:
    if text == "":
        return None
    try:
        value = Decimal(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        errors.append(f"{what}: not a number ({text!r})")
        return None
    if not value.is_finite():
        errors.append(f"{what}: not a number ({text!r})")
        return None
    # The site's money and quantity columns hold 11 integer digits; a larger value from a
    # hand-edited or hostile file would be stored unchecked by SQLite and break every page
    # that reads the order back.
    if abs(value) >= MAX_ABS_NUMBER:
        errors.append(f"{what}: out of range ({text!r})")
        return None
    return value.quantize(Decimal("0.001")) if value.as_tuple().exponent < -3 else value


def _requisites(el) -> dict[str, str]:
    out: dict[str, str] = {}
    box = _child(el, "ЗначенияРеквизитов")
    if box is None:
        return out
    for item in _children(box, "ЗначениеРеквизита"):
        name = _text(item, "Наименование")
        if name:
            out.setdefault(norm(name), _text(item, "Значение"))
    return out


def _read_line(el, errors: list[str]) -> OrderChangeLine:
    ident = _text(el, "Ид")
    name = _text(el, "Наименование")
    label = ident or name or "?"
    reqs = _requisites(el)
    kinds = {reqs.get(norm("ВидНоменклатуры"), "").casefold(), reqs.get(norm("ТипНоменклатуры"), "").casefold()}
    price = _decimal(_text(el, "ЦенаЗаЕдиницу"), f"Товар {label}: ЦенаЗаЕдиницу", errors)
    quantity = _decimal(_text(el, "Количество"), f"Товар {label}: Количество", errors)
    total = _decimal(_text(el, "Сумма"), f"Товар {label}: Сумма", errors)
    if quantity is not None and quantity < 0:
        errors.append(f"Товар {label}: negative quantity {quantity}")
    if price is not None and price < 0:
        errors.append(f"Товар {label}: negative price {price}")
    if total is not None and total < 0:
        errors.append(f"Товар {label}: negative sum {total}")
    discount = Decimal("0")
    discounts = _child(el, "Скидки")
    if discounts is not None:
        for d in _children(discounts, "Скидка"):
            if parse_bool(_text(d, "УчтеноВСумме")) is False:
                continue
            amount = _decimal(_text(d, "Сумма"), f"Товар {label}: Скидка", errors)
            discount += amount or Decimal("0")
    unit_el = _child(el, "БазоваяЕдиница")
    unit, unit_code = _text(el, "Единица"), ""
    if unit_el is not None:
        unit = "".join(unit_el.itertext()).strip() or unit or (unit_el.get("НаименованиеПолное") or "").strip()
        unit_code = (unit_el.get("Код") or "").strip()
    return OrderChangeLine(
        id=ident, name=name, article=_text(el, "Артикул"), price=price, quantity=quantity, total=total,
        is_service=ident == "ORDER_DELIVERY" or "услуга" in kinds, discount=discount, unit=unit, unit_code=unit_code,
    )


def _read_counterparty(doc) -> OrderChangeCounterparty | None:
    box = _child(doc, "Контрагенты")
    parties = _children(box, "Контрагент") if box is not None else []
    if not parties:
        return None
    el = next((p for p in parties if _text(p, "Роль").casefold() == "покупатель"), parties[0])
    party = OrderChangeCounterparty(
        id=_text(el, "Ид"), name=_text(el, "Наименование"), full_name=_text(el, "ПолноеНаименование"),
        official_name=_text(el, "ОфициальноеНаименование"), inn=_text(el, "ИНН"), kpp=_text(el, "КПП"),
    )
    if not party.full_name:
        party.full_name = " ".join(x for x in (_text(el, "Фамилия"), _text(el, "Имя"), _text(el, "Отчество")) if x)
    for name in ("Адрес", "АдресРегистрации", "ЮридическийАдрес"):
        address = _child(el, name)
        if address is not None and _text(address, "Представление"):
            party.address = _text(address, "Представление")
            break
    contacts = _child(el, "Контакты")
    for contact in _children(contacts, "Контакт") if contacts is not None else []:
        kind = (_text(contact, "Тип") or _text(contact, "КонтактВид")).casefold()
        value = _text(contact, "Значение")
        if not value:
            continue
        # "Почта" / "Электронная почта" is the e-mail; "Телефон…" any phone (the first one wins).
        if ("почта" in kind or "mail" in kind) and not party.email:
            party.email = value
        elif ("телефон" in kind or "phone" in kind) and not party.phone:
            party.phone = value
    return party


def _read_document(el) -> OrderChange:
    change = OrderChange(line=el.sourceline or 0)
    errors = change.errors
    change.id = _text(el, "Ид")
    change.number = _text(el, "Номер")
    change.operation = _text(el, "ХозОперация")
    d = parse_datetime(_text(el, "Дата"))
    change.date = d.date() if d else None
    change.currency = _text(el, "Валюта")
    change.total = _decimal(_text(el, "Сумма"), "Сумма", errors)
    if change.total is not None and change.total < 0:
        errors.append(f"negative document sum {change.total}")
    if not change.id and not change.number:
        errors.append("neither Ид nor Номер: the order cannot be found")
    change.requisites = _requisites(el)
    change.counterparty = _read_counterparty(el)
    change.comment = _text(el, "Комментарий")
    goods = _child(el, "Товары")
    if goods is not None:
        change.has_goods = True
        change.lines = [_read_line(item, errors) for item in _children(goods, "Товар")]
    return change


def read_order_changes(path: Path | str) -> tuple[list[OrderChange], dict]:
    """All documents of the file, in order, and the root's attributes.

    Raises `OrderFileError` when the file is not a readable CommerceML 2/3 order file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as e:
        raise OrderFileError(f"cannot read {path.name}: {e.strerror}") from e
    if not head.strip():
        raise OrderFileError(f"{path.name} is empty")
    if _DOCTYPE.search(head):
        raise OrderFileError(f"{path.name}: a DOCTYPE is not accepted")
    # Order files are small: the whole tree is read before anything is applied. No huge_tree:
    # libxml2's limits stay on.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True,
                             load_dtd=False)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as e:
        raise OrderFileError(f"{path.name} is not well-formed XML: {e}") from e
    if tree.docinfo.doctype:
        raise OrderFileError(f"{path.name}: a DOCTYPE is not accepted")
    root = tree.getroot()
    if _local(root.tag) != "КоммерческаяИнформация":
        raise OrderFileError(f"{path.name}: root element is <{_local(root.tag)}>, not <КоммерческаяИнформация>")
    info = {k: v for k, v in root.attrib.items()}
    docs = []
    for el in root:
        name = _local(el.tag)
        if name == "Документ":
            docs.append(el)
        elif name == "Контейнер":
            docs.extend(_children(el, "Документ"))
    if docs and _child(docs[0], "Ид") is None and _child(docs[0], "Номер") is None and docs[0].attrib:
        # CommerceML 1.x (1C 7.7): the document's data are attributes, not elements.
        raise OrderFileError(f"{path.name} is CommerceML 1.x (attributes instead of elements), not CommerceML 2")
    if not docs:
        raise OrderFileError(f"{path.name} holds no <Документ>: not an order file")
    return [_read_document(el) for el in docs], info
