"""A deterministic Russian demo catalog: groups, properties, products, offers.

Everything derives from the seed: product i is built from (seed, i) alone, so the same
seed always gives the same GUIDs, names, prices and stock, and products are made one at
a time (nothing grows with the catalog size). No Django here: the writer streams these
records into CommerceML files and the importer does the rest, as with real 1C data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

# Units as 1C writes БазоваяЕдиница: OKEI code, short name, full name, international abbreviation.
PIECE = ("796", "шт", "Штука", "PCE")
KILOGRAM = ("166", "кг", "Килограмм", "KGM")
SET = ("839", "компл", "Комплект", "SET")
UNITS = (PIECE, KILOGRAM, SET)

COLORS = ["Чёрный", "Белый", "Серебристый", "Красный", "Синий", "Зелёный", "Бежевый", "Графитовый"]
CLOTHES_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SHOE_SIZES = [str(n) for n in range(36, 46)]
VOLUMES = ["100 мл", "250 мл", "400 мл", "750 мл"]
AXES = {"color": ("Цвет", COLORS), "size": ("Размер", CLOTHES_SIZES), "shoe": ("Размер", SHOE_SIZES),
        "volume": ("Объём", VOLUMES)}

COUNTRIES = ["Россия", "Китай", "Германия", "Италия", "Турция", "Беларусь", "Япония", "Республика Корея", "Вьетнам"]
MATERIALS = ["Пластик", "Нержавеющая сталь", "Стекло", "Хлопок", "Полиэстер", "Натуральная кожа", "Дерево",
             "Алюминий", "Керамика"]
KITS = ["Инструкция, гарантийный талон", "Основной блок, кабель питания, инструкция", "Товар, упаковка",
        "Зарядное устройство, чехол, инструкция"]
DESCRIPTION_OPENINGS = ["Надёжный выбор для дома.", "Практичная модель на каждый день.", "Хит продаж этого сезона.",
                        "Удобно, просто и без лишнего.", "Отличный подарок."]
DESCRIPTION_FACTS = ["Простое управление и понятная инструкция на русском языке.",
                     "Корпус выполнен из прочных материалов.", "Товар сертифицирован (ЕАС).",
                     "Комплектация может отличаться от изображения.", "Гарантия производителя.",
                     "Соотношение «цена & качество» — одно из лучших в категории."]


@dataclass(frozen=True)
class Leaf:
    """What the products of one leaf group look like."""

    name: str
    noun: str
    brands: tuple[str, ...]
    specs: tuple[str, ...]
    price: tuple[int, int]  # roubles
    axis: str | None = None
    unit: tuple[str, str, str, str] = PIECE
    shape: str = "box"
    power: bool = False  # has a "Мощность, Вт" value


def leaf(name, noun, brands, specs, price, axis=None, unit=PIECE, shape="box", power=False):
    return Leaf(name, noun, tuple(brands.split(", ")), tuple(specs), price, axis, unit, shape, power)


# (name, colour of its pictures, children); a child is a Leaf or a (name, children) subgroup.
TREE = [
    ("Бытовая техника", "#d9534f", [
        ("Техника для кухни", [
            leaf("Чайники", "Чайник электрический", "Bosch, Tefal, Redmond, Polaris, Kitfort",
                 ["1.5 л", "1.7 л", "1.8 л", "2 л"], (990, 8990), "color", shape="kettle", power=True),
            leaf("Микроволновые печи", "Микроволновая печь", "Samsung, LG, Panasonic, Midea",
                 ["20 л", "23 л", "25 л", "28 л"], (5490, 24990), shape="box", power=True),
            leaf("Блендеры", "Блендер погружной", "Braun, Philips, Bosch, Redmond",
                 ["600 Вт", "800 Вт", "1000 Вт"], (1490, 12990), "color", shape="bottle", power=True),
            leaf("Кофеварки", "Кофеварка капельная", "DeLonghi, Philips, Kitfort, Polaris",
                 ["на 6 чашек", "на 10 чашек", "на 12 чашек"], (2490, 19990), shape="kettle", power=True),
        ]),
        ("Техника для дома", [
            leaf("Пылесосы", "Пылесос", "Samsung, LG, Dyson, Karcher, Thomas", ["с контейнером", "с мешком",
                 "моющий"], (4990, 64990), "color", shape="box", power=True),
            leaf("Утюги", "Утюг с паром", "Philips, Tefal, Braun, Polaris", ["2200 Вт", "2400 Вт", "2600 Вт"],
                 (1490, 12990), "color", shape="kettle", power=True),
            leaf("Обогреватели", "Обогреватель масляный", "Ballu, Timberk, Electrolux", ["7 секций", "9 секций",
                 "11 секций"], (2490, 9990), shape="box", power=True),
        ]),
    ]),
    ("Электроника", "#337ab7", [
        leaf("Смартфоны", "Смартфон", "Samsung Galaxy, Xiaomi Redmi, realme, HONOR",
             ['6.1" AMOLED', '6.5" IPS', '6.7" OLED'], (7990, 99990), "color", shape="phone"),
        leaf("Наушники", "Наушники беспроводные", "Sony, JBL, Sennheiser, Marshall", ["Bluetooth 5.0",
             "Bluetooth 5.3", "с шумоподавлением"], (1990, 29990), "color", shape="round"),
        leaf("Телевизоры", "Телевизор LED", "Samsung, LG, Hisense, TCL", ['43" 4K UHD', '50" 4K UHD', '55" 4K UHD',
             '65" 4K UHD'], (17990, 149990), shape="screen"),
        leaf("Ноутбуки", "Ноутбук", "ASUS, Lenovo, HP, Acer", ['14" 8 ГБ/256 ГБ SSD', '15.6" 16 ГБ/512 ГБ SSD',
             '16" 32 ГБ/1 ТБ SSD'], (39990, 199990), shape="screen"),
        leaf("Умные часы", "Умные часы", "Amazfit, HUAWEI, Samsung Galaxy", ["42 мм", "44 мм", "46 мм"],
             (2990, 34990), "color", shape="round"),
    ]),
    ("Одежда", "#5cb85c", [
        ("Мужская одежда", [
            leaf("Футболки", "Футболка мужская", "Gloria Jeans, Zolla, O'STIN, Befree", ["хлопок 100%", "оверсайз",
                 "хлопок 95%, эластан 5%"], (499, 3990), "size", shape="shirt"),
            leaf("Куртки", "Куртка зимняя", "Columbia, Finn Flare, Outventure", ["утеплитель 200 г/м²",
                 "утеплитель 300 г/м²"], (5990, 29990), "size", shape="shirt"),
        ]),
        ("Женская одежда", [
            leaf("Платья", "Платье", "Zarina, Befree, Love Republic", ["миди", "макси", "мини"], (1490, 8990), "size",
                 shape="shirt"),
            leaf("Джинсы", "Джинсы женские", "Levi's, Wrangler, Lee, Mavi", ["прямой крой", "скинни", "мом"],
                 (1990, 12990), "size", shape="shirt"),
        ]),
    ]),
    ("Обувь", "#8a6d3b", [
        leaf("Кроссовки", "Кроссовки беговые", "Nike, Adidas, Puma, ASICS", ["сетка", "текстиль",
             "натуральная кожа"], (2990, 19990), "shoe", shape="shoe"),
        leaf("Ботинки", "Ботинки зимние", "Ecco, Rieker, Timberland, Котофей", ["натуральный мех",
             "искусственный мех"], (3990, 24990), "shoe", shape="shoe"),
    ]),
    ("Инструменты", "#f0ad4e", [
        ("Электроинструмент", [
            leaf("Дрели и шуруповёрты", "Дрель-шуруповёрт аккумуляторная", "Makita, Bosch, DeWalt, Интерскол",
                 ["12 В, 2 А·ч", "18 В, 2 А·ч", "18 В, 4 А·ч"], (2490, 24990), shape="box", power=True),
            leaf("Шлифмашины", "Углошлифовальная машина", "Makita, Bosch, Интерскол, Зубр", ["125 мм", "150 мм",
                 "230 мм"], (2990, 19990), shape="box", power=True),
        ]),
        ("Ручной инструмент", [
            leaf("Наборы инструментов", "Набор инструментов", "Stanley, Jonnesway, Кратон", ["24 предмета",
                 "72 предмета", "108 предметов"], (1490, 24990), unit=SET, shape="box"),
            leaf("Рулетки", "Рулетка измерительная", "Stanley, Matrix, Зубр", ["3 м", "5 м", "8 м"], (190, 1990),
                 shape="round"),
        ]),
    ]),
    ("Продукты питания", "#9b59b6", [
        ("Чай и кофе", [
            leaf("Чай", "Чай чёрный листовой", "Greenfield, Ahmad Tea, Curtis, Майский", ["100 г", "200 г", "500 г"],
                 (129, 1290), shape="jar"),
            leaf("Кофе", "Кофе в зёрнах", "Lavazza, Jacobs, Paulig, Живой кофе", ["арабика 100%", "эспрессо",
                 "арабика/робуста 80/20"], (390, 3990), shape="jar"),
        ]),
        ("Бакалея", [
            leaf("Крупы", "Крупа весовая", "Агро-Альянс, Мистраль, Увелка", ["гречневая", "рис длиннозёрный",
                 "пшено", "булгур"], (89, 390), unit=KILOGRAM, shape="sack"),
            leaf("Орехи и сухофрукты", "Орехи весовые", "Фрутоняня, Ореховый двор, Семушка", ["миндаль",
                 "фундук", "кешью", "грецкий орех"], (690, 2490), unit=KILOGRAM, shape="sack"),
        ]),
        ("Сладости", [
            leaf("Конфеты", "Конфеты шоколадные весовые", "Красный Октябрь, Рот Фронт, Бабаевский",
                 ["ассорти", "трюфели", "с пралине"], (490, 1890), unit=KILOGRAM, shape="sack"),
            leaf("Шоколад", "Шоколад молочный", "Alpen Gold, Milka, Ritter Sport, Россия — щедрая душа",
                 ["90 г", "100 г", "200 г"], (69, 490), shape="bar"),
        ]),
    ]),
    ("Дом и сад", "#1abc9c", [
        leaf("Посуда", "Набор кастрюль", "Tefal, Rondell, Vitesse", ["3 предмета", "6 предметов", "10 предметов"],
             (1990, 19990), unit=SET, shape="jar"),
        leaf("Постельное бельё", "Комплект постельного белья", "Togas, Этель, Cleo", ["1.5-спальный", "2-спальный",
             "евро"], (1490, 14990), "color", unit=SET, shape="box"),
        leaf("Освещение", "Светильник настольный", "Camelion, Эра, Navigator", ["LED 5 Вт", "LED 8 Вт",
             "LED 12 Вт"], (690, 7990), "color", shape="bottle"),
        ("Сад и огород", [
            leaf("Семена", "Семена", "Гавриш, Поиск, СеДеК", ["томат", "огурец", "перец сладкий", "базилик"],
                 (29, 190), shape="bar"),
            leaf("Садовый инвентарь", "Лопата штыковая", "Fiskars, Palisad, Зубр", ["с черенком", "без черенка"],
                 (490, 4990), shape="bottle"),
        ]),
    ]),
    ("Красота и здоровье", "#e83e8c", [
        leaf("Шампуни", "Шампунь", "Pantene, L'Oreal Paris, Чистая линия, Natura Siberica",
             ["для всех типов волос", "против перхоти", "для окрашенных волос"], (149, 1490), "volume",
             shape="bottle"),
        leaf("Кремы для лица", "Крем для лица", "Nivea, Garnier, Чёрный жемчуг", ["дневной", "ночной",
             "увлажняющий"], (199, 2490), "volume", shape="jar"),
    ]),
    ("Детские товары", "#17a2b8", [
        leaf("Конструкторы", "Конструктор", "LEGO, Город мастеров, Banbao", ["150 деталей", "500 деталей",
             "1200 деталей"], (490, 19990), shape="box"),
        leaf("Мягкие игрушки", "Мягкая игрушка", "Мякиши, Fancy, Budi Basa", ["медведь 30 см", "заяц 25 см",
             "кот 40 см"], (390, 3990), "color", shape="round"),
    ]),
    ("Спорт и отдых", "#6c757d", [
        leaf("Велосипеды", "Велосипед горный", "Stels, Forward, Merida, Stern", ['колёса 26"', 'колёса 27.5"',
             'колёса 29"'], (12990, 79990), "color", shape="round"),
        leaf("Туризм", "Палатка туристическая", "Tramp, Outventure, Maverick", ["2-местная", "3-местная",
             "4-местная"], (2990, 29990), shape="kettle"),
    ]),
]

PRICE_RETAIL = "Розничная"
PRICE_WHOLESALE = "Оптовая"
PRICE_OLD = "Старая цена"
WAREHOUSES = ["Основной склад", "Магазин «На Тверской»"]


def stable_guid(*parts) -> str:
    """A GUID that depends only on `parts` (1C writes lowercase 8-4-4-4-12)."""
    rng = random.Random(":".join(str(p) for p in parts))
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Group:
    external_id: str
    name: str
    parent_index: int | None
    colour: str
    leaf: Leaf | None
    children: list[int] = field(default_factory=list, compare=False, hash=False)


@dataclass(frozen=True)
class Property:
    external_id: str
    name: str
    value_type: str  # as 1C writes ТипЗначений: Справочник, Строка, Число
    values: tuple[tuple[str, str], ...] = ()  # (ИдЗначения, Значение) for Справочник

    def value_id(self, value: str) -> str:
        for value_id, text in self.values:
            if text == value:
                return value_id
        raise KeyError(value)


@dataclass(frozen=True)
class Offer:
    external_id: str
    name: str
    characteristics: tuple[tuple[str, str], ...]
    prices: dict  # price type name -> Decimal; empty for "no price yet"
    stocks: tuple[Decimal, ...]  # per warehouse, in WAREHOUSES order


@dataclass(frozen=True)
class Product:
    index: int
    external_id: str
    name: str
    article: str
    barcode: str
    code: str
    description: str
    group: Group
    brand: str
    brand_property: bool  # sent as the Производитель property (setting 5)
    maker_element: bool  # sent as the Изготовитель element
    properties: tuple[tuple[str, str], ...]  # (property Ид, value text or value Ид)
    unit: tuple[str, str, str, str]
    weight: Decimal | None
    pictures: tuple[str, ...]  # picture keys, see pictures.PictureBook
    offers: tuple[Offer, ...]
    deleted: bool


def _money(roubles: float) -> Decimal:
    return Decimal(str(round(roubles, 2))).quantize(Decimal("0.01"))


def _ean13(rng: random.Random) -> str:
    digits = [4, 6, 0] + [rng.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if k % 2 else 1) for k, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


class DemoCatalog:
    """The classifier (groups, properties, price types, warehouses) plus `products()`.

    `count` products; about 30% have 2–4 variants (Цвет, Размер or Объём); two are marked
    deleted and two have no price, as real exchanges always carry a few of each.
    """

    def __init__(self, *, seed: int = 1, count: int = 3000):
        self.seed = seed
        self.count = count
        self.catalog_id = stable_guid(seed, "catalog")
        self.groups: list[Group] = []
        self._add_groups(TREE, None, None)
        self.leaves = [g for g in self.groups if g.leaf is not None]
        brands = sorted({b for g in self.leaves for b in g.leaf.brands})
        self.brands = brands
        self.properties = self._properties(brands)
        self.property = {p.name: p for p in self.properties}
        self.price_types = [(stable_guid(seed, "price", name), name)
                            for name in (PRICE_RETAIL, PRICE_WHOLESALE, PRICE_OLD)]
        self.warehouses = [(stable_guid(seed, "warehouse", name), name) for name in WAREHOUSES]
        rng = random.Random(f"{seed}:specials")
        picks = rng.sample(range(count), min(count, 4)) if count >= 8 else []
        self.deleted = set(picks[:2])
        self.unpriced = set(picks[2:4])

    def _add_groups(self, nodes, parent_index, colour):
        for node in nodes:
            if isinstance(node, Leaf):
                name, group_colour, children, leaf_spec = node.name, colour, [], node
            elif len(node) == 3:
                name, group_colour, children, leaf_spec = node[0], node[1], node[2], None
            else:
                name, group_colour, children, leaf_spec = node[0], colour, node[1], None
            index = len(self.groups)
            self.groups.append(Group(stable_guid(self.seed, "group", name), name, parent_index, group_colour,
                                     leaf_spec))
            if parent_index is not None:
                self.groups[parent_index].children.append(index)
            self._add_groups(children, index, group_colour)

    def _properties(self, brands):
        def reference(name, values):
            return Property(stable_guid(self.seed, "property", name), name, "Справочник",
                            tuple((stable_guid(self.seed, "value", name, v), v) for v in values))

        def plain(name, value_type):
            return Property(stable_guid(self.seed, "property", name), name, value_type)

        return [
            reference("Производитель", brands),
            reference("Страна производства", COUNTRIES),
            reference("Цвет", COLORS),
            reference("Материал", MATERIALS),
            plain("Гарантия, мес", "Число"),
            plain("Мощность, Вт", "Число"),
            plain("Модель", "Строка"),
            plain("Комплектация", "Строка"),
        ]

    def top_groups(self):
        return [i for i, g in enumerate(self.groups) if g.parent_index is None]

    def products(self):
        for i in range(self.count):
            yield self.product(i)

    def product(self, i: int) -> Product:
        """Product i of this seed; the same whatever the catalog size."""
        rng = random.Random(f"{self.seed}:product:{i}")
        group = self.leaves[i % len(self.leaves)] if i < len(self.leaves) else rng.choice(self.leaves)
        spec = group.leaf
        brand = rng.choice(spec.brands)
        letters = "".join(rng.choice("ABCDEFHKMPRSTX") for _ in range(rng.randint(2, 3)))
        model = f"{letters}-{rng.randint(100, 9999)}"
        detail = rng.choice(spec.specs)
        name = f"{spec.noun} {brand} {model}, {detail}"
        external_id = stable_guid(self.seed, "product", i)
        fractional = spec.unit == KILOGRAM

        low, high = spec.price
        roubles = rng.randint(low, high)
        if roubles >= 1000:
            roubles = roubles // 10 * 10 + rng.choice((0, 9, 9))
        retail = _money(roubles + rng.choice((0, 0, 0.9, 0.99)) if roubles < 1000 else roubles)

        properties = []
        brand_property = rng.random() < 0.85
        maker_element = not brand_property or rng.random() < 0.4
        if brand_property:
            properties.append((self.property["Производитель"].external_id,
                               self.property["Производитель"].value_id(brand)))
        country = self.property["Страна производства"]
        properties.append((country.external_id, country.value_id(rng.choice(COUNTRIES))))
        if spec.axis != "color" and rng.random() < 0.7:
            colour = self.property["Цвет"]
            properties.append((colour.external_id, colour.value_id(rng.choice(COLORS))))
        if rng.random() < 0.6:
            material = self.property["Материал"]
            properties.append((material.external_id, material.value_id(rng.choice(MATERIALS))))
        properties.append((self.property["Гарантия, мес"].external_id, rng.choice(("6", "12", "24", "36"))))
        if spec.power:
            properties.append((self.property["Мощность, Вт"].external_id, str(rng.randrange(300, 2600, 100))))
        properties.append((self.property["Модель"].external_id, model))
        if rng.random() < 0.5:
            properties.append((self.property["Комплектация"].external_id, rng.choice(KITS)))

        with_old_price = rng.random() < 0.15
        offers = []
        if spec.axis and rng.random() < 0.65:
            axis_name, axis_values = AXES[spec.axis]
            chosen = sorted(rng.sample(range(len(axis_values)), rng.randint(2, min(4, len(axis_values)))))
            for n, k in enumerate(chosen):
                value = axis_values[k]
                price = retail if n == 0 or spec.axis == "color" else _money(float(retail) * (1 + 0.05 * n))
                offers.append(self._offer(rng, f"{external_id}#{stable_guid(self.seed, 'feature', i, n)}",
                                          f"{name} ({value})", ((axis_name, value),), price, with_old_price,
                                          fractional))
        else:
            offers.append(self._offer(rng, external_id, name, (), retail, with_old_price, fractional))
        if i in self.unpriced:
            offers = [Offer(o.external_id, o.name, o.characteristics, {}, o.stocks) for o in offers]

        roll = rng.random()
        pictures = () if roll < 0.08 else (f"{group.name}|{brand}|0",) if roll < 0.8 else (
            f"{group.name}|{brand}|0", f"{group.name}|{brand}|1")
        description = "" if rng.random() < 0.15 else " ".join(
            [rng.choice(DESCRIPTION_OPENINGS), *rng.sample(DESCRIPTION_FACTS, 2)])
        weight = None if fractional else _money(rng.uniform(0.1, 12)).quantize(Decimal("0.001"))
        return Product(
            index=i, external_id=external_id, name=name, article=model.replace("-", ""),
            barcode=_ean13(rng) if rng.random() < 0.7 else "", code=f"УТ-{i + 1:08d}", description=description,
            group=group, brand=brand, brand_property=brand_property, maker_element=maker_element,
            properties=tuple(properties), unit=spec.unit, weight=weight, pictures=pictures, offers=tuple(offers),
            deleted=i in self.deleted,
        )

    def _offer(self, rng, external_id, name, characteristics, retail, with_old_price, fractional):
        prices = {PRICE_RETAIL: retail, PRICE_WHOLESALE: _money(float(retail) * 0.85)}
        if with_old_price:
            prices[PRICE_OLD] = _money(round(float(retail) * rng.uniform(1.1, 1.35), -1) + 0.0)
        stocks = []
        for _warehouse in self.warehouses:
            if rng.random() < 0.2:
                stocks.append(Decimal("0"))
            elif fractional:
                stocks.append(Decimal(str(round(rng.uniform(0.5, 40), 3))))
            else:
                stocks.append(Decimal(rng.randint(1, 40)))
        return Offer(external_id, name, characteristics, prices, tuple(stocks))
