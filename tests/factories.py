"""Plain functions that create catalog and order rows with the ORM, for tests.

Each takes keyword arguments with sensible defaults and returns the saved object. They
keep the denormalised columns (Product.price/in_stock, search_text, Group.tree_path) as
the real write paths would, so a storefront page sees what it would see in production.
"""

import itertools
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from django.utils import timezone

from catalog import search_index
from catalog.models import (
    Brand,
    Group,
    Price,
    PriceType,
    Product,
    ProductGroup,
    ProductPropertyValue,
    Property,
    PropertyValue,
    Stock,
    Unit,
    Variant,
    Warehouse,
)
from catalog.services import offer_summaries_refresh, search_text_for, slugs_for_new
from orders.models import (
    Customer,
    DeliveryMethod,
    Order,
    OrderLine,
    OrderNumberSequence,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
)

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def _slug(model, name: str) -> str:
    return slugs_for_new(model, {0: name})[0]


def make_price_type(*, name: str = "Розничная", storefront: bool = True, old_price: bool = False,
                    currency: str = "RUB", external_id: str | None = None) -> PriceType:
    """A price type; `storefront=True` reuses the existing storefront one if there is one."""
    if storefront:
        existing = PriceType.objects.filter(is_storefront=True).first()
        if existing:
            return existing
    if old_price:
        existing = PriceType.objects.filter(is_old_price=True).first()
        if existing:
            return existing
    return PriceType.objects.create(
        name=name, currency=currency, is_storefront=storefront, is_old_price=old_price, external_id=external_id
    )


def make_warehouse(*, name: str | None = None, external_id: str | None = None) -> Warehouse:
    return Warehouse.objects.create(name=name or f"Склад {_n()}", external_id=external_id)


def make_unit(*, code: str = "796", name: str = "шт", fractional: bool = False) -> Unit:
    unit, _created = Unit.objects.get_or_create(
        code=code, defaults={"name": name, "full_name": name, "fractional": fractional}
    )
    return unit


def make_brand(*, name: str | None = None) -> Brand:
    name = name or f"Бренд {_n()}"
    existing = Brand.objects.filter(name=name).first()
    return existing or Brand.objects.create(name=name, slug=_slug(Brand, name))


def make_group(*, name: str | None = None, parent: Group | None = None, slug: str | None = None,
               is_active: bool = True, position: int = 0, external_id: str | None = None) -> Group:
    """A group with its tree_path/depth filled in, as catalog.services.group_paths_rebuild would."""
    name = name or f"Группа {_n()}"
    group = Group.objects.create(
        name=name, parent=parent, slug=slug or _slug(Group, name), is_active=is_active, position=position,
        external_id=external_id,
    )
    prefix = parent.tree_path if parent else "/"
    group.tree_path = f"{prefix}{group.pk}/"
    group.depth = parent.depth + 1 if parent else 0
    group.save(update_fields=["tree_path", "depth"])
    return group


def make_variant(*, product: Product, price: Decimal | str | None = Decimal("100"), old_price=None,
                 stock: Decimal | str | int = 10, characteristics: list | None = None, name: str = "",
                 article: str = "", external_id: str | None = None, position: int = 0,
                 is_active: bool = True, refresh: bool = True) -> Variant:
    """A variant with a storefront price (and optional old price) and stock in one warehouse."""
    characteristics = characteristics or []
    if not name and characteristics:
        name = ", ".join(str(value) for _prop, value in characteristics)
    variant = Variant.objects.create(
        product=product, name=name, article=article or product.article, characteristics=characteristics,
        quantity=Decimal(str(stock)), external_id=external_id or f"{product.external_id or product.pk}#{_n()}",
        position=position, is_active=is_active,
    )
    if price is not None:
        storefront = make_price_type()
        Price.objects.create(variant=variant, price_type=storefront, value=Decimal(str(price)),
                             currency=storefront.currency)
    if old_price is not None:
        old = make_price_type(name="Старая цена", storefront=False, old_price=True)
        Price.objects.create(variant=variant, price_type=old, value=Decimal(str(old_price)), currency=old.currency)
    warehouse = Warehouse.objects.first() or make_warehouse()
    Stock.objects.create(variant=variant, warehouse=warehouse, quantity=variant.quantity)
    if refresh:
        offer_summaries_refresh(product_ids=[product.pk])
        variant.refresh_from_db()
    return variant


def make_product(*, name: str | None = None, group: Group | None = None, groups: list | None = None,
                 price: Decimal | str | None = Decimal("100"), old_price=None, stock: Decimal | str | int = 10,
                 variants: list[dict] | None = None, brand: Brand | None = None, unit: Unit | None = None,
                 article: str = "", barcode: str = "", description: str = "", is_active: bool = True,
                 kind: str = Product.Kind.GOODS, slug: str | None = None, external_id: str | None = None,
                 properties: dict | None = None) -> Product:
    """A product in `group`/`groups` with one variant (price, old_price, stock), or with
    `variants`: a list of make_variant keyword dicts (characteristics, price, stock, ...).

    `properties`: {"Цвет": "красный", "Вес": Decimal("1.5")}; strings become list values.
    """
    number = _n()
    name = name or f"Товар {number}"
    product = Product.objects.create(
        name=name, full_name=name, slug=slug or _slug(Product, name), article=article, barcode=barcode,
        description=description, brand=brand, unit=unit or make_unit(), is_active=is_active, kind=kind,
        external_id=external_id or f"00000000-0000-0000-0000-{number:012d}",
        search_text=search_text_for(name, article, barcode),
    )
    search_index.refresh([product.pk])
    for g in [*([group] if group else []), *(groups or [])]:
        ProductGroup.objects.create(product=product, group=g)
    if variants is None:
        make_variant(product=product, price=price, old_price=old_price, stock=stock,
                     external_id=product.external_id, refresh=False)
    else:
        for position, spec in enumerate(variants):
            make_variant(product=product, position=position, refresh=False, **spec)
    for prop_name, value in (properties or {}).items():
        if isinstance(value, str):
            prop, _c = Property.objects.get_or_create(name=prop_name, defaults={"value_type": "reference"})
            ref, _c = PropertyValue.objects.get_or_create(property=prop, value=value)
            ProductPropertyValue.objects.create(product=product, property=prop, value_ref=ref)
        else:
            prop, _c = Property.objects.get_or_create(name=prop_name, defaults={"value_type": "number"})
            ProductPropertyValue.objects.create(product=product, property=prop, value_number=value)
    offer_summaries_refresh(product_ids=[product.pk])
    product.refresh_from_db()
    return product


def make_order(*, lines: list[tuple[Variant, Decimal | str | int]] | None = None, status: str = "new",
               email: str = "buyer@example.com", name: str = "Иван Петров", phone: str = "+79001234567",
               delivery: str = "courier", payment: str = "cash", address: str = "Москва, ул. Ленина, 1",
               **fields) -> Order:
    """An order as order_place leaves it (number, customer, lines, history), without touching stock.

    `lines`: (variant, quantity) pairs priced at the variant's storefront price; when
    omitted, one line of a new product.
    """
    if lines is None:
        lines = [(make_product().variants.get(), 1)]
    status_obj = OrderStatus.objects.get(code=status)
    delivery_obj = DeliveryMethod.objects.filter(code=delivery).first()
    payment_obj = PaymentMethod.objects.filter(code=payment).first()
    OrderNumberSequence.objects.get_or_create(name="order")
    OrderNumberSequence.objects.filter(name="order").update(last_value=F("last_value") + 1)
    number = OrderNumberSequence.objects.get(name="order").last_value
    customer, _c = Customer.objects.get_or_create(
        key=email.strip().casefold(), defaults={"name": name, "email": email, "phone": phone}
    )
    delivery_price = delivery_obj.price if delivery_obj else Decimal("0")
    order = Order.objects.create(
        number=str(number), customer=customer, customer_name=name, email=email, phone=phone, address=address,
        delivery_method=delivery_obj, delivery_name=delivery_obj.name if delivery_obj else "",
        delivery_price=delivery_price, payment_method=payment_obj,
        payment_name=payment_obj.name if payment_obj else "", status=status_obj,
        status_changed_at=timezone.now(), is_cancelled=status_obj.is_cancelled, **fields,
    )
    goods = Decimal("0")
    for variant, quantity in lines:
        quantity = Decimal(str(quantity))
        price = variant.price or Decimal("0")
        total = (price * quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
        goods += total
        product = variant.product
        OrderLine.objects.create(
            order=order, variant=variant, offer_external_id=variant.external_id or "",
            name=str(variant), article=variant.article or product.article,
            unit=product.unit.name if product.unit else "", unit_code=product.unit.code if product.unit else "",
            price=price, quantity=quantity, total=total,
        )
    order.goods_total = goods
    order.total = goods + delivery_price
    order.save(update_fields=["goods_total", "total"])
    OrderStatusChange.objects.create(order=order, to_status=status_obj, source=OrderStatusChange.Source.SITE)
    return order
