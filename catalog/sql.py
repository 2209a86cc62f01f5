"""SQL fragments shared by the catalog's set-based writes and the 1C importer (PostgreSQL and SQLite)."""

from collections.abc import Sequence

from django.db import connection


def in_values(column: str, values: Sequence) -> tuple[str, list]:
    """`column IN (…)` for these values, as (SQL, parameters); `column` is already quoted SQL.

    PostgreSQL gets `= ANY(%s::type[])` with the array as one text literal, which it plans as
    it plans an IN list: the statement text is the same whatever the number of values, and
    psycopg neither quotes hundreds of parameters nor runs its (Python) list dumper.
    """
    if connection.vendor == "postgresql":
        literal = array_literal(values)
        if literal is None:
            return f"{column} = ANY(%s)", [list(values)]
        return f"{column} = ANY(%s::{literal[0]})", [literal[1]]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def array_literal(values: Sequence) -> tuple[str, str] | None:
    """(type, text) of a PostgreSQL array of these ints, strings or booleans; None for other values.

    `{1,2}` as bigint[], `{"a","b \\"c\\""}` as text[], `{t,f}` as boolean[].
    """
    kinds = {type(v) for v in values}
    if kinds == {int}:
        return "bigint[]", "{" + ",".join(map(str, values)) + "}"
    if kinds == {str}:
        return "text[]", "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                                        for v in values) + "}"
    if kinds == {bool}:
        return "boolean[]", "{" + ",".join("t" if v else "f" for v in values) + "}"
    return None
