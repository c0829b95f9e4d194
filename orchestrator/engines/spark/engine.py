"""The Spark engine: an `Engine` over a SparkSession, for projects with `[engine] kind = "spark"`.

Statements reach it in the SQL-text layer's language (DuckDB SQL) and are transpiled by
`dialects` before they run, so checks, counts and audits are written once. Writes come from
`spark_writes` already in Spark SQL (`Native`). Unqualified table names resolve as DuckDB's
search path would (the model's schema, then the default one), and a file source read by
partition is a per-cursor view over the task's window of files: each cursor is its own Spark
session (own temporary views, shared catalog), and its jobs run in the FAIR pool `orchestrator`
under a job group of their own, so that a timeout or a cancel can stop exactly them.

The catalog (the warehouse_dir's tables, the sources, the views the state remembers) is
`catalog`'s; the session's start-up is `session`'s. State rows never go through this engine:
`state` is the control connection (see `state.journal`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...core import crashpoints
from ...core.errors import WarehouseError
from ...project.model import EngineSettings, Source
from . import writes as spark_writes
from .catalog import Catalog, Shared
from .files import warehouse_of
from .native import Native, duckdb_type, ident, spark_error, spark_type
from .session import open_session

POOL = "orchestrator"
"""The FAIR scheduler pool every task's jobs run in: independent tasks share the cluster."""


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
    session = open_session(settings, warehouse_of(settings, root))
    shared = Shared(session, settings, root, sources, control)
    shared.remote = bool(settings.remote)
    shared.patterns = dict(patterns)
    engine = Spark(shared, session)
    engine.register_catalog()
    return engine


class Spark(Catalog):
    """An `Engine` on one Spark session (a cursor is a new session on the same context)."""

    name = "spark"

    def __init__(self, shared: Shared, session):
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
        return ident(identifier)

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

    # what is Spark's own (the tables and views it holds: `Catalog`) ------------------------

    def bind_files(self, source: str, files: list[str] | None) -> None:
        """The files a read-by-partition source means on this cursor (None: all of them)."""
        self.files[source] = tuple(files) if files is not None else None

    def spark_columns(self, query: str) -> list[tuple[str, str]]:
        """The columns of a Spark SQL query with their Spark types, by analysis alone."""
        return [(f.name, f.dataType.simpleString()) for f in self._frame(query).schema.fields]

    # inside ------------------------------------------------------------------------------

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
        from ...sql import dialects

        return self._names(dialects.spark_tree(text, relpath))

    def _names(self, tree) -> str:
        from sqlglot import exp

        from ...sql import dialects

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
            raise spark_error(exc) from None

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
                raise spark_error(exc) from None
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


_CREATE_DATABASE = re.compile(r"(?is)^CREATE DATABASE IF NOT EXISTS (\S+)$")


def _returns_rows(text: str) -> bool:
    head = text.lstrip("( \n\t").split(None, 1)[0].upper() if text.strip() else ""
    return head in ("SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "FROM", "TABLE")
