"""Dual-run: build the selected models on DuckDB and on Spark into scratch places and compare
every table, so a team sees what would change before it switches engines.

Tables are compared as multisets of rows over the columns both have (by name, in any order).
Values are compared after one normalisation per type: floating point to a relative tolerance
of FLOAT_TOLERANCE, decimals exactly, text exactly, dates and times as values. A difference is
named with its model, how many rows each side has that the other lacks, and example rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ..project.model import Operations
from .workspace import Workspace

FLOAT_TOLERANCE = 1e-9
"""Relative: two floats closer than this (scaled by the larger) are the same value. Sums of
floats taken in another order differ in the last bits; nothing else may."""

EXAMPLES = 3


@dataclass(frozen=True)
class Difference:
    model: str
    problem: str
    only_duckdb: tuple[tuple, ...] = ()
    only_spark: tuple[tuple, ...] = ()
    columns: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.model}: {self.problem}"]
        if self.columns and (self.only_duckdb or self.only_spark):
            out.append(f"    columns: {', '.join(self.columns)}")
        out += [f"    only on duckdb: {_show(r)}" for r in self.only_duckdb]
        out += [f"    only on spark:  {_show(r)}" for r in self.only_spark]
        return out


@dataclass(frozen=True)
class Verdict:
    compared: tuple[tuple[str, int], ...]  # (model, rows) compared
    differences: tuple[Difference, ...]
    duckdb_status: str
    spark_status: str


def scratch_workspaces(ws: Workspace, scratch: Path) -> tuple[Workspace, Workspace]:
    """The project twice, writing only under `scratch`: once on DuckDB, once on Spark. No
    alerts are sent, no serving copy, export or step is written or run: this is a rehearsal."""
    settings = ws.project.settings
    quiet = Operations(access=ws.project.ops.access)
    duck = replace(
        settings,
        warehouse=scratch / "duckdb" / "warehouse.duckdb",
        serve_copy=None,
        engine=replace(settings.engine, kind="duckdb"),
    )
    spark = replace(
        settings,
        warehouse=scratch / "spark" / "state.duckdb",
        serve_copy=None,
        engine=replace(
            settings.engine, kind="spark", warehouse_dir=str(scratch / "spark" / "warehouse")
        ),
    )
    return (
        Workspace(replace(ws.project, settings=duck, ops=quiet, steps={}), ws.dag),
        Workspace(replace(ws.project, settings=spark, ops=quiet, steps={}), ws.dag),
    )


def compare(
    model: str,
    duckdb_rows: Sequence[tuple],
    duckdb_columns: Sequence[str],
    spark_rows: Sequence[tuple],
    spark_columns: Sequence[str],
) -> Difference | None:
    """The difference between one model's two builds, or None."""
    lower_duck = [c.lower() for c in duckdb_columns]
    lower_spark = [c.lower() for c in spark_columns]
    if set(lower_duck) != set(lower_spark):
        missing = sorted(set(lower_duck) - set(lower_spark))
        extra = sorted(set(lower_spark) - set(lower_duck))
        return Difference(
            model, f"columns differ: only on duckdb {missing or '-'}, only on spark {extra or '-'}"
        )
    order = [lower_spark.index(c) for c in lower_duck]
    duck = Counter(tuple(_norm(v) for v in row) for row in duckdb_rows)
    spark = Counter(tuple(_norm(row[i]) for i in order) for row in spark_rows)
    if duck == spark:
        return None
    only_duck = [_plain(r) for r in (duck - spark).elements()]
    only_spark = [_plain(r) for r in (spark - duck).elements()]
    return Difference(
        model,
        f"{len(duckdb_rows)} rows on duckdb, {len(spark_rows)} on spark; "
        f"{len(only_duck)} only on duckdb, {len(only_spark)} only on spark",
        tuple(sorted(only_duck, key=repr)[:EXAMPLES]),
        tuple(sorted(only_spark, key=repr)[:EXAMPLES]),
        tuple(duckdb_columns),
    )


def _norm(value):
    """One spelling per value: floats rounded to the tolerance, the rest as they are. Numbers
    keep their kind (Python says 1.5 == Decimal("1.5") and True == 1; a table whose column
    turned from DECIMAL into DOUBLE differs)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ("float", repr(value))
        if value == 0:
            return ("float", 0.0)
        digits = -int(math.floor(math.log10(abs(value)))) + int(-math.log10(FLOAT_TOLERANCE))
        return ("float", round(value, digits))
    if isinstance(value, Decimal):
        return ("decimal", value.normalize() if value == value else repr(value))
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - (value.utcoffset() or 0)
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    if isinstance(value, date | str) or value is None:
        return value
    return repr(value)


def _plain(row: tuple) -> tuple:
    """A normalised row as a reader wants to see it: the values without their kinds."""
    return tuple(
        v[1] if isinstance(v, tuple) and len(v) == 2 and v[0] in _KINDS else v for v in row
    )


_KINDS = ("bool", "float", "decimal", "int")


def _show(row: Iterable) -> str:
    return "(" + ", ".join(repr(v) for v in row) + ")"
