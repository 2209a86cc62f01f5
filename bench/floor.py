"""The floor of a catalog import: what parsing plus raw SQL upserts cost on this machine.

Reads import.xml and offers.xml (gen_catalog.py or real 1C output) with lxml iterparse,
extracts the fields Obmen stores (products, group links, property values, variants,
prices, stock) into tuples, and upserts them into plain tables:
  SQLite:     executemany(INSERT ... ON CONFLICT DO UPDATE) per batch, one transaction a batch;
  PostgreSQL: COPY into a temporary staging table per batch, then one INSERT ... SELECT ...
              ON CONFLICT DO UPDATE.
No Django, no ORM: this is the yardstick the importer's import phase is measured against
(the performance target is <= 2x this floor).

    python bench/floor.py DIR [--db sqlite|postgres] [--dsn postgres://postgres@127.0.0.1:5432/postgres]
"""

import argparse
import json
import resource
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from lxml import etree

BATCH = 1000

TABLES = {
    "product": ("external_id text primary key, name text, article text, description text, unit text",
                ["external_id", "name", "article", "description", "unit"]),
    "product_group": ("product_id text, group_id text, primary key (product_id, group_id)",
                      ["product_id", "group_id"]),
    "product_prop": ("product_id text, property_id text, value text, primary key (product_id, property_id, value)",
                     ["product_id", "property_id", "value"]),
    "variant": ("external_id text primary key, product_id text, name text",
                ["external_id", "product_id", "name"]),
    "price": ("variant_id text, price_type_id text, value numeric, currency text, "
              "primary key (variant_id, price_type_id)", ["variant_id", "price_type_id", "value", "currency"]),
    "stock": ("variant_id text, warehouse_id text, quantity numeric, primary key (variant_id, warehouse_id)",
              ["variant_id", "warehouse_id", "quantity"]),
}
KEYS = {"product": ["external_id"], "product_group": ["product_id", "group_id"],
        "product_prop": ["product_id", "property_id", "value"], "variant": ["external_id"],
        "price": ["variant_id", "price_type_id"], "stock": ["variant_id", "warehouse_id"]}


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(el):
    return {local(c.tag): c for c in el}


def parse_products(path):
    """Yield dicts of rows per Товар (walking children into dicts, the fast way)."""
    for _ev, el in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True,
                                   huge_tree=True):
        if local(el.tag) != "Товар":
            continue
        rows = {k: [] for k in TABLES}
        ch = children(el)
        pid = (ch["Ид"].text or "").strip() if "Ид" in ch else ""
        if pid:
            unit = ch.get("БазоваяЕдиница")
            rows["product"].append((pid, ch["Наименование"].text if "Наименование" in ch else "",
                                    ch["Артикул"].text if "Артикул" in ch else "",
                                    ch["Описание"].text if "Описание" in ch else "",
                                    unit.get("Код") if unit is not None else None))
            if "Группы" in ch:
                for g in ch["Группы"]:
                    rows["product_group"].append((pid, (g.text or "").strip()))
            if "ЗначенияСвойств" in ch:
                for v in ch["ЗначенияСвойств"]:
                    vc = children(v)
                    val = vc["Значение"].text if "Значение" in vc else None
                    if val:
                        rows["product_prop"].append((pid, vc["Ид"].text, val))
            rows["variant"].append((pid, pid, ""))
        el.clear(keep_tail=True)
        while el.getprevious() is not None:
            del el.getparent()[0]
        yield rows


def parse_offers(path):
    for _ev, el in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True,
                                   huge_tree=True):
        if local(el.tag) != "Предложение":
            continue
        rows = {k: [] for k in TABLES}
        ch = children(el)
        oid = (ch["Ид"].text or "").strip()
        product_id = oid.split("#", 1)[0]
        rows["variant"].append((oid, product_id, ch["Наименование"].text if "Наименование" in ch else ""))
        if "Цены" in ch:
            for p in ch["Цены"]:
                pc = children(p)
                rows["price"].append((oid, pc["ИдТипаЦены"].text, str(Decimal(pc["ЦенаЗаЕдиницу"].text)),
                                      pc["Валюта"].text if "Валюта" in pc else "RUB"))
        for c in el:
            name = local(c.tag)
            if name == "Склад" and c.get("ИдСклада"):
                rows["stock"].append((oid, c.get("ИдСклада"), str(Decimal(c.get("КоличествоНаСкладе") or "0"))))
            elif name == "Остатки":
                for rest in c:
                    for sk in rest:
                        if local(sk.tag) == "Склад":
                            sc = children(sk)
                            rows["stock"].append((oid, sc["Ид"].text, str(Decimal(sc["Количество"].text or "0"))))
        el.clear(keep_tail=True)
        while el.getprevious() is not None:
            del el.getparent()[0]
        yield rows


class SQLiteSink:
    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for name, (cols, _names) in TABLES.items():
            self.db.execute(f"CREATE TABLE {name} ({cols})")
        self.db_seconds = 0.0

    def flush(self, rows):
        t0 = time.perf_counter()
        self.db.execute("BEGIN IMMEDIATE")
        for name, items in rows.items():
            if not items:
                continue
            cols = TABLES[name][1]
            keys = KEYS[name]
            rest = [c for c in cols if c not in keys] or keys[:1]
            sql = (f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                   f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                   + ", ".join(f"{c} = excluded.{c}" for c in rest))
            self.db.executemany(sql, items)
        self.db.execute("COMMIT")
        self.db_seconds += time.perf_counter() - t0

    def size(self):
        sql = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        return self.db.execute(sql).fetchone()[0]


class PostgresSink:
    def __init__(self, dsn):
        import psycopg

        self.admin = psycopg.connect(dsn, autocommit=True)
        self.dbname = f"obmen_floor_{int(time.time())}"
        self.admin.execute(f"CREATE DATABASE {self.dbname}")
        base, _, _ = dsn.rpartition("/")
        self.db = psycopg.connect(f"{base}/{self.dbname}")
        for name, (cols, _names) in TABLES.items():
            self.db.execute(f"CREATE TABLE {name} ({cols})")
            self.db.execute(f"CREATE UNLOGGED TABLE stage_{name} (LIKE {name})")
        self.db.commit()
        self.db_seconds = 0.0

    def flush(self, rows):
        t0 = time.perf_counter()
        with self.db.transaction():
            for name, items in rows.items():
                if not items:
                    continue
                cols = TABLES[name][1]
                keys = KEYS[name]
                rest = [c for c in cols if c not in keys] or keys[:1]
                self.db.execute(f"TRUNCATE stage_{name}")
                with self.db.cursor().copy(f"COPY stage_{name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for item in items:
                        copy.write_row(item)
                self.db.execute(
                    f"INSERT INTO {name} ({', '.join(cols)}) SELECT DISTINCT ON ({', '.join(keys)}) "
                    f"{', '.join(cols)} FROM stage_{name} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in rest)
                )
        self.db_seconds += time.perf_counter() - t0

    def size(self):
        return self.db.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    def close(self):
        self.db.close()
        self.admin.execute(f"DROP DATABASE IF EXISTS {self.dbname}")


def run(folder: Path, db: str, dsn: str) -> dict:
    imports = sorted(folder.glob("import*.xml"))
    offers = sorted(folder.glob("offers*.xml")) + sorted(folder.glob("prices*.xml")) + sorted(folder.glob("rests*.xml"))
    tmp = tempfile.mkdtemp(prefix="obmen-floor-")
    sink = SQLiteSink(str(Path(tmp) / "floor.sqlite3")) if db == "sqlite" else PostgresSink(dsn)
    t0 = time.perf_counter()
    products = 0
    pending = {k: [] for k in TABLES}
    count = 0

    def drain(source):
        nonlocal count, products
        for rows in source:
            products += len(rows["product"])
            for k, v in rows.items():
                pending[k].extend(v)
            count += 1
            if count % BATCH == 0:
                sink.flush(pending)
                for v in pending.values():
                    v.clear()

    for path in imports:
        drain(parse_products(path))
    for path in offers:
        drain(parse_offers(path))
    sink.flush(pending)
    total = time.perf_counter() - t0
    result = {"db": db, "products": products, "seconds": round(total, 2), "db_seconds": round(sink.db_seconds, 2),
              "parse_seconds": round(total - sink.db_seconds, 2), "db_bytes": sink.size(),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if db == "postgres":
        sink.close()
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--dsn", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args(argv)
    print(json.dumps(run(args.folder, args.db, args.dsn)))


if __name__ == "__main__":
    main()
