"""The operations the CLI offers, as short compositions of the application modules:
workspace (what is asked) -> plan -> session (lock, signals, recorded run) -> execute -> notify.

Each function owns the warehouse connection for its duration; the steps themselves live in
workspace, session, catalog, notify, views, scaffold and report.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from . import catalog, clock, engine, freshness, holdings, materialize, readers, state, views
from . import sql as sql_mod
from .check_sql import Scope
from .errors import (
    HookError,
    NothingToRetry,
    RunStopped,
    UsageError,
    WarehouseBusy,
    WarehouseError,
    suggest,
)
from .execution import (
    Options,
    Outcome,
    Policy,
    Reporter,
    evaluate_checks,
    execute,
    refuse_changed_types,
    refuse_unbound,
)
from .lock import WriteLock, is_alive
from .model_sql import cursor_query, render_model
from .notify import raise_alerts
from .partitions import window_for_key
from .planner import validate
from .report import format_dag
from .retry import PreviousRun, retry_request
from .scaffold import scaffold
from .selectors import select as select_models
from .session import (
    Progress,
    cancellable,
    check_protected,
    data_engine,
    recorded_run,
    start_spark,
    writing,
)
from .snapshot import Snapshot
from .status import NEEDS_ACTION, SOURCE_PROBLEMS
from .tasks import Plan, Request
from .workspace import (
    Selection,
    Workspace,
    gated_plan,
    now,
    observed,
    open_workspace,
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
    with reading(ws) as (con, snapshot):
        if retry_of is not None:
            request = _retry(ws, con, request, retry_of)
        the_plan = gated_plan(ws, con, snapshot, request)[0]
        rebuilt = {t.model for t in the_plan.tasks}
        unjudged = unjudged_checks(ws, con, [n for n in request.selected if n not in rebuilt])
        the_plan = replace(
            the_plan,
            unjudged=tuple((m, tuple(c.name for c in cs)) for m, cs in unjudged.items()),
        )
        if check_types:
            _refuse_changed_types(ws, con, snapshot, the_plan)
        if check_types and retry_of is None:  # a retry's dry run shows what it would redo
            refuse_unbound(
                the_plan,
                ws.dag,
                con,
                the_plan.request.vars,
                ws.project.settings.default_schema,
                session=lambda task: freshness.session_files(ws.project, ws.dag, task),
            )
        return the_plan


def _refuse_changed_types(ws: Workspace, con, snapshot: Snapshot, the_plan: Plan) -> None:
    refuse_changed_types(
        the_plan,
        ws.dag,
        con,
        snapshot,
        the_plan.request.vars,
        ws.project.settings.default_schema,
        session=lambda task: freshness.session_files(ws.project, ws.dag, task),
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
        data_engine(ws, con) as data,
    ):
        snapshot, request = _read_state(ws, con, request, retry_of)
        the_plan, sources = _plan_run(ws, con, snapshot, request, command, job)
        if cancel.is_set():  # a signal while planning: nothing has started, nothing to record
            raise RunStopped("cancelled before the run started; nothing was written")
        if job is None and ws.project.settings.engine.kind == "spark":
            # refused before the run starts (exit 2, nothing written), as a changed type is
            from .spark_analysis import refuse_unresolved

            refuse_unresolved(
                the_plan,
                ws.dag,
                data,
                request.vars,
                ws.project.settings.default_schema,
                session=lambda task: freshness.session_files(ws.project, ws.dag, task),
            )
        started = _Started(
            con, data, lock, tuple(abandoned), snapshot, the_plan, tuple(sources), clock
        )
        args = " ".join(arguments)
        with recorded_run(con, command, args, request.vars, retryable=True) as recording:
            working = bool(the_plan.tasks)  # a run with nothing to do runs no hooks
            if working:
                _run_hooks(ws, con, "on_run_start")
            result = _execute(ws, started, recording.run_id, threads, reporter, cancel)
            if not cancel.is_set():
                _judge_unjudged(ws, con, data, request, result, recording.run_id)
            if working:
                _run_hooks(ws, con, "on_run_end")
            sent = raise_alerts(ws, con, result, job)
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
    from . import adoption

    request = request_for(ws, selection, None)
    clock = time.monotonic()
    with writing(ws, "adopt", wait) as (con, lock, abandoned), data_engine(ws, con) as data:
        snapshot, request = _read_state(ws, con, request, None)
        # what no build of ours recorded is planned as missing, one task per partition (the
        # relation there is what is judged, not rebuilt whole)
        unrecorded = {
            name: kind
            for name, kind in snapshot.relations.items()
            if name not in ws.dag.models or snapshot.built.get(name)
        }
        hidden = replace(snapshot, relations=unrecorded)
        the_plan, sources = _plan_run(ws, con, hidden, request, "adopt", None)
        facts = adoption.survey(
            con, ws.dag, the_plan, request.vars, ws.project.settings.default_schema
        )
        chosen = adoption.choose(the_plan, ws.dag, facts)
        started = _Started(
            con, data, lock, tuple(abandoned), snapshot, chosen.plan, tuple(sources), clock
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
    if target is None or result.status != "success" or result.plan.held or result.cancelled:
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
    ws: Workspace, con, request: Request, retry_of: int | None
) -> tuple[Snapshot, Request]:
    """The snapshot, and for `retry` the request narrowed to what that run left undone."""
    with engine.reading(ws.warehouse):
        snapshot = observed(ws, con, snapshot_of(ws, con))
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
    ws: Workspace, con, snapshot: Snapshot, request: Request, command: str, job: str | None
) -> tuple[Plan, list[freshness.SourceStatus]]:
    """The gated plan, refused when it touches protected models the user may not rebuild or
    (outside a job) when it would write a changed column type."""
    the_plan, sources = gated_plan(ws, con, snapshot, request)
    check_protected(ws, con, command, the_plan)
    unreadable = catalog.sync_source_views(ws, con)
    if unreadable:  # rare: the sources' checks passed, yet their views cannot be made
        the_plan, sources = gated_plan(ws, con, snapshot, request, unreadable)
    if job is None:
        # refused before the run starts (exit 2, nothing written); a scheduled job leaves
        # it to the task's own guard: the task fails and its owner is alerted, and one
        # model cannot stop the scheduler
        _refuse_changed_types(ws, con, snapshot, the_plan)
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
    catalog.sync_catalog(ws, con)
    options = Options(
        run_id=run_id,
        variables=request.vars,
        threads=threads or ws.project.settings.threads or os.cpu_count() or 1,
        reporter=progress,
        default_schema=ws.project.settings.default_schema,
        session=lambda task: freshness.session_files(ws.project, ws.dag, task),
        # sources are read by DuckDB on either engine (on Spark: the control connection),
        # so that what a build recorded and what planning finds compare
        reads=lambda cur, task: holdings.read_by(
            cur.state, ws.project, ws.dag, task, snapshot.holdings
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


def init_warehouse(ws: Workspace) -> None:
    with writing(ws, "init"):
        pass


READ_ONLY_STATEMENTS = frozenset({"select", "explain"})
"""What `orchestrator sql` runs. A read-only connection still lets COPY ... TO, EXPORT or
ATTACH write files elsewhere, so every other kind of statement is refused before it runs."""


def query(
    ws_warehouse: Path, sql: str, serving: Path | None = None
) -> tuple[list[str], list[tuple]]:
    """Run a read-only query against the warehouse: (column names, rows). While a run holds
    it, a query of the state reads the last state copy; one of the models' data reads the
    serving copy when there is one (`serving`), and is refused otherwise (the state copy holds
    no data: an empty answer would be a wrong one)."""
    import duckdb

    con, copy = readers.connect(ws_warehouse)
    if copy and not sql_mod.reads_only_schema(sql, state.SCHEMA):
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


def query_spark(ws: Workspace, sql: str) -> tuple[list[str], list[tuple]]:
    """A read-only Spark SQL query on a Spark project: the models' tables and views, the
    sources, and the state (`orchestrator.*`, read from its journal)."""
    import sqlglot

    from .spark_engine import Native

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


def _removed(ws: Workspace, con, relations) -> list[tuple[str, str]]:
    """Models this tool built (they have partition rows) that the project no longer has, with
    what stands under their name: `table`, `view` or `gone`."""
    if not state.has_state(con):
        return []
    names = sorted(state.recorded_models(con) - set(ws.dag.models))
    return [(name, relations.get(name, "gone")) for name in names]


def removed_models(ws: Workspace) -> list[tuple[str, str]]:
    """What `prune` would drop (read-only)."""
    if not ws.warehouse.exists():
        return []
    with reading(ws) as (con, snapshot):
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


# -- read-only views of the state -----------------------------------------------------------------


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


def describe_dag(ws: Workspace, selectors: Sequence[str], fmt: str) -> str:
    names = ws.dag.ordered(select_models(ws.dag, selectors))
    return format_dag(ws.dag, ws.project.sources, names, fmt)


def init_project(root: Path, warehouse_path: Path | None = None) -> list[Path]:
    """Create what is missing of a project skeleton, then the warehouse and its state schema."""
    created = scaffold(root, clock.now().date())
    ws = open_workspace(root, warehouse_path)
    if not ws.warehouse.exists():
        created.append(ws.warehouse)
    init_warehouse(ws)
    return created


# -- checks and freshness on demand ---------------------------------------------------------------


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
    names = ws.dag.ordered(select_models(ws.dag, selectors, exclude))
    all_vars = dict(ws.project.settings.vars) | dict(variables or {})
    with (
        writing(ws, "check " + " ".join(selectors), wait) as (con, _lock, _),
        data_engine(ws, con) as data,
    ):
        with engine.reading(ws.warehouse):
            snapshot = snapshot_of(ws, con)
        with recorded_run(con, "check", " ".join(selectors), all_vars) as recording:
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


def _judge_unjudged(ws: Workspace, con, data, request: Request, result, run_id: int) -> None:
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
    from . import alerts, notify, remedies

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
    cur.execute(materialize.search_path(model.schema, ws.project.settings.default_schema))
    scope = Scope(
        model.relation, model.partition_by, model.grain if model.partitioned else None, windows
    )
    history = [] if model.partitioned else [(k, b.rows or 0) for k, b in built.items()]
    return evaluate_checks(cur, ws.dag, model, checks, scope, variables, history=history)


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
        inspector = freshness.Inspector(con, ws.project, at or now())
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


def compile_model(
    ws: Workspace, name: str, engine: str, partition: str | None, variables: Mapping[str, str]
) -> str:
    """The SQL `name` runs (a partition's window for an incremental model: the one asked, or
    the latest `run` keeps), rendered, and for Spark transpiled (see `dialects`)."""
    from . import dialects, sql
    from . import engine as engines
    from .partitions import window_for_key
    from .planner import expected_windows

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
            con.execute(materialize.search_path(model.schema, ws.project.settings.default_schema))
            rendered = render_model(model, literals, values, cursor_query(con))
        finally:
            con.close()
    else:
        rendered = sql.render(model.template, literals, values, path=model.relpath)
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


def verify_engines(
    ws: Workspace, selection: Selection, scratch: Path, reporter: Reporter | None = None
):
    """Build the selection on DuckDB and on Spark under `scratch`, then compare every table the
    selection holds (see `verify`). Nothing of the project's own warehouse is touched."""
    from . import verify
    from .spark_engine import Native

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


def check_spark_sql(ws: Workspace) -> None:
    """When the project loads for Spark: every model's SQL transpiles, or ProjectError names
    the file, the line and a rewrite (before anything is written)."""
    from . import dialects, sql
    from .errors import ProjectError
    from .partitions import Window

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
        rendered = sql.render(
            model.template,
            model.window_literals(window),
            ws.project.settings.vars,
            path=model.relpath,
        )
        dialects.to_spark(rendered, model.relpath)
