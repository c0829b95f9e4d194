"""The SQL of a unit test: each given input as a table of its rows, and the expected rows cast
to the types the model returned, so that `'2026-10-03'` equals a DATE and `1` equals `1.0`.

Every value goes into SQL as text and is cast to its column's type: the type the warehouse or
the project declares when one is known, else one inferred from the values (`infer`), as
DuckDB's CSV sniffer would (whole numbers BIGINT, other numbers DOUBLE, ISO dates DATE).
A column no value gives a type stays DuckDB's untyped NULL, which fits any expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..core.quoting import literal, quote, quote_relation

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_WHOLE = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_BIGINT = 2**63


def text(value: Any) -> str | None:
    """A value as the text its cast reads (None stays NULL).

    >>> text(True), text(date(2026, 10, 3)), text(2.5), text(None)
    ('true', '2026-10-03', '2.5', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def kind(value: Any, texts: bool) -> str:
    """The type one value suggests; `texts`: it is text read from CSV, where numbers and
    booleans are written as text too."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT" if -_BIGINT <= value < _BIGINT else "HUGEINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    value = str(value)
    if _DATE.match(value):
        return "DATE"
    if _TIMESTAMP.match(value):
        return "TIMESTAMP"
    if texts:
        if _WHOLE.match(value):
            return "BIGINT"
        if _NUMBER.match(value):
            return "DOUBLE"
        if value.lower() in ("true", "false"):
            return "BOOLEAN"
    return "VARCHAR"


def infer(values: Iterable[Any], texts: bool = False) -> str | None:
    """The type of a column from its values: the one they share, DOUBLE for whole and other
    numbers, TIMESTAMP for dates and times, VARCHAR for any other mix; None when every value
    is NULL.

    >>> infer([1, 2.5]), infer(["2026-10-03", None]), infer(["1", "x"], texts=True)
    ('DOUBLE', 'DATE', 'VARCHAR')
    """
    kinds = {kind(v, texts) for v in values if v is not None}
    if len(kinds) == 1:
        return kinds.pop()
    if not kinds:
        return None
    if kinds <= {"BIGINT", "HUGEINT", "DOUBLE"}:
        return "DOUBLE"
    if kinds <= {"DATE", "TIMESTAMP"}:
        return "TIMESTAMP"
    return "VARCHAR"


def _values(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as a VALUES list of texts, one column per name (a missing key is NULL)."""
    lines = []
    for row in rows:
        cells = [text(row.get(c)) for c in columns]
        lines.append("(" + ", ".join("NULL" if v is None else literal(v) for v in cells) + ")")
    return "(VALUES " + ", ".join(lines) + ")"


def _aliases(n: int) -> str:
    return ", ".join(f"c{i}" for i in range(n))


def create_schema(relation: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote(relation.split('.')[0])}"


def input_table(
    relation: str, columns: Sequence[tuple[str, str | None]], rows: Sequence[Mapping[str, Any]]
) -> str:
    r"""The table `relation` holding `rows`, each column cast to its type (None: untyped
    NULLs, for a column no value gives).

    >>> sql = input_table("raw.t", [("id", "BIGINT"), ("note", None)], [{"id": 1}])
    >>> print(sql.replace(" FROM", "\nFROM"))
    CREATE TABLE "raw"."t" AS SELECT CAST(v.c0 AS BIGINT) AS "id", NULL AS "note"
    FROM (VALUES ('1', NULL)) AS v(c0, c1)
    """
    names = [name for name, _ in columns]
    selected = []
    for i, (name, kind_) in enumerate(columns):
        typed = any(row.get(name) is not None for row in rows) or kind_ is not None
        value = f"CAST(v.c{i} AS {kind_ or 'VARCHAR'})" if typed else "NULL"
        if kind_ is not None and not rows:
            value = f"CAST(NULL AS {kind_})"
        selected.append(f"{value} AS {quote(name)}")
    head = f"CREATE TABLE {quote_relation(relation)} AS SELECT {', '.join(selected)}"
    if not rows:
        return f"{head} WHERE false"
    return f"{head} FROM {_values(names, rows)} AS v({_aliases(len(names))})"


_NUMERIC = ("DECIMAL", "NUMERIC", "INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT")


def _lossy(value: str, kind_: str) -> str:
    """SQL that is true when casting the text `value` to a numeric `kind_` changes the number."""
    if not kind_.upper().startswith(_NUMERIC):
        return "false"
    exact = f"TRY_CAST({value} AS DECIMAL(38, 10))"
    return f"coalesce(TRY_CAST(TRY_CAST({value} AS {kind_}) AS DECIMAL(38, 10)) <> {exact}, false)"


def query_table(relation: str, sql: str) -> str:
    """The table `relation` holding what a query returns (`format: sql`, a seed's file)."""
    return f"CREATE TABLE {quote_relation(relation)} AS (\n{sql.strip().rstrip(';')}\n)"


def expected_cast(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]]) -> str:
    """The expected rows with each value cast to the type the model returned (NULL where it
    cannot be: TRY_CAST), each beside its text, to tell a failed cast from a NULL, and whether
    the cast lost part of a number (12.50 as DECIMAL(18,0) is 13: the test must not pass).

    >>> print(expected_cast([("d", "DATE")], [{"d": "2026-10-03"}]))
    SELECT TRY_CAST(v.c0 AS DATE), v.c0, false FROM (VALUES ('2026-10-03')) AS v(c0)
    """
    names = [name for name, _ in columns]
    selected = [
        f"TRY_CAST(v.c{i} AS {kind_}), v.c{i}, {_lossy(f'v.c{i}', kind_)}"
        for i, (_, kind_) in enumerate(columns)
    ]
    return f"SELECT {', '.join(selected)} FROM {_values(names, rows)} AS v({_aliases(len(names))})"
