"""The workspace (a loaded project and its DAG) and what a user asks of it, as a planner Request.

Everything a command needs before it plans: who asks, at what time, which models, and the gated
plan (the planner's plan with the sources it reads evaluated, so that what is not ready waits).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from .. import state
from ..core import clock
from ..core.errors import UsageError
from ..core.snapshot import EMPTY, Snapshot
from ..core.tasks import Request
from ..engines import engine, readers
from ..project import dag as dag_mod
from ..project import loader as project_mod
from ..project import selectors, steps
from ..project.dag import DAG
from ..project.environments import Environment
from ..project.model import Project
from ..sources import holdings, survey
from ..sources.survey import Survey


@dataclass(frozen=True)
class Workspace:
    project: Project
    dag: DAG
    # `--env NAME`: the project holds copies of the models the environment builds, and
    # commands select those copies (see `app.environments`)
    env: Environment | None = None

    @property
    def warehouse(self) -> Path:
        return self.project.settings.warehouse


def open_workspace(root: Path | str = ".", warehouse_path: Path | str | None = None) -> Workspace:
    """The project and its DAG, with every job's selection checked against the models. A model
    whose references cannot be right is broken (held back), like one whose file does not load."""
    project = project_mod.load(Path(root), warehouse_path)
    errors = dict(reversed(list(dag_mod.reference_errors(project))))  # the first per model
    if errors:
        models = dict(project.models)
        for name, error in errors.items():
            models[name] = project_mod.broken(models[name], error)
        project = replace(project, models=MappingProxyType(models))
    graph = dag_mod.build(project)
    selectors.check_jobs(graph, project.ops.jobs, project.settings.config_path)
    steps.check_steps(graph, project.steps, project.settings.config_path)
    return Workspace(project, graph)


def now() -> datetime:
    """The time a plan is "as of": the pinned time itself when ORCHESTRATOR_NOW pins the clock
    (so a replay plans exactly as of then), else the current time."""
    return clock.pinned() or clock.now()


def who() -> str:
    return os.environ.get("ORCHESTRATOR_USER") or getpass.getuser()


@dataclass(frozen=True)
class Selection:
    """What the user asked for: which models, and how."""

    selectors: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    vars: Mapping[str, str] | None = None
    full_refresh: bool = False
    backfill: tuple[datetime, datetime] | None = None
    batch_size: int | None = None  # partitions per task, for every selected model


def request_for(
    ws: Workspace, selection: Selection, at: datetime | None = None, *, everything: bool = False
) -> Request:
    """The planner's request for what the user selected; in an environment, its copies of
    that (`everything`: production's models too, as a status of both sides looks at them)."""
    if not ws.dag.models:
        raise UsageError(f"no models: add SQL files under {ws.project.root / 'models'}/")
    chosen = selectors.select(ws.dag, selection.selectors, selection.exclude)
    if not chosen:
        raise UsageError("the selection matches no model (every match was excluded)")
    excluded = selectors.select(ws.dag, selection.exclude) if selection.exclude else set()
    if ws.env is not None and not everything:  # an environment builds its copies only
        chosen, excluded = _copies(ws, chosen, selection), _copies(ws, excluded, None)
    variables = dict(ws.project.settings.vars)
    variables.update(selection.vars or {})
    return Request(
        selected=frozenset(chosen),
        now=at or now(),
        vars=variables,
        full_refresh=selection.full_refresh,
        backfill=selection.backfill,
        excluded=frozenset(excluded),
        batch_size=selection.batch_size,
    )


def _copies(ws: Workspace, names: set[str], selection: Selection | None) -> set[str]:
    """The environment's copies of `names` (a copy selected by its own name counts too)."""
    copies = ws.env.copies
    found = in_scope(ws, names)
    if selection is not None and not found and (selection.selectors or not copies):
        if not selection.selectors:
            return found  # nothing differs: a plan or run with nothing to do
        asked = " ".join(selection.selectors) or "everything"
        raise UsageError(
            f"nothing to build in environment {ws.env.name!r} for {asked}: it builds only the "
            "models that differ from production and what reads them "
            f"({', '.join(sorted(copies)) or 'none differ now'})"
        )
    return found


def in_scope(ws: Workspace, names: set[str]) -> set[str]:
    """The models a command over `names` looks at: in an environment, their copies there."""
    if ws.env is None:
        return set(names)
    copies = ws.env.copies
    return {copies.get(n, n) for n in names if n in copies or ws.dag.models[n].home}


def snapshot_of(ws: Workspace, con) -> Snapshot:
    """The state's snapshot, with the relations the models' engine holds: on Spark the tables
    and views live there, not beside the state."""
    found = state.snapshot(con)
    settings = ws.project.settings.engine
    if settings.kind != "spark":
        return found
    from ..engines.spark import files as spark_files

    relations = {k: v for k, v in found.relations.items() if k not in ws.dag.models}
    relations.update(spark_files.relations_on_disk(settings, ws.project.settings.root, con))
    return replace(found, relations=MappingProxyType(relations))


def read_snapshot(ws: Workspace) -> Snapshot:
    if not ws.warehouse.exists():
        return EMPTY
    con = readers.connect(ws.warehouse).con
    try:
        with engine.reading(ws.warehouse):
            return snapshot_of(ws, con)
    finally:
        con.close()


@contextmanager
def reading(
    ws: Workspace, surveyed: Survey | None = None
) -> Iterator[tuple[object, Snapshot, Survey]]:
    """A read-only connection, the snapshot and the survey of the sources' files (`surveyed`,
    or listed now), for commands that write nothing. Before the first run there is no
    warehouse: an in-memory connection still lets sources be evaluated (files, or "no table
    yet") against an empty snapshot."""
    exists = ws.warehouse.exists()
    con = readers.connect(ws.warehouse).con if exists else engine.memory()
    try:
        found = surveyed or survey.take(ws.project)
        with engine.reading(ws.warehouse):
            snapshot = observed(ws, con, snapshot_of(ws, con), found) if exists else EMPTY
        yield con, snapshot, found
    finally:
        con.close()


def observed(ws: Workspace, con, snapshot: Snapshot, surveyed: Survey) -> Snapshot:
    """The snapshot with what the sources its builds read hold now, so that the planner can
    tell a partition built from a file that has changed since."""
    found = holdings.current(con, ws.project, ws.dag, snapshot, surveyed)
    return replace(snapshot, holdings=MappingProxyType(found)) if found else snapshot
