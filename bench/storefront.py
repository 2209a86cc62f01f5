"""Storefront response times with a big catalog loaded, against the server as deployed.

For each database: a fresh database gets a catalog (default: 100k products sent through
the real exchange, as 1C would; `--load orm` creates one with bulk_create instead, for when
the exchange is broken; `--reuse DATABASE_URL|sqlite-file` takes an existing one as is),
a gunicorn server (2 workers x 4 threads, DEBUG off, static files collected) starts, and
one client sends many sequential requests over a keep-alive http.client connection:

  group (top)   the first page of a top-level group (its whole subtree)
  group (leaf)  the first page of a leaf group
  product       a product page
  search        a search for a word taken from product names
  add to cart   POST /cart/add/ with the CSRF token of the session (a fresh session every 5 adds)

Each kind is warmed up (not counted), then timed request by request (sent to last byte
read, loopback): p50, p95 and max. Target: p95 < 100 ms for every kind, on both databases.

    .venv/bin/python bench/storefront.py                               # 100k products, both databases
    .venv/bin/python bench/storefront.py --products 10000 --db sqlite --requests 100
    .venv/bin/python bench/storefront.py --products 10000 --db sqlite --keep-db   # prints a --reuse value
    .venv/bin/python bench/storefront.py --reuse /tmp/obmen-bench-x/bench.sqlite3
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

TARGET_P95_MS = 100
COLUMNS = [("db", "db"), ("products", "products"), ("kind", "page"), ("requests", "requests"), ("p50", "p50 ms"),
           ("p95", "p95 ms"), ("max", "max ms"), ("kb", "KB"), ("errors", "errors")]

PICK_TARGETS = """
import json, random
from django.db.models import Count
from catalog.models import Group, Product, Variant
rnd = random.Random(1)
active = Group.objects.filter(is_active=True)
tops = list(active.filter(parent__isnull=True).values_list("slug", flat=True))
leaves = list(active.filter(children__isnull=True).annotate(n=Count("product_links")).filter(n__gt=0)
              .values_list("slug", flat=True))
ids = list(Product.objects.filter(is_active=True).values_list("id", flat=True))
sample = rnd.sample(ids, min(300, len(ids)))
products = list(Product.objects.filter(id__in=sample).values_list("slug", flat=True))
variants = list(Variant.objects.filter(product_id__in=sample, is_active=True, in_stock=True, price__isnull=False)
                .values_list("id", "product__slug"))
words = []
for name in Product.objects.filter(id__in=sample[:100]).values_list("name", flat=True):
    words += [w for w in name.split() if len(w) > 3 and w.isalpha()][:2]
print(json.dumps({"products_total": len(ids), "tops": tops, "leaves": rnd.sample(leaves, min(40, len(leaves))),
                  "products": products, "variants": variants[:200], "words": words[:60]}))
"""


# --- a catalog without the exchange (run inside a child process with Django set up) ----
def setup_catalog_orm(count: int, seed: int = 1) -> None:
    """`count` products in a 3-level group tree, 30% with 2-4 variants, two price types, two
    warehouses, brands, as the importer leaves them (denormalised figures refreshed)."""
    sys.path.insert(0, str(common.REPO))
    import django

    django.setup()
    from decimal import Decimal

    from django.db import transaction

    from catalog import search_index
    from catalog.models import (
        Brand,
        Group,
        Price,
        PriceType,
        Product,
        ProductGroup,
        Stock,
        Unit,
        Variant,
        Warehouse,
    )
    from catalog.services import group_paths_rebuild, offer_summaries_refresh, search_text_for

    rnd = random.Random(seed)
    nouns = ["Чайник", "Пылесос", "Смартфон", "Ноутбук", "Кофеварка", "Утюг", "Телевизор", "Наушники", "Фен",
             "Блендер", "Холодильник", "Микроволновка"]
    makers = ["Bosch", "Philips", "Samsung", "Xiaomi", "Tefal", "Braun", "Sony", "Redmond", "Vitek", "Polaris"]
    with transaction.atomic():
        unit, _c = Unit.objects.get_or_create(code="796", defaults={"name": "шт", "full_name": "Штука"})
        retail = PriceType.objects.create(name="Розничная", external_id="bench-pt-retail", is_storefront=True)
        wholesale = PriceType.objects.create(name="Оптовая", external_id="bench-pt-wholesale")
        stores = Warehouse.objects.bulk_create([Warehouse(name=f"Склад {i}", external_id=f"bench-wh-{i}")
                                                for i in range(2)])
        brands = Brand.objects.bulk_create([Brand(name=m, slug=m.lower(), external_id=f"bench-br-{m}")
                                            for m in makers])
        tops = Group.objects.bulk_create([Group(name=n, slug=f"top-{i}", external_id=f"bench-g-{i}")
                                          for i, n in enumerate(nouns[:6])])
        mids = Group.objects.bulk_create([Group(name=f"{t.name} {j}", slug=f"{t.slug}-{j}", parent=t,
                                                external_id=f"{t.external_id}-{j}") for t in tops for j in range(3)])
        leaves = Group.objects.bulk_create([Group(name=f"{m.name}.{k}", slug=f"{m.slug}-{k}", parent=m,
                                                  external_id=f"{m.external_id}-{k}") for m in mids
                                            for k in range(3)])
    group_paths_rebuild()
    for start in range(0, count, 2000):
        with transaction.atomic():
            batch = []
            for i in range(start, min(count, start + 2000)):
                name = f"{rnd.choice(nouns)} {rnd.choice(makers)} X{i}"
                batch.append(Product(name=name, full_name=name, slug=f"p-{i}", article=f"ART-{i:06d}",
                                     external_id=f"bench-p-{i:07d}", unit=unit, brand=rnd.choice(brands),
                                     search_text=search_text_for(name, f"ART-{i:06d}")))
            products = Product.objects.bulk_create(batch)
            search_index.refresh([p.pk for p in products])  # PostgreSQL's search entries, as an import writes them
            ProductGroup.objects.bulk_create([ProductGroup(product=p, group=rnd.choice(leaves)) for p in products])
            variants = Variant.objects.bulk_create([
                Variant(product=p, external_id=p.external_id + (f"#{k}" if k else ""), name=f"вариант {k}" if k else "",
                        quantity=Decimal(rnd.randint(0, 20)), position=k)
                for p in products for k in range(rnd.choice([1, 1, 1, 1, 1, 1, 1, 2, 3, 4]))
            ])
            Price.objects.bulk_create([Price(variant=v, price_type=pt, value=Decimal(rnd.randint(100, 90000)))
                                       for v in variants for pt in (retail, wholesale)])
            Stock.objects.bulk_create([Stock(variant=v, warehouse=w, quantity=v.quantity / 2)
                                       for v in variants for w in stores])
    offer_summaries_refresh(product_ids=None)


# --- loading -----------------------------------------------------------------------------
def load_by_exchange(server: common.Server, products: int, catalogs: Path) -> float:
    import exchange_catalog

    onec = common.load_onec()
    catalog = common.gen_catalog(catalogs / f"cml{products}-classic" / "full", products)
    t0 = time.perf_counter()
    exchange_catalog.run_exchange(onec, server, catalog, use_zip=False, full=True, max_polls=100000,
                                  give_up_s=3600)
    return time.perf_counter() - t0


def load_by_orm(server: common.Server, products: int) -> float:
    t0 = time.perf_counter()
    done = common.subprocess.run([common.PYTHON, __file__, "--setup-catalog", str(products)], cwd=common.REPO,
                                 env=server.environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"catalog setup failed:\n{done.stderr}")
    return time.perf_counter() - t0


# --- measuring ---------------------------------------------------------------------------
def csrf_session(port: int, product_path: str) -> tuple[common.Browser, str]:
    browser = common.Browser(port)
    status, _h, body, _s = browser.request("GET", product_path)
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not found:
        raise RuntimeError(f"no add-to-cart form on {product_path} (HTTP {status})")
    return browser, found.group(1).decode()


#: A kind stops early after this many seconds (a page taking seconds would take the run hours).
MAX_SECONDS_PER_KIND = 90


def timed(kind: str, requests: int, warmup: int, send) -> dict:
    """Call `send(i)` warmup + requests times (or until MAX_SECONDS_PER_KIND); it returns (ok, bytes, seconds)."""
    times, sizes, errors = [], [], 0
    give_up = time.monotonic() + MAX_SECONDS_PER_KIND
    for i in range(warmup + requests):
        ok, size, seconds = send(i)
        if i >= warmup:
            times.append(seconds * 1000)
            sizes.append(size)
            errors += not ok
        if time.monotonic() > give_up and times:
            break
    return {"kind": kind, "requests": len(times), "p50": common.percentile(times, 50),
            "p95": common.percentile(times, 95), "max": max(times), "kb": sum(sizes) / len(sizes) / 1024,
            "errors": errors}


def measure(server: common.Server, targets: dict, requests: int, warmup: int) -> list[dict]:
    browser = common.Browser(server.port)

    def get(paths):
        cycle = itertools.cycle(paths)

        def send(_i):
            status, _h, body, seconds = browser.request("GET", next(cycle))
            return status == 200, len(body), seconds
        return send

    rows = []
    if targets["tops"]:
        rows.append(timed("group (top)", requests, warmup, get([f"/catalog/{s}/" for s in targets["tops"]])))
    if targets["leaves"]:
        rows.append(timed("group (leaf)", requests, warmup, get([f"/catalog/{s}/" for s in targets["leaves"]])))
    rows.append(timed("product", requests, warmup, get([f"/product/{s}/" for s in targets["products"]])))
    words = targets["words"] or ["товар"]
    rows.append(timed("search", requests, warmup,
                      get([f"/search/?{urllib.parse.urlencode({'q': w})}" for w in words])))
    variants = itertools.cycle(targets["variants"])
    session = {}

    def add(i):
        variant, slug = next(variants)
        if i % 5 == 0:  # a visitor adds a few things, not hundreds
            if session:
                session["browser"].close()
            session["browser"], session["token"] = csrf_session(server.port, f"/product/{slug}/")
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": session["token"], "variant": variant,
                                       "quantity": "1"}).encode()
        status, headers, data, seconds = session["browser"].request(
            "POST", "/cart/add/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        return status == 302 and "/cart/" not in headers.get("Location", "/cart/"), len(data), seconds

    if targets["variants"]:
        rows.append(timed("add to cart", requests, warmup, add))
    browser.close()
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--products", type=int, default=100_000)
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--load", choices=("exchange", "orm"), default="exchange",
                   help="fill the catalog through the exchange (as 1C) or with bulk_create")
    p.add_argument("--reuse", help="a DATABASE_URL or SQLite file with a catalog already in it (used as is)")
    p.add_argument("--workdir", type=Path, help="where the catalog files go (kept, reused by later runs)")
    p.add_argument("--keep-db", action="store_true", help="keep the loaded database and print how to --reuse it")
    p.add_argument("--requests", type=int, default=200, help="timed requests per page kind")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--runserver", action="store_true", help="manage.py runserver instead of gunicorn")
    p.add_argument("--setup-catalog", type=int, help=argparse.SUPPRESS)  # internal: run in the server's env
    args = p.parse_args(argv)

    if args.setup_catalog is not None:
        setup_catalog_orm(args.setup_catalog)
        return 0

    if args.reuse:
        dbs = [None]
    else:
        dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
        if "postgres" in dbs and not common.postgres_available():
            print(f"PostgreSQL not reachable at {common.PG_ADMIN_DSN}: skipped", file=sys.stderr)
            dbs.remove("postgres")
    rows = []
    loads = []
    for db in dbs:
        server = common.Server(db=db or "sqlite", reuse=args.reuse, runserver=args.runserver, collectstatic=True,
                               keep=args.keep_db)
        with server:
            if args.reuse:
                load = "reused"
            else:
                seconds = (load_by_exchange(server, args.products, args.workdir or server.workdir)
                           if args.load == "exchange"
                           else load_by_orm(server, args.products))
                load = f"loaded by {args.load} in {seconds:.0f} s"
            targets = json.loads(server.python(PICK_TARGETS).strip().splitlines()[-1])
            loads.append(f"{server.db}: {targets['products_total']:,} active products, {load}, "
                         f"DB {server.database.size_bytes() / common.MB:.0f} MB")
            print(f"  {loads[-1]}", file=sys.stderr)
            for row in measure(server, targets, args.requests, args.warmup):
                row.update(db=server.db, products=targets["products_total"])
                rows.append(row)
            if args.keep_db and server.database.owned:
                server.database.owned = False  # not dropped
                print(f"kept: --reuse {server.database.url}", file=sys.stderr)

    m = common.machine()
    print(f"Storefront over HTTP ({'runserver' if args.runserver else 'gunicorn 2 workers x 4 threads'}, "
          f"sequential requests on one keep-alive connection); machine: {m['nproc']} CPUs {m['cpu']}, "
          f"{m['memory']}, Python {m['python']}")
    for line in loads:
        print(f"  {line}")
    print(common.table(rows, COLUMNS))
    print()
    print("Targets:")
    for row in rows:
        print(f"  {common.verdict(row['p95'] < TARGET_P95_MS and not row['errors'])}  {row['db']} {row['kind']}: "
              f"p95 {row['p95']:.1f} ms < {TARGET_P95_MS} ms" + (f", {row['errors']} errors" if row["errors"] else ""))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    sys.exit(main())
