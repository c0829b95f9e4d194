"""The SQL of a data diff between two relations of one model (an environment's copy and
production's table): per partition, the rows only on one side and, by key, the rows changed.

Without a key, rows are compared whole with one aggregation over both sides (each distinct row
counted per side; a row whose counts differ is on one side only), which costs about what one
`EXCEPT ALL` does and counts duplicates right. With a key, one full outer join pairs the rows;
a pair whose compared columns differ is changed. Columns present on one side only are not
compared (the column diff names them); a column whose type changed is compared as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.partitions import WHOLE, Grain, key_format
from ..core.quoting import literal, quote


@dataclass(frozen=True)
class Sides:
    """What is compared: the two relations (quoted), the columns both have (as SQL, text for a
    retyped one), the key columns (empty: whole rows), and the partition column and grain."""

    env: str
    prod: str
    columns: tuple[tuple[str, bool], ...]  # (name, compare as text)
    key: tuple[str, ...] = ()
    partition_by: str | None = None
    grain: Grain = Grain.DAY


def _value(column: str, as_text: bool, side: str | None = None) -> str:
    name = f"{side}.{quote(column)}" if side else quote(column)
    return f"CAST({name} AS VARCHAR)" if as_text else name


def partition_of(sides: Sides, side: str | None = None) -> str:
    """The partition key of a row, as the state writes keys (`all` when not partitioned)."""
    if not sides.partition_by:
        return literal(WHOLE)
    column = f"{side}.{quote(sides.partition_by)}" if side else quote(sides.partition_by)
    fmt = literal(key_format(sides.grain))
    return f"strftime(date_trunc({literal(str(sides.grain))}, {column}), {fmt})"


def counts(relation: str, sides: Sides) -> str:
    """Rows per partition of one side."""
    return f"SELECT {partition_of(sides)} AS part, count(*) FROM {relation} GROUP BY 1"


def whole_rows(sides: Sides, table: str) -> str:
    """A temp table `table` of the distinct rows whose counts differ between the sides, with
    `n_env` and `n_prod`: the rows on one side only (as many times as the difference)."""
    listed = ", ".join(_value(c, t) + f" AS {quote(c)}" for c, t in sides.columns)
    names = ", ".join(quote(c) for c, _ in sides.columns)
    return (
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT {names}, sum(e) AS n_env, sum(p) AS n_prod FROM ("
        f"SELECT {listed}, 1 AS e, 0 AS p FROM {sides.env} UNION ALL "
        f"SELECT {listed}, 0 AS e, 1 AS p FROM {sides.prod}) "
        f"GROUP BY ALL HAVING sum(e) <> sum(p)"
    )


def whole_rows_summary(sides: Sides, table: str) -> str:
    """(part, only in env, only in production) per partition, from `whole_rows`'s table."""
    return (
        f"SELECT {partition_of(sides)} AS part, sum(greatest(n_env - n_prod, 0)), "
        f"sum(greatest(n_prod - n_env, 0)), 0 FROM {table} GROUP BY 1"
    )


def whole_rows_sample(sides: Sides, table: str, env_side: bool, limit: int) -> str:
    names = ", ".join(quote(c) for c, _ in sides.columns)
    where = "n_env > n_prod" if env_side else "n_prod > n_env"
    return f"SELECT {names} FROM {table} WHERE {where} ORDER BY ALL LIMIT {int(limit)}"


def keyed_rows(sides: Sides, table: str) -> str:
    """A temp table `table` of the key pairs that differ: `side` is `env` (only there),
    `prod` (only there) or `changed`, with both sides' compared columns."""
    on = " AND ".join(f"e.{quote(k)} IS NOT DISTINCT FROM p.{quote(k)}" for k in sides.key)
    compared = [(c, t) for c, t in sides.columns if c not in sides.key]
    differs = " OR ".join(
        f"{_value(c, t, 'e')} IS DISTINCT FROM {_value(c, t, 'p')}" for c, t in compared
    )
    listed = ", ".join(
        f"{_value(c, t, 'e')} AS {quote('env.' + c)}, {_value(c, t, 'p')} AS {quote('prod.' + c)}"
        for c, t in sides.columns
    )
    part = f"coalesce({partition_of(sides, 'e')}, {partition_of(sides, 'p')})"
    # a row without a partner on the other side has that side's marker NULL (a key column
    # may itself be NULL: keys are paired with IS NOT DISTINCT FROM)
    side = (
        "CASE WHEN p.__here IS NULL THEN 'env' WHEN e.__here IS NULL THEN 'prod' ELSE 'changed' END"
    )
    return (
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT {part} AS part, {side} AS side, {listed} "
        f"FROM (SELECT *, true AS __here FROM {sides.env}) e "
        f"FULL OUTER JOIN (SELECT *, true AS __here FROM {sides.prod}) p ON {on} "
        "WHERE e.__here IS NULL OR p.__here IS NULL" + (f" OR {differs}" if differs else "")
    )


def keyed_summary(table: str) -> str:
    return (
        f"SELECT part, count(*) FILTER (WHERE side = 'env'), count(*) FILTER (WHERE side = "
        f"'prod'), count(*) FILTER (WHERE side = 'changed') FROM {table} GROUP BY 1"
    )


def keyed_sample(table: str, side: str, limit: int) -> str:
    return f"SELECT * EXCLUDE (part, side) FROM {table} WHERE side = {literal(side)} LIMIT {limit}"


def shared_columns(
    env_columns: Sequence[tuple[str, str]], prod_columns: Sequence[tuple[str, str]]
) -> tuple[tuple[str, bool], ...]:
    """The columns both sides have, in the environment's order, each compared as text when
    its type differs.

    >>> shared_columns([("a", "INTEGER"), ("b", "VARCHAR"), ("c", "DATE")],
    ...                [("a", "BIGINT"), ("b", "VARCHAR")])
    (('a', True), ('b', False))
    """
    prod = dict(prod_columns)
    return tuple((c, prod[c] != t) for c, t in env_columns if c in prod)
