"""Models are written in DuckDB SQL; on Spark they run as Spark SQL transpiled by sqlglot. A
construct whose meaning differs between the engines is fixed in the syntax tree, or refused with
the file, the line and a rewrite: never silently different results. Pure: text in, text out.

Fixed in the tree (measured on both engines):
- `date + INTERVAL ...` is a TIMESTAMP in DuckDB and a DATE in Spark: the date side is cast to
  TIMESTAMP, so Spark gives what DuckDB gives.
- `dayofweek(d)` counts Sunday as 0 in DuckDB and 1 in Spark; `isodow(d)` (Monday 1 to Sunday 7)
  has no Spark function (sqlglot's translation gets Sunday wrong): both are computed from
  Spark's `dayofweek`.
Refused:
- ordered aggregates (`list(x ORDER BY y)`): Spark's `collect_list` drops the order.
- table functions reading files (`read_csv(...)`): declare the files as a source instead.
"""

from __future__ import annotations

import re

from .errors import ProjectError

_READERS = {"ReadCSV": "read_csv", "ReadParquet": "read_parquet", "ReadJSON": "read_json"}


def _line(sql: str, word: str) -> int | None:
    """The first line of `sql` that mentions `word` (a function name), for messages."""
    pattern = re.compile(rf"\b{re.escape(word)}\s*\(", re.IGNORECASE)
    for number, text in enumerate(sql.splitlines(), start=1):
        if pattern.search(text):
            return number
    return None


def to_spark(sql: str, relpath: str) -> str:
    """`sql` (DuckDB) as Spark SQL; ProjectError naming the line and a rewrite when it holds a
    construct Spark would read differently and we cannot fix."""
    import sqlglot
    from sqlglot import exp

    from .syntax import syntax_problem

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        detail = syntax_problem(first.get("description") or str(exc))
        raise ProjectError(f"SQL does not parse: {detail}", relpath, first.get("line")) from None

    def fix(node):
        name = type(node).__name__
        if name in _READERS or (
            isinstance(node, exp.Anonymous) and str(node.this).lower().startswith("read_")
        ):
            word = _READERS.get(name, str(getattr(node, "this", "read_")))
            raise ProjectError(
                f"{word}(...) reads files inside the query, which Spark cannot: declare the files "
                f'as a source ([sources."raw.x"] path = "...") and select from it',
                relpath,
                _line(sql, word),
            )
        if isinstance(node, exp.ArrayAgg) and node.find(exp.Order):
            raise ProjectError(
                "an ordered aggregate (list(x ORDER BY y)): Spark's collect_list does not keep "
                "the order; sort the result instead, e.g. "
                "transform(array_sort(list(struct(y, x))), s -> s.x)",
                relpath,
                _line(sql, "list") or _line(sql, "array_agg"),
            )
        if isinstance(node, exp.DayOfWeekIso):
            day = exp.Anonymous(this="DAYOFWEEK", expressions=[node.this.copy()])
            return exp.paren(
                exp.Mod(
                    this=exp.paren(exp.Add(this=day, expression=exp.Literal.number(5))),
                    expression=exp.Literal.number(7),
                )
                + exp.Literal.number(1)
            )
        if isinstance(node, exp.DayOfWeek):
            day = exp.Anonymous(this="DAYOFWEEK", expressions=[node.this.copy()])
            return exp.paren(exp.Sub(this=day, expression=exp.Literal.number(1)))
        if isinstance(node, exp.Add | exp.Sub):
            left, right = node.this, node.expression
            if isinstance(right, exp.Interval) and not isinstance(left, exp.Interval):
                node.set("this", _as_timestamp(left))
            elif isinstance(left, exp.Interval) and not isinstance(right, exp.Interval):
                node.set("expression", _as_timestamp(right))
        return node

    return tree.transform(fix).sql("spark", pretty=True)


def _as_timestamp(value):
    from sqlglot import exp

    timestamp = exp.DataType.build("timestamp", dialect="duckdb")  # no time zone: Spark's NTZ
    if isinstance(value, exp.Cast) and value.to.this == timestamp.this:
        return value
    return exp.cast(value.copy(), timestamp)
