"""The import's hot path: a few parameterised statements that run unchanged on SQLite and PostgreSQL.

`INSERT … ON CONFLICT (…) DO UPDATE SET c = excluded.c` is understood by SQLite ≥ 3.24 and
PostgreSQL ≥ 9.5, so one text serves both; values always travel as parameters through the
connection's cursor (Django turns `%s` into `?` for SQLite). Lookups by key go in chunks of
`CHUNK` so SQLite's bound-parameter limit is never reached. Model instances, signals and
`save()` are bypassed on purpose (STYLE.md, Obmen 4): the callers pass ready column values.
"""

# Table and column names come from our models' _meta, never from input; values are always
# parameters. That is what S608 cannot see.
# ruff: noqa: S608

import hashlib
from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from catalog.sql import in_values

CHUNK = 500
#: From this many rows on, PostgreSQL gets COPY into a temporary table and one INSERT … SELECT
#: instead of a row-by-row executemany (several times faster on a 100k catalog).
COPY_MIN_ROWS = 200


def quote(name: str) -> str:
    """A table or column name quoted for this backend (names come from _meta, never from input)."""
    return connection.ops.quote_name(name)


_q = quote


def _chunks(items: Sequence, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _in(column: str, values: Sequence) -> tuple[str, list]:
    """`column IN (…)` for one chunk of values, as (SQL, parameters): catalog.sql.in_values."""
    return in_values(_q(column), values)


def upsert(table: str, columns: Sequence[str], rows: Sequence[Sequence], *, conflict: Sequence[str],
           update: Sequence[str] | None = None) -> int:
    """Insert `rows`; a row whose `conflict` columns already exist updates `update` (None: is left alone).

    `conflict=()` with `update=None` skips a row that breaks any unique constraint. With
    `update`, the rows must not repeat a conflict key (PostgreSQL refuses to update one row twice).

    An update only happens where a value differs, so re-sending the same data rewrites nothing
    (`WHERE … IS DISTINCT FROM` on PostgreSQL, `IS NOT` on SQLite). Returns len(rows).
    """
    if not rows:
        return 0
    cols = ", ".join(_q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    target = f"({', '.join(_q(c) for c in conflict)}) " if conflict else ""
    sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks}) ON CONFLICT {target}"
    if update:
        sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in update)
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        changed = " OR ".join(f"{_q(table)}.{_q(c)} {distinct} excluded.{_q(c)}" for c in update)
        sql += f"DO UPDATE SET {sets} WHERE {changed}"
    else:
        sql += "DO NOTHING"
    if _use_copy(rows):
        _copy_insert(table, columns, rows, sql[sql.index(" ON CONFLICT "):])
        return len(rows)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [tuple(r) for r in rows])
    return len(rows)


def insert(table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Plain INSERT of many rows (one statement, many parameter sets)."""
    if not rows:
        return 0
    if _use_copy(rows):
        _copy_into(table, columns, rows)
        return len(rows)
    cols = ", ".join(_q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks})", [tuple(r) for r in rows])
    return len(rows)


def _use_copy(rows) -> bool:
    return connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS


def _copy_stage(cursor, table: str, columns: Sequence[str], rows) -> str:
    """COPY rows into a session temp table with `columns` typed as in `table`; returns its quoted name.

    Callers hold a transaction (an import batch's, or their own) but no savepoint of their own:
    a failed statement fails the batch's transaction whole anyway, and two savepoint round
    trips per statement cost more than the COPY of a small batch.
    """
    cols = ", ".join(_q(c) for c in columns)
    suffix = hashlib.blake2b(f"{table}:{cols}".encode(), digest_size=6).hexdigest()
    stage = _q(f"sb_{suffix}")
    # Same column types as the target, no constraints; lives as long as the connection.
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {cols} FROM {_q(table)} WITH NO DATA")
    cursor.execute(f"TRUNCATE {stage}")
    with cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row))
    return stage


def _copy_into(table: str, columns: Sequence[str], rows) -> None:
    """PostgreSQL: COPY rows straight into `table`. A plain insert needs no staging table: COPY
    checks constraints and fills indexes as INSERT does, without writing every row twice."""
    cols = ", ".join(_q(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {_q(table)} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row))


def _copy_update(table: str, key: str, columns: Sequence[str], rows) -> None:
    """PostgreSQL: COPY (values…, key) rows into a temp table, then one UPDATE … FROM."""
    sets = ", ".join(f"{_q(c)} = s.{_q(c)}" for c in columns)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        stage = _copy_stage(cursor, table, [*columns, key], rows)
        cursor.execute(f"UPDATE {_q(table)} AS t SET {sets} FROM {stage} AS s WHERE t.{_q(key)} = s.{_q(key)}")


def _copy_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence], on_conflict: str) -> None:
    """PostgreSQL: COPY the rows into a session temp table shaped like `columns`, then one INSERT … SELECT."""
    cols = ", ".join(_q(c) for c in columns)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        stage = _copy_stage(cursor, table, columns, rows)
        cursor.execute(f"INSERT INTO {_q(table)} ({cols}) SELECT {cols} FROM {stage}{on_conflict}")


def update_many(table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """UPDATE `columns` of the row whose `key` is the last value of each row."""
    if not rows:
        return 0
    if _use_copy(rows):
        _copy_update(table, key, columns, rows)
        return len(rows)
    sets = ", ".join(f"{_q(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {_q(table)} SET {sets} WHERE {_q(key)} = %s", [tuple(r) for r in rows])
    return len(rows)


def select_map(table: str, key: str, keys: Iterable, columns: Sequence[str] = ("id",)) -> dict:
    """{key value: row tuple of `columns`} for the rows whose `key` is in `keys` (chunked IN lists).

    With one column the values are that column's value, not 1-tuples.
    """
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    result: dict = {}
    if not wanted:
        return result
    cols = ", ".join(_q(c) for c in (key, *columns))
    single = len(columns) == 1
    with connection.cursor() as cursor:
        for part in _chunks(wanted):
            where, params = _in(key, part)
            cursor.execute(f"SELECT {cols} FROM {_q(table)} WHERE {where}", params)
            for row in cursor.fetchall():
                result[row[0]] = row[1] if single else tuple(row[1:])
    return result


def select_rows(table: str, key: str, keys: Iterable, columns: Sequence[str]) -> list[tuple]:
    """All rows (as tuples of `columns`) whose `key` is in `keys`: for one-to-many lookups."""
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    rows: list[tuple] = []
    if not wanted:
        return rows
    cols = ", ".join(_q(c) for c in columns)
    with connection.cursor() as cursor:
        for part in _chunks(wanted):
            where, params = _in(key, part)
            cursor.execute(f"SELECT {cols} FROM {_q(table)} WHERE {where}", params)
            rows.extend(cursor.fetchall())
    return rows


def delete_in(table: str, column: str, values: Iterable, *, extra: str = "", params: Sequence = ()) -> int:
    """DELETE the rows whose `column` is in `values` (and that match `extra`, a SQL condition). Returns rows deleted."""
    wanted = list(dict.fromkeys(values))
    deleted = 0
    if not wanted:
        return 0
    with connection.cursor() as cursor:
        for part in _chunks(wanted):
            where, values = _in(column, part)
            cursor.execute(f"DELETE FROM {_q(table)} WHERE {where}{' AND ' + extra if extra else ''}",
                           [*values, *params])
            deleted += max(cursor.rowcount, 0)
    return deleted


def update_in(table: str, sets: dict, column: str, values: Iterable, *, extra: str = "",
              params: Sequence = ()) -> int:
    """UPDATE `sets` ({column: value}) on the rows whose `column` is in `values` (and `extra`). Returns rows changed."""
    wanted = list(dict.fromkeys(values))
    if not wanted or not sets:
        return 0
    assign = ", ".join(f"{_q(c)} = %s" for c in sets)
    changed = 0
    with connection.cursor() as cursor:
        for part in _chunks(wanted):
            where, values = _in(column, part)
            cursor.execute(f"UPDATE {_q(table)} SET {assign} WHERE {where}{' AND ' + extra if extra else ''}",
                           [*sets.values(), *values, *params])
            changed += max(cursor.rowcount, 0)
    return changed


def update_where(table: str, sets: dict, where: str, params: Sequence = ()) -> int:
    """UPDATE `sets` on the rows matching `where` (SQL with %s placeholders for `params`); returns rows changed."""
    assign = ", ".join(f"{_q(c)} = %s" for c in sets)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_q(table)} SET {assign} WHERE {where}", [*sets.values(), *params])
        return max(cursor.rowcount, 0)


def db_datetime(value):
    """A datetime as this backend stores it (SQLite keeps naive UTC text, PostgreSQL a timestamptz)."""
    return connection.ops.adapt_datetimefield_value(value)


def db_bool(value):
    """SQLite stores booleans as 0/1 and Python bools bind as such; PostgreSQL wants a real bool."""
    return None if value is None else bool(value)
