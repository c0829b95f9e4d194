"""The operations the CLI offers, as functions over values: load -> plan -> execute -> record.

Each function wires stages together and owns the warehouse connection for its duration; the
stages themselves (project, dag, planner, executor, state) stay independent of each other.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from . import __version__, access, alerts, freshness, materialize, state, warehouse
from . import dag as dag_mod
from . import project as project_mod
from . import sql as sql_mod
from .dag import DAG
from .errors import OrchestratorError, UsageError, first_line
from .executor import Outcome, Policy, Reporter, execute, refuse_changed_types, utcnow
from .lock import WriteLock, is_alive
from .model import CONFIG_FILE, Project
from .partitions import parse_point, window_for_key
from .planner import Plan, Request, validate
from .planner import plan as make_plan
from .state import EMPTY, Snapshot
from .status import (
    ATTEMPT_PROBLEMS,
    HOLDS,
    NEEDS_ACTION,
    REJECTED,
    RETRYABLE,
    SOURCE_PROBLEMS,
    URGENCY,
    rank,
)


@dataclass(frozen=True)
class Workspace:
    project: Project
    dag: DAG

    @property
    def warehouse(self) -> Path:
        return self.project.settings.warehouse


def open_workspace(root: Path | str = ".", warehouse_path: Path | str | None = None) -> Workspace:
    project = project_mod.load(Path(root), warehouse_path)
    return Workspace(project, dag_mod.build(project))


def now() -> datetime:
    """The current time in UTC; ORCHESTRATOR_NOW pins it (to reproduce a plan "as of" a time)."""
    pinned = os.environ.get("ORCHESTRATOR_NOW")
    if pinned:
        try:
            return parse_point(pinned)
        except ValueError as exc:
            raise UsageError(f"ORCHESTRATOR_NOW: {exc}") from None
    return utcnow()


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


def request_for(ws: Workspace, selection: Selection, at: datetime | None = None) -> Request:
    if not ws.dag.models:
        raise UsageError(f"no models: add SQL files under {ws.project.root / 'models'}/")
    chosen = dag_mod.select(ws.dag, selection.selectors, selection.exclude)
    if not chosen:
        raise UsageError("the selection matches no model (every match was excluded)")
    excluded = dag_mod.select(ws.dag, selection.exclude) if selection.exclude else set()
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


def read_snapshot(ws: Workspace) -> Snapshot:
    if not ws.warehouse.exists():
        return EMPTY
    con = warehouse.connect(ws.warehouse, read_only=True)
    try:
        with warehouse.reading(ws.warehouse):
            return state.snapshot(con)
    finally:
        con.close()


def plan(
    ws: Workspace, selection: Selection, at: datetime | None = None, *, check_types: bool = True
) -> Plan:
    """What `run`/`backfill` would do, reading the warehouse but writing nothing; like `run`,
    refuses a plan that would write a changed column type into a table (`check_types`)."""
    request = request_for(ws, selection, at)
    validate(ws.dag, request)
    if ws.warehouse.exists():
        con = warehouse.connect(ws.warehouse, read_only=True)
    else:
        con = warehouse.memory()  # sources still get evaluated: files, or "no table yet"
    try:
        with warehouse.reading(ws.warehouse):
            snapshot = state.snapshot(con) if ws.warehouse.exists() else EMPTY
        the_plan = gated_plan(ws, con, snapshot, request)[0]
        if check_types:
            _refuse_changed_types(ws, con, snapshot, the_plan)
        return the_plan
    finally:
        con.close()


def _refuse_changed_types(ws: Workspace, con, snapshot: Snapshot, the_plan: Plan) -> None:
    refuse_changed_types(
        the_plan,
        ws.dag,
        con,
        snapshot,
        the_plan.request.vars,
        ws.project.settings.default_schema,
        session=lambda task: freshness.session_statements(ws.project, ws.dag, task),
    )


def gated_plan(
    ws: Workspace,
    con,
    snapshot: Snapshot,
    request: Request,
    unreadable: Mapping[str, str] | None = None,
) -> tuple[Plan, list[freshness.SourceStatus]]:
    """Plan, evaluate the sources the planned tasks read, and plan again with what is not ready
    (not arrived, stale, drifted, `unreadable`) held back: the planner itself stays free of I/O."""
    first = make_plan(ws.dag, snapshot, request)
    inspector = freshness.Inspector(con, ws.project, request.now, unreadable)
    found = freshness.gates(inspector, ws.dag, first.units)
    final = make_plan(ws.dag, snapshot, request, found) if found else first
    return final, list(inspector.statuses.values())


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
    alerts: tuple = ()  # alerts.Event sent about this run

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


@contextmanager
def writing(ws: Workspace, command: str, wait: float | None = None):
    """The one-writer protocol around every writing command: take the lock file (or say who
    holds it), open the warehouse, create or migrate the state schema, and mark runs that a
    dead process left `running` as abandoned. Yields (connection, lock, abandoned runs as
    (run id, command))."""
    lock = WriteLock(ws.warehouse).acquire(command, who(), wait)
    try:
        con = warehouse.connect(ws.warehouse)
        try:
            with warehouse.reading(ws.warehouse):
                state.ensure(con)
                abandoned = state.abandon_running(con, utcnow())
            yield con, lock, abandoned
        finally:
            con.close()
    finally:
        lock.release()


class RunStopped(OrchestratorError):
    """A signal stopped a run: while it planned (nothing recorded), or at once, by a second
    signal (the run is recorded cancelled all the same)."""

    exit_code = 130


@contextmanager
def cancellable(cancel: threading.Event):
    """SIGINT and SIGTERM set `cancel`: the executor interrupts the running tasks and rolls them
    back, and the run is recorded cancelled. A signal when `cancel` is already set stops at
    once, as KeyboardInterrupt in the main thread (SIGTERM too, so that the run can still be
    recorded cancelled on the way out). Only the main thread can install handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Progress(Reporter):
    """Passes progress on, and keeps the lock file's done/total current for other processes."""

    def __init__(self, inner: Reporter | None, lock: WriteLock):
        self.inner = inner or Reporter()
        self.lock = lock
        self.done = 0
        self.last = 0.0

    def started(self, plan: Plan, run_id: int) -> None:
        self.lock.update(run_id=run_id, total=len(plan.units) + len(plan.held))
        self.inner.started(plan, run_id)

    def finished_task(self, outcome: Outcome) -> None:
        self.done += 1
        if time.monotonic() - self.last > 0.5:
            self.last = time.monotonic()
            self.lock.update(done=self.done)
        self.inner.finished_task(outcome)

    def retrying(self, task, attempt: int, error: str, delay: float) -> None:
        self.inner.retrying(task, attempt, error, delay)


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
    with writing(ws, command, wait) as (con, lock, abandoned), cancellable(cancel):
        with warehouse.reading(ws.warehouse):
            snapshot = state.snapshot(con)
            if retry_of is not None:
                target = retry_of or state.last_run_id(con)
                if target is None:
                    raise UsageError("no run to retry yet")
                request = _retry_request(ws, con, target, request)
        the_plan, sources = gated_plan(ws, con, snapshot, request)
        protected = sorted({t.model for t in the_plan.tasks if ws.dag.models[t.model].protected})
        denial = access.check_protected(ws.project.ops.access, who(), protected)
        if denial:
            _deny(con, command, denial)
        unreadable = _sync_source_views(ws, con)
        if unreadable:  # rare: the sources' checks passed, yet their views cannot be made
            the_plan, sources = gated_plan(ws, con, snapshot, request, unreadable)
        if job is None:
            # refused before the run starts (exit 2, nothing written); a scheduled job leaves
            # it to the task's own guard: the task fails and its owner is alerted, and one
            # model cannot stop the scheduler
            _refuse_changed_types(ws, con, snapshot, the_plan)
        if cancel.is_set():  # a signal while planning: nothing has started, nothing to record
            raise RunStopped("cancelled before the run started; nothing was written")
        run_id = state.start_run(
            con,
            command=command,
            arguments=" ".join(arguments),
            variables=request.vars,
            who=who(),
            host=socket.gethostname(),
            pid=os.getpid(),
            started=utcnow(),
            tool_version=__version__,
        )
        try:
            state.record_plan(con, run_id, the_plan)
            state.insert_freshness(con, [s.row(run_id) for s in sources])
            progress = _Progress(reporter, lock)
            progress.started(the_plan, run_id)
            _sync_catalog(ws, con)
            workers = threads or ws.project.settings.threads or os.cpu_count() or 1
            outcomes = execute(
                the_plan,
                ws.dag,
                con,
                snapshot,
                run_id=run_id,
                variables=request.vars,
                threads=workers,
                reporter=progress,
                default_schema=ws.project.settings.default_schema,
                session=lambda task: freshness.session_statements(ws.project, ws.dag, task),
                policy=policy_for(ws),
                cancel=cancel,
            )
            result = RunResult(
                run_id,
                the_plan,
                tuple(outcomes),
                time.monotonic() - clock,
                tuple(abandoned),
                tuple(sources),
                cancel.is_set(),
                lock.previous if lock.previous and not is_alive(lock.previous) else None,
            )
            sent = raise_alerts(ws, con, result, job)
        except BaseException as exc:
            stopped = isinstance(exc, KeyboardInterrupt)  # a second signal: still a cancel
            _roll_back(con)  # whatever it cut short must not commit with the run's record
            state.finish_run(
                con,
                run_id,
                status="cancelled" if stopped else "failed",
                finished=utcnow(),
                counts={},
                error="stopped at once by a second signal"
                if stopped
                else f"{type(exc).__name__}: {exc}",
            )
            if stopped:
                raise RunStopped(
                    f"run {run_id} stopped at once by a second signal and recorded cancelled; "
                    f"`orchestrator retry --run {run_id}` reruns what it did not finish"
                ) from None
            raise
        # a signal that came after the tasks (during alerts) still cancels the run
        result = replace(result, cancelled=cancel.is_set())
        state.finish_run(
            con,
            run_id,
            status=result.status,
            finished=utcnow(),
            counts={
                "tasks": len(outcomes),
                "succeeded": result.count("success"),
                "failed": result.count("failed", "check_failed", "timed_out"),
                "skipped": result.count("skipped", "cancelled"),
                "waiting": result.count("waiting"),
                "blocked": result.count("blocked"),
            },
        )
        return replace(result, alerts=tuple(sent))


def _roll_back(con) -> None:
    import duckdb

    try:
        con.execute("ROLLBACK")
    except duckdb.Error:  # no transaction was open
        pass


class NothingToRetry(UsageError):
    exit_code = 0


def raise_alerts(ws: Workspace, con, result, job: str | None = None, extra=()) -> list:
    """Alert owners about what this run showed (failures, blocked sources, recoveries), once
    per incident. Alerting never fails the run: a problem here is reported, not raised."""
    try:
        events = alerts.from_run(result, ws.dag, ws.project.sources, job) + list(extra)
        healthy = alerts.healthy_subjects(result, state.failing_models(con))
        return deliver_alerts(ws, con, events, healthy, result.run_id)
    except Exception as exc:  # the run's own outcome must stand
        import sys

        print(f"warning: alerting failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []


def deliver_alerts(ws: Workspace, con, events, healthy, run_id: int | None) -> list:
    decision = alerts.decide(events, healthy, state.open_incidents(con), run_id)
    opened = {id(e) for e in decision.opened}
    for event in decision.send:
        owner = alerts.route(event, ws.project.ops)
        body = alerts.payload(event, owner)
        delivery = alerts.deliver(owner, body, ws.project.root)
        at = utcnow()
        alert_id = state.add_alert(
            con,
            {
                "created_at": at,
                "event": event.event,
                "subject": event.subject,
                "owner": event.owner,
                "run_id": event.run_id,
                "job": event.job,
                "partitions": event.partitions,
                "message": body["text"],
                "payload": body,
                "sinks": delivery.sinks,
                "delivered": delivery.delivered,
                "attempts": delivery.attempts,
                "error": delivery.error,
            },
        )
        if id(event) in opened:
            state.open_incident(
                con, event.incident, event.subject, event.owner, at, run_id, alert_id
            )
    for kind, subject in decision.closed:
        state.close_incident(con, kind, subject, utcnow(), run_id)
    return decision.send


def authorize(
    ws: Workspace | None,
    command: str,
    *,
    root: Path | str | None = None,
    warehouse_path: Path | str | None = None,
) -> None:
    """Raise AccessDenied (and record the denial) when the user may not run `command`. Light
    commands pass `root` instead of a workspace: only the config is read."""
    if ws is not None:
        ops, target = ws.project.ops, ws.warehouse
    else:
        settings, ops = project_mod.load_operations(root or ".", warehouse_path)
        target = settings.warehouse
    reason = access.check(ops.access, who(), command)
    if reason is None:
        return
    if not target.exists():  # no warehouse to record it in: a denial creates none
        raise access.AccessDenied(reason)
    try:  # never waits for a writer: a denied command must not hold anyone up
        lock = WriteLock(target).acquire(f"{command} (denied)", who(), wait=None)
        try:
            con = warehouse.connect(target)
            try:
                state.ensure(con)
                state.add_audit(
                    con, utcnow(), who(), socket.gethostname(), command, "denied", reason
                )
            finally:
                con.close()
        finally:
            lock.release()
    except Exception:  # recording is best effort; the denial stands
        pass
    raise access.AccessDenied(reason)


def _deny(con, command: str, reason: str) -> None:
    state.add_audit(con, utcnow(), who(), socket.gethostname(), command, "denied", reason)
    raise access.AccessDenied(reason)


"""Final task states `orchestrator retry` reruns."""


def _retry_request(ws: Workspace, con, run_id: int, request: Request) -> Request:
    """The tasks of run `run_id` that did not end in success (including those a dead process
    never got to), as a request to build exactly those again."""
    planned = state.planned_tasks(con, run_id)
    if planned is None:
        raise UsageError(f"no run with id {run_id} (see: orchestrator runs)")
    final = state.final_statuses(con, run_id)
    todo: dict[str, set[str]] = {}
    whole: set[str] = set()
    for model, key, action in planned:
        status = final.get((model, key))  # None: a dead process never got to it
        if model not in ws.dag.models or status == "success":
            continue
        if status is None or status in RETRYABLE:
            if action in ("shadow", "swap"):
                whole.add(model)  # a rebuild aside is all or nothing: redo it whole
            else:
                todo.setdefault(model, set()).add(key)
    for model, key, status in state.held_tasks(con, run_id):
        if status == "skipped" and model in ws.dag.models:
            todo.setdefault(model, set()).add(key)
    if not todo and not whole:
        raise NothingToRetry(
            f"run {run_id} left nothing to retry: every task it ran "
            "succeeded (waiting or blocked ones are picked up by "
            "`orchestrator run`)"
        )
    vars_of_run = state.run_vars(con, run_id)
    variables = {**vars_of_run, **dict(request.vars)}
    return replace(
        request,
        selected=frozenset(todo) | frozenset(whole),
        retry={m: frozenset(k) for m, k in todo.items()},
        retry_whole=frozenset(whole),
        vars=variables,
    )


def _sync_catalog(ws: Workspace, con) -> None:
    """The models table mirrors the project; it is rewritten only when it changed, so a run with
    nothing to do changes nothing."""
    rows = [
        [
            name,
            str(m.kind),
            m.owner,
            list(m.tags),
            m.version,
            list(ws.dag.upstream[name]),
            list(ws.dag.sources[name]),
            m.partition_by,
            str(m.grain) if m.partitioned else None,
            m.start,
            m.end,
            m.relpath,
        ]
        for name in ws.dag.order
        for m in [ws.dag.models[name]]
    ]
    con.execute("BEGIN")
    try:
        state.replace_models(con, rows, utcnow())
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _sync_source_views(ws: Workspace, con) -> dict[str, str]:
    """Declared file sources become views over their files, rewritten only when they changed.
    Returns the sources whose view could not be made, with DuckDB's reason: they cannot be read,
    so their readers are held back instead of failing on a missing view."""
    import duckdb

    unreadable: dict[str, str] = {}
    known = state.source_views(con)
    existing = state.relations(con)
    for source in ws.project.sources.values():
        if not (source.path and source.format):
            continue
        pattern = freshness.glob_pattern(ws.project.root, source.path)
        if not freshness.matching_files(pattern):
            continue  # no file yet: its readers wait
        error = None
        for statement in materialize.source_views(source, pattern):
            if known.get(source.name) == statement and source.name in existing:
                break
            try:
                con.execute(materialize.create_schema(source.name.split(".")[0]))
                con.execute(statement)
            except duckdb.Error as exc:
                error = error or first_line(exc, named=False)
                continue  # e.g. declared types on files that lack the column: try plainer
            state.remember_source_view(con, source.name, statement)
            break
        else:
            if error:
                unreadable[source.name] = error
    return unreadable


def init_warehouse(ws: Workspace) -> None:
    with writing(ws, "init"):
        pass


def query(ws_warehouse: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run a read-only query against the warehouse: (column names, rows)."""
    import duckdb

    con = warehouse.connect(ws_warehouse, read_only=True)
    try:
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


# -- read-only views of the state -----------------------------------------------------------------


def status(
    ws: Workspace,
    selectors: Sequence[str] = (),
    *,
    partitions: bool = False,
    owner: str | None = None,
) -> tuple[list[str], list[tuple]]:
    """Per model (or per partition): what is built, and what `run` would still do or hold back
    (evaluating sources as `run` would), with failed attempts since the last good build."""
    from collections import defaultdict

    names = ws.dag.ordered(dag_mod.select(ws.dag, selectors))
    if owner is not None:
        owners = {m.owner for m in ws.dag.models.values() if m.owner}
        if owner not in owners:
            from .errors import suggest

            raise UsageError(f"no model has owner '{owner}'{suggest(owner, owners)}")
        names = [n for n in names if ws.dag.models[n].owner == owner]
    attempts: dict[str, dict[str, tuple]] = defaultdict(dict)
    exists = ws.warehouse.exists()
    con = warehouse.connect(ws.warehouse, read_only=True) if exists else warehouse.memory()
    try:
        with warehouse.reading(ws.warehouse):
            snapshot = state.snapshot(con) if exists else EMPTY
            if exists and state.has_state(con):
                for row in state.partition_rows(con):
                    attempts[row[0]][row[1]] = row
        request = replace(request_for(ws, Selection()), strict_vars=False)
        pending, _ = gated_plan(ws, con, snapshot, request)
    finally:
        con.close()
    todo: dict[str, dict[str, str]] = defaultdict(dict)
    for t in pending.units:
        todo[t.model][t.key] = str(t.reason)
    for h in pending.held:
        todo[h.model][h.key] = f"{h.status}: {h.reason}"
    if partitions:
        columns = [
            "model",
            "partition",
            "last_attempt",
            "built_run",
            "rows",
            "built_at",
            "pending",
            "error",
        ]
        out = []
        for name in names:
            keys = sorted(set(attempts[name]) | set(todo[name]))
            for key in keys:
                row = attempts[name].get(key)
                status_, built_run, count, built_at, error = (
                    (row[2], row[3], row[4], row[5], row[7]) if row else (None,) * 5
                )
                out.append(
                    (name, key, status_, built_run, count, built_at, todo[name].get(key, ""), error)
                )
        return columns, out
    columns = ["model", "kind", "owner", "built", "rows", "last_built", "state"]
    out = []
    for name in names:
        model = ws.dag.models[name]
        built = snapshot.built.get(name, {}) if name in snapshot.relations else {}
        # a pending partition whose last attempt went wrong is shown by how it went wrong
        # (failed, check_failed, skipped...); the rest by why it is pending
        # and a built partition whose last attempt failed is not pending (nothing changed
        # since), yet it is not up to date either: it still holds the build before that
        labels: dict[tuple[str, bool], list[str]] = defaultdict(list)
        for key, why in todo[name].items():
            last = attempts[name].get(key)
            label = last[2] if last and last[2] in ATTEMPT_PROBLEMS else why.split(":")[0]
            labels[(label, label in REJECTED and key in built)].append(key)
        for key, last in attempts[name].items():
            if key not in todo[name] and last[2] in REJECTED and key in built:
                labels[(last[2], True)].append(key)
        parts = []
        for (label, kept), keys in sorted(labels.items(), key=lambda kv: rank(kv[0][0], URGENCY)):
            where = ""
            if label in ATTEMPT_PROBLEMS or label in HOLDS:
                shown = ", ".join(sorted(keys)[:3]) + (" ..." if len(keys) > 3 else "")
                where = f" ({shown})"
            parts.append(f"{len(keys)} {label}{where}" + (", last good data kept" if kept else ""))
        state_text = "; ".join(parts) if parts else ("up to date" if built else "not built")
        if name in pending.backfill_only:
            state_text = "not built: no start, only backfill builds it"
        runs_ = [b.run for b in built.values()]
        rows_total = (
            sum(b.rows or 0 for b in built.values()) if built and model.kind != "view" else None
        )
        count = f"{len(built)}" if model.partitioned else ("yes" if built else "no")
        out.append(
            (
                name,
                str(model.kind),
                model.owner,
                count,
                rows_total,
                max(runs_) if runs_ else None,
                state_text,
            )
        )
    return columns, out


def list_runs(path: Path, limit: int) -> tuple[list[str], list[tuple]]:
    """The latest runs; none (not an error) before the first run created the warehouse."""
    if not path.exists():
        return ["run_id"], []
    con = warehouse.connect(path, read_only=True)
    try:
        with warehouse.reading(path):
            if not state.has_state(con):
                return ["run_id"], []
            rows = state.runs(con, limit)
    finally:
        con.close()
    columns = [
        "run_id",
        "command",
        "status",
        "started",
        "seconds",
        "tasks",
        "ok",
        "failed",
        "skipped",
        "who",
    ]
    out = []
    for run_id, command, status_, started, finished, tasks, ok, failed, skipped, by in rows:
        seconds = round((finished - started).total_seconds(), 2) if finished else None
        out.append((run_id, command, status_, started, seconds, tasks, ok, failed, skipped, by))
    return columns, out


def show_run(path: Path, run_id: int) -> tuple[str, list[str], list[tuple]]:
    con = warehouse.connect(path, read_only=True)
    try:
        with warehouse.reading(path):
            row = state.run_row(con, run_id) if state.has_state(con) else None
            if row is None:
                raise UsageError(f"no run with id {run_id} in {path}")
            tasks = state.run_tasks(con, run_id)
    finally:
        con.close()
    rid, command, arguments, status_, started, finished, by, host, variables, error = row
    header = (
        f"run {rid}: {status_}  `orchestrator {arguments or command}`  by {by}@{host}  "
        f"started {started:%Y-%m-%d %H:%M:%S}"
        + (f"  vars {variables}" if variables and variables != "{}" else "")
        + (f"\nerror: {error}" if error else "")
    )
    columns = ["model", "partition", "attempt", "status", "reason", "rows", "seconds", "error"]
    return (
        header,
        columns,
        [tuple(r[:6]) + (round(r[6], 3) if r[6] is not None else None, r[7]) for r in tasks],
    )


def describe_dag(ws: Workspace, selectors: Sequence[str], fmt: str) -> str:
    import json

    names = ws.dag.ordered(dag_mod.select(ws.dag, selectors))
    sources = ws.project.sources
    if fmt == "json":
        return json.dumps(
            {
                "models": [
                    {
                        "name": n,
                        "kind": str(ws.dag.models[n].kind),
                        "path": ws.dag.models[n].relpath,
                        "upstream": list(ws.dag.upstream[n]),
                        "sources": list(ws.dag.sources[n]),
                        "files": list(ws.dag.models[n].files),
                    }
                    for n in names
                ],
                "sources": [
                    {
                        "name": s,
                        "declared": s in sources,
                        "path": sources[s].path if s in sources else None,
                    }
                    for s in sorted({x for n in names for x in ws.dag.sources[n]})
                ],
            },
            indent=2,
        )
    if fmt == "dot":
        lines = ["digraph orchestrator {", "  rankdir=LR;"]
        for n in names:
            lines.append(f'  "{n}" [shape=box];')
            for up in ws.dag.upstream[n]:
                lines.append(f'  "{up}" -> "{n}";')
            for src in ws.dag.sources[n]:
                lines.append(f'  "{src}" [shape=ellipse]; "{src}" -> "{n}";')
        lines.append("}")
        return "\n".join(lines)
    lines = []
    for n in names:
        m = ws.dag.models[n]
        detail = f"{m.kind}" + (f", {m.grain} by {m.partition_by}" if m.partitioned else "")
        lines.append(f"{n}  ({detail})  {m.relpath}")
        for up in ws.dag.upstream[n]:
            lines.append(f"    <- {up}")
        for src in ws.dag.sources[n]:
            how = (
                f"file source {sources[src].path}"
                if src in sources and sources[src].path
                else ("declared source" if src in sources else "external, not declared")
            )
            lines.append(f"    <- {src}  ({how})")
        for f in m.files:
            lines.append(f"    <- file {f}")
    external = sorted({x for n in names for x in ws.dag.sources[n]})
    lines.append(
        f"{len(names)} models, {len(external)} external sources"
        + (f": {', '.join(external)}" if external else "")
    )
    return "\n".join(lines)


_INIT_TOML = """\
# orchestrator project settings (every key is optional)
warehouse = "warehouse.duckdb"   # the DuckDB file, relative to this folder
default_schema = "main"          # schema of models placed directly under models/
# threads = 4                    # worker threads (default: the core count)

# [vars]                         # defaults for {{ var('name') }}; --var name=value overrides
# region = "eu"

# [sources."raw.orders"]         # an external source; with `path`, a view over its files
# path = "data/orders/*.csv"
"""

_INIT_MODEL = """\
-- kind: table
-- owner: analytics
select 1 as id, 'hello' as greeting
"""


def init_project(root: Path, warehouse_path: Path | None = None) -> list[Path]:
    """Create what is missing of a project skeleton, then the warehouse and its state schema."""
    root.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    config = root / CONFIG_FILE
    if not config.exists():
        config.write_text(_INIT_TOML, encoding="utf-8")
        created.append(config)
    for folder in (root / "models", root / "checks"):
        if not folder.exists():
            folder.mkdir()
            created.append(folder)
    models = list((root / "models").rglob("*.sql"))
    if not models:
        example = root / "models" / "staging" / "hello.sql"
        example.parent.mkdir(parents=True, exist_ok=True)
        example.write_text(_INIT_MODEL, encoding="utf-8")
        created.append(example)
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
    from . import checks as checks_mod

    names = ws.dag.ordered(dag_mod.select(ws.dag, selectors, exclude))
    all_vars = dict(ws.project.settings.vars) | dict(variables or {})
    with writing(ws, "check " + " ".join(selectors), wait) as (con, _lock, _):
        with warehouse.reading(ws.warehouse):
            snapshot = state.snapshot(con)
        run_id = state.start_run(
            con,
            command="check",
            arguments=" ".join(selectors),
            variables=all_vars,
            who=who(),
            host=socket.gethostname(),
            pid=os.getpid(),
            started=utcnow(),
            tool_version=__version__,
        )
        found = []
        cur = con.cursor()
        for name in names:
            model = ws.dag.models[name]
            if not model.checks or name not in snapshot.relations:
                continue
            built = snapshot.built.get(name, {})
            windows = (
                tuple(sorted(window_for_key(k, model.grain) for k in built if k != "all"))
                if model.partitioned
                else None
            )
            if model.partitioned and not windows:
                continue
            cur.execute(materialize.search_path(model.schema, ws.project.settings.default_schema))
            scope = checks_mod.Scope(
                model.relation,
                model.partition_by,
                model.grain if model.partitioned else None,
                windows,
            )

            def render(check, model=model, scope=scope):
                return sql_mod.render(
                    check.template, model.window_literals(scope.outer), all_vars, path=check.path
                )

            history = [(k, b.rows or 0) for k, b in built.items()]
            results = checks_mod.evaluate(
                cur,
                model.checks,
                scope,
                relation_for=lambda ref, name=name: ws.dag.relation_for(ref, name),
                render=render,
                history=[] if model.partitioned else history,
            )
            state.insert_check_results(con, run_id, -1, name, results, utcnow())
            found.extend((name, r) for r in results)
        report = CheckReport(run_id, tuple(found))
        failed = sum(1 for _, r in found if r.failed and r.check.blocking)
        state.finish_run(
            con,
            run_id,
            status="failed" if report.exit_code else "success",
            finished=utcnow(),
            counts={"tasks": len(found), "succeeded": len(found) - failed, "failed": failed},
        )
        return report


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
        from .errors import suggest

        raise UsageError(f"no declared source named '{unknown[0]}'{suggest(unknown[0], sources)}")
    chosen = [sources[n.lower()] for n in names] if names else list(sources.values())
    with writing(ws, "freshness " + " ".join(names), wait) as (con, _lock, _):
        inspector = freshness.Inspector(con, ws.project, at or now())
        statuses = [inspector.source_status(s) for s in chosen]
        run_id = state.start_run(
            con,
            command="freshness",
            arguments=" ".join(names),
            variables={},
            who=who(),
            host=socket.gethostname(),
            pid=os.getpid(),
            started=utcnow(),
            tool_version=__version__,
        )
        state.insert_freshness(con, [s.row(run_id) for s in statuses])
        bad = sum(1 for s in statuses if s.status in SOURCE_PROBLEMS)
        state.finish_run(
            con,
            run_id,
            status="failed" if bad else "success",
            finished=utcnow(),
            counts={"tasks": len(statuses), "succeeded": len(statuses) - bad, "failed": bad},
        )
        return run_id, statuses
