"""What the CommerceML reader yields: frozen, slotted records with 1C's `Ид` kept as text.

This module is the contract between `reader.py` and the importer. It imports nothing from Django.
Every id (`external_id`, `*_id`) is stripped of surrounding whitespace and otherwise kept exactly as
1C wrote it (it may contain '#'). Optional texts are None when the element is absent or empty.
`line` is the 1-based line of the element's start tag in the source file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

# DocumentInfo.kind values.
KIND_CATALOG = "catalog"
KIND_CLASSIFIER = "classifier"
KIND_OFFERS = "offers"
KIND_PRICES = "prices"
KIND_RESTS = "rests"
KIND_ORDERS = "orders"
# Kinds whose records are offers: the importer applies whatever each offer carries.
OFFER_KINDS = frozenset({KIND_OFFERS, KIND_PRICES, KIND_RESTS})

# PropertyRecord.value_type values.
VALUE_REFERENCE = "reference"
VALUE_STRING = "string"
VALUE_NUMBER = "number"
VALUE_DATE = "date"
VALUE_BOOL = "bool"

# ProductRecord.kind values.
PRODUCT_GOODS = "goods"
PRODUCT_SERVICE = "service"
PRODUCT_SET = "set"


class CommerceMLError(Exception):
    """A file the reader cannot understand; the exchange answers `failure` with `str(error)`.

    `message` is Russian (the 1C operator reads it); `line`/`column` are 1-based when known;
    `path` is an element path such as "КоммерческаяИнформация/Каталог/Товары/Товар[17]" when known;
    `code` is a stable machine-readable reason: "malformed", "dtd", "not_commerceml", "commerceml1",
    "unknown_kind", "missing_id", "io".
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        code: str = "malformed",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path
        self.code = code

    def __str__(self) -> str:
        where = ""
        if self.line is not None:
            where = f"Строка {self.line}"
            if self.column is not None:
                where += f", столбец {self.column}"
        if self.path:
            where = f"{where} ({self.path})" if where else self.path
        return f"{where}: {self.message}" if where else self.message


class ReaderWarning(NamedTuple):
    """Something the reader skipped or could not parse, without giving up on the file."""

    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What a file is, from its root attributes and first sections (see `reader.sniff`).

    `kind`: "catalog" (Каталог, with or without Классификатор), "classifier" (only Классификатор),
    "offers" / "prices" / "rests" (ПакетПредложений; see `reader.sniff` for the rule), "orders"
    (Документ / Контейнер). `changes_only` is СодержитТолькоИзменения of Каталог/ПакетПредложений
    (of Классификатор for kind "classifier"); `classifier_changes_only` is Классификатор's own.
    `encoding` is the one the XML declaration names (None: none declared, i.e. UTF-8).
    """

    schema_version: str | None
    generated_at: datetime | None
    namespace: str | None
    kind: str
    changes_only: bool | None
    classifier_id: str | None
    catalog_id: str | None
    encoding: str | None
    package_id: str | None = None
    classifier_changes_only: bool | None = None


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit: Классификатор/ЕдиницыИзмерения/ЕдиницаИзмерения, or a product's БазоваяЕдиница.

    `code` is the OKEI code (stripped: 1C pads it), `name` the short name ("шт").
    """

    code: str
    name: str
    full_name: str
    intl_abbr: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """One Группа; yielded before any of its subgroups. `position` is its 0-based index among
    its siblings."""

    external_id: str
    name: str
    parent_id: str | None
    position: int
    deleted: bool
    line: int


@dataclass(frozen=True, slots=True)
class PropertyValueRecord:
    """One value of a reference property (ВариантыЗначений/Справочник: ИдЗначения, Значение)."""

    external_id: str
    value: str


@dataclass(frozen=True, slots=True)
class PropertyRecord:
    """One Свойство (or the older СвойствоНоменклатуры); `value_type` is one of VALUE_*."""

    external_id: str
    name: str
    value_type: str
    values: tuple[PropertyValueRecord, ...]
    deleted: bool
    line: int


@dataclass(frozen=True, slots=True)
class PriceTypeRecord:
    """One ТипЦены; `currency` is the raw Валюта text ("руб", "RUB", "643")."""

    external_id: str
    name: str
    currency: str
    tax_name: str | None
    tax_included: bool | None
    line: int


@dataclass(frozen=True, slots=True)
class WarehouseRecord:
    """One Склад of a Склады list (not an offer's stock line)."""

    external_id: str
    name: str
    deleted: bool
    line: int


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """One Каталог/Товары/Товар.

    Pairs keep document order. `properties`: (property Ид, value text) per non-empty Значение.
    `requisites`: (Наименование, Значение) for every ЗначениеРеквизита, one pair per Значение.
    `images`: (Картинка path, caption from ОписаниеФайла "path#caption" or ""). `kind` is one of
    PRODUCT_*. `warnings`: what the reader could not parse in this product (also in the reader's
    `warnings`), so the importer can report it with the product's Ид and line.
    """

    external_id: str
    name: str
    full_name: str | None
    article: str | None
    barcode: str | None
    code: str | None
    description: str | None
    description_html: str | None
    group_ids: tuple[str, ...]
    unit: UnitRecord | None
    manufacturer: tuple[str, str] | None
    properties: tuple[tuple[str, str], ...]
    requisites: tuple[tuple[str, str], ...]
    images: tuple[tuple[str, str], ...]
    kind: str
    weight: Decimal | None
    characteristics: tuple[tuple[str, str], ...]
    taxes: tuple[tuple[str, str], ...]
    deleted: bool
    line: int
    warnings: tuple[str, ...] = ()
    #: The importer's digest of the record's data (importer.apply.record_hash), when its screen
    #: already computed it; the reader leaves it empty.
    digest: str = ""


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """One Цены/Цена of an offer."""

    price_type_id: str
    value: Decimal
    currency: str | None
    unit: str | None
    coefficient: Decimal | None


@dataclass(frozen=True, slots=True)
class StockRecord:
    """Stock of an offer on one warehouse."""

    warehouse_id: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """One ПакетПредложений/Предложения/Предложение.

    `product_id`/`feature_id` split `external_id` at the first '#'. `quantity` is the offer's total
    (Количество, or Остатки/Остаток/Количество without a Склад); `stocks` are per warehouse.
    `has_prices` / `has_stock` say whether the offer carries Цены / any stock element at all, so a
    prices-only file never zeroes stock and a rests-only file never drops prices. A price or stock
    line whose number cannot be read is left out and reported in `warnings`.
    """

    external_id: str
    product_id: str
    feature_id: str | None
    name: str | None
    article: str | None
    barcode: str | None
    characteristics: tuple[tuple[str, str], ...]
    prices: tuple[PriceRecord, ...]
    quantity: Decimal | None
    stocks: tuple[StockRecord, ...]
    has_prices: bool
    has_stock: bool
    deleted: bool
    line: int
    unit: UnitRecord | None = None
    warnings: tuple[str, ...] = ()
    digest: str = ""  # as ProductRecord.digest
