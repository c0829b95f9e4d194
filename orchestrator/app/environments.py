"""Environments: a change tried next to production before it lands (`--env NAME`).

An environment builds copies of the models whose SQL or settings differ from what production
built (and of what reads them) into its own relations (`project.environments`), reading every
unchanged upstream from production in place. It lives in the same warehouse, behind the same
one-writer lock: production's tables and state rows are never written by it. `env list` shows
them, `env drop` removes one's relations and state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
        if model.home:
            continue
        built = snapshot.built.get(name) or {}
        if model.broken:  # its file here does not load: the environment shows it held back
            found[name] = f"broken here: {model.broken}"
        elif not built:
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
            elif change.detail:
                reasons[name] = f"changed: {change.detail}"
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
    schemas = {m.schema for m in ws.dag.models.values()}
    taken = sorted(s for s in schemas if envs.schema_in(env, s) in schemas)
    if taken:
        raise UsageError(
            f"environment {env!r} would build {taken[0]}'s copies in schema "
            f"{envs.schema_in(env, taken[0])}, where production's models are: choose another name"
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


@contextmanager
def _state(ws: Workspace) -> Iterator[object | None]:
    """The warehouse's state, read-only, for as long as the block reads it (None: no warehouse
    or no state yet)."""
    if not ws.warehouse.exists():
        yield None
        return
    con = readers.connect(ws.warehouse).con
    try:
        with engine.reading(ws.warehouse):
            yield con if state.has_state(con) else None
    finally:
        con.close()


def production_changes(ws: Workspace) -> tuple[Snapshot, dict[str, Change]]:
    """Production's snapshot and the category of each model's change since its builds."""
    with _state(ws) as con:
        if con is None:
            return EMPTY, {}
        snapshot = snapshot_of(ws, con)
        return snapshot, categories.changes(ws, con, snapshot, dict(ws.project.settings.vars))


@dataclass(frozen=True)
class EnvSummary:
    """One environment for `env list`: what it builds and how far it got."""

    name: str
    row: state.EnvironmentRow | None
    relations: tuple[str, ...]
    partitions: int  # built partitions of its copies
    failed: int = 0  # partitions of its copies whose latest attempt was rejected

    @property
    def changed(self) -> list[str]:
        """The models it builds because they changed (not because they read a change)."""
        reasons = self.row.reasons if self.row else {}
        return sorted(m for m, why in reasons.items() if not why.startswith("reads "))


def env_schemas(ws: Workspace, name: str, row: state.EnvironmentRow | None) -> list[str]:
    """The schemas an environment's copies live in: one per schema of the project's models,
    and those its last run built (a model since removed): never a production schema, even one
    whose name happens to end like an environment's."""
    production = {m.schema for m in ws.dag.models.values() if not m.home}
    schemas = {envs.schema_in(name, s) for s in production}
    if row is not None:
        schemas |= {copy.split(".")[0] for copy in row.models.values()}
    return sorted(schemas - production)


def known_environments(ws: Workspace) -> dict[str, state.EnvironmentRow]:
    """The environments the warehouse has a row of, by name."""
    with _state(ws) as con:
        return {row.name: row for row in (state.environments(con) if con else [])}


def list_environments(ws: Workspace) -> list[EnvSummary]:
    """Every environment the warehouse knows."""
    with _state(ws) as con:
        if con is None:
            return []
        return [_summary(ws, con, row.name, row) for row in state.environments(con)]


def _summary(ws: Workspace, con, name: str, row) -> EnvSummary:
    schemas = env_schemas(ws, name, row)
    built, failed = _partitions(con, schemas)
    relations = tuple(r.replace('"', "") for r, _ in _kinds(con, schemas))
    return EnvSummary(name, row, relations, built, failed)


def drop_environment(ws: Workspace, name: str, wait: float | None = None) -> EnvSummary:
    """Drop an environment's relations and the state of its copies, in one transaction. Its
    runs stay in the history (production may hold what one of them built, promoted)."""
    env = envs.check_name(name)
    with writing(ws, f"env drop {env}", wait) as (con, _lock, _abandoned):
        row = state.environment(con, env)
        schemas = env_schemas(ws, env, row)
        kinds = _kinds(con, schemas)
        if row is None and not kinds:
            known = ", ".join(r.name for r in state.environments(con)) or "none"
            raise UsageError(f"no environment named {env!r} (known: {known})")
        gone = _summary(ws, con, env, row)
        with con.transaction():
            for relation, kind in kinds:
                con.execute(f"DROP {kind} IF EXISTS {relation}")
            for schema in _existing(con, schemas):
                con.execute(f"DROP SCHEMA IF EXISTS {quote(schema)}")
            state.forget_environment(con, env, schemas)
        return gone


def _existing(con, schemas: list[str]) -> list[str]:
    rows = con.execute(
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE catalog_name = current_database() AND list_contains(?, schema_name)",
        [schemas],
    ).fetchall()
    return sorted(r[0] for r in rows)


def _kinds(con, schemas: list[str]) -> list[tuple[str, str]]:
    """(quoted relation, VIEW or TABLE) of the relations in `schemas`, views first."""
    rows = con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND list_contains(?, table_schema) "
        "ORDER BY table_type DESC, table_schema, table_name",
        [schemas],
    ).fetchall()
    return [
        (f"{quote(s)}.{quote(t)}", "VIEW" if kind == "VIEW" else "TABLE") for s, t, kind in rows
    ]


def _partitions(con, schemas: list[str]) -> tuple[int, int]:
    """(built, rejected) partitions of the copies in `schemas`."""
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE built_run IS NOT NULL), "
        "count(*) FILTER (WHERE status IN ('failed', 'check_failed', 'timed_out')) "
        f"FROM {state.SCHEMA}.partitions WHERE list_contains(?, split_part(model, '.', 1))",
        [schemas],
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
