"""Keeping the project and the warehouse in order: `init`, the warehouse's first state,
`prune` of removed models, the sources' freshness, and dual-run verification.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .. import state
from ..core import clock
from ..core.errors import (
    UsageError,
    suggest,
)
from ..core.status import SOURCE_PROBLEMS
from ..engines import engine
from ..execution import (
    Reporter,
)
from ..project.scaffold import scaffold
from ..sources import freshness, survey
from .building import run
from .environments import env_schemas
from .session import (
    data_engine,
    recorded_run,
    start_spark,
    writing,
)
from .workspace import (
    Selection,
    Workspace,
    now,
    open_workspace,
    reading,
    request_for,
    snapshot_of,
)


def init_warehouse(ws: Workspace) -> None:
    with writing(ws, "init"):
        pass


def _removed(ws: Workspace, con, relations) -> list[tuple[str, str]]:
    """Models this tool built (they have partition rows) that the project no longer has, with
    what stands under their name: `table`, `view` or `gone`. An environment's copies are not
    production's models: `env drop` removes them."""
    if not state.has_state(con):
        return []
    copies = {s for row in state.environments(con) for s in env_schemas(ws, row.name, row)}
    names = sorted(
        name
        for name in state.recorded_models(con) - set(ws.dag.models)
        if name.split(".")[0] not in copies
    )
    return [(name, relations.get(name, "gone")) for name in names]


def removed_models(ws: Workspace) -> list[tuple[str, str]]:
    """What `prune` would drop (read-only)."""
    if not ws.warehouse.exists():
        return []
    with reading(ws) as (con, snapshot, _):
        return _removed(ws, con, snapshot.relations)


def prune(ws: Workspace, wait: float | None = None) -> list[tuple[str, str]]:
    """Drop the relations of models removed from the project, forget their partitions and
    close their incidents as `removed`: one recorded run, one transaction."""
    with writing(ws, "prune", wait) as (con, _lock, _), data_engine(ws, con) as data:
        removed = _removed(ws, con, snapshot_of(ws, con).relations)
        if not removed:
            return []
        with recorded_run(con, "prune", " ".join(n for n, _ in removed), {}) as recording:
            at = clock.now()
            with con.transaction():
                for name, kind in removed:
                    if kind != "gone":
                        engine.run_step(data, data.writes.drop_named(name, kind))
                    state.forget_model(con, name)
                for incident in state.open_incidents(con):
                    if incident.kind == "model" and incident.subject in {n for n, _ in removed}:
                        state.close_incident(con, incident, at, recording.run_id, "removed")
            recording.finish("success", {"tasks": len(removed), "succeeded": len(removed)})
        return removed


def init_project(root: Path, warehouse_path: Path | None = None) -> list[Path]:
    """Create what is missing of a project skeleton, then the warehouse and its state schema."""
    created = scaffold(root, clock.now().date())
    ws = open_workspace(root, warehouse_path)
    if not ws.warehouse.exists():
        created.append(ws.warehouse)
    init_warehouse(ws)
    return created


def source_freshness(
    ws: Workspace,
    names: Sequence[str] = (),
    at: datetime | None = None,
    wait: float | None = None,
) -> tuple[int, list[freshness.SourceStatus]]:
    """Evaluate the declared sources (all, or `names`) and record the results."""
    sources = ws.project.sources
    unknown = [n for n in names if n.lower() not in sources]
    if unknown:
        raise UsageError(f"no declared source named '{unknown[0]}'{suggest(unknown[0], sources)}")
    chosen = [sources[n.lower()] for n in names] if names else list(sources.values())
    with writing(ws, "freshness " + " ".join(names), wait) as (con, _lock, _):
        inspector = freshness.Inspector(con, ws.project, at or now(), survey.take(ws.project))
        statuses = [inspector.source_status(s) for s in chosen]
        with recorded_run(con, "freshness", " ".join(names), {}) as recording:
            run_id = recording.run_id
            state.insert_freshness(con, [s.row(run_id) for s in statuses])
            bad = sum(1 for s in statuses if s.status in SOURCE_PROBLEMS)
            recording.finish(
                "failed" if bad else "success",
                {"tasks": len(statuses), "succeeded": len(statuses) - bad, "failed": bad},
            )
        return run_id, statuses


def verify_engines(
    ws: Workspace, selection: Selection, scratch: Path, reporter: Reporter | None = None
):
    """Build the selection on DuckDB and on Spark under `scratch`, then compare every table the
    selection holds (see `verify`). Nothing of the project's own warehouse is touched."""
    from ..engines.spark.native import Native
    from . import verify

    duck_ws, spark_ws = verify.scratch_workspaces(ws, scratch)
    chosen = sorted(request_for(ws, selection).selected, key=ws.dag.order.index)
    statuses = []
    for side in (duck_ws, spark_ws):
        result = run(side, selection, command="verify", reporter=reporter)
        statuses.append(result.status)
    compared, differences = [], []
    duck = engine.connect(duck_ws.warehouse, read_only=True)
    control = engine.connect(spark_ws.warehouse, read_only=True)
    spark = start_spark(spark_ws, control)
    try:
        on_spark = spark.relations()
        for name in chosen:
            model = ws.dag.models[name]
            if name.lower() not in on_spark:
                differences.append(verify.Difference(name, "not built on spark"))
                continue
            try:
                got = duck.execute(f"SELECT * FROM {model.relation}")
            except Exception:
                differences.append(verify.Difference(name, "not built on duckdb"))
                continue
            duck_rows, duck_columns = got.fetchall(), [d[0] for d in got.description]
            found = spark.execute(Native(f"SELECT * FROM `{model.schema}`.`{model.table}`"))
            spark_rows, spark_columns = found.fetchall(), [d[0] for d in found.description]
            compared.append((name, len(duck_rows)))
            difference = verify.compare(name, duck_rows, duck_columns, spark_rows, spark_columns)
            if difference:
                differences.append(difference)
    finally:
        spark.stop()
        control.close()
        duck.close()
    return verify.Verdict(tuple(compared), tuple(differences), statuses[0], statuses[1])
