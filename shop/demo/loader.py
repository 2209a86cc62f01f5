"""Loads the demo: catalog files through the 1C importer, price roles, orders, an admin."""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from catalog.models import PriceType, Product
from catalog.services import price_types_set_roles
from exchange1c.importer.api import run_files_now
from shop.demo.commerceml import write_catalog
from shop.demo.content import PRICE_OLD, PRICE_RETAIL, DemoCatalog
from shop.demo.orders import place_demo_orders

ADMIN_USERNAME = "admin"


class DemoImportFailed(Exception):
    """The importer answered `failure` for one of the demo files."""


@dataclass
class DemoResult:
    products: int = 0
    offers: int = 0
    pictures: int = 0
    orders: int = 0
    import_lines: list[str] = field(default_factory=list)
    admin_password: str | None = None  # set only when this run created the admin
    seconds: float = 0.0


def import_catalog(*, products: int, seed: int, result: DemoResult) -> None:
    """Write the demo catalog as 1C would send it and run it through the importer."""
    catalog = DemoCatalog(seed=seed, count=products)
    with tempfile.TemporaryDirectory(prefix="obmen-demo-") as folder:
        written = write_catalog(catalog, Path(folder))
        result.products, result.offers, result.pictures = written.products, written.offers, written.pictures
        answers = run_files_now(Path(folder), written.filenames)
        for filename, answer in zip(written.filenames, answers, strict=False):
            result.import_lines += answer.lines
            if answer.status != "success":
                raise DemoImportFailed("\n".join([f"{filename}: {answer.status}", *answer.lines]))
        if len(answers) != len(written.filenames):
            raise DemoImportFailed(f"the importer answered {len(answers)} of {len(written.filenames)} files")


def price_roles_ensure() -> None:
    """Retail is the storefront price and "Старая цена" the crossed-out one.

    The importer makes the first price type it meets the storefront one when none is set
    (PROTOCOL.md §6); the demo names its roles explicitly, as a shop owner would.
    """
    retail = PriceType.objects.filter(name=PRICE_RETAIL).order_by("pk").first()
    old = PriceType.objects.filter(name=PRICE_OLD).order_by("pk").first()
    if retail is None:
        return
    wanted = (retail.pk, old.pk if old else None)
    current = (PriceType.objects.filter(is_storefront=True).values_list("pk", flat=True).first(),
               PriceType.objects.filter(is_old_price=True).values_list("pk", flat=True).first())
    if current != wanted:
        price_types_set_roles(storefront_id=wanted[0], old_price_id=wanted[1])


def admin_ensure() -> tuple[object, str | None]:
    """The `admin` superuser; creates it with a fresh random password (returned once)."""
    users = get_user_model()
    existing = users.objects.filter(username=ADMIN_USERNAME).first()
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    user = users.objects.create_superuser(ADMIN_USERNAME, "admin@localhost", password)
    return user, password


def load_demo(*, products: int = 3000, seed: int = 1, orders: int = 10) -> DemoResult:
    """Fill an empty shop: catalog through the importer, price roles, orders, the admin user."""
    started = time.monotonic()
    result = DemoResult()
    user, result.admin_password = admin_ensure()
    import_catalog(products=products, seed=seed, result=result)
    price_roles_ensure()
    # The demo customers' addresses are invented: no order e-mail may leave the machine,
    # whatever EMAIL_URL says, and none should clutter the command's output either.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        result.orders = len(place_demo_orders(count=orders, seed=seed, user=user))
    result.seconds = time.monotonic() - started
    return result


def shop_is_empty() -> bool:
    return not Product.objects.exists()
