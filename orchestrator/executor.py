"""Running a Plan: workers, dependency order, retries, timeouts, cancellation, skip-on-failure,
one transaction per publish.

Each task renders its SQL, then in one transaction writes the data, audits it, checks it, and
records the state row that describes it; any error rolls the whole task back, so the warehouse
holds the data from before the task or after it, never between (a killed process loses only
uncommitted transactions). A transient error (I/O, a lock, a transaction conflict) is retried
with exponential backoff and jitter, a bounded number of times; every attempt is a row. A task
that runs past its timeout is interrupted and recorded `timed_out`. A failed task marks
everything downstream of it `skipped`; the independent rest goes on. Cancelling (SIGINT/SIGTERM)
interrupts the running tasks, rolls them back and records them and the unstarted ones as
`cancelled`.

Writes to one table are serialised (DuckDB's optimistic concurrency would make two writers of one
table conflict); different tables build in parallel, each worker on its own cursor.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import checks, materialize, sql, state
from .dag import DAG
from .errors import (
    ProjectError,
    SchemaChangeError,
    TaskError,
    WindowError,
    first_line,
    is_transient,
)
from .model import Model
from .partitions import WHOLE, Window
from .planner import Action, Plan, Task, input_markers, used_vars
from .state import Built, Publication, Snapshot, TaskRecord


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Outcome:
    """How one task (or one held task) ended."""

    model: str
    key: str
    status: str  # success | failed | check_failed | timed_out | cancelled | skipped | waiting ...
    reason: str
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None
    task: Task | None = None
    window: Window | None = None
    checks: tuple = ()
    attempts: int = 1

    def __post_init__(self):
        if self.window is None and self.task is not None:
            self.window = self.task.window


class Reporter:
    """Receives progress; the CLI prints it. The default reports nothing."""

    def started(self, plan: Plan, run_id: int) -> None: ...

    def finished_task(self, outcome: Outcome) -> None: ...

    def retrying(self, task: Task, attempt: int, error: str, delay: float) -> None: ...


@dataclass(frozen=True)
class Policy:
    """How hard to try one model's tasks."""

    retries: int = 2  # extra attempts after a transient error
    retry_delay: timedelta = timedelta(seconds=5)
    retry_max_delay: timedelta = timedelta(minutes=5)
    timeout: timedelta | None = None

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): doubling, capped, jittered (half
        fixed, half random, so retries of many tasks do not land together)."""
        base = self.retry_delay.total_seconds() * 2 ** (attempt - 1)
        capped = min(base, self.retry_max_delay.total_seconds())
        return capped / 2 + random.uniform(0, capped / 2)


class TaskTimeout(TaskError):
    """The task ran past its timeout and was interrupted."""


class Cancelled(TaskError):
    """The run was cancelled while the task ran."""


class CheckFailed(TaskError):
    """A blocking check failed on the data a task was about to publish."""

    def __init__(self, results: list[checks.Result]):
        self.results = results
        super().__init__(checks.summarize([r for r in results if r.failed]))


@dataclass
class _Live:
    """The executor's view of what is published, updated as tasks commit."""

    built: dict[str, dict[str, Built]]
    relations: dict[str, str]
    shadows: dict[str, dict[str, Publication]] = field(default_factory=dict)
    columns_checked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Run:
    """What every task of one run shares."""

    dag: DAG
    live: _Live
    run_id: int
    variables: Mapping[str, str]
    now: Callable[[], datetime]
    default_schema: str
    session: Callable[[Task], list[str]] | None
    policy: Callable[[Model], Policy]
    cancel: threading.Event
    reporter: Reporter
    active: dict[int, object] = field(default_factory=dict)  # task id -> cursor in use
    # per cursor, the search_path it was last given (setting it again costs a statement)
    paths: dict[int, str] = field(default_factory=dict)
    recorded: Mapping[str, frozenset[str]] = field(default_factory=dict)  # see Snapshot
    lock: threading.Lock = field(default_factory=threading.Lock)

    def interrupt_all(self) -> None:
        with self.lock:
            for cur in self.active.values():
                cur.interrupt()


def execute(
    plan: Plan,
    dag: DAG,
    con,
    snapshot: Snapshot,
    *,
    run_id: int,
    variables: Mapping[str, str],
    threads: int,
    reporter: Reporter | None = None,
    now: Callable[[], datetime] = utcnow,
    default_schema: str = "main",
    session: Callable[[Task], list[str]] | None = None,
    policy: Callable[[Model], Policy] | None = None,
    cancel: threading.Event | None = None,
) -> list[Outcome]:
    """Run every task of `plan` against the open warehouse connection `con`.

    `session(task)` gives statements to run on the task's cursor first (session settings);
    `policy(model)` the retries and timeout of a model's tasks; setting `cancel` stops the run."""
    run = _Run(
        dag=dag,
        live=_Live(
            built={m: dict(p) for m, p in snapshot.built.items()},
            relations=dict(snapshot.relations),
        ),
        run_id=run_id,
        variables=variables,
        now=now,
        default_schema=default_schema,
        session=session,
        policy=policy or (lambda model: Policy()),
        cancel=cancel or threading.Event(),
        reporter=reporter or Reporter(),
        recorded=snapshot.recorded,
    )
    outcomes: list[Outcome] = []
    _prepare(plan, dag, con)
    outcomes.extend(_record_held(plan, con, run_id, now))
    for outcome in outcomes:
        run.reporter.finished_task(outcome)

    by_id = {t.id: t for t in plan.tasks}
    task_of = {u.id: t.id for t in plan.tasks for u in t.units}  # a batch runs its parts
    waiting_on = {t.id: {task_of[d] for d in t.deps} - {t.id} for t in plan.tasks}
    dependents: dict[int, list[int]] = {t.id: [] for t in plan.tasks}
    for tid, deps in waiting_on.items():
        for d in deps:
            dependents[d].append(tid)
    ready = sorted(tid for tid, deps in waiting_on.items() if not deps)
    # per partition task (a batch's parts one by one): why its readers may not run, if so
    held_back: dict[int, str] = {}
    skip_parts: dict[int, dict[int, str]] = {}  # task id -> its parts to skip, and why
    busy: set[str] = set()
    running: dict[Future, Task] = {}
    local = threading.local()

    def cursor():
        if not hasattr(local, "cursor"):
            local.cursor = con.cursor()
        return local.cursor

    def work(task: Task) -> list[Outcome]:
        return _TaskRunner(task, run, cursor(), skip_parts.get(task.id, {})).run()

    def give_up(tasks: list[Task], status: str, why: Mapping[int, str] | str) -> list[Outcome]:
        """Record tasks that will not run in this run (skipped or cancelled), per partition."""
        units = sorted((u for t in tasks for u in t.units), key=lambda u: u.id)
        if not units:
            return []
        at = now()
        reasons = {u.id: why if isinstance(why, str) else why[u.id] for u in units}
        records = [_unit_record(run_id, u, dag, 1, status, reasons[u.id], at, at) for u in units]
        _record_unpublished(
            con,
            records,
            [r for u, r in zip(units, records, strict=True) if u.action is not Action.SWAP],
        )
        return [Outcome(u.model, u.key, status, reasons[u.id], task=u) for u in units]

    def finish(task: Task, ended: list[Outcome]) -> None:
        """Take a task's outcomes; release its readers, or skip those partitions of theirs that
        read a partition that did not succeed (and, in turn, their readers)."""
        todo = [(task, ended)]
        while todo:
            task, ended = todo.pop()
            for outcome in ended:
                outcomes.append(outcome)
                run.reporter.finished_task(outcome)
                if outcome.status != "success" and outcome.task is not None:
                    held_back[outcome.task.id] = (
                        outcome.reason
                        if outcome.status == "skipped"
                        else f"upstream {outcome.model}[{outcome.key}] {_failed_how(outcome)}"
                    )
            waiting_on.pop(task.id, None)
            for nxt in dependents[task.id]:
                if nxt not in waiting_on:
                    continue
                waiting_on[nxt].discard(task.id)
                if waiting_on[nxt]:
                    continue
                reader = by_id[nxt]
                blocked = {
                    u.id: held_back[d] for u in reader.units for d in u.deps if d in held_back
                }
                if run.cancel.is_set() and blocked:
                    continue  # given up as cancelled below, not skipped
                if len(blocked) == len(reader.units):
                    todo.append((reader, give_up([reader], "skipped", blocked)))
                else:
                    if blocked:
                        skip_parts[nxt] = blocked
                    ready.append(nxt)
            ready.sort()

    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="task") as pool:
        try:
            while ready or running:
                if run.cancel.is_set() and not interrupted:
                    interrupted = True
                    run.interrupt_all()
                if not run.cancel.is_set():
                    for tid in list(ready):
                        if len(running) >= threads:
                            break
                        task = by_id[tid]
                        if task.model in busy:
                            continue
                        ready.remove(tid)
                        busy.add(task.model)
                        running[pool.submit(work, task)] = task
                if not running:
                    break
                # a short timeout: the loop must notice a cancel even while every task is busy
                done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    busy.discard(task.model)
                    finish(task, future.result())
        except BaseException:
            # stopped at once (a second signal, or an error of this loop itself): interrupt
            # what runs, so that leaving this block waits only for those tasks to roll back
            run.cancel.set()
            run.interrupt_all()
            raise
    if run.cancel.is_set():
        left = [by_id[tid] for tid in sorted(waiting_on)]
        for outcome in give_up(left, "cancelled", "the run was cancelled before this task started"):
            outcomes.append(outcome)
            run.reporter.finished_task(outcome)
    _cleanup_shadows(plan, dag, con, outcomes)
    return outcomes


def _failed_how(outcome: Outcome) -> str:
    return {"check_failed": "failed a check", "timed_out": "timed out"}.get(
        outcome.status, "failed"
    )


def _unit_record(
    run_id: int,
    unit: Task,
    dag: DAG,
    attempt: int,
    status: str,
    reason: str,
    started: datetime,
    finished: datetime,
    rows: int | None = None,
    error: str | None = None,
) -> TaskRecord:
    """The task_runs row of one partition task."""
    return TaskRecord(
        run_id,
        unit.id,
        unit.model,
        unit.key,
        _start(unit),
        _end(unit),
        attempt,
        status,
        reason,
        started,
        finished,
        rows,
        dag.models[unit.model].version,
        error,
    )


def refuse_changed_types(
    plan: Plan,
    dag: DAG,
    con,
    snapshot: Snapshot,
    variables: Mapping[str, str],
    default_schema: str = "main",
    session: Callable[[Task], list[str]] | None = None,
) -> None:
    """Before anything is written: raise ProjectError (exit 2) when a task would write into an
    incremental table in place and its query now returns a column of another type than the
    table holds (older partitions hold the old type; only a full refresh can change it).

    Only models the plan writes in place are looked at, one DESCRIBE each (it binds the query
    and reads no data; `session(task)` as in `execute`, so that a source read by partition
    lists only the task's files). A query that cannot be described yet (it reads a table this
    run creates, a file not there yet) is left to the guard in the task itself."""
    import duckdb

    first: dict[str, Task] = {}
    for task in plan.tasks:
        model = dag.models[task.model]
        if (
            task.action is Action.BUILD
            and model.partitioned
            and snapshot.relations.get(model.name) == "table"
        ):
            first.setdefault(model.name, task)
    if not first:
        return
    cur = con.cursor()
    try:
        for name, task in first.items():
            model = dag.models[name]
            rendered = sql.render(
                model.template,
                model.window_literals(task.window),
                used_vars(model, variables),
                path=model.relpath,
            )
            try:
                cur.execute(materialize.search_path(model.schema, default_schema))
                for statement in session(task) if session else ():
                    cur.execute(statement)
                described = cur.execute(materialize.describe_query(rendered)).fetchall()
                query, params = materialize.describe_relation(model.schema, model.table)
                old = cur.execute(query, params).fetchall()
            except duckdb.Error:
                continue
            new = [(r[0], r[1]) for r in described]
            _, refusal = materialize.evolve(model, model.relation, new, old)
            if refusal:
                raise ProjectError(f"{refusal} (nothing was written)", model.relpath)
    finally:
        cur.close()


def _start(task: Task) -> datetime | None:
    return task.window.start if task.window else None


def _end(task: Task) -> datetime | None:
    return task.window.end if task.window else None


def _prepare(plan: Plan, dag: DAG, con) -> None:
    """Schemas for the models about to be written; no leftover shadow of an earlier refresh."""
    models = {t.model for t in plan.tasks}
    for schema in sorted({dag.models[m].schema for m in models}):
        con.execute(materialize.create_schema(schema))
    for m in sorted({t.model for t in plan.tasks if t.action is Action.SHADOW}):
        con.execute(materialize.drop_shadow(dag.models[m]))


def _cleanup_shadows(plan: Plan, dag: DAG, con, outcomes: list[Outcome]) -> None:
    published = {
        o.model
        for o in outcomes
        if o.task and o.task.action is Action.SWAP and o.status == "success"
    }
    for m in sorted({t.model for t in plan.tasks if t.action is Action.SHADOW} - published):
        con.execute(materialize.drop_shadow(dag.models[m]))


def _record_held(plan: Plan, con, run_id: int, now) -> list[Outcome]:
    if not plan.held:
        return []
    at = now()
    records = [
        TaskRecord(
            run_id,
            -1,
            h.model,
            h.key,
            h.window.start if h.window else None,
            h.window.end if h.window else None,
            1,
            h.status,
            h.reason,
            at,
            at,
        )
        for h in plan.held
    ]
    _record_unpublished(con, records)
    return [Outcome(h.model, h.key, h.status, h.reason, window=h.window) for h in plan.held]


def _record_unpublished(
    con, records: list[TaskRecord], partitions: list[TaskRecord] | None = None, also=None
) -> None:
    """Attempts that published nothing; `partitions` (default: all) also get their status;
    `also(con)` adds rows of its own (check results) in the same transaction."""
    con.execute("BEGIN")
    try:
        state.insert_task_runs(con, records)
        state.mark_partitions(con, records if partitions is None else partitions)
        if also is not None:
            also(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _span(delta: timedelta | None) -> str:
    seconds = int(delta.total_seconds()) if delta else 0
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _TaskRunner:
    """Runs one task on one cursor, attempt after attempt: render, then write + audit + check +
    record in one transaction; warn-severity checks run on the published data after the commit.

    A batch writes all its partitions with one statement in one transaction and records each
    partition as its own row. When a partition of a batch fails a blocking check, the batch is
    rolled back and its partitions are written one by one, so the good ones still publish."""

    def __init__(self, task: Task, run: _Run, cur, skip: Mapping[int, str] | None = None):
        self.task = task
        self.run_ = run
        self.model = run.dag.models[task.model]
        self.dag = run.dag
        self.cur = cur
        self.live = run.live
        self.run_id = run.run_id
        self.all_variables = run.variables
        self.variables = used_vars(self.model, run.variables)
        self.now = run.now
        self.policy = run.policy(self.model)
        self.results: list[checks.Result] = []
        self.attempt = 1
        self.timed_out = False
        self.skip = dict(skip or {})  # parts whose inputs did not succeed: recorded skipped
        self.units = task.units
        self.keys = {u.key for u in self.units}

    # -- attempts ---------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        if self.skip:
            return self._partly()
        task, run = self.task, self.run_
        first_start = self.now()
        while True:
            started = self.now()
            self.results = []
            self.timed_out = False
            try:
                rows = self._guarded(started)
            except Exception as exc:  # recorded, reported, and the run goes on with the rest
                self._rollback()
                if isinstance(exc, CheckFailed) and task.parts:
                    return self._one_by_one(task.parts)
                finished = self.now()
                status = self._status_of(exc)
                error = first_line(exc)
                if status == "timed_out":
                    error = (
                        f"ran longer than its timeout ({_span(self.policy.timeout)}): "
                        "interrupted and rolled back, nothing was written"
                    )
                elif status == "cancelled":
                    error = "the run was cancelled: interrupted and rolled back"
                retry = (
                    status == "failed"
                    and is_transient(exc)
                    and self.attempt <= self.policy.retries
                    and not run.cancel.is_set()
                )
                delay = self.policy.delay(self.attempt) if retry else 0.0
                if retry:
                    status = "retried"
                    error = f"{error} (transient: attempt {self.attempt + 1} in {delay:.1f}s)"
                records = self._records(status, started, finished, None, error)
                # a swap publishes no partition of its own; a retried attempt is not final
                partition = [] if task.action is Action.SWAP or retry else records
                _record_unpublished(
                    self.cur,
                    records,
                    partition,
                    lambda con, at=finished: self._record_checks(con, at),
                )
                if retry:
                    run.reporter.retrying(task, self.attempt, error, delay)
                    if not run.cancel.wait(delay):
                        self.attempt += 1
                        continue
                    return self._cancelled_while_waiting(first_start)
                return self._outcomes(status, first_start, finished, None, error)
            self._warn_checks()
            return self._outcomes("success", first_start, self.now(), rows, None)

    def _outcomes(
        self,
        status: str,
        first_start: datetime,
        finished: datetime,
        rows: Mapping[str, int | None] | None,
        error: str | None,
    ) -> list[Outcome]:
        seconds = (finished - first_start).total_seconds()
        return [
            Outcome(
                u.model,
                u.key,
                status,
                str(u.reason),
                (rows or {}).get(u.key),
                seconds,
                error,
                u,
                checks=tuple(r for r in self.results if r.key == u.key or len(self.units) == 1),
                attempts=self.attempt,
            )
            for u in self.units
        ]

    def _one_by_one(self, parts: tuple[Task, ...]) -> list[Outcome]:
        """Each partition as a task of its own, in order, on this cursor."""
        outcomes: list[Outcome] = []
        for part in parts:
            outcomes.extend(_TaskRunner(part, self.run_, self.cur).run())
        return outcomes

    def _partly(self) -> list[Outcome]:
        """Some partitions of this batch read an input that did not succeed: record those
        skipped, and write the others one by one."""
        at = self.now()
        skipped = [u for u in self.units if u.id in self.skip]
        records = [
            _unit_record(self.run_id, u, self.dag, 1, "skipped", self.skip[u.id], at, at)
            for u in skipped
        ]
        _record_unpublished(self.cur, records)
        outcomes = [Outcome(u.model, u.key, "skipped", self.skip[u.id], task=u) for u in skipped]
        return outcomes + self._one_by_one(tuple(u for u in self.units if u.id not in self.skip))

    def _status_of(self, exc: Exception) -> str:
        if isinstance(exc, CheckFailed):
            return "check_failed"
        if self.timed_out or isinstance(exc, TaskTimeout):
            return "timed_out"
        if self.run_.cancel.is_set() and (
            isinstance(exc, Cancelled) or type(exc).__name__ == "InterruptException"
        ):
            return "cancelled"
        return "failed"

    def _cancelled_while_waiting(self, first_start: datetime) -> list[Outcome]:
        at = self.now()
        why = "the run was cancelled before the next attempt"
        self.attempt += 1
        records = self._records("cancelled", at, at, None, why)
        _record_unpublished(self.cur, records, [] if self.task.action is Action.SWAP else records)
        return self._outcomes("cancelled", first_start, at, None, why)

    def _guarded(self, started: datetime) -> dict[str, int | None]:
        """One attempt, with its cursor registered for cancellation and a timeout watchdog."""
        run = self.run_
        if run.cancel.is_set():
            raise Cancelled("the run was cancelled")
        timer = None
        if self.policy.timeout is not None:
            timer = threading.Timer(self.policy.timeout.total_seconds(), self._time_out)
            timer.daemon = True
            timer.start()
        with run.lock:
            run.active[self.task.id] = self.cur
        try:
            return self._publish(started)
        finally:
            with run.lock:
                run.active.pop(self.task.id, None)
            if timer is not None:
                timer.cancel()

    def _time_out(self) -> None:
        self.timed_out = True
        self.cur.interrupt()

    def _checkpoint(self) -> None:
        """Between statements: an interrupt that came while no query ran is not lost."""
        if self.timed_out:
            raise TaskTimeout(
                f"ran longer than its timeout of {self.policy.timeout}; "
                "interrupted, nothing was written"
            )
        if self.run_.cancel.is_set():
            raise Cancelled("the run was cancelled; nothing was written")

    def _records(
        self,
        status: str,
        started: datetime,
        finished: datetime,
        rows: Mapping[str, int | None] | None,
        error: str | None = None,
    ) -> list[TaskRecord]:
        """One row per partition this task writes."""
        return [
            _unit_record(
                self.run_id,
                u,
                self.dag,
                self.attempt,
                status,
                str(u.reason),
                started,
                finished,
                (rows or {}).get(u.key),
                error,
            )
            for u in self.units
        ]

    def _record_checks(self, con, at: datetime) -> None:
        state.insert_check_results(
            con, self.run_id, self.task.id, self.model.name, self.results, at
        )

    def _rollback(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except Exception:  # no transaction was open
            pass

    # -- checks -----------------------------------------------------------------------------

    def _target(self) -> str:
        return materialize.target_of(self.model, self.task.action is Action.SHADOW)

    def _scope(self, relation: str) -> checks.Scope:
        model = self.model
        windows = tuple(u.window for u in self.units if u.window)
        return checks.Scope(
            relation,
            model.partition_by,
            model.grain if model.partitioned else None,
            windows or None,
        )

    def _evaluate(self, selected: list[checks.Check], relation: str, in_transaction: bool):
        model = self.model
        scope = self._scope(relation)
        with self.live.lock:
            history = [
                (k, b.rows)
                for k, b in self.live.built.get(model.name, {}).items()
                if k not in self.keys and b.rows is not None
            ]
            if not model.partitioned:
                previous = self.live.built.get(model.name, {}).get(WHOLE)
                history = [("", previous.rows)] if previous and previous.rows is not None else []

        def render(check: checks.Check) -> str:
            literals = model.window_literals(scope.outer, this=relation)
            text = sql.render(check.template, literals, self.all_variables, path=check.path)
            if relation != model.relation:  # built aside: the model's name means the new data
                text = sql.retarget(text, {model.name, model.table}, relation)
            return text

        return checks.evaluate(
            self.cur,
            selected,
            scope,
            relation_for=lambda ref: self.dag.relation_for(ref, model.name),
            render=render,
            history=history,
            stop_on_error=in_transaction,
        )

    def _blocking_checks(self) -> None:
        """Judge the new data inside the open transaction: a failure rolls the task back.

        Before it does, the warnings judge the rejected data too, so that check_results holds
        every check of the attempt (this costs only on the failure path). Not after a check
        errored: the error aborted the transaction, and the data is gone with it."""
        blocking = [c for c in self.model.checks if c.blocking]
        if not blocking:
            return
        results = self._evaluate(blocking, self._target(), in_transaction=True)
        self.results.extend(results)
        if any(r.failed for r in results):
            warn = [c for c in self.model.checks if not c.blocking]
            if warn and not any(r.status == "error" for r in results):
                self.results.extend(self._evaluate(warn, self._target(), in_transaction=True))
            raise CheckFailed(results)

    def _warn_checks(self) -> None:
        """Warnings never hold data back: they run on what was just published, and are
        recorded; a warn check whose own query fails is recorded as an error."""
        warn = [c for c in self.model.checks if not c.blocking]
        if not warn or self.task.action is Action.SWAP:
            return
        try:
            results = self._evaluate(warn, self._target(), in_transaction=False)
        except Exception as exc:  # a warning must never turn a published task into a failure
            results = [
                checks.Result(c, u.key, "error", 0, (), first_line(exc))
                for c in warn
                for u in self.units
            ]
        self.results.extend(results)
        state.insert_check_results(
            self.cur, self.run_id, self.task.id, self.model.name, results, self.now()
        )

    # -- the write --------------------------------------------------------------------------

    def _publish(self, started: datetime) -> dict[str, int | None]:
        """Write, audit, check and record in one transaction; the rows written per partition."""
        if self.task.action is Action.SWAP:
            return self._swap(started)
        task, model = self.task, self.model
        into_shadow = task.action is Action.SHADOW
        rendered = sql.render(
            model.template,
            model.window_literals(task.window, this=self._target()),
            self.variables,
            path=model.relpath,
        )
        with self.live.lock:
            existing = self.live.relations.get(model.name)
            shadow_exists = model.name in self.live.shadows
        path = materialize.search_path(model.schema, self.run_.default_schema)
        if self.run_.paths.get(id(self.cur)) != path:
            self.cur.execute(path)
            self.run_.paths[id(self.cur)] = path
        for statement in self.run_.session(task) if self.run_.session else ():
            self.cur.execute(statement)
        write = materialize.build(
            model,
            rendered,
            task.window,
            existing,
            into_shadow=into_shadow,
            shadow_exists=shadow_exists,
        )
        self.cur.execute("BEGIN")
        if model.partitioned and existing == "table" and not into_shadow:
            self._follow_columns(rendered)
        written = self._apply(write)
        if task.parts:  # one statement wrote them all: count each partition's rows
            scope = self._scope(self._target())
            counted = dict(self.cur.execute(checks.counts_sql(scope)).fetchall())
            rows = {u.key: counted.get(u.key, 0) for u in self.units}
        else:
            rows = {task.key: written}
        self._blocking_checks()
        self._checkpoint()
        finished = self.now()
        with self.live.lock:
            publications = [
                Publication(
                    model.name,
                    u.key,
                    _start(u),
                    _end(u),
                    model.version,
                    model.layout,
                    input_markers(self.dag, self.live.built, model.name, u.window),
                    self.variables,
                    self.run_id,
                    rows[u.key],
                    finished,
                )
                for u in self.units
            ]
        state.insert_task_runs(self.cur, self._records("success", started, finished, rows))
        self._record_checks(self.cur, finished)
        if not into_shadow:
            # each partition is written once per run: the snapshot says whether it has a row
            state.publish_partitions(self.cur, publications, self.run_.recorded)
        self._checkpoint()
        self.cur.execute("COMMIT")
        with self.live.lock:
            for publication in publications:
                if into_shadow:
                    self.live.shadows.setdefault(model.name, {})[publication.key] = publication
                else:
                    self.live.built.setdefault(model.name, {})[publication.key] = (
                        publication.built()
                    )
            if not into_shadow:
                # the columns were checked in this transaction, which committed
                self.live.columns_checked.add(model.name)
                self.live.relations[model.name] = "view" if model.kind == "view" else "table"
        return rows

    def _follow_columns(self, rendered: str) -> None:
        """Once per model and run (until a write commits): add new query columns to the table,
        refuse changed types."""
        model = self.model
        with self.live.lock:
            if model.name in self.live.columns_checked:
                return
        described = self.cur.execute(materialize.describe_query(rendered)).fetchall()
        new = [(r[0], r[1]) for r in described]
        query, params = materialize.describe_relation(model.schema, model.table)
        old = self.cur.execute(query, params).fetchall()
        statements, refusal = materialize.evolve(model, model.relation, new, old)
        if refusal:
            raise SchemaChangeError(refusal)
        for statement in statements:
            self.cur.execute(statement)

    def _apply(self, write: materialize.Write) -> int | None:
        counts: list[int | None] = []
        try:
            for statement in write.statements:
                counts.append(self._count(statement))
        except Exception as exc:
            if write.guard is None or materialize.GUARD not in str(exc):
                raise
            self._rollback()  # the failed write aborted the transaction: count outside it
            outside = self.cur.execute(write.guard.count).fetchone()[0]
            raise WindowError(write.guard.message(outside)) from None
        if write.audit:
            row = self.cur.execute(write.audit).fetchone()
            problem = write.judge(row, counts[-1] or 0) if write.judge else None
            if problem:
                raise WindowError(problem)
        for statement in write.finish:
            counts.append(self._count(statement))
        return counts[write.count_statement] if write.count_statement is not None else None

    def _count(self, statement: str) -> int | None:
        self._checkpoint()
        row = self.cur.execute(statement).fetchone()
        return row[0] if row and isinstance(row[0], int) else None

    def _swap(self, started: datetime) -> dict[str, int | None]:
        model = self.model
        with self.live.lock:
            existing = self.live.relations.get(model.name)
            shadow = dict(self.live.shadows.get(model.name, {}))
        self.cur.execute("BEGIN")
        if shadow:
            self._apply(materialize.swap(model, existing))
        elif existing:
            self.cur.execute(f"DROP {existing.upper()} IF EXISTS {model.relation}")
        finished = self.now()
        rows = {self.task.key: sum(p.rows or 0 for p in shadow.values())}
        state.insert_task_runs(self.cur, self._records("success", started, finished, rows))
        state.forget_partitions(self.cur, model.name)
        state.publish_partitions(self.cur, list(shadow.values()))
        self._checkpoint()
        self.cur.execute("COMMIT")
        with self.live.lock:
            self.live.built[model.name] = {k: p.built() for k, p in shadow.items()}
            if shadow:
                self.live.relations[model.name] = "table"
            else:
                self.live.relations.pop(model.name, None)
            self.live.shadows.pop(model.name, None)
        return rows
