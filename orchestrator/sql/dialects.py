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
- `range(a, b) t(i)` and `generate_series(a, b) t(i)` in FROM: Spark's `range` table function
  (end excluded, empty when the bounds say so, BIGINT as in DuckDB); generate_series includes
  its end. A range with no column names is named as DuckDB names it (`range`,
  `generate_series`), and so is an `unnest(...)` in FROM (`unnest`).
- `(x, i) -> ...` in list_transform/list_filter: DuckDB counts i from 1, Spark from 0.
Refused:
- ranges over dates or times (DuckDB gives timestamps, Spark's sequence dates).
- ordered aggregates that cannot be kept (descending, several keys).
- table functions reading files (`read_csv(...)`): declare the files as a source instead.
"""

from __future__ import annotations

import re

from ..core.errors import ProjectError

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

    from .syntax import syntax_problem

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        detail = syntax_problem(first.get("description") or str(exc))
        raise ProjectError(f"SQL does not parse: {detail}", relpath, first.get("line")) from None

    def fix(node):
        for fixer in (_fix_reads, _fix_lists, _fix_rows, _fix_values):
            fixed = fixer(node, sql, relpath)
            if fixed is not None:
                return fixed
        return node

    return tree.transform(fix)


def _fix_reads(node, sql: str, relpath: str):
    """What a FROM reads: range tables and unnest named as in DuckDB, files refused. None: not
    such a node."""
    from sqlglot import exp

    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        return _spark_range(node, sql, relpath)
    if isinstance(node, exp.Unnest) and isinstance(node.parent, exp.From | exp.Join):
        _name_columns(node, "unnest")
        return node
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
    return None


def _fix_lists(node, sql: str, relpath: str):
    """Lists: lambda indexes counted from 1, ordered aggregates kept in order or refused.
    None: nothing to fix."""
    from sqlglot import exp

    if isinstance(node, exp.Lambda) and len(node.expressions) == 2:
        if isinstance(node.parent, exp.Transform | exp.ArrayFilter):
            return _index_from_one(node)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        ordered = _ordered_list(node.this)
        if ordered is not None:
            return ordered
    if isinstance(node, exp.ArrayAgg) and node.find(exp.Order):
        raise ProjectError(
            "an ordered aggregate (list(x ORDER BY y)): Spark's collect_list does not keep "
            "the order; sort the result instead, e.g. "
            "transform(array_sort(list(struct(y, x))), s -> s.x)",
            relpath,
            _line(sql, "list") or _line(sql, "array_agg"),
        )
    return None


def _fix_rows(node, sql: str, relpath: str):
    """Whole rows: row_number() given the order Spark requires, to_json(t) of a row as
    to_json(struct(t.*)). None: nothing to fix."""
    from sqlglot import exp

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
    return None


def _fix_values(node, sql: str, relpath: str):
    """Values whose type or count differs: avg as a DOUBLE, days of the week counted as DuckDB
    counts them, a date plus an interval as a TIMESTAMP. None: nothing to fix."""
    from sqlglot import exp

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
    return None


def _spark_range(table, sql: str, relpath: str):
    """DuckDB's range/generate_series table function as Spark's `range` table function."""
    from sqlglot import exp

    series = table.this
    word = "range" if series.args.get("is_end_exclusive") else "generate_series"
    start, end, step = series.args.get("start"), series.args.get("end"), series.args.get("step")
    temporal = any(
        isinstance(n, exp.Interval)
        or (isinstance(n, exp.Cast) and n.to.is_type(*exp.DataType.TEMPORAL_TYPES))
        for part in (start, end, step)
        if part is not None
        for n in part.walk()
    )
    backwards = isinstance(step, exp.Neg) or (
        step is not None and step.is_number and float(step.name) < 0
    )
    if temporal or (step is not None and not step.is_number and not isinstance(step, exp.Neg)):
        raise ProjectError(
            f"{word}(...) over dates or times (or with a step that is not a number): Spark's "
            "sequence gives other types and bounds; count with integers and add them, e.g. "
            "select date '2024-01-01' + i as d from range(0, 31) t(i)",
            relpath,
            _line(sql, word),
        )
    if start is None:
        start = exp.Literal.number(0)
    if word == "generate_series":  # its end is included; Spark's range excludes it
        one = exp.Literal.number(1)
        end = exp.Sub(this=end, expression=one) if backwards else exp.Add(this=end, expression=one)
    arguments = [start.copy(), end.copy()] + ([step.copy()] if step is not None else [])
    spark = exp.Table(this=exp.Anonymous(this="RANGE", expressions=arguments))
    spark.set(
        "alias", table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(word, True))
    )
    _name_columns(spark, word)
    return spark


def _name_columns(node, word: str) -> None:
    """A table function's one column named as DuckDB names it when the query does not."""
    from sqlglot import exp

    alias = node.args.get("alias")
    if alias is None:
        alias = exp.TableAlias(this=exp.to_identifier(word, quoted=True))
        node.set("alias", alias)
    if not alias.columns:
        alias.set("columns", [exp.to_identifier(word, quoted=True)])


def _index_from_one(lamb):
    """`(x, i) -> body` with i counted from 1 as in DuckDB: Spark gives i from 0."""
    from sqlglot import exp

    index = lamb.expressions[1].name
    body = lamb.this.transform(
        lambda n: (
            exp.paren(exp.Add(this=n.copy(), expression=exp.Literal.number(1)))
            if (isinstance(n, exp.Column) and not n.table and n.name == index)
            or (
                isinstance(n, exp.Identifier)
                and n.name == index
                and not isinstance(n.parent, exp.Column)
            )
            else n
        )
    )
    lamb.set("this", body)
    return lamb


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
