"""What the faces ask without writing: a read-only SQL query (on DuckDB or Spark), the status
of models and runs, the DAG's order, and a model's compiled SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from .. import state
from ..core import clock
from ..core.errors import (
    ProjectError,
    UsageError,
    WarehouseBusy,
    WarehouseError,
    suggest,
)
from ..core.partitions import window_for_key
from ..engines import engine, readers
from ..project.selectors import select as select_models
from ..sql.model_sql import cursor_query, render_model
from ..sql.references import reads_only_schema
from ..sql.template import render
from ..statements import materialize
from . import views
from .session import (
    start_spark,
)
from .workspace import (
    Workspace,
)

READ_ONLY_STATEMENTS = frozenset({"select", "explain"})
"""What `orchestrator sql` runs. A read-only connection still lets COPY ... TO, EXPORT or
ATTACH write files elsewhere, so every other kind of statement is refused before it runs."""


def query(
    ws_warehouse: Path, sql: str, serving: Path | None = None, env: str | None = None
) -> tuple[list[str], list[tuple]]:
    """Run a read-only query against the warehouse: (column names, rows). While a run holds
    it, a query of the state reads the last state copy; one of the models' data reads the
    serving copy when there is one (`serving`), and is refused otherwise (the state copy holds
    no data: an empty answer would be a wrong one)."""
    import duckdb

    con, copy = readers.connect(ws_warehouse)
    if copy and not reads_only_schema(sql, state.SCHEMA):
        con.close()
        if serving is None or not serving.exists():
            raise WarehouseBusy(
                f"the warehouse {ws_warehouse} is being written, and this query reads the "
                "models' data: run it when the run finishes (--wait), or read a serving copy "
                "([serve] copy in orchestrator.toml)"
            )
        con = engine.connect(serving, read_only=True)
    try:
        pinned = clock.pinned()
        if pinned is not None:  # the readiness view judges "now" as of the pinned time
            con.execute(materialize.set_clock(pinned))
        if env is not None:
            sql = in_environment(con, sql, env)
        kinds = con.statement_types(sql)
        if not kinds:
            raise UsageError("nothing to run: the query is empty")
        writes = sorted(set(kinds) - READ_ONLY_STATEMENTS)
        if writes:
            kinds_written = ", ".join(w.upper() for w in writes)
            raise UsageError(
                f"query failed: the sql command is read-only: {kinds_written} statements are "
                "refused (use SELECT, or EXPLAIN a SELECT)"
            )
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, cursor.fetchall() if cursor.description else []
    except duckdb.Error as exc:
        lines = str(exc).strip().splitlines()
        message = lines[0] if lines else type(exc).__name__
        if "read-only" in message:
            message = "the sql command is read-only: " + message
        raise UsageError(f"query failed: {message}") from None
    finally:
        con.close()


def in_environment(con, sql: str, env: str) -> str:
    """`sql` reading environment `env`'s copies where it has them (by production's names), and
    production for the rest: what `sql --env` runs."""
    from ..sql.parse import remap

    row = state.environment(con, env) if state.has_state(con) else None
    if row is None:
        raise UsageError(f"no environment named {env!r}: `orchestrator run --env {env}` builds it")
    relations = {home: '"{}"."{}"'.format(*copy.split(".", 1)) for home, copy in row.models.items()}
    try:
        return remap(sql, relations, "<query>")
    except ProjectError:  # not one query: the read-only check says what it is
        return sql


def query_spark(ws: Workspace, sql: str) -> tuple[list[str], list[tuple]]:
    """A read-only Spark SQL query on a Spark project: the models' tables and views, the
    sources, and the state (`orchestrator.*`, read from its journal)."""
    import sqlglot

    from ..engines.spark.native import Native

    try:
        statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise UsageError(f"query failed: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise UsageError("nothing to run: the query is empty")
    written = sorted(
        {type(s).__name__.upper() for s in statements if not isinstance(s, _spark_reads())}
    )
    if written:
        raise UsageError(
            f"query failed: the sql command is read-only: {', '.join(written)} statements are "
            "refused (use SELECT)"
        )
    control = engine.connect(ws.warehouse, read_only=True) if ws.warehouse.exists() else None
    spark = start_spark(ws, control)
    try:
        result = spark.execute(Native(sql.strip().rstrip(";")))
        return [d[0] for d in result.description], result.fetchall()
    except WarehouseError as exc:
        raise UsageError(f"query failed: {exc}") from None
    finally:
        spark.stop()
        if control is not None:
            control.close()


def _spark_reads():
    from sqlglot import exp

    return (exp.Select, exp.SetOperation, exp.Describe, getattr(exp, "Show", exp.Describe))


def status(
    ws: Workspace,
    selectors: Sequence[str] = (),
    *,
    partitions: bool = False,
    owner: str | None = None,
) -> tuple[list[str], list[tuple]]:
    """Per model (or per partition): what is built, and what `run` would still do or hold back."""
    rows = views.status(ws, selectors, partitions=partitions, owner=owner)
    return list(views.PartitionRow._fields if partitions else views.ModelRow._fields), list(rows)


def list_runs(path: Path, limit: int) -> tuple[list[str], list[tuple]]:
    """The latest runs; none (not an error) before the first run created the warehouse."""
    rows = views.runs(path, limit)
    return (list(views.RunRow._fields) if rows else ["run_id"]), list(rows)


def show_run(path: Path, run_id: int) -> tuple[state.RunRecord, list[str], list[tuple]]:
    record, rows = views.run_detail(path, run_id)
    return record, list(views.TaskRow._fields), list(rows)


def dag_order(ws: Workspace, selectors: Sequence[str]) -> list[str]:
    """The selected models in dependency order (the CLI prints them with what each reads)."""
    return ws.dag.ordered(select_models(ws.dag, selectors))


def compile_model(
    ws: Workspace, name: str, engine: str, partition: str | None, variables: Mapping[str, str]
) -> str:
    """The SQL `name` runs (a partition's window for an incremental model: the one asked, or
    the latest `run` keeps), rendered, and for Spark transpiled (see `dialects`)."""
    from ..engines import engine as engines
    from ..plan.windows import expected_windows
    from ..sql import dialects

    model = ws.dag.models.get(name)
    if model is None:
        raise UsageError(f"no model named '{name}'{suggest(name, ws.dag.models)}")
    window = None
    if model.partitioned:
        if partition is not None:
            try:
                window = window_for_key(partition, model.grain)
            except ValueError:
                raise UsageError(
                    f"--partition {partition!r} is not a {model.grain} partition key "
                    "(e.g. 2024-01-05, 2024-01-05T07, 2024-01)"
                ) from None
        else:
            found = expected_windows(model, clock.now())
            window = found[-1] if found else None
    elif partition is not None:
        raise UsageError(f"--partition: {name} is not partitioned (kind: {model.kind})")
    values = {**ws.project.settings.vars, **variables}
    literals = model.window_literals(window)
    if model.renderer == "dbt":  # its SQL is made from what the warehouse holds now
        if not ws.warehouse.exists():
            raise UsageError(f"{name} renders with data from the warehouse, which does not exist")
        con = engines.connect(ws.warehouse, read_only=True)
        try:
            con.execute(
                materialize.search_path(model.lookup_schema, ws.project.settings.default_schema)
            )
            rendered = render_model(model, literals, values, cursor_query(con))
        finally:
            con.close()
    else:
        rendered = render(model.template, literals, values, path=model.relpath)
    if engine == "spark":  # the header is ours, not the engine's: left out
        lines = rendered.splitlines()
        first = next(
            (i for i, t in enumerate(lines) if t.strip() and not t.strip().startswith("--")), 0
        )
        body = "\n".join([""] * first + lines[first:])  # blank lines keep the line numbers
        if model.dialect != "spark":
            rendered = dialects.to_spark(body, model.relpath)
        else:
            rendered = body
    where = f" [{window.key}]" if window else ""
    return f"-- {name}{where} on {engine}\n{rendered.strip()}\n"


def check_spark_sql(ws: Workspace) -> None:
    """When the project loads for Spark: every model's SQL transpiles, or ProjectError names
    the file, the line and a rewrite (before anything is written)."""
    from ..core.errors import ProjectError
    from ..core.partitions import Window
    from ..sql import dialects

    for name in ws.dag.order:
        model = ws.dag.models[name]
        if model.dialect == "spark" or model.broken:
            continue
        if model.seed:
            raise ProjectError(
                "seeds are not loaded on Spark yet: declare the CSV as a source "
                f'([sources."{model.name}"] path = "{model.relpath}") and read it from a model',
                model.relpath,
            )
        if model.key_audit == "warn":
            raise ProjectError(
                "key_audit: warn is not on Spark yet (its merges refuse repeated keys): remove "
                "it, or run this project on DuckDB",
                model.relpath,
                model.header_lines.get("key_audit"),
            )
        if model.renderer == "dbt":
            raise ProjectError(
                "renderer: dbt is not on Spark (dbt's Jinja renders DuckDB SQL): rewrite the "
                "model in SQL, or run this project on DuckDB",
                model.relpath,
                model.header_lines.get("renderer"),
            )
        if model.history is not None:
            raise ProjectError(
                "snapshots are not kept on Spark yet (their history needs an UPDATE Spark "
                "cannot make without Delta or Iceberg): run this project on DuckDB",
                model.relpath,
                model.header_lines.get("kind"),
            )
        window = Window.containing(datetime(2000, 1, 1), model.grain) if model.partitioned else None
        rendered = render(
            model.template,
            model.window_literals(window),
            ws.project.settings.vars,
            path=model.relpath,
        )
        dialects.to_spark(rendered, model.relpath)
