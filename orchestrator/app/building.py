"""Building: `plan`, `run` (also behind `backfill` and `retry`) and `adopt`, as one composition:
workspace (what is asked) -> survey of the sources -> plan -> session (lock, signals, recorded
run) -> execute -> judge what is left -> notify.

A run lists the sources' files once, when it holds the warehouse (`sources.survey`), and hands
that survey to planning, gating, the catalog's views and every task.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from .. import state
from ..core.errors import HookError, NothingToRetry, RunStopped, UsageError
from ..core.snapshot import Snapshot
from ..core.status import NEEDS_ACTION
from ..core.tasks import Plan, Request
from ..engines import engine
from ..engines.lock import WriteLock, is_alive
from ..execution import (
    Options,
    Outcome,
    Policy,
    Reporter,
    execute,
    refuse_changed_types,
    refuse_unbound,
)
from ..plan.request import validate
from ..plan.retry import PreviousRun, retry_request
from ..sources import freshness, holdings, survey
from ..sources.survey import Survey
from . import catalog, exporting, steps
from .gating import gated_plan
from .notify import raise_alerts
from .published import judge_unjudged, unjudged_checks
from .session import (
    Progress,
    cancellable,
    check_protected,
    data_engine,
    recorded_run,
    writing,
)
from .workspace import (
    Selection,
    Workspace,
    observed,
    reading,
    request_for,
    snapshot_of,
)


def plan(
    ws: Workspace,
    selection: Selection,
    at: datetime | None = None,
    *,
    check_types: bool = True,
    retry_of: int | None = None,
) -> Plan:
    """What `run`/`backfill` (or, `retry_of`, `retry`) would do, reading the warehouse but
    writing nothing; like `run`, refuses a plan that would write a changed column type into a
    table (`check_types`)."""
    request = request_for(ws, selection, at)
    validate(ws.dag, request)
    with reading(ws) as (con, snapshot, surveyed):
        if retry_of is not None:
            request = _retry(ws, con, request, retry_of)
        the_plan = gated_plan(ws, con, snapshot, surveyed, request)[0]
        rebuilt = {t.model for t in the_plan.tasks}
        unjudged = unjudged_checks(ws, con, [n for n in request.selected if n not in rebuilt])
        the_plan = replace(
            the_plan,
            unjudged=tuple((m, tuple(c.name for c in cs)) for m, cs in unjudged.items()),
        )
        if check_types:
            _refuse_changed_types(ws, con, snapshot, surveyed, the_plan)
        if check_types and retry_of is None:  # a retry's dry run shows what it would redo
            refuse_unbound(
                the_plan,
                ws.dag,
                con,
                the_plan.request.vars,
                ws.project.settings.default_schema,
                session=_bindings(ws, surveyed),
            )
        return the_plan


def _bindings(ws: Workspace, surveyed: Survey):
    """What each task binds for the sources it reads by partition, from the command's survey."""
    return lambda task: survey.bindings(surveyed, ws.project, ws.dag, task)


def _refuse_changed_types(
    ws: Workspace, con, snapshot: Snapshot, surveyed: Survey, the_plan: Plan
) -> None:
    refuse_changed_types(
        the_plan,
        ws.dag,
        con,
        snapshot,
        the_plan.request.vars,
        ws.project.settings.default_schema,
        session=_bindings(ws, surveyed),
    )


@dataclass(frozen=True)
class RunResult:
    run_id: int
    plan: Plan
    outcomes: tuple[Outcome, ...]
    seconds: float
    abandoned: tuple[tuple[int, str], ...] = ()  # (run id, command) of runs found cut off
    sources: tuple[freshness.SourceStatus, ...] = ()
    cancelled: bool = False
    took_over: dict | None = None  # what a dead writer left in the lock file
    alerts: tuple = ()  # notify.Sent: the messages about this run, and whether they arrived
    served: tuple[Path, int] | None = None  # the serving copy written, and its relations
    exports: tuple = ()  # exporting.Exported: what the run's exports wrote, or failed to

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.outcomes if o.status in statuses)

    @property
    def status(self) -> str:
        """failed: a task failed or failed a check, or an input is blocked (someone must act);
        waiting alone is a success: the data is simply not there yet."""
        if self.cancelled:
            return "cancelled"
        return "failed" if self.count(*NEEDS_ACTION) else "success"

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 130
        return 1 if self.count(*NEEDS_ACTION) else 0

    @property
    def counts(self) -> dict[str, int]:
        """The tallies the runs table records."""
        return {
            "tasks": len(self.outcomes),
            "succeeded": self.count("success"),
            "failed": self.count("failed", "check_failed", "timed_out"),
            "skipped": self.count("skipped", "cancelled"),
            "waiting": self.count("waiting"),
            "blocked": self.count("blocked"),
        }


def policy_for(ws: Workspace):
    settings = ws.project.settings

    def policy(model) -> Policy:
        return Policy(
            retries=model.retries if model.retries is not None else settings.retries,
            retry_delay=model.retry_delay or settings.retry_delay,
            retry_max_delay=settings.retry_max_delay,
            timeout=model.timeout or settings.timeout,
        )

    return policy


@dataclass(frozen=True)
class _Started:
    """What a run knows once it holds the warehouse and has planned."""

    con: object
    data: object  # the engine the models' data lives on (`con` itself on DuckDB)
    lock: WriteLock
    abandoned: tuple[tuple[int, str], ...]
    snapshot: Snapshot
    survey: Survey
    plan: Plan
    sources: tuple[freshness.SourceStatus, ...]
    clock: float

    @property
    def request(self) -> Request:
        return self.plan.request

    @property
    def took_over(self) -> dict | None:
        """What a dead writer left in the lock file."""
        previous = self.lock.previous
        return previous if previous and not is_alive(previous) else None


def run(
    ws: Workspace,
    selection: Selection,
    *,
    command: str,
    arguments: Sequence[str] = (),
    threads: int | None = None,
    reporter: Reporter | None = None,
    at: datetime | None = None,
    wait: float | None = None,
    cancel: threading.Event | None = None,
    retry_of: int | None = None,
    job: str | None = None,
) -> RunResult:
    """Plan against the warehouse's state and execute, recording the run in the warehouse.
    `retry_of`: rerun what did not succeed in that run instead of planning from `selection`."""
    request = request_for(ws, selection, at)
    validate(ws.dag, request)
    clock = time.monotonic()
    cancel = cancel or threading.Event()
    # the handlers cover the whole writing block: a signal at any moment after the run row
    # exists (during alerts or the final state writes too) ends with the run recorded cancelled
    with (
        writing(ws, command, wait) as (con, lock, abandoned),
        cancellable(cancel),
    ):
        # what the sources hold, listed once the warehouse is ours: the whole run reads it
        surveyed = survey.take(ws.project)
        with data_engine(ws, con, surveyed) as data:
            snapshot, request = _read_state(ws, con, surveyed, request, retry_of)
            the_plan, sources = _plan_run(ws, con, snapshot, surveyed, request, command, job)
            if cancel.is_set():  # a signal while planning: nothing started, nothing to record
                raise RunStopped("cancelled before the run started; nothing was written")
            if job is None and ws.project.settings.engine.kind == "spark":
                # refused before the run starts (exit 2, nothing written), as a changed type is
                from ..engines.spark.analysis import refuse_unresolved

                refuse_unresolved(
                    the_plan,
                    ws.dag,
                    data,
                    request.vars,
                    ws.project.settings.default_schema,
                    session=_bindings(ws, surveyed),
                )
            started = _Started(
                con,
                data,
                lock,
                tuple(abandoned),
                snapshot,
                surveyed,
                the_plan,
                tuple(sources),
                clock,
            )
            return _recorded(ws, started, command, arguments, threads, reporter, cancel, job)


def _recorded(
    ws: Workspace,
    started: _Started,
    command: str,
    arguments: Sequence[str],
    threads: int | None,
    reporter: Reporter | None,
    cancel: threading.Event,
    job: str | None,
) -> RunResult:
    """The run row around the hooks, the tasks, the checks left to judge and the alerts."""
    con, data, request = started.con, started.data, started.request
    args = " ".join(arguments)
    env = ws.env.name if ws.env else None
    with recorded_run(con, command, args, request.vars, retryable=True, env=env) as recording:
        working = bool(started.plan.tasks)  # a run with nothing to do runs no hooks
        if working:
            _run_hooks(ws, con, "on_run_start")
        result = _execute(ws, started, recording.run_id, threads, reporter, cancel)
        if not cancel.is_set():
            judge_unjudged(ws, con, data, request, result, recording.run_id)
            result = exporting.after_run(ws, con, result, recording.run_id)
        result = steps.after_run(ws, con, result, recording.run_id, cancel)
        if working:
            _run_hooks(ws, con, "on_run_end")
        # work in an environment is its author's to watch: no owner is paged, no incident opens
        sent = raise_alerts(ws, con, result, job) if ws.env is None else []
        # a signal that came after the tasks (during alerts) still cancels the run
        result = replace(result, cancelled=cancel.is_set())
        recording.finish(result.status, result.counts)
    served = _serve(ws, con, result)
    return replace(result, alerts=tuple(sent), served=served)


@dataclass(frozen=True)
class AdoptResult:
    run: RunResult  # the adoptions, recorded as a run of command `adopt`
    differing: tuple[tuple[str, str], ...]  # (model, why): rebuilt by the next run
    empty: tuple[tuple[str, str], ...]  # (model, partition) with no rows there


def adopt(ws: Workspace, selection: Selection, wait: float | None = None) -> AdoptResult:
    """Record the relations already in the warehouse that are what the selected models build
    (see `adoption`), so the next run rebuilds only what is not."""
    request = request_for(ws, selection, None)
    clock = time.monotonic()
    with writing(ws, "adopt", wait) as (con, lock, abandoned):
        surveyed = survey.take(ws.project)
        return _adopt(ws, con, lock, abandoned, surveyed, request, clock)


def _adopt(
    ws: Workspace, con, lock, abandoned, surveyed: Survey, request: Request, clock: float
) -> AdoptResult:
    from . import adoption

    with data_engine(ws, con, surveyed) as data:
        snapshot, request = _read_state(ws, con, surveyed, request, None)
        # what no build of ours recorded is planned as missing, one task per partition (the
        # relation there is what is judged, not rebuilt whole)
        unrecorded = {
            name: kind
            for name, kind in snapshot.relations.items()
            if name not in ws.dag.models or snapshot.built.get(name)
        }
        hidden = replace(snapshot, relations=unrecorded)
        the_plan, sources = _plan_run(ws, con, hidden, surveyed, request, "adopt", None)
        facts = adoption.facts_of(
            con, ws.dag, the_plan, request.vars, ws.project.settings.default_schema
        )
        chosen = adoption.choose(the_plan, ws.dag, facts)
        started = _Started(
            con,
            data,
            lock,
            tuple(abandoned),
            snapshot,
            surveyed,
            chosen.plan,
            tuple(sources),
            clock,
        )
        with recorded_run(con, "adopt", "", request.vars) as recording:
            result = _execute(ws, started, recording.run_id, None, None, threading.Event())
            recording.finish(result.status, result.counts)
    return AdoptResult(result, chosen.differing, chosen.empty)


def _run_hooks(ws: Workspace, con, kind: str) -> None:
    """The project's `[hooks]` of this kind, in one transaction: one failing fails the run
    (for on_run_start, before any task) and none of them is kept."""
    hooks = getattr(ws.project.settings, kind)
    if not hooks:
        return
    with con.transaction():
        for hook in hooks:
            try:
                con.execute(hook)
            except Exception as exc:
                raise HookError(
                    f"{kind} hook failed: {str(exc).splitlines()[0]} (in: {hook})"
                ) from None


def _serve(ws: Workspace, con, result: RunResult) -> tuple[Path, int] | None:
    """A run that ends with everything it selected published refreshes the serving copy
    (`[serve] copy`); a failed, partial or waiting one leaves the previous copy, so a dashboard
    never reads partial data. A run with nothing to do writes one only when none exists."""
    target = ws.project.settings.serve_copy
    complete = result.status == "success" and not result.plan.held and not result.cancelled
    if target is None or ws.env is not None or not complete:  # an environment serves nobody
        return None
    if not result.plan.tasks and target.exists():
        return None
    schemas = ws.project.settings.serve_schemas or tuple(
        sorted({m.schema for m in ws.dag.models.values()})
    )
    try:
        return target, state.write_serving_copy(con, target, schemas)
    except Exception as exc:  # the run's own outcome must stand; the old copy stays
        print(f"warning: the serving copy was not written: {exc}", file=sys.stderr)
        return None


def _read_state(
    ws: Workspace, con, surveyed: Survey, request: Request, retry_of: int | None
) -> tuple[Snapshot, Request]:
    """The snapshot, and for `retry` the request narrowed to what that run left undone."""
    with engine.reading(ws.warehouse):
        snapshot = observed(ws, con, snapshot_of(ws, con), surveyed)
        if retry_of is not None:
            request = _retry(ws, con, request, retry_of)
    return snapshot, request


def _retry(ws: Workspace, con, request: Request, retry_of: int) -> Request:
    """`request` narrowed to what run `retry_of` left undone and is undone still; with 0, the
    newest run that left such work."""
    now = state.partition_builds(con, list(ws.dag.models))
    if retry_of:
        return retry_request(ws.dag.models, _previous_run(con, retry_of), request, now)
    for candidate in state.undone_runs(con):
        try:
            return retry_request(ws.dag.models, _previous_run(con, candidate), request, now)
        except NothingToRetry:
            continue
    last = state.last_run_id(con)
    if last is None:
        raise UsageError("no run to retry yet")
    raise NothingToRetry(
        f"nothing to retry: no run left work that is still undone (the last, run {last}, "
        "included); `orchestrator status` shows what waits or is blocked, which `orchestrator "
        "run` picks up"
    )


def _previous_run(con, run_id: int) -> PreviousRun:
    planned = state.planned_tasks(con, run_id)
    if planned is None:
        raise UsageError(f"no run with id {run_id} (see: orchestrator runs)")
    return PreviousRun(
        run_id,
        planned,
        state.final_statuses(con, run_id),
        state.held_tasks(con, run_id),
        state.run_vars(con, run_id),
    )


def _plan_run(
    ws: Workspace,
    con,
    snapshot: Snapshot,
    surveyed: Survey,
    request: Request,
    command: str,
    job: str | None,
) -> tuple[Plan, list[freshness.SourceStatus]]:
    """The gated plan, refused when it touches protected models the user may not rebuild or
    (outside a job) when it would write a changed column type."""
    the_plan, sources = gated_plan(ws, con, snapshot, surveyed, request)
    check_protected(ws, con, command, the_plan)
    unreadable = catalog.sync_source_views(ws, con, surveyed)
    if unreadable:  # rare: the sources' checks passed, yet their views cannot be made
        the_plan, sources = gated_plan(ws, con, snapshot, surveyed, request, unreadable)
    if job is None:
        # refused before the run starts (exit 2, nothing written); a scheduled job leaves
        # it to the task's own guard: the task fails and its owner is alerted, and one
        # model cannot stop the scheduler
        _refuse_changed_types(ws, con, snapshot, surveyed, the_plan)
    return the_plan, sources


def _execute(
    ws: Workspace,
    started: _Started,
    run_id: int,
    threads: int | None,
    reporter: Reporter | None,
    cancel: threading.Event,
) -> RunResult:
    """Record the plan, bring the catalog up to date, and run the tasks."""
    con, the_plan, snapshot, request = started.con, started.plan, started.snapshot, started.request
    state.record_plan(con, run_id, the_plan)
    state.settle_partitions(con, the_plan.settled)
    state.insert_freshness(con, [s.row(run_id) for s in started.sources])
    progress = Progress(reporter, started.lock)
    progress.started(the_plan, run_id)
    if ws.env is None:  # the models table is production's project
        catalog.sync_catalog(ws, con)
    else:
        catalog.save_environment(ws, con)
    catalog.remember_versions(ws, con, the_plan)
    options = Options(
        run_id=run_id,
        variables=request.vars,
        threads=threads or ws.project.settings.threads or os.cpu_count() or 1,
        reporter=progress,
        default_schema=ws.project.settings.default_schema,
        session=_bindings(ws, started.survey),
        # sources are read by DuckDB on either engine (on Spark: the control connection),
        # so that what a build recorded and what planning finds compare
        reads=lambda cur, task: holdings.read_by(
            cur.state, ws.project, ws.dag, task, snapshot.holdings, started.survey
        ),
        policy=policy_for(ws),
        cancel=cancel,
    )
    outcomes = execute(the_plan, ws.dag, started.data, snapshot, options)
    return RunResult(
        run_id,
        the_plan,
        tuple(outcomes),
        time.monotonic() - started.clock,
        started.abandoned,
        started.sources,
        cancel.is_set(),
        started.took_over,
    )
