"""Stage 2 of an import: one batch of reader records into the catalog, set-based.

Each `apply_*` function takes a list of records of one type and a `Context`, writes with a
handful of statements (sqlbatch) whatever the batch size, and adds to the context's
counters and warnings. The caller wraps each call in one transaction together with the
job's position, so a batch is all or nothing. Every write is an idempotent upsert keyed on
1C's Ид: applying a batch twice (a crash after the write, before the answer) ends the same.
Foreign keys resolve through {external_id: pk} maps loaded for the batch's ids only.
"""

import bisect
import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import search_index
from catalog.generation import catalog_changed
from catalog.models import (
    Brand,
    Group,
    Price,
    PriceType,
    Product,
    ProductGroup,
    ProductImage,
    ProductPropertyValue,
    Property,
    PropertyValue,
    Stock,
    Unit,
    Variant,
    Warehouse,
)
from catalog.services import (
    offer_summaries_refresh,
    search_text_for,
    slugs_for_new,
    summary_price_types,
    unit_is_fractional,
    unit_short_name,
)
from exchange1c.commerceml.records import (
    PRODUCT_SERVICE,
    PRODUCT_SET,
    VALUE_BOOL,
    VALUE_DATE,
    VALUE_NUMBER,
    VALUE_REFERENCE,
)
from exchange1c.importer import sqlbatch as sb
from exchange1c.importer.currency import iso_currency
from exchange1c.importer.digests import STAND_INS, UnchangedOffer, UnchangedProduct, record_hash
from exchange1c.models import BrandProperty, SeenRange, StagedImage

T_GROUP = Group._meta.db_table
T_PRODUCT = Product._meta.db_table
T_VARIANT = Variant._meta.db_table
T_PGROUP = ProductGroup._meta.db_table
T_PPV = ProductPropertyValue._meta.db_table
T_PROPERTY = Property._meta.db_table
T_PVALUE = PropertyValue._meta.db_table
T_BRAND = Brand._meta.db_table
T_UNIT = Unit._meta.db_table
T_PRICETYPE = PriceType._meta.db_table
T_PRICE = Price._meta.db_table
T_WAREHOUSE = Warehouse._meta.db_table
T_STOCK = Stock._meta.db_table
T_IMAGE = ProductImage._meta.db_table
T_SEEN = SeenRange._meta.db_table

KIND_MAP = {PRODUCT_SERVICE: Product.Kind.SERVICE, PRODUCT_SET: Product.Kind.SET}
#: Requisites the importer maps to fields; the others are kept in Product.requisites.
MAPPED_REQUISITES = frozenset({
    "ТипНоменклатуры", "Полное наименование", "ПолноеНаименование", "ОписаниеВФорматеHTML", "ОписаниеФайла",
    "Вес",
})
MAX_MONEY = Decimal("1e12")
MAX_QUANTITY = Decimal("1e11")
CENT = Decimal("0.01")
MILLI = Decimal("0.001")
_TRUE = frozenset({"true", "1", "да", "истина", "yes"})
_FALSE = frozenset({"false", "0", "нет", "ложь", "no"})
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass
class Context:
    """What one job's batches share: its mark, the settings it runs under, counters and warnings."""

    job_id: int
    mark: int
    policy: str = "overwrite"
    brand_property: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    warnings: list = field(default_factory=list)
    warning_count: int = 0
    max_warnings: int = 100
    groups_applied: int = 0
    _warned: set = field(default_factory=set)
    #: Set on a fork(): each warning with its once-key, for merged() to replay.
    _notes: list | None = None

    def warn(self, line, text, *, once: str | None = None) -> None:
        """Record a warning; `once` is a key that makes repeats of the same problem count only once."""
        self._note(once, _("line %(line)s: %(text)s") % {"line": line, "text": text} if line else text)

    def _note(self, once: str | None, message: str) -> None:
        if once is not None:
            if once in self._warned:
                return
            self._warned.add(once)
        self.warning_count += 1
        if self._notes is not None:
            self._notes.append((once, message))
        if len(self.warnings) < self.max_warnings:
            self.warnings.append(message)

    def copy(self) -> "Context":
        """A copy whose counters and warnings change without touching this one."""
        return dataclasses.replace(self, warnings=list(self.warnings), _warned=set(self._warned))

    def fork(self) -> "Context":
        """A context for one batch applied beside others: the same job and settings, nothing counted yet."""
        return Context(job_id=self.job_id, mark=self.mark, policy=self.policy, brand_property=self.brand_property,
                       max_warnings=self.max_warnings, _warned=set(self._warned), _notes=[])

    def merged(self, part: "Context") -> "Context":
        """This context with a forked one's counts and warnings added, as if its batch had run here.

        A once-only warning a batch beside it gave first is not counted again.
        """
        total = self.copy()
        for name in ("created", "updated", "unchanged", "deactivated", "groups_applied"):
            setattr(total, name, getattr(self, name) + getattr(part, name))
        for once, message in part._notes or ():
            total._note(once, message)
        return total

    def now(self):
        return sb.db_datetime(timezone.now())


def _split_stand_ins(records, kind) -> tuple[list, list]:
    """(the stand-ins of type `kind`, the full records) of a batch."""
    stand_ins = [r for r in records if type(r) is kind]
    if not stand_ins:
        return [], records
    return stand_ins, [r for r in records if type(r) is not kind]


def _mark_unchanged(pks, ctx: Context, *, active: bool) -> None:
    """Count unchanged products as touched by this exchange, without writing their rows.

    They go into SeenRange as runs of consecutive ids, which hiding consults beside `sync_mark`;
    only a product whose `is_active` differs from the file's is updated, by a statement naming
    that column alone (naming it needlessly rewrites its indexes on SQLite and blocks in-place
    updates on PostgreSQL). A batch applied again after a crash adds the same runs again, which
    hiding reads as one.
    """
    runs = _merged_runs((pk, pk) for pk in pks)
    sb.insert(T_SEEN, ["mark", "first_id", "last_id"], [(ctx.mark, first, last) for first, last in runs])
    sb.update_in(T_PRODUCT, {"is_active": active}, "id", pks, extra="is_active <> %s", params=[active])


def _cut(text, size: int) -> str:
    return (text or "")[:size]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _load_json(value):
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def _last_by_id(records):
    """A batch with each Ид once (the last occurrence wins, as a later line of the file would)."""
    return list({r.external_id: r for r in records}.values())


# --- classifier --------------------------------------------------------------------------------


def apply_units(units, ctx: Context) -> dict:
    """Upsert units by code; returns {code: pk} for the codes given."""
    by_code = {}
    for unit in units:
        code = _cut((unit.code or "").strip(), 32)
        if not code:
            continue
        short = unit_short_name(code=code, name=unit.name, full_name=unit.full_name, intl_abbr=unit.intl_abbr)
        by_code[code] = (code, _cut(short, 64), _cut(unit.full_name, 255),
                         _cut(unit.intl_abbr, 16), unit_is_fractional(code=code, name=unit.name))
    if not by_code:
        return {}
    existing = sb.select_map(T_UNIT, "code", by_code)
    sb.upsert(T_UNIT, ["code", "name", "full_name", "intl_abbr", "fractional"],
              [row for code, row in by_code.items() if code not in existing], conflict=["code"])
    return sb.select_map(T_UNIT, "code", by_code)


def apply_groups(records, ctx: Context) -> None:
    records = _last_by_id(records)
    ids = [r.external_id for r in records]
    existing = sb.select_map(T_GROUP, "external_id", ids)
    now = ctx.now()
    new = [r for r in records if r.external_id not in existing]
    slugs = slugs_for_new(Group, {r.external_id: r.name or r.external_id for r in new})
    sb.insert(T_GROUP, ["external_id", "name", "slug", "description", "position", "is_active", "tree_path", "depth",
                        "sync_mark", "created_at", "updated_at"],
              [(r.external_id, _cut(r.name or r.external_id, 255), slugs[r.external_id], "", r.position,
                not r.deleted, "", 0, ctx.mark, now, now) for r in new])
    sb.update_many(T_GROUP, "external_id", ["name", "position", "is_active", "sync_mark", "updated_at"],
                   [(_cut(r.name or r.external_id, 255), r.position, not r.deleted, ctx.mark, now, r.external_id)
                    for r in records if r.external_id in existing])
    pks = sb.select_map(T_GROUP, "external_id", ids + [r.parent_id for r in records if r.parent_id])
    rows = []
    for r in records:
        parent = pks.get(r.parent_id) if r.parent_id else None
        if r.parent_id and parent is None:
            ctx.warn(r.line, _("group %(id)s: parent group %(parent)s is unknown, placed at the top")
                     % {"id": r.external_id, "parent": r.parent_id})
        if parent == pks[r.external_id]:
            parent = None
        rows.append((parent, r.external_id))
    sb.update_many(T_GROUP, "external_id", ["parent_id"], rows)
    ctx.groups_applied += len(records)


def brand_setting_key(setting: str) -> str:
    """Setting 5 (the brand property's name or Ид) as records are compared with it."""
    return " ".join(setting.split()).casefold()


def _brand_key(ctx: Context) -> str:
    return brand_setting_key(ctx.brand_property)


def is_brand_property(record, ctx: Context) -> bool:
    key = _brand_key(ctx)
    return bool(key) and key in (record.external_id.casefold(), " ".join(record.name.split()).casefold())


def ensure_brands(pairs, ctx: Context) -> dict:
    """Brands by name, created when missing; `pairs` are (1C Ид or None, name). Returns {name: pk}."""
    wanted: dict[str, str | None] = {}
    for external_id, name in pairs:
        name = _cut(" ".join((name or "").split()), 255)
        if name and (name not in wanted or wanted[name] is None):
            wanted[name] = external_id or None
    if not wanted:
        return {}
    existing = sb.select_map(T_BRAND, "name", wanted)
    missing = [n for n in wanted if n not in existing]
    if missing:
        taken_ids = set(sb.select_map(T_BRAND, "external_id", [wanted[n] for n in missing if wanted[n]]))
        slugs = slugs_for_new(Brand, {n: n for n in missing})
        rows = [(_cut(wanted[n], 255) if wanted[n] and wanted[n] not in taken_ids else None, n, slugs[n])
                for n in missing]
        sb.upsert(T_BRAND, ["external_id", "name", "slug"], rows, conflict=())
        existing = sb.select_map(T_BRAND, "name", wanted)
    return existing


def apply_properties(records, ctx: Context) -> None:
    records = _last_by_id(records)
    brand_records = [r for r in records if is_brand_property(r, ctx)]
    for r in brand_records:
        BrandProperty.objects.update_or_create(external_id=r.external_id, defaults={"name": _cut(r.name, 255)})
        ensure_brands([(v.external_id, v.value) for v in r.values], ctx)
    records = [r for r in records if r not in brand_records]
    if not records:
        return
    sb.upsert(T_PROPERTY, ["external_id", "name", "value_type", "position", "is_visible", "is_active"],
              [(r.external_id, _cut(r.name or r.external_id, 255), r.value_type, 0, True, not r.deleted)
               for r in records],
              conflict=["external_id"], update=["name", "value_type", "is_active"])
    pks = sb.select_map(T_PROPERTY, "external_id", [r.external_id for r in records])
    values = {}
    for r in records:
        for v in r.values:
            values[v.external_id] = (v.external_id, pks[r.external_id], _cut(v.value, 1000))
    sb.upsert(T_PVALUE, ["external_id", "property_id", "value"], list(values.values()),
              conflict=["external_id"], update=["property_id", "value"])


def apply_price_types(records, ctx: Context) -> None:
    records = _last_by_id(records)
    now = ctx.now()
    rows = []
    for r in records:
        currency, known = iso_currency(r.currency)
        if not known:
            ctx.warn(r.line, _("price type %(id)s: unknown currency %(currency)r, %(code)s assumed")
                     % {"id": r.external_id, "currency": r.currency, "code": currency})
        rows.append((r.external_id, _cut(r.name or r.external_id, 255), currency,
                     True if r.tax_included is None else r.tax_included, False, False, now))
    sb.upsert(T_PRICETYPE, ["external_id", "name", "currency", "tax_included", "is_storefront", "is_old_price",
                            "created_at"], rows,
              conflict=["external_id"], update=["name", "currency", "tax_included"])
    _default_storefront([r.external_id for r in records])


def _default_storefront(external_ids) -> None:
    """PROTOCOL.md §6: until the admin chooses, the first price type imported is the storefront price."""
    if not external_ids or PriceType.objects.filter(is_storefront=True).exists():
        return
    first = PriceType.objects.filter(external_id=external_ids[0], is_old_price=False).first()
    if first is None:
        return
    PriceType.objects.filter(pk=first.pk).update(is_storefront=True)
    if Price.objects.exists():
        offer_summaries_refresh()


def apply_warehouses(records, ctx: Context) -> None:
    records = _last_by_id(records)
    sb.upsert(T_WAREHOUSE, ["external_id", "name", "is_active"],
              [(r.external_id, _cut(r.name or r.external_id, 255), not r.deleted) for r in records],
              conflict=["external_id"], update=["name", "is_active"])


# --- products ----------------------------------------------------------------------------------

_PRODUCT_COLUMNS = ("id", "source_hash", "name", "full_name", "article", "barcode", "code", "description",
                    "description_html", "brand_id", "unit_id", "weight", "kind", "requisites", "is_active")


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def _typed_value(value_type, text, value_refs):
    """(value_ref_id, value_text, value_number, value_date, value_bool) for one property value."""
    if value_type == VALUE_REFERENCE:
        ref = value_refs.get(text)
        if ref is not None:
            return ref, "", None, None, None
    elif value_type == VALUE_NUMBER:
        try:
            number = Decimal(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
            if number.is_finite() and abs(number) < Decimal("1e14"):
                return None, "", number.quantize(Decimal("0.000001")), None, None
        except InvalidOperation:
            pass
    elif value_type == VALUE_DATE:
        parsed = None
        try:
            parsed = date.fromisoformat(text[:10])
        except ValueError:
            match = _DMY.match(text)
            if match:
                try:
                    parsed = date(int(match[3]), int(match[2]), int(match[1]))
                except ValueError:
                    parsed = None
        if parsed is not None:
            return None, "", None, parsed, None
    elif value_type == VALUE_BOOL:
        low = text.strip().casefold()
        if low in _TRUE or low in _FALSE:
            return None, "", None, None, low in _TRUE
    return None, _cut(text, 1000), None, None, None


def apply_products(records, ctx: Context, staged_images: dict | None = None) -> list[int]:
    """Upsert products with their groups, properties, brand and pictures; returns the pks written.

    A Товар whose Ид is `guid#feature` (CommerceML 2.04 lists each characteristic as a Товар)
    is a variant of product `guid`: the product is written from it, and the variant too.
    """
    stand_ins, records = _split_stand_ins(records, UnchangedProduct)
    for deleted in (False, True):
        _mark_unchanged([r.pk for r in stand_ins if r.deleted == deleted], ctx, active=not deleted)
    ctx.unchanged += len(stand_ins)
    if not records:
        return []
    featured = [r for r in records if "#" in r.external_id]
    if featured:
        plain = {r.external_id for r in records if "#" not in r.external_id}
        bases = {}
        for r in featured:
            base = r.external_id.partition("#")[0].strip()
            if base and base not in plain:
                bases[base] = dataclasses.replace(r, external_id=base, characteristics=())
        records = [r for r in records if "#" not in r.external_id] + list(bases.values())
    pks = _apply_products(records, ctx, staged_images)
    if featured:
        _product_features(featured, ctx)
    return pks


def _product_features(records, ctx: Context) -> None:
    """Variants for the `guid#feature` Товар records of a catalog file."""
    records = _last_by_id(records)
    products = sb.select_map(T_PRODUCT, "external_id", {r.external_id.partition("#")[0].strip() for r in records})
    now = ctx.now()
    rows = []
    for r in records:
        product_pk = products.get(r.external_id.partition("#")[0].strip())
        if product_pk is None:
            continue  # a deleted product the site never had
        name = _cut(", ".join(v for _n, v in r.characteristics if v) or r.name, 500)
        rows.append((r.external_id, product_pk, name, _cut(r.article, 255), _cut(r.barcode, 255),
                     _json([list(p) for p in r.characteristics]), 0, not r.deleted, Decimal("0"), Decimal("0"), "",
                     False, "", ctx.mark, now, now))
    sb.upsert(T_VARIANT, ["external_id", "product_id", "name", "article", "barcode", "characteristics", "position",
                          "is_active", "quantity", "reserved", "currency", "in_stock", "source_hash", "sync_mark",
                          "created_at", "updated_at"], rows,
              conflict=["external_id"], update=["product_id", "name", "article", "barcode", "characteristics",
                                                "is_active", "sync_mark"])
    bases = {r.external_id.partition("#")[0].strip() for r in records}
    sb.update_in(T_VARIANT, {"is_active": False}, "external_id", bases, extra="is_active = %s", params=[True])


def _apply_products(records, ctx: Context, staged_images: dict | None) -> list[int]:
    records = _last_by_id(records)
    ids = [r.external_id for r in records]
    existing = sb.select_map(T_PRODUCT, "external_id", ids, _PRODUCT_COLUMNS)
    policy = ctx.policy
    brand_key = _brand_key(ctx)
    hashes = {r.external_id: r.digest or record_hash(r, brand_key) for r in records}

    unchanged = [r for r in records
                 if r.external_id in existing and existing[r.external_id][1] == hashes[r.external_id]]
    for deleted in (False, True):
        _mark_unchanged([existing[r.external_id][0] for r in unchanged if r.deleted == deleted], ctx,
                        active=not deleted)
    ctx.unchanged += len(unchanged)
    unchanged_ids = {r.external_id for r in unchanged}
    todo = [r for r in records if r.external_id not in unchanged_ids]
    # A product 1C marks deleted that the site never had is not created just to be hidden.
    skipped_new_deleted = [r for r in todo if r.deleted and r.external_id not in existing]
    todo = [r for r in todo if not (r.deleted and r.external_id not in existing)]
    ctx.unchanged += len(skipped_new_deleted)
    if not todo:
        return []

    units = apply_units([r.unit for r in todo if r.unit], ctx)
    brand_props = set(BrandProperty.objects.filter(
        external_id__in={pid for r in todo for pid, _v in r.properties}).values_list("external_id", flat=True))
    if brand_key:
        brand_props |= {pid for r in todo for pid, _v in r.properties if pid.casefold() == brand_key}
    brand_values = {v for r in todo for pid, v in r.properties if pid in brand_props}
    brand_by_value = {}
    if brand_values:
        for external_id, name in sb.select_rows(T_BRAND, "external_id", brand_values, ["external_id", "name"]):
            brand_by_value[external_id] = name
    brand_names: dict[str, str] = {}
    brand_pairs = []
    for r in todo:
        name = None
        for pid, value in r.properties:
            if pid in brand_props:
                name = brand_by_value.get(value, value)
                break
        if name is None and r.manufacturer:
            maker_id, maker_name = r.manufacturer
            name = maker_name or maker_id
            brand_pairs.append((maker_id, name))
        elif name is not None:
            brand_pairs.append((None, name))
        if name:
            brand_names[r.external_id] = _cut(" ".join(name.split()), 255)
    brands = ensure_brands(brand_pairs, ctx)

    now = ctx.now()
    new = [r for r in todo if r.external_id not in existing]
    slugs = slugs_for_new(Product, {r.external_id: r.name or r.external_id for r in new})

    def fields_of(r):
        unit_code = _cut((r.unit.code or "").strip(), 32) if r.unit else ""
        requisites = [[n, v] for n, v in r.requisites if n not in MAPPED_REQUISITES]
        weight = r.weight
        if weight is not None and (not weight.is_finite() or abs(weight) >= Decimal("1e9")):
            weight = None
        return {
            "name": _cut(r.name or r.full_name or r.external_id, 500),
            "full_name": _cut(r.full_name, 1000),
            "article": _cut(r.article, 255),
            "barcode": _cut(r.barcode, 255),
            "code": _cut(r.code, 64),
            "description": r.description or "",
            "description_html": r.description_html or "",
            "brand_id": brands.get(brand_names.get(r.external_id)),
            "unit_id": units.get(unit_code),
            "weight": weight.quantize(MILLI) if weight is not None else None,
            "kind": KIND_MAP.get(r.kind, Product.Kind.GOODS),
            "requisites": requisites,
        }

    insert_rows = []
    for r in new:
        f = fields_of(r)
        insert_rows.append((
            r.external_id, f["name"], f["full_name"], slugs[r.external_id], f["article"], f["barcode"], f["code"],
            f["description"], f["description_html"], f["brand_id"], f["unit_id"], f["weight"], f["kind"],
            not r.deleted, _json(f["requisites"]), None, None, False,
            search_text_for(f["name"], f["article"], f["barcode"]), hashes[r.external_id], ctx.mark, now, now,
        ))
    sb.insert(T_PRODUCT, ["external_id", "name", "full_name", "slug", "article", "barcode", "code", "description",
                          "description_html", "brand_id", "unit_id", "weight", "kind", "is_active", "requisites",
                          "price", "old_price", "in_stock", "search_text", "source_hash", "sync_mark", "created_at",
                          "updated_at"], insert_rows)

    kept_fields = {"name", "full_name", "description", "description_html", "brand_id"}
    changed = [r for r in todo if r.external_id in existing]
    update_rows = []
    for r in changed:
        old = dict(zip(_PRODUCT_COLUMNS, existing[r.external_id], strict=True))
        old["requisites"] = _load_json(old["requisites"])
        f = fields_of(r)
        if policy == "fill_empty":
            f = {k: (v if _empty(old[k]) else old[k]) for k, v in f.items()}
            f["kind"] = old["kind"]
        elif policy == "keep":
            f.update({k: old[k] for k in kept_fields})
        update_rows.append((
            f["name"], f["full_name"], f["article"], f["barcode"], f["code"], f["description"], f["description_html"],
            f["brand_id"], f["unit_id"], f["weight"], f["kind"], _json(f["requisites"]), not r.deleted,
            search_text_for(f["name"], f["article"], f["barcode"]), hashes[r.external_id], ctx.mark, now,
            old["id"],
        ))
        if r.deleted and old["is_active"]:
            ctx.deactivated += 1
    sb.update_many(T_PRODUCT, "id", ["name", "full_name", "article", "barcode", "code", "description",
                                     "description_html", "brand_id", "unit_id", "weight", "kind", "requisites",
                                     "is_active", "search_text", "source_hash", "sync_mark", "updated_at"],
                   update_rows)
    ctx.created += len(new)
    ctx.updated += len(changed) - sum(1 for r in changed if r.deleted)

    pks = sb.select_map(T_PRODUCT, "external_id", [r.external_id for r in todo])
    search_index.refresh(pks.values())
    # Every product has a variant from birth, keyed by the product's Ид, so prices always have a home.
    sb.upsert(T_VARIANT, ["external_id", "product_id", "name", "article", "barcode", "characteristics", "position",
                          "is_active", "quantity", "reserved", "currency", "in_stock", "source_hash", "sync_mark",
                          "created_at", "updated_at"],
              [(r.external_id, pks[r.external_id], "", _cut(r.article, 255), _cut(r.barcode, 255), "[]", 0, True,
                Decimal("0"), Decimal("0"), "", False, "", ctx.mark, now, now) for r in new],
              conflict=["external_id"])

    # Which products get 1C's groups, properties and pictures (setting 12).
    if policy == "overwrite":
        full = todo
    elif policy == "keep":
        full = new
    else:
        full = new + changed
    full = [r for r in full if not r.deleted]
    if policy == "fill_empty" and changed:
        changed_pks = [pks[r.external_id] for r in changed]
        has_groups = {row[0] for row in sb.select_rows(T_PGROUP, "product_id", changed_pks, ["product_id"])}
        has_props = {row[0] for row in sb.select_rows(T_PPV, "product_id", changed_pks, ["product_id"])}
        has_images = {row[0] for row in sb.select_rows(T_IMAGE, "product_id", changed_pks, ["product_id"])}
    else:
        has_groups = has_props = has_images = set()

    _write_groups([r for r in full if pks[r.external_id] not in has_groups], pks, ctx)
    _write_properties([r for r in full if pks[r.external_id] not in has_props], pks, brand_props, ctx)
    _write_images([r for r in full if pks[r.external_id] not in has_images], pks, ctx, staged_images)
    return list(pks.values())


def _write_groups(records, pks, ctx: Context) -> None:
    if not records:
        return
    product_pks = [pks[r.external_id] for r in records]
    groups = sb.select_map(T_GROUP, "external_id", {g for r in records for g in r.group_ids})
    sb.delete_in(T_PGROUP, "product_id", product_pks)
    rows = set()
    for r in records:
        for gid in r.group_ids:
            group_pk = groups.get(gid)
            if group_pk is None:
                ctx.warn(r.line, _("product %(id)s: group %(group)s is unknown") % {"id": r.external_id, "group": gid},
                         once=f"group:{gid}")
                continue
            rows.add((pks[r.external_id], group_pk))
    sb.insert(T_PGROUP, ["product_id", "group_id"], sorted(rows))


def _write_properties(records, pks, brand_props, ctx: Context) -> None:
    if not records:
        return
    product_pks = [pks[r.external_id] for r in records]
    prop_ids = {pid for r in records for pid, _v in r.properties if pid not in brand_props}
    props = sb.select_map(T_PROPERTY, "external_id", prop_ids, ("id", "value_type"))
    value_refs = sb.select_map(T_PVALUE, "external_id",
                               {v for r in records for pid, v in r.properties
                                if props.get(pid, (None, None))[1] == VALUE_REFERENCE})
    sb.delete_in(T_PPV, "product_id", product_pks)
    rows = []
    for r in records:
        seen = set()
        for pid, value in r.properties:
            if pid in brand_props:
                continue
            prop = props.get(pid)
            if prop is None:
                ctx.warn(r.line, _("product %(id)s: property %(property)s is unknown, value skipped")
                         % {"id": r.external_id, "property": pid}, once=f"property:{pid}")
                continue
            typed = _typed_value(prop[1], value, value_refs)
            key = (prop[0], typed)
            if key in seen:
                continue
            seen.add(key)
            rows.append((pks[r.external_id], prop[0], *typed))
    sb.insert(T_PPV, ["product_id", "property_id", "value_ref_id", "value_text", "value_number", "value_date",
                      "value_bool"], rows)


def staged_images_for(job_id: int, paths) -> dict:
    """{path: StagedImage values} for the given paths of a job's file."""
    result = {}
    paths = list(dict.fromkeys(paths))
    for start in range(0, len(paths), sb.CHUNK):
        for row in StagedImage.objects.filter(job_id=job_id, path__in=paths[start:start + sb.CHUNK]).values(
                "path", "content_hash", "file", "width", "height", "problem"):
            result[row["path"]] = row
    return result


def _write_images(records, pks, ctx: Context, staged: dict | None) -> None:
    records = [r for r in records if r.images or ctx.policy == "overwrite"]
    if not records:
        return
    if staged is None:
        staged = staged_images_for(ctx.job_id, [p for r in records for p, _c in r.images])
    wanted = {}
    for r in records:
        product_pk = pks[r.external_id]
        rows = {}
        for position, (path, caption) in enumerate(r.images):
            image = staged.get(path)
            if image is None or image["problem"] or not image["content_hash"]:
                problem = image["problem"] if image else _("not read")
                ctx.warn(r.line, _("product %(id)s: picture %(path)s skipped: %(problem)s")
                         % {"id": r.external_id, "path": path, "problem": problem})
                continue
            if image["content_hash"] not in rows:
                rows[image["content_hash"]] = (product_pk, image["content_hash"], image["file"], position,
                                               _cut(caption, 500), image["width"], image["height"])
        wanted[product_pk] = rows
    stale = [pk for pk, product_pk, content_hash in
             sb.select_rows(T_IMAGE, "product_id", list(wanted), ["id", "product_id", "content_hash"])
             if content_hash not in wanted[product_pk]]
    sb.delete_in(T_IMAGE, "id", stale)
    sb.upsert(T_IMAGE, ["product_id", "content_hash", "file", "position", "caption", "width", "height"],
              [row for rows in wanted.values() for row in rows.values()],
              conflict=["product_id", "content_hash"], update=["file", "position", "caption", "width", "height"])


# --- offers ------------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal | None:
    if value is None or not value.is_finite() or value < 0 or value >= MAX_MONEY:
        return None
    return value.quantize(CENT)


def _ensure_price_types(ids, currencies, ctx: Context, line_of) -> dict:
    types = sb.select_map(T_PRICETYPE, "external_id", ids, ("id", "currency"))
    missing = [i for i in ids if i not in types]
    if missing:
        now = ctx.now()
        rows = []
        for i in missing:
            currency, _known = iso_currency(currencies.get(i))
            ctx.warn(line_of.get(i), _("price type %(id)s is not in the file's ТипыЦен; created with that name")
                     % {"id": i}, once=f"pricetype:{i}")
            rows.append((_cut(i, 255), _cut(i, 255), currency, True, False, False, now))
        sb.upsert(T_PRICETYPE, ["external_id", "name", "currency", "tax_included", "is_storefront", "is_old_price",
                                "created_at"], rows, conflict=["external_id"])
        _default_storefront(missing)
        types = sb.select_map(T_PRICETYPE, "external_id", ids, ("id", "currency"))
    return types


def _ensure_warehouses(ids, ctx: Context, line_of) -> dict:
    warehouses = sb.select_map(T_WAREHOUSE, "external_id", ids)
    missing = [i for i in ids if i not in warehouses]
    if missing:
        for i in missing:
            ctx.warn(line_of.get(i), _("warehouse %(id)s is not in the file's Склады; created with that name")
                     % {"id": i}, once=f"warehouse:{i}")
        sb.upsert(T_WAREHOUSE, ["external_id", "name", "is_active"], [(_cut(i, 255), _cut(i, 255), True)
                                                                     for i in missing], conflict=["external_id"])
        warehouses = sb.select_map(T_WAREHOUSE, "external_id", ids)
    return warehouses


def variant_external_id(offer) -> str:
    """The variant an offer lands on: `guid#feature` for a characteristic, else the product's own `guid`."""
    return offer.external_id if offer.feature_id else offer.product_id


def apply_offers(records, ctx: Context) -> list[int]:
    """Upsert variants, prices and stock from offers; returns the touched product pks."""
    # An unchanged offer writes nothing: variants play no part in hiding (their product does).
    stand_ins, records = _split_stand_ins(records, UnchangedOffer)
    ctx.unchanged += len(stand_ins)
    if not records:
        return []
    records = list({variant_external_id(r): r for r in records}.values())
    product_rows = sb.select_map(T_PRODUCT, "external_id", {r.product_id for r in records}, ("id", "kind"))
    products = {external_id: row[0] for external_id, row in product_rows.items()}
    known = []
    for r in records:
        if r.product_id in products:
            known.append(r)
        else:
            ctx.warn(r.line, _("offer %(id)s: product %(product)s is unknown to the site, skipped")
                     % {"id": r.external_id, "product": r.product_id})
    if not known:
        return []
    vids = [variant_external_id(r) for r in known]
    existing = sb.select_map(T_VARIANT, "external_id", vids, ("id", "product_id", "source_hash", "reserved",
                                                              "is_active"))
    hashes = {variant_external_id(r): r.digest or record_hash(r) for r in known}
    unchanged = [r for r in known if (v := existing.get(variant_external_id(r))) and v[2] == hashes[v_id(r)]
                 and not v[3]]
    ctx.unchanged += len(unchanged)
    unchanged_ids = {v_id(r) for r in unchanged}
    todo = [r for r in known if v_id(r) not in unchanged_ids]
    if not todo:
        return [products[r.product_id] for r in unchanged]

    now = ctx.now()
    new = [r for r in todo if v_id(r) not in existing]

    # Stock first: the variant's own quantity (the warehouses' sum) goes into its row below.
    stocked = [r for r in todo if r.has_stock]
    warehouses = {}
    if stocked:
        warehouse_ids = list(dict.fromkeys(s.warehouse_id for r in stocked for s in r.stocks))
        warehouses = _ensure_warehouses(warehouse_ids, ctx, {s.warehouse_id: r.line for r in stocked
                                                            for s in r.stocks}) if warehouse_ids else {}
    quantities = {v_id(r): _offer_quantity(r) for r in stocked}
    prices = _offer_prices([r for r in todo if r.has_prices], ctx)
    summaries = _variant_summaries(todo, existing, prices, quantities,
                                   {external_id: row[1] for external_id, row in product_rows.items()})
    _write_variants(todo, products, hashes, quantities, summaries, existing, ctx, now)
    changed = [r for r in todo if v_id(r) in existing]
    ctx.created += len(new)
    ctx.updated += sum(1 for r in changed if not r.deleted)
    ctx.deactivated += sum(1 for r in changed if r.deleted and existing[v_id(r)][4])
    variants = sb.select_map(T_VARIANT, "external_id", [v_id(r) for r in todo])

    # Prices. Only a variant that existed before this batch can hold price or stock rows already.
    if prices:
        rows = [(variants[vid], type_pk, *price, now) for vid, by_type in prices.items()
                for type_pk, price in by_type.items()]
        held = set(sb.select_rows(T_PRICE, "variant_id", [variants[vid] for vid in prices if vid in existing],
                                  ["variant_id", "price_type_id"]))
        _insert_or_upsert(T_PRICE, ["variant_id", "price_type_id", "value", "currency", "unit", "coefficient",
                                    "updated_at"], rows, lambda row: row[:2] in held,
                          conflict=["variant_id", "price_type_id"], update=["value", "currency", "unit", "coefficient"])

    # Stock per warehouse, when 1C sends it that way.
    per_warehouse = [r for r in stocked if r.stocks]
    if per_warehouse:
        stock_rows = {}
        for r in per_warehouse:
            variant_pk = variants[v_id(r)]
            for s in r.stocks:
                key = (variant_pk, warehouses[s.warehouse_id])
                previous = stock_rows.get(key, (None, None, Decimal("0")))[2]
                stock_rows[key] = (variant_pk, warehouses[s.warehouse_id], previous + _quantity(s.quantity), now)
        held = {(variant_pk, warehouse_pk): pk for pk, variant_pk, warehouse_pk in
                sb.select_rows(T_STOCK, "variant_id", [variants[v_id(r)] for r in per_warehouse if v_id(r) in existing],
                               ["id", "variant_id", "warehouse_id"])}
        _insert_or_upsert(T_STOCK, ["variant_id", "warehouse_id", "quantity", "updated_at"], list(stock_rows.values()),
                          lambda row: row[:2] in held, conflict=["variant_id", "warehouse_id"], update=["quantity"])
        # A warehouse 1C no longer lists for the variant has none of it left.
        sb.delete_in(T_STOCK, "id", [pk for key, pk in held.items() if key not in stock_rows])

    # A product that now has characteristics keeps its bare variant hidden, so the storefront
    # never offers an unpriced "no characteristic" choice beside the real ones.
    bare_offered = {r.product_id for r in todo if not r.feature_id}
    with_features = {r.product_id for r in todo if r.feature_id} - bare_offered
    sb.update_in(T_VARIANT, {"is_active": False}, "external_id", with_features, extra="is_active = %s",
                 params=[True])

    touched = sorted({products[r.product_id] for r in known})
    # Rewrites only what the variants' own rows could not say (catalog.services), and the products.
    # The pipeline starts the new catalog generation for the batch (it counted changes).
    offer_summaries_refresh(product_ids=touched, announce=False)
    return touched


def v_id(offer) -> str:
    return variant_external_id(offer)


def _offer_prices(priced, ctx: Context) -> dict:
    """{variant Ид: {price type pk: (value, currency, unit, coefficient)}} of what the offers carry.

    A price that cannot be stored is left out with a warning (the site keeps the one it had).
    """
    if not priced:
        return {}
    type_ids = list(dict.fromkeys(p.price_type_id for r in priced for p in r.prices))
    types = _ensure_price_types(type_ids, {p.price_type_id: p.currency for r in priced for p in r.prices}, ctx,
                                {p.price_type_id: r.line for r in priced for p in r.prices})
    result: dict = {}
    for r in priced:
        by_type = result.setdefault(v_id(r), {})
        for p in r.prices:
            value = _money(p.value)
            if value is None:
                ctx.warn(r.line, _("offer %(id)s: price %(value)s cannot be stored, skipped")
                         % {"id": r.external_id, "value": p.value})
                continue
            type_pk, type_currency = types[p.price_type_id]
            currency, known_currency = iso_currency(p.currency, default=type_currency or "RUB")
            if not known_currency:
                ctx.warn(r.line, _("offer %(id)s: unknown currency %(currency)r, %(code)s assumed")
                         % {"id": r.external_id, "currency": p.currency, "code": currency},
                         once=f"currency:{p.currency}")
            coefficient = p.coefficient if p.coefficient is not None and p.coefficient.is_finite() \
                and 0 < p.coefficient < Decimal("1e8") else Decimal("1")
            by_type[type_pk] = (value, currency, _cut(p.unit, 64), coefficient.quantize(Decimal("0.0001")))
    return result


def _variant_summaries(offers, existing, prices, quantities, kinds) -> dict:
    """{variant Ид: (price, currency, old_price, in_stock)} for the offers whose own data decides them.

    What catalog.services.offer_summaries_refresh would compute, known here when the offer
    carries the storefront and old price types (or the variant is new, so has no other price)
    and its stock (1C's figure resets the reservation) or is a service. Written with the
    variant, the refresh then finds nothing to rewrite: each variant row is written once.
    """
    storefront, old = summary_price_types()
    summaries = {}
    for r in offers:
        vid = v_id(r)
        fresh = vid not in existing
        by_type = prices.get(vid, {})
        if not fresh and any(t is not None and t not in by_type for t in (storefront, old)):
            continue
        service = kinds.get(r.product_id) == Product.Kind.SERVICE
        if not (fresh or service or vid in quantities):
            continue
        sale = by_type.get(storefront) if storefront is not None else None
        before = by_type.get(old) if old is not None else None
        summaries[vid] = (sale[0] if sale else None, sale[1] if sale else "", before[0] if before else None,
                          service or quantities.get(vid, Decimal("0")) > 0)
    return summaries


def _quantity(value: Decimal | None) -> Decimal:
    """A stock figure as stored: three decimals, and 0 for what no column can hold."""
    if value is None or not value.is_finite() or abs(value) >= MAX_QUANTITY:
        return Decimal("0")
    return value.quantize(MILLI)


def _offer_quantity(offer) -> Decimal:
    """The variant's quantity: the sum over the warehouses when 1C lists them, else its total."""
    if offer.stocks:
        return sum((_quantity(s.quantity) for s in offer.stocks), Decimal("0"))
    return _quantity(offer.quantity)


_VARIANT_INSERT = ("external_id", "product_id", "name", "article", "barcode", "characteristics", "position",
                   "is_active", "quantity", "reserved", "price", "currency", "old_price", "in_stock", "source_hash",
                   "sync_mark", "stock_updated_at", "created_at", "updated_at")
_VARIANT_ALWAYS = ("is_active", "source_hash", "sync_mark", "updated_at")
_VARIANT_INFO = ("name", "article", "barcode", "characteristics")
_VARIANT_STOCK = ("quantity", "reserved", "stock_updated_at")
_VARIANT_SUMMARY = ("price", "currency", "old_price", "in_stock")


def _insert_or_upsert(table: str, columns, rows, exists, *, conflict, update) -> None:
    """Rows whose key the batch saw in the table are upserted, the others inserted.

    The batch read which keys exist in its own transaction, and imports never run side by
    side, so a new row is simply inserted: on PostgreSQL a COPY straight into the table,
    without the temporary table and INSERT … SELECT an upsert needs (most of a first import).
    """
    old, new = [], []
    for row in rows:
        (old if exists(row) else new).append(row)
    sb.insert(table, columns, new)
    sb.upsert(table, columns, old, conflict=conflict, update=update)


def _write_variants(offers, products, hashes, quantities, summaries, existing, ctx: Context, now) -> None:
    """Insert or update the offers' variants, one upsert per shape of offer, each row written once.

    What an upsert updates depends on what the offer carries: a prices-only offer has no name
    and must not blank what the offers file set, a rests-only one has no prices, and only an
    offer with stock sets the quantity (two-stage stock, catalog.models.Variant: 1C's figure
    already counts the site's orders, so the reservation restarts from zero with it).
    """
    shapes: dict[tuple[bool, bool, bool], list] = {}
    for r in offers:
        shape = (r.name is not None or bool(r.characteristics), v_id(r) in quantities, v_id(r) in summaries)
        shapes.setdefault(shape, []).append(r)
    for (has_info, has_stock, has_summary), group in shapes.items():
        rows = []
        for r in group:
            name = _cut(", ".join(v for _n, v in r.characteristics if v) or r.name or "", 500) if r.feature_id else ""
            quantity = quantities.get(v_id(r), Decimal("0"))
            # Without a summary: a new variant's is what a refresh gives it, an existing one's stays.
            price, currency, old_price, in_stock = summaries.get(v_id(r), (None, "", None, False))
            rows.append((v_id(r), products[r.product_id], name, _cut(r.article, 255), _cut(r.barcode, 255),
                         _json([list(p) for p in r.characteristics]), 0, not r.deleted, quantity, Decimal("0"),
                         price, currency, old_price, in_stock, hashes[v_id(r)], ctx.mark,
                         now if has_stock else None, now, now))
        update = (_VARIANT_ALWAYS + (_VARIANT_INFO if has_info else ()) + (_VARIANT_STOCK if has_stock else ())
                  + (_VARIANT_SUMMARY if has_summary else ()))
        _insert_or_upsert(T_VARIANT, _VARIANT_INSERT, rows, lambda row: row[0] in existing,
                          conflict=["external_id"], update=update)


def forget_seen(mark: int) -> None:
    """Drop the exchange's SeenRange rows once its missing products were dealt with."""
    sb.delete_in(T_SEEN, "mark", [mark])


#: Products read per query while looking for those to hide.
HIDE_CHUNK = 5000


def hide_untouched(mark: int, *, groups: bool) -> tuple[int, int]:
    """Hide 1C products (and groups) whose sync_mark is not `mark`; never deletes. Returns (products, groups).

    A product listed unchanged kept its old mark and is in one of the exchange's SeenRange
    runs. The runs are merged in memory (a few for a whole catalog, one per product at most)
    and the products read in id order, a chunk at a time, so memory stays flat.
    """
    seen = _merged_runs(sb.select_rows(T_SEEN, "mark", [mark], ["first_id", "last_id"]))
    starts = [first for first, _last in seen]
    products = after = 0
    with connection.cursor() as cursor:
        while True:
            # Only the id bounds the query, so both databases walk the primary key in order (an
            # is_active term made SQLite sort every active product for each chunk); the rest of
            # the test is made here. Names from _meta, values as parameters: what S608 cannot see.
            cursor.execute(f"SELECT id, external_id IS NOT NULL, is_active, sync_mark "  # noqa: S608
                           f"FROM {sb.quote(T_PRODUCT)} WHERE id > %s ORDER BY id LIMIT {HIDE_CHUNK}", [after])
            rows = cursor.fetchall()
            if not rows:
                break
            after = rows[-1][0]
            missing = [pk for pk, from_1c, active, synced in rows
                       if from_1c and active and synced != mark and not _in_runs(pk, starts, seen)]
            products += sb.update_in(T_PRODUCT, {"is_active": False}, "id", missing, extra="is_active = %s",
                                     params=[True])
    where = "external_id IS NOT NULL AND is_active = %s AND (sync_mark IS NULL OR sync_mark <> %s)"
    hidden_groups = sb.update_where(T_GROUP, {"is_active": False}, where, [True, mark]) if groups else 0
    forget_seen(mark)
    if products or hidden_groups:
        catalog_changed()
    return products, hidden_groups


def _merged_runs(runs) -> list[tuple[int, int]]:
    """Sorted, non-overlapping runs covering the same ids as `runs` (which may repeat or overlap)."""
    merged: list[list[int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(first, last) for first, last in merged]


def _in_runs(pk: int, starts: list[int], runs: list[tuple[int, int]]) -> bool:
    i = bisect.bisect_right(starts, pk) - 1
    return i >= 0 and runs[i][1] >= pk


__all__ = [
    "STAND_INS",
    "Context",
    "UnchangedOffer",
    "UnchangedProduct",
    "apply_groups",
    "apply_offers",
    "apply_price_types",
    "apply_products",
    "apply_properties",
    "apply_units",
    "apply_warehouses",
    "brand_setting_key",
    "forget_seen",
    "hide_untouched",
    "record_hash",
    "variant_external_id",
]
