"""The statements that look at a source before its readers run: does its table exist, when was
it last loaded, which columns does it have, does a window hold rows, which partitions arrived.
Text only: `freshness` runs them on the connection it was given and judges what they return."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.partitions import Window
from ..core.quoting import literal, quote, quote_relation
from ..project.model import IDENTIFIER, Source
from ..statements.materialize import file_reader, source_reader


def files_list(files: Sequence[str]) -> str:
    """A list of file paths as a SQL list literal.

    >>> print(files_list(["a.csv", "it's.csv"]))
    ['a.csv', 'it''s.csv']
    """
    return "[" + ", ".join(literal(f) for f in files) + "]"


def reader(source: Source, files: Sequence[str]) -> str:
    """What to select from to read a source: its files with its declared options, or (no
    files: a table source) its relation."""
    return source_reader(source, files_list(files)) if files else quote_relation(source.name)


def table_files_reader(files: Sequence[str]) -> str:
    """A table's Parquet files as Spark wrote them (partition directories included), for a
    table source that lives in Spark's warehouse_dir."""
    return f"read_parquet({files_list(files)}, hive_partitioning = true, union_by_name = true)"


def untyped_reader(source: Source, path: str) -> str:
    """One file of the source, read with its options but without declared types: binding it
    shows a bad option or an unreadable file."""
    return source_reader(source, files_list([path]), typed=False)


def plain_reader(source: Source, files: Sequence[str]) -> str:
    """The files with no options at all: the columns they really have."""
    return file_reader(source.format or "csv", files_list(files))


def select_all(target: str) -> str:
    return f"SELECT * FROM {target}"


def table_exists(source: Source) -> tuple[str, list[str]]:
    schema, table = source.name.split(".")
    return (
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    )


def _loaded(expression: str) -> str:
    """`loaded_at` as SQL: a column name quoted, an expression as written."""
    return quote(expression) if IDENTIFIER.match(expression) else f"({expression})"


def type_of(target: str, column: str) -> str:
    """The type of the loaded_at value of the first row (to read a time with a zone as UTC)."""
    return f"SELECT typeof({_loaded(column)}) FROM {target} LIMIT 1"


def latest(target: str, column: str, with_zone: bool) -> str:
    """The latest value of the `loaded_at` column, as a UTC timestamp without zone."""
    value = (
        f"timezone('UTC', {_loaded(column)})"
        if with_zone
        else f"CAST({_loaded(column)} AS TIMESTAMP)"
    )
    return f"SELECT max({value}) FROM {target}"


def rows_in(target: str, column: str, window: Window) -> str:
    """How many rows of the source fall in a window of its partition column."""
    col = quote(column)
    return (
        f"SELECT count(*) FROM {target} WHERE {col} >= "
        f"{window.literal(window.start)} AND {col} < {window.literal(window.end)}"
    )


def partition_values(target: str, column: str) -> str:
    """The distinct values of the source's partition column, as timestamps."""
    return f"SELECT DISTINCT CAST({quote(column)} AS TIMESTAMP) FROM {target}"


def period_prints(target: str, column: str, grain: str, window: Window | None) -> str:
    """Per period of the partition column (in `window`, or all): its rows and the sum of their
    hashes, which changes when any row is added, removed or changed."""
    col = quote(column)
    where = (
        f" WHERE {col} >= {window.literal(window.start)} AND {col} < {window.literal(window.end)}"
        if window is not None
        else ""
    )
    return (
        f"SELECT CAST(date_trunc({literal(grain)}, CAST({col} AS TIMESTAMP)) AS TIMESTAMP), "
        f"count(*), CAST(sum(hash(t)) AS VARCHAR) FROM {target} AS t{where} GROUP BY 1"
    )


def whole_print(target: str) -> str:
    """A table's rows and the sum of their hashes."""
    return f"SELECT count(*), CAST(coalesce(sum(hash(t)), 0) AS VARCHAR) FROM {target} AS t"
