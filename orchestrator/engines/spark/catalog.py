"""What the Spark engine's cursors share, and the session catalog they keep of the warehouse_dir.

There is no catalog that outlives the process (no Hive metastore can be had offline): the
catalog is the warehouse_dir tree. Each model's table lives at `<warehouse_dir>/<schema>/<table>`
and is registered when the engine starts, with the file sources; views are registered again from
the statements the state remembers, and the state's own tables when a statement first reads
them. `Catalog` is the part of the engine (`engine.Spark`) that does this and remembers what
each name is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...project.model import EngineSettings, Source
from .files import DATA_SCHEMA, is_schema_dir, is_table_dir, read_layout, warehouse_of
from .native import Native, SparkError, ident, literal, spark_type

READS_STATE = re.compile(r"(?i)(?<![\w.`])`?orchestrator`?\s*\.")
"""A statement that names the `orchestrator` schema: it reads the state's views."""


class Shared:
    """What every cursor of one engine shares: the root session, the catalog it knows, the
    sources, and where tables live."""

    def __init__(self, session, settings: EngineSettings, root: Path, sources, control):
        self.session = session
        self.root = root
        self.warehouse = warehouse_of(settings, root)
        self.sources: Mapping[str, Source] = sources
        self.control = control
        self.relations: dict[str, str] = {}
        self.patterns: dict[str, str] = {}  # source -> the glob of its files
        self.remote = False  # Spark Connect: one client session, operations tagged per cursor
        self.databases: set[str] = set()
        self.data: dict[str, str] = {}  # model -> its table, when its name is an ordering view
        self.lock = threading.Lock()
        self.groups = 0
        self.state_ready = False  # the state's views: made when a statement first reads them
        self.state_registering = False
        self.state_lock = threading.RLock()


class Catalog:
    """The tables and views a Spark engine holds, and their registration in its session."""

    shared: Shared

    def execute(self, statement: str, params=None) -> Any:
        raise NotImplementedError  # the engine's (`engine.Spark`)

    @property
    def warehouse(self) -> Path:
        return self.shared.warehouse

    def location(self, schema: str, table: str) -> Path:
        return self.shared.warehouse / schema.lower() / table.lower()

    def relations(self) -> dict[str, str]:
        """The tables and views this engine holds: 'schema.name' -> 'table' | 'view'."""
        with self.shared.lock:
            return dict(self.shared.relations)

    def known(self, name: str, kind: str | None) -> None:
        with self.shared.lock:
            if kind is None:
                self.shared.relations.pop(name.lower(), None)
            else:
                self.shared.relations[name.lower()] = kind

    def register_catalog(self) -> None:
        """Tell the session catalog what the warehouse_dir holds: every table directory, the
        file sources, then the views the state remembers (in an order that binds)."""
        from ... import state

        warehouse = self.shared.warehouse
        for schema_dir in sorted(p for p in warehouse.iterdir() if is_schema_dir(p)):
            self.execute(Native(f"CREATE DATABASE IF NOT EXISTS {ident(schema_dir.name)}"))
            for table_dir in sorted(p for p in schema_dir.iterdir() if is_table_dir(p)):
                self.register_table(schema_dir.name, table_dir.name)
        for source in self.shared.sources.values():
            self.register_source(source)
        control = self.shared.control
        pending = dict(state.spark_views(control)) if control and state.has_state(control) else {}
        while pending:
            progressed = False
            for name, statement in list(pending.items()):
                try:
                    self.execute(Native(statement))
                except Exception:
                    continue
                self.known(name, "view")
                pending.pop(name)
                progressed = True
            if not progressed:
                break  # what still does not bind reads something gone: its model rebuilds

    def _state_on_first_read(self, text: str) -> None:
        """Register the state's views before the first statement that names the `orchestrator`
        schema: a run never reads them, and reading each journal's schema costs a Spark job
        (about 1.5 s of every start, measured on a small project)."""
        shared = self.shared
        if shared.state_ready or not READS_STATE.search(text):
            return
        with shared.state_lock:  # other threads wait; registration's own statements pass
            if shared.state_ready or shared.state_registering:
                return
            shared.state_registering = True
            try:
                self.register_state()
            finally:
                shared.state_registering = False
            shared.state_ready = True

    def register_state(self) -> None:
        """The state tables as Spark reads them: each the latest row per identity of its
        journal (`state.journal`), a view in the `orchestrator` schema."""
        from .. import journal

        directory = self.shared.warehouse / "orchestrator"
        tables = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        if tables:
            self.execute(Native("CREATE DATABASE IF NOT EXISTS orchestrator"))
        for table in tables:
            if not any((directory / table).glob("*.parquet")):
                continue
            log = f"orchestrator.{ident('_log_' + table)}"
            self.execute(Native(f"DROP TABLE IF EXISTS {log}"))
            self.execute(
                Native(
                    f"CREATE TABLE {log} USING parquet OPTIONS (mergeSchema 'true') "
                    f"LOCATION {literal(str(directory / table))}"
                )
            )
            self.execute(
                Native(
                    f"CREATE OR REPLACE VIEW orchestrator.{ident(table)} AS "
                    f"{journal.spark_current_sql(log)}"
                )
            )

    def register_table(self, schema: str, table: str) -> None:
        """A table directory in the catalog; one Spark cannot read (no data file: a write
        cut short before its commit) counts as missing, so its model is built again.

        A partitioned table with a layout (`LAYOUT`) is registered in `DATA_SCHEMA`, with the
        layout's schema (so that it exists with no rows), and the model's name is a view of
        it in the SELECT's order: `select *` reads the columns in the order DuckDB gives,
        while writes still replace whole partitions of the table (`data_relation`)."""
        path = self.location(schema, table)
        name = f"{ident(schema)}.{ident(table)}"
        self.drop_table(schema, table)
        self.known(f"{schema}.{table}", None)
        if not is_table_dir(path):
            return
        layout = read_layout(path)
        data = f"{DATA_SCHEMA}.{ident(f'{schema}__{table}'.lower())}" if layout else name
        try:
            self._create_table(name, data, path, layout)
        except SparkError:
            self.drop_table(schema, table)
            self.execute(Native(f"DROP TABLE IF EXISTS {data}"))
            return
        if layout:
            with self.shared.lock:
                self.shared.data[f"{schema}.{table}".lower()] = data
        self.known(f"{schema}.{table}", "table")

    def _create_table(self, name: str, data: str, path: Path, layout: dict | None) -> None:
        """The table over `path` under `name`; with a layout, under `data` with the layout's
        columns, and `name` the view of it in the SELECT's order."""
        if layout:
            columns = ", ".join(f"{ident(n)} {t}" for n, t in layout["columns"])
            self.execute(Native(f"CREATE DATABASE IF NOT EXISTS {DATA_SCHEMA}"))
            self.execute(Native(f"DROP TABLE IF EXISTS {data}"))
            self.execute(
                Native(
                    f"CREATE TABLE {data} ({columns}) USING parquet PARTITIONED BY "
                    f"({ident(layout['partition_by'])}) LOCATION {literal(str(path))}"
                )
            )
        else:
            self.execute(
                Native(
                    f"CREATE TABLE {name} USING parquet OPTIONS (mergeSchema 'true') "
                    f"LOCATION {literal(str(path))}"
                )
            )
        if any(p.is_dir() and "=" in p.name for p in path.iterdir()):
            self.execute(Native(f"ALTER TABLE {data} RECOVER PARTITIONS"))
        if layout:
            listed = ", ".join(ident(n) for n, _ in layout["columns"])
            self.execute(Native(f"CREATE OR REPLACE VIEW {name} AS SELECT {listed} FROM {data}"))

    def data_relation(self, schema: str, table: str) -> str:
        """The table that writes go to under a model's name (see `register_table`)."""
        with self.shared.lock:
            data = self.shared.data.get(f"{schema}.{table}".lower())
        return data or f"{ident(schema)}.{ident(table)}"

    def drop_table(self, schema: str, table: str) -> None:
        """Drop the table under a name: its ordering view and its table, or the table."""
        with self.shared.lock:
            data = self.shared.data.pop(f"{schema}.{table}".lower(), None)
        name = f"{ident(schema)}.{ident(table)}"
        if data:
            self.execute(Native(f"DROP VIEW IF EXISTS {name}"))
            self.execute(Native(f"DROP TABLE IF EXISTS {data}"))
        else:
            self.execute(Native(f"DROP TABLE IF EXISTS {name}"))

    def register_source(self, source: Source) -> None:
        """A declared file source as a table over its files (all of them), in its schema."""
        pattern = self.shared.patterns.get(source.name)
        if pattern is None:
            return  # no file yet: its readers wait
        schema, table = source.name.split(".")
        self.execute(Native(f"CREATE DATABASE IF NOT EXISTS {ident(schema)}"))
        name = f"{ident(schema)}.{ident(table)}"
        self.execute(Native(f"DROP TABLE IF EXISTS {name}"))
        self.execute(
            Native(
                f"CREATE TABLE {name} {_source_columns(source)}USING {source.format} "
                f"OPTIONS ({_source_options(source, pattern)})"
            )
        )
        self.known(source.name, "view")


def _source_columns(source: Source) -> str:
    """A CSV source's declared columns as the table's schema (other formats say their own)."""
    if not source.columns or source.format != "csv":
        return ""
    return "(" + ", ".join(f"{ident(n)} {spark_type(t)}" for n, t in source.columns) + ") "


def _source_options(source: Source, path: str) -> str:
    options = {"path": path}
    if source.format == "csv":
        options["header"] = "true"
        if not source.columns:
            options["inferSchema"] = "true"
        options["enforceSchema"] = "false"
    if source.format == "json":
        options["multiLine"] = "false"
    return ", ".join(f"{literal(k)} {literal(v)}" for k, v in options.items())
