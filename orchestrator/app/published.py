"""The checks on what is published: `orchestrator check` judges them, and a run judges those
that never ran on its partitions (a check file added after the model was built). A blocking
failure on published data opens an incident for the owner.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .. import state
from ..core import clock
from ..core.errors import UsageError
from ..core.partitions import window_for_key
from ..core.snapshot import Snapshot
from ..core.tasks import Request
from ..engines import engine
from ..execution import (
    evaluate_checks,
)
from ..project.selectors import select as select_models
from ..statements import materialize
from ..statements.check_sql import Scope
from .environments import known_environments
from .session import (
    data_engine,
    recorded_run,
    writing,
)
from .workspace import Workspace, in_scope, snapshot_of


@dataclass(frozen=True)
class CheckReport:
    run_id: int
    results: tuple  # (model, checks.Result)

    @property
    def exit_code(self) -> int:
        return 1 if any(r.failed and r.check.blocking for _, r in self.results) else 0


def check_published(
    ws: Workspace,
    selectors: Sequence[str] = (),
    exclude: Sequence[str] = (),
    variables: Mapping[str, str] | None = None,
    wait: float | None = None,
) -> CheckReport:
    """Run every check of the selected models against what is published, building nothing.
    Results are recorded in orchestrator.check_results under a run of command `check`."""
    if ws.env is not None:
        if ws.env.name not in known_environments(ws):
            raise UsageError(
                f"no environment named {ws.env.name!r}: `orchestrator run --env "
                f"{ws.env.name}` builds it"
            )
    names = ws.dag.ordered(in_scope(ws, select_models(ws.dag, selectors, exclude)))
    all_vars = dict(ws.project.settings.vars) | dict(variables or {})
    with (
        writing(ws, "check " + " ".join(selectors), wait) as (con, _lock, _),
        data_engine(ws, con) as data,
    ):
        with engine.reading(ws.warehouse):
            snapshot = snapshot_of(ws, con)
        env = ws.env.name if ws.env else None
        args = " ".join(selectors)
        with recorded_run(con, "check", args, all_vars, env=env) as recording:
            found = []
            cur = data.cursor()
            at = clock.now()
            for name in names:
                results = _check_published_model(ws, cur, snapshot, name, all_vars)
                with con.transaction():
                    state.insert_check_results(con, recording.run_id, -1, name, results, at)
                    state.mark_published_checks(con, name, results, recording.run_id, at)
                found.extend((name, r) for r in results)
            report = CheckReport(recording.run_id, tuple(found))
            _alert_published(ws, con, found, recording.run_id)
            failed = sum(1 for _, r in found if r.failed and r.check.blocking)
            recording.finish(
                "failed" if report.exit_code else "success",
                {"tasks": len(found), "succeeded": len(found) - failed, "failed": failed},
            )
        return report


def unjudged_checks(ws: Workspace, con, names: Sequence[str] | None = None) -> dict[str, list]:
    """model -> its checks that never judged its published data (a check file or header
    check added after it was built): `run` judges them, `plan` says so."""
    names = list(ws.dag.models) if names is None else list(names)
    with_checks = [n for n in names if ws.dag.models[n].checks]
    if not with_checks or not state.has_state(con):
        return {}
    judged: dict[str, set[str]] = {}
    for model, check in con.execute(
        f"SELECT DISTINCT model, check_name FROM {state.SCHEMA}.check_results "
        "WHERE list_contains(?, model)",
        [with_checks],
    ).fetchall():
        judged.setdefault(model, set()).add(check)
    built = state.recorded_models(con, built=True)
    return {
        n: never
        for n in with_checks
        if n in built
        and (never := [c for c in ws.dag.models[n].checks if c.name not in judged.get(n, set())])
    }


def judge_unjudged(ws: Workspace, con, data, request: Request, result, run_id: int) -> None:
    """Checks that never judged a selected model's published data (added after it was built),
    run on it now, for the partitions this run did not rebuild (rebuilt ones were judged)."""
    rebuilt = {o.model for o in result.outcomes}
    todo = unjudged_checks(ws, con, [n for n in request.selected if n not in rebuilt])
    if not todo:
        return
    snapshot = snapshot_of(ws, con)
    cur = data.cursor()
    found = []
    at = clock.now()
    variables = dict(ws.project.settings.vars) | dict(request.vars)
    for name, checks in todo.items():
        results = _check_published_model(ws, cur, snapshot, name, variables, checks)
        with con.transaction():
            state.insert_check_results(con, run_id, -1, name, results, at)
            state.mark_published_checks(con, name, results, run_id, at)
        found.extend((name, r) for r in results)
        bad = sum(1 for r in results if r.failed and r.check.blocking)
        listed = ", ".join(c.name for c in checks)
        print(
            f"checked the published data of {name} with {listed} (never run on it): "
            + (f"{bad} blocking failure{'s' if bad != 1 else ''}" if bad else "passed"),
            file=sys.stderr,
        )
    _alert_published(ws, con, found, run_id)


def _alert_published(ws: Workspace, con, found, run_id: int) -> None:
    """Published data failing a blocking check is news for its owner (an incident, closed by
    a later pass or rebuild), like a build it rejected."""
    from ..plan import remedies
    from . import alerts, notify

    events = []
    failing: dict[tuple[str, str], list] = {}
    for name, r in found:
        if r.failed and r.check.blocking:
            failing.setdefault((name, r.check.name), []).append(r)
    told = alerts.told_by(state.open_incidents(con))
    for (name, check), results in failing.items():
        marked = [  # the partitions it failed on (a check of the whole model: every one)
            k for (_, k), s in state.partition_statuses(con, [name]).items() if s == "check_failed"
        ]
        known = told.get(("model", name, f"check {check}"))
        keys = tuple(sorted(k for k in marked if known is None or (known and k not in known)))
        if not keys:
            continue  # an open incident has told of these partitions already
        first = results[0]
        events.append(
            alerts.Event(
                "check_failed",
                name,
                ws.dag.models[name].owner,
                f"{name}: its published data fails the blocking check {check} on "
                f"{', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}",
                f"{first.failing} failing rows" + (f": {first.message}" if first.message else ""),
                run_id,
                None,
                keys,
                tuple(first.sample[:3]),
                remedies.remedy(name, "check_failed", f"{check} failed on "),
                cause=f"check {check}",
            )
        )
    try:
        notify.deliver_alerts(ws, con, events, set(), run_id)
    except Exception as exc:  # alerting never fails the command
        print(f"warning: alerting failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def _check_published_model(
    ws: Workspace, cur, snapshot: Snapshot, name: str, variables, checks=None
) -> list:
    """The results of a model's checks (or of `checks`) over its published partitions (none
    before a build)."""
    model = ws.dag.models[name]
    checks = model.checks if checks is None else tuple(checks)
    if not checks or name not in snapshot.relations:
        return []
    built = snapshot.built.get(name, {})
    windows = None
    if model.partitioned:
        windows = tuple(sorted(window_for_key(k, model.grain) for k in built if k != "all"))
        if not windows:
            return []
    cur.execute(materialize.search_path(model.lookup_schema, ws.project.settings.default_schema))
    scope = Scope(
        model.relation, model.partition_by, model.grain if model.partitioned else None, windows
    )
    history = [] if model.partitioned else [(k, b.rows or 0) for k, b in built.items()]
    return evaluate_checks(cur, ws.dag, model, checks, scope, variables, history=history)
