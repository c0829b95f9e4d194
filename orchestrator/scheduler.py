"""Turning time and arrivals into runs: the I/O side of schedules (`schedule.py` is the pure
side). One evaluation (`orchestrator schedule --once`, or one turn of the foreground loop):

1. record the cron ticks that came due (one run catches up missed ones; ticks older than the
   job's `catchup` window are only recorded as missed) and the source partitions that arrived
   for event-triggered jobs;
2. run each job with an open tick, one job at a time (a job due while another process writes
   waits for it), planning from the warehouse's state like any `run`;
3. a tick whose outputs are not published by the job's deadline alerts the job's owner once;
   data still not there stays unpublished.

Every tick is a row in orchestrator.schedule_ticks (job, due at, trigger, run, outcome).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from . import alerts, api, freshness, schedule, state
from .errors import UsageError, suggest
from .executor import Reporter, utcnow
from .jobs import Job

MISSED_ROWS = 100  # at most this many missed ticks are recorded per job and evaluation


@dataclass(frozen=True)
class TickReport:
    job: str
    due_at: datetime
    trigger: str
    outcome: str
    run_id: int | None = None
    detail: str = ""


def _deadline(job: Job, due_at: datetime) -> datetime | None:
    if job.deadline is None:
        return None
    return schedule.deadline_after(due_at, job.deadline, schedule.zone(job.timezone))


def record_due(ws: api.Workspace, con, now: datetime) -> list[TickReport]:
    """Step 1: ticks that came due and arrivals, as rows (pending, coalesced, missed)."""
    reports: list[TickReport] = []
    inspector = freshness.Inspector(con, ws.project, now)
    for job in ws.project.ops.jobs.values():
        rows = []
        if job.cron is not None:
            due = schedule.due(
                job.cron,
                schedule.zone(job.timezone),
                state.last_tick(con, job.name, "cron"),
                now,
                job.catchup,
                limit=MISSED_ROWS,
            )
            for tick in due.missed:
                rows.append(
                    (
                        job.name,
                        tick,
                        "cron",
                        f"older than the catch-up window ({job.catchup}): not run",
                        None,
                        None,
                        "missed",
                        now,
                    )
                )
            for tick in due.coalesced:
                rows.append(
                    (
                        job.name,
                        tick,
                        "cron",
                        f"caught up by the run for {due.run_at:%Y-%m-%d %H:%M}",
                        None,
                        None,
                        "coalesced",
                        now,
                    )
                )
            if due.run_at is not None:
                _supersede(con, job, now)
                rows.append(
                    (
                        job.name,
                        due.run_at,
                        "cron",
                        "",
                        _deadline(job, due.run_at),
                        None,
                        "pending",
                        now,
                    )
                )
        if job.on is not None:
            source = ws.project.sources[job.on]
            keys = freshness.arrived_keys(inspector, source)
            seen = state.sensor_marks(con, job.name, source.name)
            if not seen:  # first look: what is there now is the baseline, not news
                state.add_sensor_marks(con, job.name, source.name, sorted(keys) + [""], now)
            else:
                new = sorted(keys - seen)
                if new:
                    state.add_sensor_marks(con, job.name, source.name, new, now)
                    shown = ", ".join(new[:5]) + (" ..." if len(new) > 5 else "")
                    rows.append(
                        (
                            job.name,
                            now,
                            "event",
                            f"{source.name}[{shown}] arrived",
                            _deadline(job, now),
                            None,
                            "pending",
                            now,
                        )
                    )
        state.add_ticks(con, rows)
        reports.extend(TickReport(r[0], r[1], r[2], r[6], None, r[3]) for r in rows)
    return reports


def _supersede(con, job: Job, now: datetime) -> None:
    """A newer tick takes over older ones still open without a deadline (its run plans from
    state, so it covers their work too)."""
    for due_at, trigger, _detail, deadline_at, _outcome in state.open_ticks(con, job.name):
        if deadline_at is None:
            state.update_tick(
                con, job.name, due_at, trigger, outcome="superseded", run_id=None, at=now
            )


def run_job(
    ws: api.Workspace,
    job: Job,
    *,
    trigger: str = "manual",
    now: datetime | None = None,
    reporter: Reporter | None = None,
    wait: float | None = -1,
    cancel: threading.Event | None = None,
) -> api.RunResult:
    """Run a job's selection as the job (its vars, alerts routed with the job)."""
    selection = api.Selection(job.select, job.exclude, dict(job.vars))
    return api.run(
        ws,
        selection,
        command="run",
        arguments=["--job", job.name, f"({trigger})"],
        reporter=reporter,
        at=now,
        wait=wait,
        cancel=cancel,
        job=job.name,
    )


def outcome_of(result: api.RunResult) -> str:
    if result.cancelled:
        return "cancelled"
    if result.exit_code:
        return "failed"
    if result.count("waiting"):
        return "waiting"  # some data has not arrived: the next evaluation tries again
    return "success"


def once(
    ws: api.Workspace,
    now: datetime | None = None,
    *,
    reporter: Reporter | None = None,
    wait: float | None = -1,
    cancel: threading.Event | None = None,
) -> list[TickReport]:
    """One evaluation of every job: record what is due, run it, alert on missed deadlines."""
    now = now or api.now()
    with api.writing(ws, "schedule", wait) as (con, _lock, _):
        reports = record_due(ws, con, now)
        todo = {job.name: state.open_ticks(con, job.name) for job in ws.project.ops.jobs.values()}
    succeeded: set[str] = set()
    for name, ticks in todo.items():
        runnable = [t for t in ticks if t[3] is None or now < t[3]]
        if not runnable or (cancel is not None and cancel.is_set()):
            continue
        job = ws.project.ops.jobs[name]
        trigger = ", ".join(f"{t[1]} {t[0]:%Y-%m-%d %H:%M}" for t in runnable)
        result = run_job(
            ws, job, trigger=trigger, now=now, reporter=reporter, wait=wait, cancel=cancel
        )
        outcome = outcome_of(result)
        if outcome == "success":
            succeeded.add(name)
        with api.writing(ws, "schedule", wait) as (con, _lock, _):
            for due_at, trig, _detail, _deadline_at, _ in runnable:
                state.update_tick(
                    con, name, due_at, trig, outcome=outcome, run_id=result.run_id, at=utcnow()
                )
                reports.append(TickReport(name, due_at, trig, outcome, result.run_id))
        if result.cancelled:
            break
    with api.writing(ws, "schedule", wait) as (con, _lock, _):
        reports.extend(_deadlines(ws, con, now, succeeded))
    return reports


def _deadlines(ws: api.Workspace, con, now: datetime, succeeded: set[str]) -> list[TickReport]:
    """Ticks past their deadline with outputs still unpublished: alert the job's owner (once
    per incident) and close the tick as late; the data stays unpublished until it is ready."""
    events = []
    reports = []
    for job in ws.project.ops.jobs.values():
        for due_at, trigger, _detail, _deadline_at, outcome in state.late_ticks(con, job.name, now):
            why = state.run_problems(con, job.name, due_at, trigger)
            detail = "; ".join(why[:3]) if why else f"the tick was {outcome}"
            events.append(
                alerts.Event(
                    "deadline_missed",
                    job.name,
                    job.owner,
                    f"job {job.name} missed its {job.deadline:%H:%M} {job.timezone} deadline for "
                    f"the {due_at:%Y-%m-%d %H:%M} UTC {trigger} tick: outputs not published",
                    detail,
                    None,
                    job.name,
                    (),
                    (),
                    f"orchestrator run --job {job.name}",
                )
            )
            state.update_tick(
                con, job.name, due_at, trigger, outcome="late", run_id=None, at=now, detail=detail
            )
            reports.append(TickReport(job.name, due_at, trigger, "late", None, detail))
    healthy = {("job", name) for name in succeeded}
    if events or healthy:
        api.deliver_alerts(ws, con, events, healthy, None)
    return reports


def job_named(ws: api.Workspace, name: str) -> Job:
    jobs = ws.project.ops.jobs
    if name not in jobs:
        hint = suggest(name, jobs) or (
            f" (jobs: {', '.join(jobs)})" if jobs else " (no [jobs] in orchestrator.toml)"
        )
        raise UsageError(f"no job named '{name}'{hint}")
    return jobs[name]


def interval(ws: api.Workspace) -> float:
    """How often the foreground loop looks: the shortest sensor poll, between 1 s and 60 s."""
    polls = [j.poll.total_seconds() for j in ws.project.ops.jobs.values() if j.on]
    return max(1.0, min([60.0, *polls]))


def forever(
    ws: api.Workspace,
    *,
    reporter: Reporter | None = None,
    every: float | None = None,
    on_tick=None,
    stop: threading.Event | None = None,
) -> None:
    """The foreground scheduler: evaluate, sleep, repeat, until SIGINT/SIGTERM (a running job
    is cancelled like any run) or `stop` is set."""
    stop = stop or threading.Event()
    pause = every or interval(ws)
    with api.cancellable(stop):
        while not stop.is_set():
            reports = once(ws, reporter=reporter, cancel=stop)
            if on_tick:
                on_tick(reports)
            stop.wait(pause)
            time.sleep(0)
