"""Environments: a change tried next to production before it lands (`--env NAME`).

An environment builds copies of the models whose SQL or settings differ from what production
built (and of what reads them) into its own relations (`project.environments`), reading every
unchanged upstream from production in place. It lives in the same warehouse, behind the same
one-writer lock: production's tables and state rows are never written by it. `env list` shows
them, `env drop` removes one's relations and state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .. import state
from ..core.errors import UsageError
from ..core.quoting import quote
from ..core.snapshot import EMPTY, Snapshot
from ..core.tasks import Change
from ..engines import engine, readers
from ..project import dag as dag_mod
from ..project import environments as envs
from ..project.dag import DAG
from ..project.environments import Environment
from . import categories
from .session import writing
from .workspace import Workspace, snapshot_of


def changes(dag: DAG, snapshot: Snapshot) -> dict[str, str]:
    """Production models whose current SQL or settings differ from what production built, with
    why: new (production has no build of it), or changed (a build of another version)."""
    found: dict[str, str] = {}
    for name in dag.order:
        model = dag.models[name]
        if model.broken or model.home:
            continue
        built = snapshot.built.get(name) or {}
        if not built:
            found[name] = "new: production has not built it"
        elif any(b.version != model.version for b in built.values()):
            found[name] = "changed: its SQL or settings differ from production's build"
    return found


def plan_environment(
    dag: DAG, snapshot: Snapshot, categories: Mapping[str, Change] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """What an environment builds, with why: the changed models, and everything reading a
    breaking change (which must read the changed data to show what it does); and the changed
    models it leaves to production, with why (forward-only changes apply to new partitions)."""
    categories = categories or {}
    reasons = changes(dag, snapshot)
    left = {}
    for name in list(reasons):
        change = categories.get(name)
        if change is not None:
            if change.category == "forward-only":
                left[name] = f"forward-only: {change.detail}"
                del reasons[name]
            else:
                reasons[name] = f"{reasons[name]} ({change.text})"
    breaking = [n for n in reasons if _breaking(categories.get(n))]
    for name in dag.ordered(dag.descendants(breaking)):
        if name not in reasons:
            first = next(up for up in dag.upstream[name] if up in reasons)
            reasons[name] = f"reads {first}"
    return reasons, left


def _breaking(change: Change | None) -> bool:
    return change is None or change.category == "breaking"


def environment_workspace(ws: Workspace, name: str) -> Workspace:
    """The workspace of `--env NAME`: production's project with the environment's copies, whose
    commands select only the copies."""
    env = envs.check_name(name)
    if ws.project.settings.engine.kind == "spark":
        raise UsageError(
            "environments run on DuckDB only for now: on Spark a promotion would move several "
            "table directories, which cannot be made atomic for readers; use a DuckDB "
            "warehouse for --env, or a second warehouse_dir as a manual environment"
        )
    snapshot, categories = production_changes(ws)
    reasons, left = plan_environment(ws.dag, snapshot, categories)
    project = envs.with_copies(ws.project, env, reasons)
    copies = {home: envs.copy_name(env, home) for home in reasons}
    environment = Environment(
        env,
        MappingProxyType(copies),
        MappingProxyType(reasons),
        MappingProxyType(left),
        MappingProxyType({n: c.category for n, c in categories.items()}),
    )
    return Workspace(project, dag_mod.build(project), environment)


def production_changes(ws: Workspace) -> tuple[Snapshot, dict[str, Change]]:
    """Production's snapshot and the category of each model's change since its builds."""
    if not ws.warehouse.exists():
        return EMPTY, {}
    con = readers.connect(ws.warehouse).con
    try:
        with engine.reading(ws.warehouse):
            snapshot = snapshot_of(ws, con) if state.has_state(con) else EMPTY
            variables = dict(ws.project.settings.vars)
            return snapshot, categories.changes(ws, con, snapshot, variables)
    finally:
        con.close()


@dataclass(frozen=True)
class EnvSummary:
    """One environment for `env list`: what it builds and how far it got."""

    name: str
    row: state.EnvironmentRow | None
    relations: tuple[str, ...]
    partitions: int


def list_environments(ws: Workspace) -> list[EnvSummary]:
    """Every environment the warehouse knows (a row, or relations left in its schemas)."""
    if not ws.warehouse.exists():
        return []
    con = readers.connect(ws.warehouse).con
    try:
        with engine.reading(ws.warehouse):
            return _summaries(con) if state.has_state(con) else []
    finally:
        con.close()


def _summaries(con) -> list[EnvSummary]:
    found = []
    for row in state.environments(con):
        suffix = envs.SEPARATOR + row.name.replace("-", "_")
        found.append(EnvSummary(row.name, row, tuple(_relations(con, suffix)), _built(con, suffix)))
    return found


def drop_environment(ws: Workspace, name: str, wait: float | None = None) -> EnvSummary:
    """Drop an environment's relations and its rows in the state, in one transaction."""
    env = envs.check_name(name)
    suffix = envs.SEPARATOR + env.replace("-", "_")
    with writing(ws, f"env drop {env}", wait) as (con, _lock, _abandoned):
        row = state.environment(con, env)
        relations = _relations(con, suffix)
        if row is None and not relations:
            known = ", ".join(r.name for r in state.environments(con)) or "none"
            raise UsageError(f"no environment named {env!r} (known: {known})")
        partitions = _built(con, suffix)
        with con.transaction():
            for relation, kind in _kinds(con, suffix):
                con.execute(f"DROP {kind} IF EXISTS {relation}")
            for schema in _schemas(con, suffix):
                con.execute(f"DROP SCHEMA IF EXISTS {quote(schema)}")
            state.forget_environment(con, env, suffix)
        return EnvSummary(env, row, tuple(relations), partitions)


def _schemas(con, suffix: str) -> list[str]:
    rows = con.execute(
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE catalog_name = current_database() AND ends_with(schema_name, ?)",
        [suffix],
    ).fetchall()
    return sorted(r[0] for r in rows)


def _kinds(con, suffix: str) -> list[tuple[str, str]]:
    """(quoted relation, VIEW or TABLE) of an environment's relations, views first."""
    rows = con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND ends_with(table_schema, ?) "
        "ORDER BY table_type DESC, table_schema, table_name",
        [suffix],
    ).fetchall()
    return [
        (f"{quote(s)}.{quote(t)}", "VIEW" if kind == "VIEW" else "TABLE") for s, t, kind in rows
    ]


def _relations(con, suffix: str) -> list[str]:
    return [relation.replace('"', "") for relation, _ in _kinds(con, suffix)]


def _built(con, suffix: str) -> int:
    row = con.execute(
        f"SELECT count(*) FROM {state.SCHEMA}.partitions "
        "WHERE ends_with(split_part(model, '.', 1), ?) AND built_run IS NOT NULL",
        [suffix],
    ).fetchone()
    return int(row[0]) if row else 0
