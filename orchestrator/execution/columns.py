"""How an incremental table follows its query's columns, decided in one place for both moments
that need it: while planning (refuse a changed type before anything is written) and inside a
task's transaction (add new columns; refuse a changed type, should planning have missed it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..core.errors import ProjectError, WarehouseError
from ..core.snapshot import Snapshot
from ..core.tasks import Action, Plan, Reason, Task
from ..plan.staleness import used_vars
from ..project.dag import DAG
from ..project.model import Model
from ..sql.model_sql import cursor_query, render_model
from ..statements import materialize


def column_change(engine, model: Model, rendered: str) -> tuple[list[str], str | None]:
    """The ALTER statements that add the query's new columns to the model's table, or why the
    table cannot follow the query (a changed type). Binds the query; reads no data."""
    writes = engine.writes
    new = engine.describe(rendered)
    return writes.evolve(model, model.relation, new, writes.existing_columns(engine, model))


def refuse_changed_types(
    plan: Plan,
    dag: DAG,
    engine,
    snapshot: Snapshot,
    variables: Mapping[str, str],
    default_schema: str = "main",
    session: Callable[[Task], list[tuple[str, list[str] | None]]] | None = None,
) -> None:
    """Before anything is written: raise ProjectError (exit 2) when a task would write into an
    incremental table in place and its query now returns a column of another type than the
    table holds (older partitions hold the old type; only a full refresh can change it).

    Only models the plan writes in place are looked at, one DESCRIBE each (`session(task)` as
    in `execute`, so that a source read by partition lists only the task's files). A query that
    cannot be described yet (it reads a table this run creates, a file not there yet) is left
    to the guard in the task itself."""
    import duckdb

    first: dict[str, Task] = {}
    for task in plan.tasks:
        model = dag.models[task.model]
        if (
            task.action is Action.BUILD
            and model.language == "sql"  # a Python model's columns exist when it runs
            and model.partitioned
            and snapshot.relations.get(model.name) == "table"
        ):
            first.setdefault(model.name, task)
    if not first:
        return
    cur = engine.cursor()
    try:
        for name, task in first.items():
            model = dag.models[name]
            rendered = render_model(
                model,
                model.window_literals(task.window),
                used_vars(model, variables),
                cursor_query(cur),
            )
            try:
                cur.execute(materialize.search_path(model.lookup_schema, default_schema))
                for source, files in session(task) if session else ():
                    cur.bind_files(source, files)
                _, refusal = column_change(cur, model, rendered)
            except (duckdb.Error, WarehouseError):
                continue
            if refusal:
                raise ProjectError(f"{refusal} (nothing was written)", model.relpath)
    finally:
        cur.close()


_BINDER_LINE = re.compile(r"\nLINE (\d+):")


def refuse_unbound(
    plan: Plan,
    dag: DAG,
    engine,
    variables: Mapping[str, str],
    default_schema: str = "main",
    session: Callable[[Task], list[tuple[str, list[str] | None]]] | None = None,
) -> None:
    """`plan`: raise ProjectError (file, line, DuckDB's candidates) when a model the plan
    would run names a column what it reads does not have, bound by DuckDB without running
    it (one DESCRIBE per model). Only against inputs whose shape the run keeps: a model
    reading one the plan rebuilds with new SQL is left to the run (its columns may change)."""
    import duckdb

    changed = {
        t.model for t in plan.tasks if t.reason in (Reason.MODEL_CHANGED, Reason.FULL_REFRESH)
    }
    first = plan.first_tasks()
    cur = engine.cursor()
    try:
        for name in dag.ordered(first):
            model, task = dag.models[name], first[name]
            if (
                model.renderer != "ours"
                or model.language != "sql"
                or any(up in changed for up in dag.upstream[name])
            ):
                continue
            rendered = render_model(
                model, model.window_literals(task.window), used_vars(model, variables)
            )
            try:
                cur.execute(materialize.search_path(model.lookup_schema, default_schema))
                for source, files in session(task) if session else ():
                    cur.bind_files(source, files)
                cur.describe(rendered)
            except duckdb.BinderException as exc:
                message = str(exc)
                if "column" not in message.split("\n")[0].lower():
                    continue
                found = _BINDER_LINE.search(message)
                line = int(found.group(1)) - 1 if found else None
                text = message.split("\n\n")[0].replace("\n", "; ")
                raise ProjectError(
                    f"{text} (plan binds the SQL it would run; nothing was written)",
                    model.relpath,
                    line,
                ) from None
            except (duckdb.Error, WarehouseError):
                continue  # what it reads is not there yet: the run says so if it must
    finally:
        cur.close()
