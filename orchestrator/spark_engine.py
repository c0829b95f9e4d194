"""The Spark engine: an `Engine` over a SparkSession, for projects with `[engine] kind = "spark"`.

Statements reach it in the SQL-text layer's language (DuckDB SQL) and are transpiled by
`dialects` before they run, so checks, counts and audits are written once. Writes come from
`spark_writes` already in Spark SQL (`Native`). Unqualified table names resolve as DuckDB's
search path would (the model's schema, then the default one), and a file source read by
partition is a per-cursor view over the task's window of files: each cursor is its own Spark
session (own temporary views, shared catalog), and its jobs run in the FAIR pool `orchestrator`
under a job group of their own, so that a timeout or a cancel can stop exactly them.

There is no catalog that outlives the process here (no Hive metastore can be had offline): the
catalog is the `warehouse_dir` tree. Each model's table lives at `<warehouse_dir>/<schema>/
<table>` and is registered when the engine starts; views are registered again from the
statements the state remembers. State rows never go through this engine: `state` is the control
connection (see `state.journal`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import crashpoints
from .errors import WarehouseError, first_line
from .model import EngineSettings, Source

POOL = "orchestrator"
"""The FAIR scheduler pool every task's jobs run in: independent tasks share the cluster."""


LAYOUT = "_orchestrator_layout.json"
"""In a partitioned table's directory: its columns in the model's SELECT order with their Spark
types, and its partition column. Spark lays a partitioned table out with the partition column
last and cannot read a schema from a table with no rows (no data file): this file says both.
Spark ignores files whose names start with `_`."""

DATA_SCHEMA = "orchestrator_data"
"""Where a partitioned table is registered when the model's name is the view that reads it in
the SELECT's order (`Spark.register_table`)."""


class Native(str):
    """A statement already in Spark SQL: run as is, never transpiled."""


_SPARK_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "binary": "BLOB",
    "void": "NULL",
}


def duckdb_type(spark_type: str) -> str:
    """A Spark type named as DuckDB names it, so that declared column checks and the schema
    rules above the engine compare one vocabulary."""
    text = spark_type.strip().lower()
    if text.startswith("decimal"):
        return text.upper().replace(" ", "")
    if text.startswith("array<") and text.endswith(">"):
        return duckdb_type(text[6:-1]) + "[]"
    return _SPARK_TYPES.get(text, text.upper())


def spark_type(duckdb_name: str) -> str:
    """A declared (DuckDB) column type as Spark DDL; DuckDB's TIMESTAMP has no time zone."""
    from sqlglot import exp

    built = exp.DataType.build(duckdb_name, dialect="duckdb")
    if built.this == exp.DataType.Type.TIMESTAMP:
        return "TIMESTAMP_NTZ"
    return built.sql("spark")


class _Result:
    """What `execute` returns: the DB-API subset the layers above use."""

    def __init__(self, frame, rows: list[tuple] | None = None):
        self.frame = frame
        self._rows = rows
        self.description = (
            [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
            if frame is not None
            else []
        )

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [tuple(r) for r in self.frame.collect()] if self.frame is not None else []
        return self._rows

    def fetchone(self) -> tuple | None:
        rows = self.fetchall()
        return rows[0] if rows else None


class _NoTransaction:
    def rollback(self) -> None:
        """Nothing to roll back: Spark commits each statement (see `Spark.transaction`)."""


class _Shared:
    """What every cursor of one engine shares: the root session, the catalog it knows, the
    sources, and where tables live."""

    def __init__(self, session, settings: EngineSettings, root: Path, sources, control):
        self.session = session
        self.root = root
        self.warehouse = Path(settings.warehouse_dir or root / "spark-warehouse").resolve()
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


def start(
    settings: EngineSettings,
    root: Path,
    sources: Mapping[str, Source],
    patterns: Mapping[str, str],
    control,
) -> Spark:
    """A session on the configured master (or Spark Connect server), with the catalog of the
    warehouse_dir registered: `patterns` holds the glob of each file source that has files.
    `control` is the connection state goes through."""
    from pyspark.sql import SparkSession

    logging.getLogger("SQLQueryContextLogger").disabled = True  # our errors say it in one line
    if (settings.master or "local").startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no hostname warning, no network
    warehouse = Path(settings.warehouse_dir or root / "spark-warehouse").resolve()
    warehouse.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("orchestrator")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = builder.master(settings.master or "local[2]")
        for key, value in _session_conf(warehouse).items():
            builder = builder.config(key, value)
    for key, value in settings.conf.items():
        builder = builder.config(key, value)
    log = warehouse / "_logs" / "spark-driver.log"
    try:
        with _stderr_to(log):  # the JVM's own chatter goes to the log, not the terminal
            session = builder.getOrCreate()
    except Exception as exc:
        raise WarehouseError(
            f"Spark did not start: {first_line(exc, named=False)} (see {log})"
        ) from None
    if settings.remote:
        # a Connect server keeps its own static settings; ours that a session may set, it sets
        for key, value in _session_conf(warehouse).items():
            if key.startswith("spark.sql.") and "warehouse" not in key:
                session.conf.set(key, value)
    else:
        session.sparkContext.setLogLevel("ERROR")
    shared = _Shared(session, settings, root, sources, control)
    shared.remote = bool(settings.remote)
    shared.patterns = dict(patterns)
    engine = Spark(shared, session)
    engine.register_catalog()
    return engine


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 pointed at `path` while a JVM is launched (it inherits it)."""
    import sys

    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def relations_on_disk(settings: EngineSettings, root: Path, control) -> dict[str, str]:
    """What a session would register, read without starting one: the table directories of
    the warehouse_dir, and the views the state remembers."""
    from . import state

    warehouse = Path(settings.warehouse_dir or root / "spark-warehouse").resolve()
    found: dict[str, str] = {}
    if warehouse.is_dir():
        for schema_dir in (p for p in warehouse.iterdir() if _is_schema_dir(p)):
            for table_dir in schema_dir.iterdir():
                if _is_table_dir(table_dir):
                    found[f"{schema_dir.name}.{table_dir.name}".lower()] = "table"
    if state.has_state(control):
        found.update({name.lower(): "view" for name in state.spark_views(control)})
    return found


def table_files(settings: EngineSettings, root: Path, name: str) -> list[str]:
    """The data files of table `name` in the warehouse_dir, as Spark lists them (none under
    `_` or `.`): how a source that is a table is probed on Spark without starting a session."""
    schema, _, table = name.lower().partition(".")
    warehouse = Path(settings.warehouse_dir or root / "spark-warehouse").resolve()
    return [str(file) for file in committed_files(warehouse / schema / table)]


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


def _is_table_dir(path: Path) -> bool:
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


def _session_conf(warehouse: Path) -> dict[str, str]:
    return {
        "spark.sql.warehouse.dir": str(warehouse / "_spark_managed"),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        "spark.scheduler.mode": "FAIR",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
        "spark.driver.extraJavaOptions": (
            f"-Dlog4j2.configurationFile=file:{Path(__file__).with_name('spark_log4j2.properties')}"
            f" -Dderby.system.home={warehouse / '_derby'}"
        ),
    }


class Spark:
    """An `Engine` on one Spark session (a cursor is a new session on the same context)."""

    name = "spark"

    def __init__(self, shared: _Shared, session):
        self.shared = shared
        self.session = session
        self.search_path: tuple[str, ...] = ()
        self.control = shared.control
        self.files: dict[str, tuple[str, ...] | None] = {}  # source -> the window's files
        self.bound: dict[str, tuple[str, ...]] = {}  # source -> files its temp view reads
        self.group = ""

    # the Engine protocol --------------------------------------------------------------------

    @property
    def state(self):
        """Where state rows go: the control connection (no Spark transaction could hold both)."""
        return self.control

    @property
    def writes(self):
        from . import spark_writes

        return spark_writes

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> _Result:
        if params:
            raise WarehouseError("the Spark engine takes no statement parameters")
        text = statement.strip().rstrip(";").strip()
        if not isinstance(statement, Native):
            handled = self._session_statement(text)
            if handled is not None:
                return handled
            text = self.translate(text)
        return self._run(text)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        raise WarehouseError("the Spark engine does not write rows one by one")

    @contextmanager
    def transaction(self) -> Iterator[_NoTransaction]:
        """Spark commits each statement on its own, and offers no transaction over several
        (no Delta or Iceberg here). Writes are ordered instead so that each one is idempotent:
        staged, audited and checked first, then published, and recorded last (`state`)."""
        yield _NoTransaction()

    def describe(self, query: str) -> list[tuple[str, str]]:
        text = query if isinstance(query, Native) else self.translate(query.strip().rstrip(";"))
        frame = self._frame(text)
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in frame.schema.fields]

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def statement_types(self, text: str) -> list[str]:
        import sqlglot

        return [type(s).__name__.lower() for s in sqlglot.parse(text, read="duckdb") if s]

    def cursor(self) -> Spark:
        """A new Spark session on the same context: its own temporary views and settings, and
        its own cursor on the control connection. On Spark Connect the client session is
        shared (each would be a connection of its own): views are named per cursor instead."""
        session = self.session if self.shared.remote else self.session.newSession()
        cursor = Spark(self.shared, session)
        cursor.control = self.control.cursor()
        return cursor

    def interrupt(self) -> None:
        if not self.group:
            return
        if self.shared.remote:
            self.session.interruptTag(self.group)
        else:
            self.shared.session.sparkContext.cancelJobGroup(self.group)

    def close(self) -> None:
        """Cursors share the context; the engine stops it when it closes (`stop`)."""

    def stop(self) -> None:
        self.shared.session.stop()

    # what is Spark's own --------------------------------------------------------------------

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

    def bind_files(self, source: str, files: list[str] | None) -> None:
        """The files a read-by-partition source means on this cursor (None: all of them)."""
        self.files[source] = tuple(files) if files is not None else None

    def register_catalog(self) -> None:
        """Tell the session catalog what the warehouse_dir holds: every table directory, the
        file sources, then the views the state remembers (in an order that binds)."""
        from . import state

        warehouse = self.shared.warehouse
        for schema_dir in sorted(p for p in warehouse.iterdir() if _is_schema_dir(p)):
            self._run(f"CREATE DATABASE IF NOT EXISTS {self.quote(schema_dir.name)}")
            for table_dir in sorted(p for p in schema_dir.iterdir() if _is_table_dir(p)):
                self.register_table(schema_dir.name, table_dir.name)
        for source in self.shared.sources.values():
            self.register_source(source)
        control = self.shared.control
        pending = dict(state.spark_views(control)) if control and state.has_state(control) else {}
        while pending:
            progressed = False
            for name, statement in list(pending.items()):
                try:
                    self._run(statement)
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
        if shared.state_ready or not _READS_STATE.search(text):
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
        from .state import journal

        directory = self.shared.warehouse / "orchestrator"
        tables = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        if tables:
            self._run("CREATE DATABASE IF NOT EXISTS orchestrator")
        for table in tables:
            if not any((directory / table).glob("*.parquet")):
                continue
            log = f"orchestrator.{self.quote('_log_' + table)}"
            self._run(f"DROP TABLE IF EXISTS {log}")
            self._run(
                f"CREATE TABLE {log} USING parquet OPTIONS (mergeSchema 'true') "
                f"LOCATION {_literal(str(directory / table))}"
            )
            self._run(
                f"CREATE OR REPLACE VIEW orchestrator.{self.quote(table)} AS "
                f"{journal.spark_current_sql(log)}"
            )

    def register_table(self, schema: str, table: str) -> None:
        """A table directory in the catalog; one Spark cannot read (no data file: a write
        cut short before its commit) counts as missing, so its model is built again.

        A partitioned table with a layout (`LAYOUT`) is registered in `DATA_SCHEMA`, with the
        layout's schema (so that it exists with no rows), and the model's name is a view of
        it in the SELECT's order: `select *` reads the columns in the order DuckDB gives,
        while writes still replace whole partitions of the table (`data_relation`)."""
        path = self.location(schema, table)
        name = f"{self.quote(schema)}.{self.quote(table)}"
        self.drop_table(schema, table)
        self.known(f"{schema}.{table}", None)
        if not _is_table_dir(path):
            return
        layout = read_layout(path)
        data = f"{DATA_SCHEMA}.{self.quote(f'{schema}__{table}'.lower())}" if layout else name
        try:
            if layout:
                columns = ", ".join(f"{self.quote(n)} {t}" for n, t in layout["columns"])
                self._run(f"CREATE DATABASE IF NOT EXISTS {DATA_SCHEMA}")
                self._run(f"DROP TABLE IF EXISTS {data}")
                self._run(
                    f"CREATE TABLE {data} ({columns}) USING parquet PARTITIONED BY "
                    f"({self.quote(layout['partition_by'])}) LOCATION {_literal(str(path))}"
                )
            else:
                self._run(
                    f"CREATE TABLE {name} USING parquet OPTIONS (mergeSchema 'true') "
                    f"LOCATION {_literal(str(path))}"
                )
            if any(p.is_dir() and "=" in p.name for p in path.iterdir()):
                self._run(f"ALTER TABLE {data} RECOVER PARTITIONS")
            if layout:
                listed = ", ".join(self.quote(n) for n, _ in layout["columns"])
                self._run(f"CREATE OR REPLACE VIEW {name} AS SELECT {listed} FROM {data}")
                with self.shared.lock:
                    self.shared.data[f"{schema}.{table}".lower()] = data
        except SparkError:
            self.drop_table(schema, table)
            self._run(f"DROP TABLE IF EXISTS {data}")
            return
        self.known(f"{schema}.{table}", "table")

    def data_relation(self, schema: str, table: str) -> str:
        """The table that writes go to under a model's name (see `register_table`)."""
        with self.shared.lock:
            data = self.shared.data.get(f"{schema}.{table}".lower())
        return data or f"{self.quote(schema)}.{self.quote(table)}"

    def drop_table(self, schema: str, table: str) -> None:
        """Drop the table under a name: its ordering view and its table, or the table."""
        with self.shared.lock:
            data = self.shared.data.pop(f"{schema}.{table}".lower(), None)
        name = f"{self.quote(schema)}.{self.quote(table)}"
        if data:
            self._run(f"DROP VIEW IF EXISTS {name}")
            self._run(f"DROP TABLE IF EXISTS {data}")
        else:
            self._run(f"DROP TABLE IF EXISTS {name}")

    def spark_columns(self, query: str) -> list[tuple[str, str]]:
        """The columns of a Spark SQL query with their Spark types, by analysis alone."""
        return [(f.name, f.dataType.simpleString()) for f in self._frame(query).schema.fields]

    def register_source(self, source: Source) -> None:
        """A declared file source as a table over its files (all of them), in its schema."""
        pattern = self.shared.patterns.get(source.name)
        if pattern is None:
            return  # no file yet: its readers wait
        schema, table = source.name.split(".")
        self._run(f"CREATE DATABASE IF NOT EXISTS {self.quote(schema)}")
        name = f"{self.quote(schema)}.{self.quote(table)}"
        self._run(f"DROP TABLE IF EXISTS {name}")
        self._run(
            f"CREATE TABLE {name} {self._source_columns(source)}USING {source.format} "
            f"OPTIONS ({self._source_options(source, pattern)})"
        )
        self.known(source.name, "view")

    # inside ------------------------------------------------------------------------------

    def _source_columns(self, source: Source) -> str:
        if not source.columns or source.format != "csv":
            return ""
        return "(" + ", ".join(f"{self.quote(n)} {spark_type(t)}" for n, t in source.columns) + ") "

    def _source_options(self, source: Source, path: str) -> str:
        options = {"path": path}
        if source.format == "csv":
            options["header"] = "true"
            if not source.columns:
                options["inferSchema"] = "true"
            options["enforceSchema"] = "false"
        if source.format == "json":
            options["multiLine"] = "false"
        return ", ".join(f"{_literal(k)} {_literal(v)}" for k, v in options.items())

    def _session_statement(self, text: str) -> _Result | None:
        """DuckDB session settings the layers above issue, kept on this cursor instead."""
        match = re.match(r"(?is)^SET\s+search_path\s*=\s*'([^']*)'$", text)
        if match:
            self.search_path = tuple(s.strip().strip('"') for s in match.group(1).split(","))
            return _Result(None, [])
        if re.match(r"(?is)^(SET|RESET)\s+(VARIABLE|GLOBAL)\b", text):
            return _Result(None, [])  # DuckDB's file-list and clock variables: see bind_files
        return None

    def model_sql(self, model, rendered: str) -> Native:
        """A model's query as Spark SQL (transpiled unless written in Spark SQL)."""
        import sqlglot

        if getattr(model, "dialect", "duckdb") == "spark":
            return Native(self._names(sqlglot.parse_one(rendered, read="spark")))
        return Native(self.translate(rendered, model.relpath))

    def translate(self, text: str, relpath: str = "<statement>") -> str:
        """DuckDB SQL as Spark SQL, names resolved: sources read by partition become this
        cursor's view of the window's files, unqualified names take the search path."""
        from . import dialects

        return self._names(dialects.spark_tree(text, relpath))

    def _names(self, tree) -> str:
        from sqlglot import exp

        from . import dialects

        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue
            name = table.name.lower()
            schema = table.db.lower() if table.db else None
            if schema is None and name in ctes:
                continue
            full = f"{schema}.{name}" if schema else self._resolve(name)
            if full is None:
                continue
            view = self._source_view(full)
            if view is not None:
                alias = table.alias_or_name
                table.replace(exp.to_table(view).as_(alias))
            elif schema is None:
                table.set("db", exp.to_identifier(full.split(".")[0]))
        return tree.sql(dialects.spark_dialect(), pretty=True)

    def _resolve(self, name: str) -> str | None:
        known = self.relations()
        for schema in self.search_path:
            candidate = f"{schema.lower()}.{name}"
            if candidate in known or candidate in self._sources():
                return candidate
        return None

    def _sources(self) -> dict[str, Source]:
        return {k.lower(): v for k, v in self.shared.sources.items()}

    def _source_view(self, full: str) -> str | None:
        """The temporary view of a read-by-partition source's window, made when first read."""
        source = self._sources().get(full)
        if source is None or not source.read_by_partition:
            return None
        files = self.files.get(source.name)
        if files is None:
            return None  # every file: the source's table
        self._job_group()  # this cursor's name, also for its views on a shared session
        plain = re.sub(r"\W", "_", source.name)
        view = f"orchestrator_files_{plain}_{self.group.rsplit('-', 1)[1]}"
        if self.bound.get(source.name) != files:
            reader = self.session.read.format(source.format or "csv")
            if (source.format or "csv") == "csv":
                reader = reader.option("header", "true").option("enforceSchema", "false")
                if source.columns:
                    reader = reader.schema(
                        ", ".join(f"`{n}` {spark_type(t)}" for n, t in source.columns)
                    )
                else:
                    reader = reader.option("inferSchema", "true")
            frame = reader.load(list(files)) if files else self._empty(source)
            frame.createOrReplaceTempView(view)
            self.bound[source.name] = files
        return view

    def _empty(self, source: Source):
        table = self.session.table(source.name)
        return table.limit(0)

    def _frame(self, text: str):
        self._state_on_first_read(text)
        self._job_group()
        try:
            return self.session.sql(text)
        except Exception as exc:
            raise _error(exc) from None

    def _run(self, text: str) -> _Result:
        crashpoints.moment()
        database = _CREATE_DATABASE.match(text)
        if database:  # the catalog is this process's: once is enough
            with self.shared.lock:
                if database.group(1).lower() in self.shared.databases:
                    return _Result(None, [])
        frame = self._frame(text)
        if database:
            with self.shared.lock:
                self.shared.databases.add(database.group(1).lower())
        if _returns_rows(text):
            self._job_group()
            try:
                return _Result(frame, [tuple(r) for r in frame.collect()])
            except Exception as exc:
                raise _error(exc) from None
        return _Result(frame, [])

    def _job_group(self) -> None:
        """This thread's jobs in the FAIR pool, under this cursor's group (to cancel them)."""
        if not self.group:
            with self.shared.lock:
                self.shared.groups += 1
                self.group = f"orchestrator-{os.getpid()}-{self.shared.groups}"
        if self.shared.remote:  # Connect: operations of this thread carry the tag
            if self.group not in self.session.getTags():
                self.session.addTag(self.group)
            return
        context = self.shared.session.sparkContext
        context.setLocalProperty("spark.scheduler.pool", POOL)
        context.setJobGroup(self.group, "orchestrator task", interruptOnCancel=True)


_READS_STATE = re.compile(r"(?i)(?<![\w.`])`?orchestrator`?\s*\.")
_CREATE_DATABASE = re.compile(r"(?is)^CREATE DATABASE IF NOT EXISTS (\S+)$")


def _returns_rows(text: str) -> bool:
    head = text.lstrip("( \n\t").split(None, 1)[0].upper() if text.strip() else ""
    return head in ("SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "FROM", "TABLE")


def _is_schema_dir(path: Path) -> bool:
    return (
        path.is_dir()
        and not path.name.startswith(("_", "."))
        and path.name not in ("orchestrator", "orchestrator_stage", DATA_SCHEMA)
    )


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


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkError(WarehouseError):
    """A statement Spark refused or failed; `transient` when the cluster, not the SQL, failed."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def _error(exc: BaseException) -> Exception:
    """Spark's error as one line; analysis and parse errors are permanent, the rest (lost
    executors, I/O) may pass."""
    name = type(exc).__name__
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    message = re.sub(r"\s*SQLSTATE: \w+.*$", "", message)
    permanent = name in (
        "AnalysisException",
        "ParseException",
        "IllegalArgumentException",
        "ArithmeticException",
        "NumberFormatException",
        "SparkRuntimeException",
        "DateTimeException",
        "SparkNumberFormatException",
        "SparkArithmeticException",
        "SparkDateTimeException",
    )
    if "USER_RAISED_EXCEPTION" in str(exc):
        permanent = True
    return SparkError(message, transient=not permanent)


def remove_tree(path: Path) -> None:
    crashpoints.moment()
    shutil.rmtree(path, ignore_errors=True)


def move(source: Path, target: Path) -> None:
    """A directory renamed (atomic on one file system)."""
    crashpoints.moment()
    os.replace(source, target)
