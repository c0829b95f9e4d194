"""The files of the Spark engine's tables: the warehouse_dir tree they live in, which of their
files are committed data, the partition directories and the layout of a partitioned table, and
the moves that publish a table's directory.

Spark keeps a commit in progress under names that start with `_` or `.`: what lies there is not
(yet) a table's data. Everything here reads the disk without a Spark session, so that what the
engine would find can be known without starting one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ...core import crashpoints
from ...project.model import EngineSettings

LAYOUT = "_orchestrator_layout.json"
"""In a partitioned table's directory: its columns in the model's SELECT order with their Spark
types, and its partition column. Spark lays a partitioned table out with the partition column
last and cannot read a schema from a table with no rows (no data file): this file says both.
Spark ignores files whose names start with `_`."""

STAGE_SCHEMA = "orchestrator_stage"
"""Where a write stages its rows before it publishes them (`writes`)."""

DATA_SCHEMA = "orchestrator_data"
"""Where a partitioned table is registered when the model's name is the view that reads it in
the SELECT's order (`Catalog.register_table`)."""


def warehouse_of(settings: EngineSettings, root: Path) -> Path:
    """The warehouse_dir: where each model's table lives, at `<schema>/<table>`."""
    return Path(settings.warehouse_dir or root / "spark-warehouse").resolve()


def relations_on_disk(settings: EngineSettings, root: Path, control) -> dict[str, str]:
    """What a session would register, read without starting one: the table directories of
    the warehouse_dir, and the views the state remembers."""
    from ... import state

    warehouse = warehouse_of(settings, root)
    found: dict[str, str] = {}
    if warehouse.is_dir():
        for schema_dir in (p for p in warehouse.iterdir() if is_schema_dir(p)):
            for table_dir in schema_dir.iterdir():
                if is_table_dir(table_dir):
                    found[f"{schema_dir.name}.{table_dir.name}".lower()] = "table"
    if state.has_state(control):
        found.update({name.lower(): "view" for name in state.spark_views(control)})
    return found


def table_files(settings: EngineSettings, root: Path, name: str) -> list[str]:
    """The data files of table `name` in the warehouse_dir, as Spark lists them (none under
    `_` or `.`): how a source that is a table is probed on Spark without starting a session."""
    schema, _, table = name.lower().partition(".")
    return [str(file) for file in committed_files(warehouse_of(settings, root) / schema / table)]


def committed_files(place: Path, pattern: str = "*") -> list[Path]:
    """The files under a table's directory that Spark reads as its data: none under a `_` or
    `.` directory (a commit in progress) nor so named."""
    if not place.is_dir():
        return []
    return [
        file
        for file in sorted(place.rglob(pattern))
        if file.is_file()
        and not any(part.startswith(("_", ".")) for part in file.relative_to(place).parts)
    ]


def parquet_rows(place: Path) -> int:
    """The rows of the data files under `place` (none under `_` or `.`: not committed), read
    from their footers with DuckDB: what `count(*)` on the table says, without a Spark job."""
    import duckdb

    files = [str(file) for file in committed_files(place, "*.parquet")]
    if not files:
        return 0
    con = duckdb.connect()
    try:
        return int(
            con.execute(
                "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [files]
            ).fetchone()[0]
        )
    finally:
        con.close()


def is_schema_dir(path: Path) -> bool:
    """A directory of the warehouse_dir that holds models' tables (not the state's, the
    stages', nor the tables behind ordering views)."""
    return (
        path.is_dir()
        and not path.name.startswith(("_", "."))
        and path.name not in ("orchestrator", STAGE_SCHEMA, DATA_SCHEMA)
    )


def is_table_dir(path: Path) -> bool:
    """A model's table: a directory holding committed data (a file outside `_` and `.`
    directories, where Spark keeps a commit in progress), or the layout of a partitioned
    table with no rows yet."""
    if not path.is_dir() or path.name.startswith(("_", ".")) or "__" in path.name:
        return False
    if (path / LAYOUT).is_file():
        return True
    return any(
        not any(part.startswith(("_", ".")) for part in file.relative_to(path).parts)
        for file in path.rglob("*")
        if file.is_file()
    )


def partition_dirs(place: Path, column: str) -> dict[str, str]:
    """The partition directories of a table (`column=value`), value as Spark wrote it."""
    from urllib.parse import unquote

    if not place.is_dir():
        return {}
    prefix = column.lower() + "="
    return {
        unquote(p.name.split("=", 1)[1]): p.name
        for p in place.iterdir()
        if p.is_dir() and p.name.lower().startswith(prefix)
    }


def read_layout(path: Path) -> dict | None:
    """A partitioned table's layout (`LAYOUT`), or None."""
    import json

    try:
        return json.loads((path / LAYOUT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_layout(path: Path, columns: Sequence[tuple[str, str]], partition_by: str) -> None:
    """Record a partitioned table's layout; written aside and renamed, so never half there."""
    import json

    text = json.dumps({"columns": [list(c) for c in columns], "partition_by": partition_by})
    path.mkdir(parents=True, exist_ok=True)
    aside = path / (LAYOUT + ".tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path / LAYOUT)


def remove_tree(path: Path) -> None:
    """A directory gone with all it holds (nothing there is no error)."""
    crashpoints.moment()
    shutil.rmtree(path, ignore_errors=True)


def move(source: Path, target: Path) -> None:
    """A directory renamed (atomic on one file system)."""
    crashpoints.moment()
    os.replace(source, target)
