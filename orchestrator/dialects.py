"""Models are written in DuckDB SQL; on Spark they run as Spark SQL transpiled by sqlglot. A
construct whose meaning differs between the engines is fixed in the syntax tree, or refused with
the file, the line and a rewrite: never silently different results. Pure: text in, text out.

Fixed in the tree (measured on both engines):
- `date + INTERVAL ...` is a TIMESTAMP in DuckDB and a DATE in Spark: the date side is cast to
  TIMESTAMP, so Spark gives what DuckDB gives.
- `dayofweek(d)` counts Sunday as 0 in DuckDB and 1 in Spark; `isodow(d)` (Monday 1 to Sunday 7)
  has no Spark function (sqlglot's translation gets Sunday wrong): both are computed from
  Spark's `dayofweek`.
- `list(x ORDER BY y)`: Spark's `collect_list` drops the order; pairs are collected, sorted
  and unpacked instead (one ascending key; other orders are refused).
- `avg(x)` is a DOUBLE in DuckDB, a DECIMAL in Spark when x is one: cast to DOUBLE.
- `to_json(t)` of a whole row is `to_json(struct(t.*))`; `row_number()` gets the order Spark
  requires (DuckDB numbers in no defined order either).
Refused:
- ordered aggregates that cannot be kept (descending, several keys).
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


def spark_dialect():
    """Spark SQL as Spark 4 reads it: QUALIFY stays (sqlglot's rewrite for older Sparks adds a
    column `_w` to a `SELECT *` under it)."""
    global _SPARK4
    if _SPARK4 is None:
        from sqlglot import exp, transforms
        from sqlglot.dialects.spark import Spark

        class Spark4(Spark):
            class Generator(Spark.Generator):
                TRANSFORMS = {
                    **Spark.Generator.TRANSFORMS,
                    exp.Select: transforms.preprocess(
                        [
                            transforms.eliminate_distinct_on,
                            transforms.unnest_to_explode,
                            transforms.any_to_exists,
                        ]
                    ),
                }

        _SPARK4 = Spark4
    return _SPARK4


_SPARK4 = None


def to_spark(sql: str, relpath: str) -> str:
    """`sql` (DuckDB) as Spark SQL; ProjectError naming the line and a rewrite when it holds a
    construct Spark would read differently and we cannot fix."""
    return spark_tree(sql, relpath).sql(spark_dialect(), pretty=True)


def spark_tree(sql: str, relpath: str = "<statement>"):
    """The syntax tree of `sql` (DuckDB) with the fixes made, ready to write as Spark SQL."""
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
        if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
            ordered = _ordered_list(node.this)
            if ordered is not None:
                return ordered
        if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber):
            if not node.args.get("order"):
                # Spark wants an order; DuckDB numbers rows in no defined order either
                node.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Literal.number(1))]))
            return node
        if (
            isinstance(node, exp.Anonymous)
            and str(node.this).lower() == "to_json"
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Column)
            and not node.expressions[0].table
            and node.expressions[0].name in _aliases(node)
        ):
            # DuckDB's to_json(t) of a whole row: Spark names the row struct(t.*)
            star = exp.Column(this=exp.Star(), table=exp.to_identifier(node.expressions[0].name))
            row = exp.Struct(expressions=[star])
            return exp.Anonymous(this="TO_JSON", expressions=[row])
        if isinstance(node, exp.ArrayAgg) and node.find(exp.Order):
            raise ProjectError(
                "an ordered aggregate (list(x ORDER BY y)): Spark's collect_list does not keep "
                "the order; sort the result instead, e.g. "
                "transform(array_sort(list(struct(y, x))), s -> s.x)",
                relpath,
                _line(sql, "list") or _line(sql, "array_agg"),
            )
        averaged = node.this if isinstance(node, exp.Window) else node
        if (
            isinstance(averaged, exp.Avg)
            and not (isinstance(node, exp.Avg) and isinstance(node.parent, exp.Window))
            and not isinstance(node.parent, exp.Cast)
        ):
            # DuckDB's avg is a DOUBLE whatever it averages; Spark's avg of a DECIMAL is one
            return exp.cast(node.copy(), exp.DataType.build("double"))
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

    return tree.transform(fix)


def _ordered_list(order):
    """`list(x ORDER BY y)` (one ascending key) as Spark SQL that keeps the order: the pairs
    are collected, sorted by the key (NULLs last, as in DuckDB) and the values taken. Pairs
    keep NULL values, which collect_list alone would drop. None when it cannot be kept."""
    from sqlglot import exp

    keys = order.expressions
    if len(keys) != 1 or keys[0].args.get("desc") or keys[0].args.get("nulls_first"):
        return None
    pair = exp.Struct(
        expressions=[
            exp.alias_(keys[0].this.copy(), "k"),
            exp.alias_(order.this.copy(), "v"),
        ]
    )
    collected = exp.Anonymous(this="COLLECT_LIST", expressions=[pair])
    return exp.Anonymous(
        this="TRANSFORM",
        expressions=[
            exp.Anonymous(this="ARRAY_SORT", expressions=[collected]),
            exp.Lambda(this=exp.column("v", table="s"), expressions=[exp.to_identifier("s")]),
        ],
    )


def _aliases(node) -> set[str]:
    """The names of the tables and subqueries the SELECT around `node` reads from."""
    from sqlglot import exp

    select = node.find_ancestor(exp.Select)
    if select is None:
        return set()
    found = set()
    for source in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        if source is None:
            continue
        target = source.this if isinstance(source, exp.From | exp.Join) else source
        if target is not None and target.alias_or_name:
            found.add(target.alias_or_name)
    return found


def _as_timestamp(value):
    from sqlglot import exp

    timestamp = exp.DataType.build("timestamp", dialect="duckdb")  # no time zone: Spark's NTZ
    if isinstance(value, exp.Cast) and value.to.this == timestamp.this:
        return value
    return exp.cast(value.copy(), timestamp)
