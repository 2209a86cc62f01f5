"""Every catalog, offers, prices and rests file of the shared corpus imports, and the site then
holds what the file says, counted independently with xml.etree (PROTOCOL.md §3)."""

import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

import pytest
from django.core.cache import cache

from catalog.models import Group, Price, Product, Variant
from exchange1c.importer.api import run_files_now

# Files of one folder that belong together, imported in this order into an empty catalog.
GROUPS = [
    ("andrtechno", ["import.xml", "offers.xml"]),
    ("avdivo", ["import.xml", "offers.xml"]),
    ("avdivo", ["full_import.xml", "full_offers.xml"]),
    ("avdivo", ["foto.xml"]),
    ("bigperson", ["import.xml", "offers.xml"]),
    ("bxmaker", ["prices.xml"]),
    ("bxmaker", ["rests.xml"]),
    ("carono-php", ["import.xml", "offers.xml"]),
    ("carono-php", ["import_wo_classifier.xml"]),
    ("carono-yii2", ["import.xml", "offers.xml"]),
    ("christina", ["import_full.xml", "offers_full.xml"]),
    ("christina", ["import_changes.xml", "offers_changes.xml"]),
    ("d16izhevsk", ["import_test.xml"]),
    ("django-cml", ["import.xml"]),
    ("irpsv", ["cs-cart_import.xml"]),
    ("irpsv", ["off-doc-1c_import.xml", "off-doc-1c_offers.xml"]),
    ("irpsv", ["ready-script_import.xml", "ready-script_offers.xml"]),
    ("irpsv", ["umi-cms_import.xml", "umi-cms_offers.xml"]),
    ("okaycms", ["import.xml", "offers.xml"]),
    ("sosloow", ["import.test.xml", "offers.test.xml"]),
    ("stee1cat", ["import___29d3f7f0-36dd-4eea-a06c-4c325bed4285.xml",
                  "import___a499ca50-a6b0-4bbd-953a-24962a5ab40d.xml",
                  "offers___cd9ce019-f901-4dd4-aed7-a76bec5faac2.xml"]),
]
# PROVENANCE.md: not a full CommerceML 2/3 document.
REFUSED = [("carono-php", "classifier.xml", "КоммерческаяИнформация"), ("rakov-legacy", "Sale77.xml", "CommerceML 1")]


@pytest.fixture(autouse=True)
def _default_settings():
    """The cached ExchangeSettings of an earlier test must not leak into a flushed database."""
    cache.clear()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(elem, name):
    return next((c for c in elem if local(c.tag) == name), None)


def children(elem, name):
    return [c for c in elem if local(c.tag) == name]


def text(elem, name) -> str:
    found = child(elem, name)
    return (found.text or "").strip() if found is not None else ""


def number(raw) -> Decimal | None:
    raw = (raw or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not raw:
        return Decimal("0")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def deleted(elem) -> bool:
    if (elem.get("Статус") or "").strip().lower() == "удален":
        return True
    if text(elem, "Статус").lower() == "удален":
        return True
    mark = elem.get("ПометкаУдаления") or text(elem, "ПометкаУдаления")
    return mark.strip().lower() in ("true", "1", "да")


def walk_groups(container, into: set):
    for group in children(container, "Группа"):
        gid = text(group, "Ид")
        if gid:
            into.add(gid)
        sub = child(group, "Группы")
        if sub is not None:
            walk_groups(sub, into)


def expected(paths):
    """What the catalog must hold after importing `paths` in order into an empty site."""
    groups: set[str] = set()
    products: set[str] = set()
    variants: set[str] = set()
    prices: dict[tuple[str, str], Decimal] = {}
    stock: dict[str, Decimal] = {}
    for path in paths:
        root = ET.parse(path).getroot()  # noqa: S314 - our own fixed corpus, no entities in it
        for section in root:
            name = local(section.tag)
            classifier = section if name == "Классификатор" else child(section, "Классификатор")
            if classifier is not None:
                tree = child(classifier, "Группы")
                if tree is not None:
                    walk_groups(tree, groups)
            if name == "Каталог":
                goods = child(section, "Товары")
                for item in children(goods, "Товар") if goods is not None else []:
                    full = text(item, "Ид")
                    base = full.partition("#")[0].strip()
                    if not deleted(item):
                        if base not in products:
                            products.add(base)
                            variants.add(base)
                        if "#" in full:
                            variants.add(full)
            if name == "ПакетПредложений":
                offers = child(section, "Предложения")
                for offer in children(offers, "Предложение") if offers is not None else []:
                    full = text(offer, "Ид")
                    base, _sep, feature = full.partition("#")
                    if base.strip() not in products:
                        continue
                    variant = full if feature.strip() else base.strip()
                    variants.add(variant)
                    price_list = child(offer, "Цены")
                    for price in children(price_list, "Цена") if price_list is not None else []:
                        value = number(text(price, "ЦенаЗаЕдиницу"))
                        if value is not None and text(price, "ИдТипаЦены"):
                            prices[(variant, text(price, "ИдТипаЦены"))] = value
                    per_warehouse = [number(s.get("КоличествоНаСкладе")) for s in children(offer, "Склад")
                                     if s.get("ИдСклада")]
                    total = None
                    rests = child(offer, "Остатки")
                    for rest in children(rests, "Остаток") if rests is not None else []:
                        for store in children(rest, "Склад"):
                            per_warehouse.append(number(text(store, "Количество")))
                        if child(rest, "Склад") is None and child(rest, "Количество") is not None:
                            total = (total or Decimal("0")) + number(text(rest, "Количество"))
                    if per_warehouse:
                        stock[variant] = sum(per_warehouse, Decimal("0"))
                    elif child(offer, "Количество") is not None:
                        stock[variant] = number(text(offer, "Количество"))
                    elif total is not None:
                        stock[variant] = total
    return groups, products, variants, prices, stock


def test_every_corpus_file_is_listed(shared):
    """A new catalog file in the corpus must be added to GROUPS (or REFUSED), never skipped silently."""
    listed = {(folder, name) for folder, names in GROUPS for name in names} | {(f, n) for f, n, _r in REFUSED}
    for path in sorted((shared / "corpus").glob("*/*.xml")):
        root = ET.parse(path).getroot() if path.name != "Sale77.xml" else None  # noqa: S314
        sections = {local(c.tag) for c in root} if root is not None else set()
        if root is not None and "Документ" in sections and "Каталог" not in sections:
            continue  # orders: the sale exchange's business
        assert (path.parent.name, path.name) in listed, path


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("folder", "names"), GROUPS, ids=[f"{f}:{'+'.join(n)}" for f, n in GROUPS])
def test_corpus_files_import_and_match(shared, folder, names):
    base = shared / "corpus" / folder
    answers = run_files_now(base, names)
    assert [a.status for a in answers] == ["success"] * len(names), answers

    groups, products, variants, prices, stock = expected([base / n for n in names])
    assert set(Group.objects.values_list("external_id", flat=True)) == groups
    assert set(Product.objects.values_list("external_id", flat=True)) == products
    assert set(Variant.objects.values_list("external_id", flat=True)) == variants
    site_prices = {(v, t): value for v, t, value in
                   Price.objects.values_list("variant__external_id", "price_type__external_id", "value")}
    assert site_prices == {k: v.quantize(Decimal("0.01")) for k, v in prices.items()}
    site_stock = dict(Variant.objects.filter(external_id__in=stock).values_list("external_id", "quantity"))
    assert site_stock == {k: v.quantize(Decimal("0.001")) for k, v in stock.items()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("folder", "name", "says"), REFUSED)
def test_not_commerceml2_is_refused(shared, folder, name, says):
    [answer] = run_files_now(shared / "corpus" / folder, [name])
    assert answer.status == "failure"
    assert says in " ".join(answer.lines)
    assert not Product.objects.exists() and not Group.objects.exists()
