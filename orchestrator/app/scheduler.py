"""Turning time and arrivals into runs: the I/O side of schedules (`schedule.py` is the pure
side). One evaluation (`orchestrator schedule --once`, or one turn of the foreground loop):

1. record the cron ticks that came due (one run catches up missed ones; ticks older than the
   job's `catchup` window are only recorded as missed) and the source partitions that arrived
   for event-triggered jobs;
2. run each job with an open tick, one job at a time (a job due while another process writes
   waits for it), planning from the warehouse's state like any `run`. A tick whose run waited
   for data stays open and runs again once some of that data has arrived; a failed one does
   not loop (`orchestrator retry` is a person's decision);
3. a tick whose outputs are not published by the job's deadline alerts the job's owner once;
   the data stays unpublished until it is ready, and the first success tells the recovery.

Every tick is a row in orchestrator.schedule_ticks (job, due at, trigger, run, outcome, and
when it missed its deadline).
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .. import state
from ..core.errors import (
    OrchestratorError,
    ProjectError,
    RunStopped,
    UsageError,
    WarehouseBusy,
    first_line,
    suggest,
)
from ..execution import Reporter
from ..project import schedule
from ..project.model import CONFIG_FILE, Job, Owner
from ..sources import freshness, survey
from . import alerts, api, workspace
from .notify import deliver_alerts
from .session import cancellable, writing
from .workspace import Selection, Workspace

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


def record_due(ws: Workspace, con, now: datetime) -> list[TickReport]:
    """Step 1: ticks that came due and arrivals, as rows (pending, coalesced, missed)."""
    reports: list[TickReport] = []
    inspector = freshness.Inspector(con, ws.project, now, survey.take(ws.project))

    def add(job: Job, due_at: datetime, trigger: str, outcome: str, detail: str = "") -> None:
        deadline = _deadline(job, due_at) if outcome == "pending" else None
        if outcome == "pending":
            _supersede(con, job, now)
        state.add_tick(
            con, job.name, due_at, trigger, outcome, now, detail=detail, deadline_at=deadline
        )
        reports.append(TickReport(job.name, due_at, trigger, outcome, None, detail))

    for job in ws.project.ops.jobs.values():
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
                add(
                    job,
                    tick,
                    "cron",
                    "missed",
                    f"older than the catch-up window ({job.catchup}): not run",
                )
            for tick in due.coalesced:
                add(
                    job,
                    tick,
                    "cron",
                    "coalesced",
                    f"caught up by the run for {due.run_at:%Y-%m-%d %H:%M}",
                )
            if due.run_at is not None:
                add(job, due.run_at, "cron", "pending")
        if job.on is not None:
            source = ws.project.sources[job.on]
            keys = freshness.arrived_keys(inspector, source)
            seen = state.sensor_marks(con, job.name, source.name)
            if not seen:  # first look: what is there now is the baseline, not news
                state.add_sensor_marks(con, job.name, source.name, sorted(keys) + [""], now)
                continue
            new = sorted(keys - seen)
            if new:
                state.add_sensor_marks(con, job.name, source.name, new, now)
                shown = ", ".join(new[:5]) + (" ..." if len(new) > 5 else "")
                add(job, now, "event", "pending", f"{source.name}[{shown}] arrived")
    return reports


def _supersede(con, job: Job, now: datetime) -> None:
    """A new tick takes over the job's older open ones (its run plans from state, so it covers
    their work too), except those whose deadline is still to be judged: they stay until it is,
    so a missed deadline is always told."""
    for tick in state.open_ticks(con, job.name):
        if tick.deadline_at is None or tick.deadline_missed_at is not None:
            state.update_tick(con, job.name, tick, outcome="superseded", at=now)


def run_job(
    ws: Workspace,
    job: Job,
    *,
    trigger: str = "manual",
    now: datetime | None = None,
    reporter: Reporter | None = None,
    wait: float | None = -1,
    cancel: threading.Event | None = None,
) -> api.RunResult:
    """Run a job's selection as the job (its vars, alerts routed with the job)."""
    return api.run(
        ws,
        selection_of(job),
        command="run",
        arguments=["--job", job.name, f"({trigger})"],
        reporter=reporter,
        at=now,
        wait=wait,
        cancel=cancel,
        job=job.name,
    )


def selection_of(job: Job) -> Selection:
    return Selection(job.select, job.exclude, dict(job.vars))


def outcome_of(result: api.RunResult) -> str:
    if result.cancelled:
        return "cancelled"
    if result.exit_code:
        return "failed"
    if result.count("waiting"):
        return "waiting"  # some data has not arrived: the next evaluation tries again
    return "success"


def _nothing_ready(ws: Workspace, job: Job, now: datetime) -> bool:
    """A tick that already waited is run again only when some of its work became ready, so an
    evaluation every minute does not record a run every minute while a file is late."""
    try:
        return not api.plan(ws, selection_of(job), at=now, check_types=False).tasks
    except WarehouseBusy:
        return False  # let the run wait for the writer and decide


def once(
    ws: Workspace,
    now: datetime | None = None,
    *,
    reporter: Reporter | None = None,
    wait: float | None = -1,
    cancel: threading.Event | None = None,
) -> list[TickReport]:
    """One evaluation of every job: record what is due, run it, alert on missed deadlines."""
    now = now or workspace.now()
    with writing(ws, "schedule", wait) as (con, _lock, _):
        recorded = record_due(ws, con, now)
        todo = {job.name: state.open_ticks(con, job.name) for job in ws.project.ops.jobs.values()}
    reports = {(r.job, r.due_at, r.trigger): r for r in recorded}
    succeeded: set[str] = set()
    for name, ticks in todo.items():
        if not ticks or (cancel is not None and cancel.is_set()):
            continue
        job = ws.project.ops.jobs[name]
        trigger = ", ".join(f"{t.trigger} {t.due_at:%Y-%m-%d %H:%M}" for t in ticks)
        refused = None
        try:
            if all(t.outcome == "waiting" for t in ticks) and _nothing_ready(ws, job, now):
                continue
            result = run_job(
                ws, job, trigger=trigger, now=now, reporter=reporter, wait=wait, cancel=cancel
            )
        except (WarehouseBusy, RunStopped):
            raise  # not this job's fault: its ticks stay open for the next evaluation
        except OrchestratorError as exc:
            # refused before it started (a var it lacks, a protected model, ...): that job
            # failed, and the others still run
            refused, result = first_line(exc), None
        outcome = outcome_of(result) if result else "failed"
        run_id = result.run_id if result else None
        if outcome == "success":
            succeeded.add(name)
        with writing(ws, "schedule", wait) as (con, _lock, _):
            for tick in ticks:
                detail = refused
                if outcome == "success" and tick.deadline_at and tick.deadline_at < now:
                    detail = f"published after its {tick.deadline_at:%Y-%m-%d %H:%M} deadline"
                state.update_tick(
                    con, name, tick, outcome=outcome, run_id=run_id, at=now, detail=detail
                )
                reports[(name, tick.due_at, tick.trigger)] = TickReport(
                    name, tick.due_at, tick.trigger, outcome, run_id, detail or tick.detail or ""
                )
            if refused:
                deliver_alerts(ws, con, [_could_not_start(job, refused, trigger)], set(), None)
        if result is not None and result.cancelled:
            break
    with writing(ws, "schedule", wait) as (con, _lock, _):
        for report in _deadlines(ws, con, now, succeeded):
            reports[(report.job, report.due_at, report.trigger)] = report
    return list(reports.values())


def _could_not_start(job: Job, why: str, trigger: str) -> alerts.Event:
    """A job refused before its run started: its owner must act (nothing runs until then)."""
    return alerts.Event(
        "job_failed",
        job.name,
        job.owner,
        f"job {job.name} could not start ({trigger}): {why}",
        why,
        None,
        job.name,
        (),
        (),
        f"fix it, then: orchestrator run --job {job.name}",
        cause="refused",
    )


def _deadlines(ws: Workspace, con, now: datetime, succeeded: set[str]) -> list[TickReport]:
    """Ticks past their deadline with outputs still unpublished: alert the job's owner (once
    per incident). A tick that waits for data keeps waiting (its outputs publish when the data
    comes, and the job's recovery is told); a failed one waits for someone to act."""
    events = []
    reports = []
    for job in ws.project.ops.jobs.values():
        for tick in state.late_ticks(con, job.name, now):
            why = state.run_problems(con, job.name, tick.due_at, tick.trigger)
            detail = "; ".join(why[:3]) if why else f"the tick was {tick.outcome}"
            events.append(
                alerts.Event(
                    "deadline_missed",
                    job.name,
                    job.owner,
                    f"job {job.name} missed its {job.deadline:%H:%M} {job.timezone} deadline for "
                    f"the {tick.due_at:%Y-%m-%d %H:%M} UTC {tick.trigger} tick: outputs not "
                    "published",
                    detail,
                    None,
                    job.name,
                    (),
                    (),
                    f"orchestrator run --job {job.name}",
                    cause="deadline",
                )
            )
            state.update_tick(con, job.name, tick, at=now, detail=detail, deadline_missed=True)
            reports.append(TickReport(job.name, tick.due_at, tick.trigger, "late", None, detail))
    healthy = {("job", name) for name in succeeded}
    if events or healthy:
        deliver_alerts(ws, con, events, healthy, None)
    return reports


def job_named(ws: Workspace, name: str) -> Job:
    jobs = ws.project.ops.jobs
    if name not in jobs:
        hint = suggest(name, jobs) or (
            f" (jobs: {', '.join(jobs)})" if jobs else " (no [jobs] in orchestrator.toml)"
        )
        raise UsageError(f"no job named '{name}'{hint}")
    return jobs[name]


def interval(ws: Workspace) -> float:
    """How often the foreground loop looks: the shortest sensor poll, between 1 s and 60 s."""
    polls = [j.poll.total_seconds() for j in ws.project.ops.jobs.values() if j.on]
    return max(1.0, min([60.0, *polls]))


def forever(
    ws: Workspace,
    *,
    reporter: Reporter | None = None,
    every: float | None = None,
    on_tick=None,
    stop: threading.Event | None = None,
    load: Callable[[], Workspace] | None = None,
    on_error: Callable[[ProjectError], None] | None = None,
) -> None:
    """The foreground scheduler: evaluate, sleep, repeat, until SIGINT/SIGTERM (a running job
    is cancelled like any run) or `stop` is set. `load` reads the project again before each
    evaluation (an edit takes effect without a restart); while it does not load, nothing runs
    and the default owner is told once (`unloadable`)."""
    stop = stop or threading.Event()
    with cancellable(stop):
        while not stop.is_set():
            if load is not None:
                try:
                    ws = load()
                except ProjectError as exc:
                    unloadable(ws.project.root, exc)
                    if on_error:
                        on_error(exc)
                    stop.wait(every or interval(ws))
                    continue
                loaded(ws)
            reports = once(ws, reporter=reporter, cancel=stop)
            if on_tick:
                on_tick(reports)
            stop.wait(every or interval(ws))
            time.sleep(0)


# -- a project that does not load: its orchestrator.toml is the project, so nothing runs; the
# scheduler tells [owners.default] (as the file says it, or as it last loaded) once per error

MEMORY = Path(".orchestrator") / "scheduler.json"


def loaded(ws: Workspace) -> list[str]:
    """The project loads: remember its default owner's route for the day it will not, and
    tell the recovery when it did not load before. Returns what was sent."""
    path = ws.project.root / MEMORY
    memory = _memory(path)
    owner = ws.project.ops.owners.get("default")
    sent = []
    if memory.get("told"):
        event = alerts.Event(
            "recovered",
            CONFIG_FILE,
            "default",
            f"{CONFIG_FILE} loads again: the scheduler runs the jobs",
            kind="project",
            cause="broken",
        )
        delivery = alerts.deliver(owner, alerts.payload(event, owner), ws.project.root)
        sent.append(event.summary if delivery.delivered else f"NOT delivered: {event.summary}")
    remembered = {"default_owner": asdict(owner) if owner else None, "told": None}
    if remembered != memory:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(remembered, default=list), encoding="utf-8")
    return sent


def unloadable(root: Path, error: ProjectError) -> str | None:
    """The project does not load: alert the default owner, once per distinct error. Returns
    what was sent (None when this error was told already, or there is no default owner)."""
    path = Path(root) / MEMORY
    memory = _memory(path)
    text = str(error)
    if memory.get("told") == text:
        return None
    owner = _default_owner(Path(root), memory)
    if owner is None:
        return None  # nobody to tell: the error on stderr is all there is
    event = alerts.Event(
        "project_broken",
        CONFIG_FILE,
        "default",
        f"the project does not load, so no job runs: {CONFIG_FILE} must be fixed"
        if str(error.path or "").endswith(CONFIG_FILE)
        else "the project does not load, so no job runs",
        text,
        retry="fix what the error names, then: orchestrator schedule",
        kind="project",
        cause="broken",
    )
    delivery = alerts.deliver(owner, alerts.payload(event, owner), Path(root))
    path.parent.mkdir(parents=True, exist_ok=True)
    memory.update(told=text)
    path.write_text(json.dumps(memory, default=list), encoding="utf-8")
    return event.summary if delivery.delivered else f"NOT delivered: {event.summary}"


def _memory(path: Path) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _default_owner(root: Path, memory: dict) -> Owner | None:
    """[owners.default] as orchestrator.toml says it now, when that much of it reads; else as
    it was the last time the project loaded."""
    try:
        raw = tomllib.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
        spec = raw["owners"]["default"]
        owner = Owner(
            "default",
            **{k: spec[k] for k in ("webhook", "command", "log") if isinstance(spec.get(k), str)},
        )
        if owner.webhook or owner.command or owner.log:
            return owner
    except (OSError, ValueError, KeyError, TypeError):
        pass
    spec = memory.get("default_owner")
    if isinstance(spec, dict):
        return Owner(**{**spec, "folders": tuple(spec.get("folders") or ())})
    return None
