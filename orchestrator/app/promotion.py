"""`promote NAME`: production becomes what an environment built, without recomputing it.

Run where the change has landed (after the merge): the models that differ from production now
must be exactly what the environment built (same version), and the environment must be up to
date with production (its plan empty: nothing production rebuilt or received since is missing
from it). Then, in one DuckDB transaction, each production table takes the copy's rows, each
view is made again from its production SQL, and production's partition rows become the
copy's (naming production's models), as if production had built them: a reader sees the old
data or the new, never a mix, and the next `run` finds everything current. Under `[access]`
promoting is an approval (the `approver` or `admin` role), recorded in the audit table.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from datetime import datetime

from .. import state
from ..core import crashpoints
from ..core.errors import UsageError
from ..execution import utcnow
from ..project.model import Kind
from ..sql.model_sql import cursor_query, render_model
from ..statements import materialize
from ..statements.promotion import promote as promote_statements
from .building import plan as plan_build
from .catalog import sync_catalog
from .environments import environment_workspace, known_environments
from .session import authorize, writing
from .workspace import Selection, Workspace, read_snapshot, who


@dataclass(frozen=True)
class Promotion:
    env: str
    models: tuple[str, ...]  # production models that now hold the environment's data
    partitions: int  # partition rows production now records from the environment
    seconds: float
    transaction_seconds: float = 0.0  # of which the promoting transaction itself


class Refused(UsageError):
    """The environment cannot be promoted as it is: what moved, and what to run."""


def promote(
    ws: Workspace, name: str, wait: float | None = None, at: datetime | None = None
) -> Promotion:
    """Make production equal to environment `name` for the models that differ, atomically."""
    authorize(ws, "promote")
    clock = time.monotonic()
    known = known_environments(ws)
    if name not in known:
        raise UsageError(f"no environment named {name!r} (known: {', '.join(known) or 'none'})")
    env_ws = environment_workspace(ws, name)
    env = env_ws.env
    if not env.copies:
        raise Refused(
            f"nothing to promote from {name!r}: no model here differs from production (it was "
            "promoted already, or its change is not in this checkout: merge it first)"
        )
    before = _builds(read_snapshot(ws))
    pending = plan_build(env_ws, Selection(), at)
    with writing(ws, f"promote {name}", wait) as (con, _lock, _abandoned):
        row = state.environment(con, name)
        if row is None:
            known = ", ".join(r.name for r in state.environments(con)) or "none"
            raise UsageError(f"no environment named {name!r} (known: {known})")
        snapshot = state.snapshot(con)
        if _builds(snapshot) != before:
            raise Refused(
                f"production moved while promoting {name} was being prepared (another run "
                "wrote): check the environment again with `orchestrator plan --env "
                f"{name}`, then promote"
            )
        _refuse_unready(env_ws, snapshot, pending)
        homes = {env.copies[m]: m for m in env_ws.dag.order if m in env.copies}
        swapping = time.monotonic()
        with con.transaction():
            relations = snapshot.relations
            for copy, home in homes.items():
                _publish(env_ws, con, copy, home, relations)
                crashpoints.moment()
            kept = {h for h in homes.values() if env.categories.get(h) == "non-breaking"}
            written = state.promote_rows(con, homes, kept)
            sync_catalog(ws, con)
            shown = ", ".join(homes.values())
            state.add_audit(
                con,
                utcnow(),
                who(),
                socket.gethostname(),
                f"promote {name}",
                "promoted",
                f"{len(homes)} model(s) from environment {name}: {shown}",
            )
        swapped = time.monotonic() - swapping
    return Promotion(name, tuple(homes.values()), written, time.monotonic() - clock, swapped)


def _builds(snapshot) -> dict[tuple[str, str], tuple[str, int]]:
    """Every published build, by model and partition: what "production moved" compares."""
    return {
        (model, key): (b.version, b.run)
        for model, parts in snapshot.built.items()
        for key, b in parts.items()
    }


def _refuse_unready(env_ws: Workspace, snapshot, pending) -> None:
    """Refuse, saying what moved, unless the environment built every copy from the SQL here
    and nothing in production moved under it since (its plan is empty)."""
    env = env_ws.env
    for home, copy in env.copies.items():
        built = snapshot.built.get(copy) or {}
        model = env_ws.dag.models[home]
        failed = snapshot.failed.get(copy) or {}
        if failed:
            key = sorted(failed)[0]
            raise Refused(
                f"{env.name}'s copy of {home} {failed[key].status} ({key}): fix it, run "
                f"`orchestrator run --env {env.name}` again, then promote"
            )
        if not built and not (model.kind is Kind.INCREMENTAL and model.start is None):
            raise Refused(
                f"{env.name} has not built {home}: run `orchestrator run --env {env.name}` first"
            )
        if any(b.version != model.version for b in built.values()):
            raise Refused(
                f"{home}: its SQL or settings here differ from what {env.name} built: run "
                f"`orchestrator run --env {env.name}` again, review, then promote"
            )
    if pending.tasks:
        first = pending.tasks[0]
        where = f" {first.key}" if first.window is not None else ""
        raise Refused(
            f"production moved since {env.name} was built: {len(pending.tasks)} task(s) would "
            f"bring it up to date (first: {env_ws.dag.models[first.model].home}{where}, "
            f"{first.why}); run `orchestrator run --env {env.name}` again, review, then promote"
        )


def _publish(env_ws: Workspace, con, copy: str, home: str, relations) -> None:
    """One production relation made what the copy is (in the caller's transaction)."""
    model = env_ws.dag.models[home]
    existing = relations.get(home)
    if model.kind is Kind.VIEW:
        sql = render_model(
            model,
            model.window_literals(None),
            dict(env_ws.project.settings.vars),
            cursor_query(con),
        )
        con.execute(materialize.create_schema(model.schema))
        for statement in materialize.build(model, sql, None, existing).statements:
            con.execute(statement)
        return
    for statement in promote_statements(model, env_ws.dag.models[copy].relation, existing):
        con.execute(statement)
