"""One `sale&mode=query` over HTTP with many orders waiting, against the server as deployed.

For each order count (default 1k and 10k) and database: a fresh database gets N orders of
1-10 lines each in the export status (created directly with bulk_create: setup, not
measured), a gunicorn server (2 workers x 4 threads, DEBUG off) starts, and the 1C side
(shared/tools/onec.py's OneC) runs checkauth -> init -> query. Timed: the query alone
(request sent to last byte read); also its size, the documents in it (counted by parsing
the answer), and the peak RSS of the server processes (VmHWM, reset before the query).

    .venv/bin/python bench/sale_query.py                         # 1k and 10k orders, SQLite and PostgreSQL
    .venv/bin/python bench/sale_query.py --orders 500 --db sqlite

Targets: the query answers in < 10 s at 10k orders; memory is flat (the peak RSS at the
largest count within 20% of the smallest). Until the site answers the query with a
CommerceML document, the script prints "sale query not available" and exits 0.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

COLUMNS = [
    ("db", "db"), ("orders", "orders"), ("lines", "lines"), ("setup_s", "setup s"), ("query_s", "query s"),
    ("mb", "MB"), ("documents", "documents"), ("rss_max_mb", "RSS MB"), ("rss_sum_mb", "RSS all MB"),
    ("db_mb", "DB MB"),
]


class NotAvailable(Exception):
    pass


# --- setup, run inside a child process with Django set up on the server's database ------
def setup_orders(count: int, seed: int = 1) -> int:
    """Create `count` orders of 1-10 lines (and 200 products to point at) with bulk_create; returns lines."""
    sys.path.insert(0, str(common.REPO))
    import django

    django.setup()
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Product, Unit, Variant
    from exchange1c.models import ExchangeSettings
    from orders.models import Customer, DeliveryMethod, Order, OrderLine, OrderStatus, PaymentMethod

    rnd = random.Random(seed)
    ExchangeSettings.get_solo()  # settings 4 and 6 start as "new" and "accepted"
    new = OrderStatus.objects.get(code="new")
    courier = DeliveryMethod.objects.get(code="courier")
    cash = PaymentMethod.objects.get(code="cash")
    unit, _c = Unit.objects.get_or_create(code="796", defaults={"name": "шт", "full_name": "Штука"})
    with transaction.atomic():
        products = Product.objects.bulk_create([
            Product(name=f"Товар для заказов {i}", slug=f"bench-order-product-{i}", article=f"A-{i:05d}",
                    external_id=f"bench-p-{i:06d}", unit=unit, price=Decimal(100 + i))
            for i in range(200)
        ])
        variants = Variant.objects.bulk_create([
            Variant(product=p, external_id=p.external_id, price=p.price, currency="RUB",
                    quantity=Decimal(1000), in_stock=True)
            for p in products
        ])
        customers = Customer.objects.bulk_create([
            Customer(key=f"buyer{i}@example.com", name=f"Покупателев Покупатель {i}", email=f"buyer{i}@example.com",
                     phone=f"+7900{i:07d}")
            for i in range(max(1, count // 3))
        ])
    now = timezone.now()
    lines_total = 0
    for start in range(0, count, 1000):
        with transaction.atomic():
            batch = []
            plans = []
            for n in range(start, min(count, start + 1000)):
                customer = customers[n % len(customers)]
                picks = [(rnd.choice(variants), Decimal(rnd.randint(1, 5))) for _ in range(rnd.randint(1, 10))]
                goods = sum((v.price * q for v, q in picks), Decimal(0))
                plans.append(picks)
                batch.append(Order(
                    number=str(100000 + n), customer=customer, customer_name=customer.name, email=customer.email,
                    phone=customer.phone, address=f"Москва, ул. Тестовая, д. {n % 200 + 1}",
                    delivery_method=courier, delivery_name=courier.name, delivery_price=courier.price,
                    payment_method=cash, payment_name=cash.name, status=new, status_changed_at=now,
                    goods_total=goods, total=goods + courier.price, comment="Позвонить за час" if n % 7 == 0 else "",
                ))
            orders = Order.objects.bulk_create(batch)
            lines = [
                OrderLine(order=order, variant=v, offer_external_id=v.external_id, name=v.product.name,
                          article=v.product.article, unit="шт", unit_code="796", price=v.price, quantity=q,
                          total=v.price * q)
                for order, picks in zip(orders, plans, strict=True) for v, q in picks
            ]
            OrderLine.objects.bulk_create(lines, batch_size=2000)
            lines_total += len(lines)
    return lines_total


# --- the measurement --------------------------------------------------------------------
def count_documents(body: bytes) -> int:
    from lxml import etree

    if body[:2] == b"PK":
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as z:
            body = z.read(z.namelist()[0])
    count = 0
    for _ev, el in etree.iterparse(io.BytesIO(body), events=("end",), resolve_entities=False, no_network=True,
                                   huge_tree=True):
        if el.tag.rsplit("}", 1)[-1] == "Документ" and el.getparent() is not None:
            count += 1
            el.clear()
    return count


def query_once(onec, server: common.Server) -> dict:
    c = onec.OneC(server.exchange_url, common.EXCHANGE_USER, server.password, timeout=600)
    c.checkauth("sale")
    c.init("sale")
    server.sampler.reset()
    status, raw, text, seconds, _headers = c.request({"type": "sale", "mode": "query"})
    rss = server.sampler.result()
    head = raw.lstrip(b"\xef\xbb\xbf")[:200]
    if status != 200 or not (head.startswith(b"<?xml") or head.startswith(b"PK")):
        raise NotAvailable(f"HTTP {status}: {text[:200]!r}")
    return {"query_s": seconds, "mb": len(raw) / common.MB, "documents": count_documents(raw),
            "rss_max_mb": rss["max_mb"], "rss_sum_mb": rss["sum_mb"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orders", default="1000,10000", help="order counts, comma-separated")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--runserver", action="store_true", help="manage.py runserver instead of gunicorn")
    p.add_argument("--setup-orders", type=int, help=argparse.SUPPRESS)  # internal: run in the server's env
    args = p.parse_args(argv)

    if args.setup_orders is not None:
        print(setup_orders(args.setup_orders))
        return 0

    counts = [int(s) for s in args.orders.split(",") if s.strip()]
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in dbs and not common.postgres_available():
        print(f"PostgreSQL not reachable at {common.PG_ADMIN_DSN}: skipped", file=sys.stderr)
        dbs.remove("postgres")
    onec = common.load_onec()
    rows = []
    for db in dbs:
        for count in counts:
            with common.Server(db=db, runserver=args.runserver) as server:
                t0 = time.perf_counter()
                done = common.subprocess.run([common.PYTHON, __file__, "--setup-orders", str(count)],
                                             cwd=common.REPO, env=server.environ, capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(f"order setup failed:\n{done.stderr}")
                row = {"db": db, "orders": count, "lines": int(done.stdout.split()[-1]),
                       "setup_s": time.perf_counter() - t0}
                try:
                    row.update(query_once(onec, server))
                except NotAvailable as why:
                    print(f"sale query not available ({why})")
                    return 0
                row["db_mb"] = server.database.size_bytes() / common.MB
                rows.append(row)
                print(f"  {db} {count:,} orders: query {row['query_s']:.2f} s", file=sys.stderr)

    m = common.machine()
    print(f"sale&mode=query over HTTP ({'runserver' if args.runserver else 'gunicorn 2 workers x 4 threads'}); "
          f"machine: {m['nproc']} CPUs {m['cpu']}, {m['memory']}, Python {m['python']}")
    print(common.table(rows, COLUMNS))
    print()
    print("Targets:")
    for row in rows:
        tag = f"{row['db']} {row['orders']:,} orders:"
        print(f"  {common.verdict(row['documents'] == row['orders'])}  {tag} {row['documents']:,} documents "
              f"in the answer")
        if row["orders"] >= 10_000 or row["orders"] == max(counts):
            print(f"  {common.verdict(row['query_s'] < 10)}  {tag} query {row['query_s']:.2f} s < 10 s")
    for db in dbs:
        mine = sorted((r for r in rows if r["db"] == db), key=lambda r: r["orders"])
        if len(mine) > 1:
            small, big = mine[0], mine[-1]
            print(f"  {common.verdict(big['rss_max_mb'] <= 1.2 * small['rss_max_mb'])}  {db}: peak RSS at "
                  f"{big['orders']:,} orders ({big['rss_max_mb']:.0f} MB) within 20% of {small['orders']:,} "
                  f"({small['rss_max_mb']:.0f} MB)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    sys.exit(main())
