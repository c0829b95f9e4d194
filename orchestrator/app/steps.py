"""Steps (`[steps.NAME]`): commands run after a run's tasks and checks, for each window of their
models that is published and ready (or once per run that published any of them), never twice
for the same build of a window.

A window is due when every model the step runs after has it published and its latest attempt
succeeded (never one held back by this run, or whose blocking check failed), and the step has
not succeeded for exactly those builds yet. So a window rebuilt is due again, a crash between a
command's end and its record runs it once more, and a failed step is tried again by the next
run. Each attempt is a row of `orchestrator.step_runs`; what it printed goes to a log file under
`.orchestrator/logs/steps/`, its tail to the row. A step that still fails after its retries
fails the run (exit 1) and alerts its owner (`step_failed`). Work in an environment runs no step.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .. import state
from ..core import crashpoints
from ..core.partitions import WHOLE, Window, window_for_key
from ..core.status import NEEDS_ACTION, Status
from ..core.tasks import Plan
from ..engines import engine, readers
from ..execution.commands import Finished, run_command
from ..execution.values import Outcome, Policy, utcnow
from ..project.model import Step
from ..project.steps import models_after, per_of
from .workspace import Workspace, reading

LOGS = Path(".orchestrator") / "logs" / "steps"
PREFIX = "step:"  # an outcome of a step is named step:NAME among a run's outcomes


@dataclass
class StepOutcome(Outcome):
    """How a step ended for one window: an Outcome (so the run's status, exit code, report and
    alerts count it) that knows its step's owner."""

    owner: str | None = None


@dataclass(frozen=True)
class Due:
    """One window a step is to run for, and the builds of its models it runs for."""

    step: Step
    key: str
    window: Window | None
    built: str  # "model=run,..."; per = run: the newest build of any of its models


def due(
    step: Step,
    models: Sequence[str],
    per: str,
    builds: Mapping[tuple[str, str], tuple[str, int | None]],
    held: set[tuple[str, str]],
    done: set[tuple[str, str, str]],
    grain=None,
) -> list[Due]:
    """The windows `step` has still to run for, given the state's builds of its models, what
    this run held back or failed, and what the step already did.

    >>> from orchestrator.project.model import Step
    >>> s = Step("s", ("true",), ("m",))
    >>> builds = {("m", "2026-01-01"): ("success", 3), ("m", "2026-01-02"): ("check_failed", 2)}
    >>> [d.key for d in due(s, ["m"], "partition", builds, set(), set())]
    ['2026-01-01']
    >>> due(s, ["m"], "partition", builds, set(), {("s", "2026-01-01", "m=3")})
    []
    """
    if per == "run":
        if any(m in models for m, _ in held):
            return []
        runs = [b for (m, _), (s, b) in builds.items() if m in models and b is not None]
        built = str(max(runs)) if runs else ""
        fresh = runs and (step.name, WHOLE, built) not in done
        return [Due(step, WHOLE, None, built)] if fresh else []
    keys = sorted({k for m, k in builds if m in models})
    found = []
    for key in keys:
        parts = [(m, builds.get((m, key), ("missing", None))) for m in models]
        if any(s != Status.SUCCESS or b is None or (m, key) in held for m, (s, b) in parts):
            continue
        built = ",".join(f"{m}={b}" for m, (_, b) in parts)
        if (step.name, key, built) not in done:
            window = window_for_key(key, grain) if grain is not None else None
            found.append(Due(step, key, window, built))
    return found


def due_now(ws: Workspace, con, held: set[tuple[str, str]]) -> list[Due]:
    """Every step's due windows, in the order of the project's steps."""
    steps = ws.project.steps
    done = state.step_successes(con, list(steps))
    found: list[Due] = []
    for step in steps.values():
        models = models_after(ws.dag, step)
        per = per_of(ws.dag, step)
        grain = ws.dag.models[models[0]].grain if per == "partition" else None
        builds = state.partition_builds(con, models)
        found += due(step, models, per, builds, held, done, grain)
    return found


def _held(result) -> set[tuple[str, str]]:
    """(model, key) this run held back or could not build: a step waits for them."""
    held = {(h.model, h.key) for h in result.plan.held if h.status in NEEDS_ACTION}
    return held | {(o.model, o.key) for o in result.outcomes if o.status in NEEDS_ACTION}


def after_run(ws: Workspace, con, result, run_id: int, cancel: threading.Event | None = None):
    """Run the steps due after this run's tasks and checks; the result with their outcomes
    added (a failed step fails the run). An environment, or a cancelled run, runs none."""
    cancel = cancel or threading.Event()
    if not ws.project.steps or ws.env is not None or result.cancelled or cancel.is_set():
        return result
    outcomes = []
    for item in due_now(ws, con, _held(result)):
        if cancel.is_set():
            break
        outcomes.append(run_due(ws, con, item, run_id, result.plan.request.vars, cancel))
    if not outcomes:
        return result
    return replace(result, outcomes=result.outcomes + tuple(outcomes))


def healthy_steps(result) -> set[tuple[str, str]]:
    """("step", step:NAME) of every step that ran in this run and succeeded each time."""
    ran: dict[str, bool] = {}
    for o in result.outcomes:
        if o.model.startswith(PREFIX):
            ran[o.model] = ran.get(o.model, True) and o.status == "success"
    return {("step", name) for name, ok in ran.items() if ok}


def policy_of(ws: Workspace, step: Step) -> Policy:
    settings = ws.project.settings
    return Policy(
        retries=step.retries if step.retries is not None else settings.retries,
        retry_delay=step.retry_delay or settings.retry_delay,
        retry_max_delay=settings.retry_max_delay,
        timeout=step.timeout or settings.timeout,
    )


def environment(item: Due, run_id: int, variables: Mapping[str, str]) -> dict[str, str]:
    """What the command is told: the step, the run, the window, the vars, the step's `env`."""
    env = dict(os.environ)
    window = item.window
    env.update(
        {
            "ORCHESTRATOR_STEP": item.step.name,
            "ORCHESTRATOR_RUN_ID": str(run_id),
            "ORCHESTRATOR_PARTITION": item.key,
            "ORCHESTRATOR_WINDOW_START": window.start.isoformat() if window else "",
            "ORCHESTRATOR_WINDOW_END": window.end.isoformat() if window else "",
            "ORCHESTRATOR_BUILT_RUNS": item.built,
        }
    )
    env.update({f"ORCHESTRATOR_VAR_{k.upper()}": str(v) for k, v in variables.items()})
    env.update(item.step.env)
    return env


def log_path(ws: Workspace, item: Due, run_id: int) -> Path:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.key)
    return ws.project.root / LOGS / item.step.name / f"run-{run_id}-{key}.log"


def run_due(
    ws: Workspace,
    con,
    item: Due,
    run_id: int,
    variables: Mapping[str, str],
    cancel: threading.Event,
) -> StepOutcome:
    """The step's command for one window, attempt after attempt; each attempt is a row."""
    policy = policy_of(ws, item.step)
    path = log_path(ws, item, run_id)
    env = environment(item, run_id, variables)
    timeout = policy.timeout.total_seconds() if policy.timeout else None
    first = utcnow()
    attempt = 1
    while True:
        started = utcnow()
        header = f"--- {item.step.name}[{item.key}] run {run_id} attempt {attempt} at {started}\n"
        done = run_command(
            item.step.command,
            cwd=ws.project.root,
            env=env,
            log_path=path,
            timeout=timeout,
            cancel=cancel,
            header=header,
        )
        crashpoints.moment()  # a crash test may die here: ran, not recorded
        status, error = _judged(done, policy)
        retry = status != Status.SUCCESS and not done.cancelled and attempt <= policy.retries
        delay = policy.delay(attempt) if retry else 0.0
        if retry:
            error = f"{error} (attempt {attempt + 1} in {delay:.1f}s)"
        row = state.StepRun(
            item.step.name,
            item.key,
            item.window.start if item.window else None,
            item.window.end if item.window else None,
            run_id,
            attempt,
            Status.RETRIED if retry else status,
            started,
            utcnow(),
            done.exit_code,
            done.tail,
            str(path),
            item.built,
            error,
        )
        state.insert_step_runs(con, [row])
        if retry and not cancel.wait(delay):
            attempt += 1
            continue
        if retry:  # cancelled while waiting to try again
            status, error = Status.CANCELLED, "the run was cancelled before the next attempt"
        return _outcome(item, status, error, attempt, (utcnow() - first).total_seconds())


def _judged(done: Finished, policy: Policy) -> tuple[str, str | None]:
    if done.cancelled:
        return Status.CANCELLED, "the run was cancelled: its process group was stopped"
    if done.timed_out:
        seconds = int(policy.timeout.total_seconds()) if policy.timeout else 0
        return Status.TIMED_OUT, (
            f"ran longer than its timeout ({seconds}s): its process group was killed"
        )
    if done.error:
        return Status.FAILED, done.error
    if done.exit_code != 0:
        last = [line for line in done.tail.splitlines() if line.strip()][-1:]
        said = f": {last[0].strip()[:300]}" if last else ""
        return Status.FAILED, f"exit {done.exit_code}{said}"
    return Status.SUCCESS, None


def _outcome(item: Due, status: str, error: str | None, attempts: int, seconds: float):
    step = item.step
    models = " ".join(step.after)
    return StepOutcome(
        PREFIX + step.name,
        item.key,
        status,
        f"step after {models} ({item.built})",
        seconds=seconds,
        error=error,
        window=item.window,
        attempts=attempts,
        remedy=None if status == Status.SUCCESS else retry_command(step),
        owner=step.owner,
    )


def retry_command(step: Step) -> str:
    """The command that runs a failed step again: any run of production runs what is due."""
    return f"orchestrator run {' '.join(step.after)}"


def planned(ws: Workspace, the_plan: Plan) -> list[tuple[str, list[str]]]:
    """(step, windows) a run of `the_plan` would run steps for, if its tasks succeed: what is
    due now, and the windows the plan builds. Reads the warehouse, writes nothing."""
    if not ws.project.steps or ws.env is not None:
        return []
    held = {(h.model, h.key) for h in the_plan.held}
    found: dict[str, set[str]] = {name: set() for name in ws.project.steps}
    with reading(ws) as (con, _, _):
        if state.has_state(con) and state.step_runs_exist(con):
            for item in due_now(ws, con, held):
                found[item.step.name].add(item.key)
    building = {(t.model, u.key) for t in the_plan.tasks for u in (t.parts or (t,))}
    for name, step in ws.project.steps.items():
        models = models_after(ws.dag, step)
        keys = {k for m, k in building if m in models}
        if keys:
            found[name] |= {WHOLE} if per_of(ws.dag, step) == "run" else keys
    return [(name, sorted(keys)) for name, keys in found.items() if keys]


class StepRow(NamedTuple):
    """A step as `status` shows it: its last final attempt, and the windows whose latest
    attempt failed (what the next run tries again)."""

    step: str
    per: str
    after: str
    last_run: int | None
    partition: str | None
    status: str | None  # None: never ran
    finished: datetime | None
    failed_windows: int
    error: str | None
    retry: str | None  # the command that runs it again, when it failed


def status_rows(ws: Workspace) -> list[StepRow]:
    """Every step of the project with its last attempt; read-only."""
    if not ws.project.steps:
        return []
    latest: dict[str, state.StepRun] = {}
    failed: dict[str, int] = {}
    if ws.warehouse.exists():
        con = readers.connect(ws.warehouse).con
        try:
            with engine.reading(ws.warehouse):
                latest = {r.step: r for r in state.latest_step_runs(con)}
                for r in state.failed_step_windows(con):
                    failed[r.step] = failed.get(r.step, 0) + 1
        finally:
            con.close()
    rows = []
    for name, step in ws.project.steps.items():
        last = latest.get(name)
        rows.append(
            StepRow(
                name,
                per_of(ws.dag, step),
                " ".join(step.after),
                last.run_id if last else None,
                last.partition_key if last else None,
                last.status if last else None,
                last.finished if last else None,
                failed.get(name, 0),
                last.error if last else None,
                retry_command(step) if failed.get(name) else None,
            )
        )
    return rows


def run_rows(path: Path, run_id: int) -> list[state.StepRun]:
    """The step attempts of one run (none before the state has them)."""
    con = readers.connect(path).con
    try:
        with engine.reading(path):
            if not state.step_runs_exist(con):
                return []
            return state.run_step_runs(con, run_id)
    finally:
        con.close()
