"""The SQL of an export (`[exports.NAME]`): the rows it writes for a window, the COPY that writes
them to a file set aside, and the writes into a table of an attached database (a staging table
swapped in whole, or one partition's rows replaced).

>>> print(copy_to("SELECT 1", "out/.x.parquet.partial", "parquet"))
COPY (
SELECT 1
) TO 'out/.x.parquet.partial' (FORMAT PARQUET)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..core.partitions import Window
from ..core.quoting import literal, quote, quote_relation
from ..project.model import Export, Model
from ..sql.template import render

ATTACHED = "orchestrator_export"
"""The name an export's destination database is attached under, for the time of its write."""

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def rows_of(export: Export, model: Model, window: Window | None, variables: Mapping) -> str:
    """The query whose rows the export writes for `window` (None: the whole model). In its
    `query`, `{{ this }}` is the model's rows of that window, `{{ start }}`/`{{ end }}` its
    bounds; naming the model itself reads all of it."""
    rows = model.relation
    if window is not None:
        column = quote(model.partition_by or "")
        rows = (
            f"(SELECT * FROM {model.relation} WHERE {column} >= {window.literal(window.start)} "
            f"AND {column} < {window.literal(window.end)})"
        )
    if export.query is None:
        return f"SELECT * FROM {rows}"
    literals = model.window_literals(window, this=rows)
    return render(export.query, literals, variables, path=f"[exports.{export.name}] query")


def file_path(export: Export, window: Window | None) -> str:
    """The export's path with its placeholders filled for `window`, as written (relative)."""
    path = export.path or ""
    if window is None:
        return path
    start: datetime = window.start
    return (
        path.replace("{date}", f"{start:%Y-%m-%d}")
        .replace("{month}", f"{start:%Y-%m}")
        .replace("{year}", f"{start:%Y}")
        .replace("{hour}", f"{start:%H}")
    )


def aside(target: Path) -> Path:
    """Where a file is written before it is renamed into place: beside it (one file system, so
    the rename is atomic), hidden and ending `.partial`, so no reader of `*.parquet` (or of the
    folder's visible files) takes it for an export."""
    return target.with_name(f".{target.name}.partial")


def copy_to(query: str, path: str, fmt: str) -> str:
    options = {"parquet": "FORMAT PARQUET", "csv": "FORMAT CSV, HEADER", "json": "FORMAT JSON"}
    return f"COPY (\n{query}\n) TO {literal(path)} ({options[fmt]})"


def count_rows(path: str, fmt: str) -> str:
    readers = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}
    return f"SELECT count(*) FROM {readers[fmt]}({literal(path)})"


def attach(database: str) -> str:
    """ATTACH the destination database (SQLite by its file's extension, else DuckDB)."""
    kind = " (TYPE sqlite)" if database.lower().endswith(SQLITE_SUFFIXES) else ""
    return f"ATTACH {literal(database)} AS {ATTACHED}{kind}"


def detach() -> str:
    return f"DETACH {ATTACHED}"


def _target(table: str) -> tuple[str, str, str]:
    """(the schema clause to create, the quoted target, its bare table name)."""
    schema, _, name = table.rpartition(".")
    if not schema:
        return "", f"{ATTACHED}.{quote(name)}", name
    return (
        f"CREATE SCHEMA IF NOT EXISTS {ATTACHED}.{quote(schema)}",
        f"{ATTACHED}.{quote_relation(table)}",
        name,
    )


def stage_whole(table: str, query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A whole table: (statements that fill a staging table beside it, statements that swap it
    in, to run in one transaction of the destination)."""
    schema, target, name = _target(table)
    stage = target[: -len(quote(name))] + quote(f"_orchestrator_staging_{name}")
    fill = (*((schema,) if schema else ()), f"CREATE OR REPLACE TABLE {stage} AS\n{query}")
    swap = (f"DROP TABLE IF EXISTS {target}", f"ALTER TABLE {stage} RENAME TO {quote(name)}")
    return fill, swap


def replace_partition(table: str, query: str, column: str, window: Window) -> tuple[str, ...]:
    """One partition's rows replaced (create the table the first time), in one transaction of
    the destination."""
    schema, target, _ = _target(table)
    column = quote(column)
    within = (
        f"{column} >= {window.literal(window.start)} AND {column} < {window.literal(window.end)}"
    )
    return (
        *((schema,) if schema else ()),
        f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM (\n{query}\n) LIMIT 0",
        f"DELETE FROM {target} WHERE {within}",
        f"INSERT INTO {target} BY NAME\n{query}",
    )
