"""One task, attempt after attempt: a transient error is retried with backoff (every attempt
is a row), a timeout interrupts the task's cursor, a cancel stops it; each failed attempt is
rolled back by its transaction and recorded.

A batch writes all its partitions with one statement in one transaction and records each
partition as its own row. When a partition of a batch fails a blocking check, the batch is
rolled back and its partitions are written one by one, so the good ones still publish."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from ..core.errors import Cancelled, CheckFailed, TaskTimeout, full_message, is_transient
from ..core.status import Status
from ..core.tasks import Action, Task
from .audit import warn_checks
from .context import TaskContext
from .publish import publish
from .records import record_unpublished, unit_record
from .values import Outcome


def run_task(ctx: TaskContext) -> list[Outcome]:
    """Run the task to its end: success, or its last failed attempt; one Outcome per part."""
    if ctx.skip:
        return _partly(ctx)
    first_start = ctx.now()
    while True:
        started = ctx.now()
        ctx.results = []
        ctx.timed_out = False
        try:
            rows = _guarded(ctx, started)
        except Exception as exc:  # recorded, reported, and the run goes on with the rest
            if isinstance(exc, CheckFailed) and ctx.task.parts:
                return _one_by_one(ctx, ctx.task.parts)
            retry, delay, ended = _failed(ctx, exc, started, first_start)
            if not retry:
                return ended
            if ctx.options.cancel.wait(delay):
                return _cancelled_while_waiting(ctx, first_start)
            ctx.attempt += 1
            continue
        warn_checks(ctx)
        return _outcomes(ctx, Status.SUCCESS, first_start, ctx.now(), rows, None)


def _failed(
    ctx: TaskContext, exc: Exception, started: datetime, first_start: datetime
) -> tuple[bool, float, list[Outcome]]:
    """Record a failed attempt; whether to try again, after how long, else the outcomes."""
    finished = ctx.now()
    status = _status_of(ctx, exc)
    error = full_message(exc)  # the state and the alert keep it all; the console picks lines
    if status == Status.TIMED_OUT:
        error = (
            f"ran longer than its timeout ({_span(ctx.policy.timeout)}): "
            "interrupted and rolled back, nothing was written"
        )
    elif status == Status.CANCELLED:
        error = "the run was cancelled: interrupted and rolled back"
    retry = (
        status == Status.FAILED
        and is_transient(exc)
        and ctx.attempt <= ctx.policy.retries
        and not ctx.options.cancel.is_set()
    )
    delay = ctx.policy.delay(ctx.attempt) if retry else 0.0
    if retry:
        status = Status.RETRIED
        error = f"{error} (transient: attempt {ctx.attempt + 1} in {delay:.1f}s)"
    records = ctx.records(status, started, finished, None, error)
    # a swap publishes no partition of its own; a retried attempt is not final
    partition = [] if ctx.task.action is Action.SWAP or retry else records
    record_unpublished(
        ctx.cur,
        records,
        partition,
        lambda engine, at=finished: ctx.record_checks(engine, at),
        ctx.read,
    )
    if retry:
        ctx.options.reporter.retrying(ctx.task, ctx.attempt, error, delay)
        return True, delay, []
    remedy = getattr(exc, "remedy", None)
    return False, 0.0, _outcomes(ctx, status, first_start, finished, None, error, remedy)


def _status_of(ctx: TaskContext, exc: Exception) -> str:
    if isinstance(exc, CheckFailed):
        return Status.CHECK_FAILED
    if ctx.timed_out or isinstance(exc, TaskTimeout):
        return Status.TIMED_OUT
    if ctx.options.cancel.is_set() and (
        isinstance(exc, Cancelled) or type(exc).__name__ == "InterruptException"
    ):
        return Status.CANCELLED
    return Status.FAILED


def _guarded(ctx: TaskContext, started: datetime) -> dict[str, int | None]:
    """One attempt, with its cursor registered for cancellation and a timeout watchdog."""
    shared = ctx.shared
    if ctx.options.cancel.is_set():
        raise Cancelled("the run was cancelled")
    timer = None
    if ctx.policy.timeout is not None:
        timer = threading.Timer(ctx.policy.timeout.total_seconds(), _time_out, [ctx])
        timer.daemon = True
        timer.start()
    with shared.lock:
        shared.active[ctx.task.id] = ctx.cur
    try:
        return publish(ctx, started)
    finally:
        with shared.lock:
            shared.active.pop(ctx.task.id, None)
        if timer is not None:
            timer.cancel()


def _time_out(ctx: TaskContext) -> None:
    ctx.timed_out = True
    ctx.cur.interrupt()


def _outcomes(
    ctx: TaskContext,
    status: str,
    first_start: datetime,
    finished: datetime,
    rows: Mapping[str, int | None] | None,
    error: str | None,
    remedy: str | None = None,
) -> list[Outcome]:
    seconds = (finished - first_start).total_seconds()
    return [
        Outcome(
            u.model,
            u.key,
            status,
            u.why,
            (rows or {}).get(u.key),
            seconds,
            error,
            u,
            checks=tuple(r for r in ctx.results if r.key == u.key or len(ctx.units) == 1),
            attempts=ctx.attempt,
            remedy=remedy,
        )
        for u in ctx.units
    ]


def _one_by_one(ctx: TaskContext, parts: tuple[Task, ...]) -> list[Outcome]:
    """Each partition as a task of its own, in order, on this cursor."""
    outcomes: list[Outcome] = []
    for part in parts:
        outcomes.extend(run_task(ctx.for_part(part)))
    return outcomes


def _partly(ctx: TaskContext) -> list[Outcome]:
    """Some partitions of this batch read an input that did not succeed: record those
    skipped, and write the others one by one."""
    at = ctx.now()
    skipped = [u for u in ctx.units if u.id in ctx.skip]
    run_id = ctx.options.run_id
    records = [
        unit_record(run_id, u, ctx.dag, 1, Status.SKIPPED, ctx.skip[u.id], at, at) for u in skipped
    ]
    record_unpublished(ctx.cur, records)
    outcomes = [Outcome(u.model, u.key, Status.SKIPPED, ctx.skip[u.id], task=u) for u in skipped]
    rest = tuple(u for u in ctx.units if u.id not in ctx.skip)
    return outcomes + _one_by_one(ctx, rest)


def _cancelled_while_waiting(ctx: TaskContext, first_start: datetime) -> list[Outcome]:
    at = ctx.now()
    why = "the run was cancelled before the next attempt"
    ctx.attempt += 1
    records = ctx.records(Status.CANCELLED, at, at, None, why)
    record_unpublished(ctx.cur, records, [] if ctx.task.action is Action.SWAP else records)
    return _outcomes(ctx, Status.CANCELLED, first_start, at, None, why)


def _span(delta: timedelta | None) -> str:
    seconds = int(delta.total_seconds()) if delta else 0
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
