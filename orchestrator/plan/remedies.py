"""The command that fixes a red partition, from how its last attempt ended: one answer for the
alert, `status`, the model page and the why page, so none of them offers a command that would
fail the same way.

- a transient fault (I/O, a lock, a network error after the retries ran out), a timeout or a
  cancel: `retry` redoes exactly that work;
- a changed column type: `run --full-refresh MODEL` (the error says so itself);
- anything else (a binder or parse error, bad rows failing a blocking check, a drifted or
  missing input): rerunning gives the same result until the cause is fixed, and then what
  reads the fixed input is stale too, so the remedy is to fix it and `run +MODEL`, which
  rebuilds the model and whatever upstream of it the fix made stale (`retry` would not).

>>> remedy("marts.x", "failed", "IOException: could not open file")
'orchestrator retry'
>>> remedy("m.x", "check_failed", "unique(id) failed on 2024-01-02: 3 failing rows", 7)
'fix the rows check unique(id) names (in what m.x reads, or its SQL), then: orchestrator run +m.x'
"""

from __future__ import annotations

import re

from ..core.errors import TRANSIENT_ERRORS
from ..core.tasks import BROKEN

_WAITS_FOR_BROKEN = re.compile(r"^blocked: waits for (?P<model>\S+): broken \((?P<where>[^)]*)\)")
_FULL_REFRESH = re.compile(r"orchestrator run --full-refresh \S+")
_CHECK = re.compile(r"^([\w.]+\(.*?\)|[\w.]+) failed on |fails check ([\w.]+\(.*?\)|[\w.]+):")


def transient_text(error: str | None) -> bool:
    """Whether a recorded error (`Class: message`, as tasks record them) is one of the
    transient kinds (see errors.TRANSIENT_ERRORS)."""
    if not error:
        return False
    name, _, message = error.partition(":")
    return any(
        name.strip() == kind and (text is None or text in message)
        for kind, text in TRANSIENT_ERRORS
    )


def is_retry(command: str | None) -> bool:
    return bool(command) and command.startswith("orchestrator retry")


def remedy(model: str, status: str, error: str | None, run_id: int | None = None) -> str | None:
    """The command (with what to do first) that fixes a partition that ended `status`; None
    for a state that needs nothing (success) or only time (waiting)."""
    retry = f"orchestrator retry --run {run_id}" if run_id else "orchestrator retry"
    if status in ("timed_out", "cancelled", "abandoned"):
        return retry
    if status == "failed":
        found = _FULL_REFRESH.search(error or "")
        if found:
            return found.group(0)
        if transient_text(error):
            return retry
        return f"fix what the error names (in {model}'s SQL or what it reads), then: {_run(model)}"
    if status == "check_failed":
        check = _CHECK.search(error or "")
        named = f"check {check.group(1) or check.group(2)}" if check else "the failing check"
        return (
            f"fix the rows {named} names (in what {model} reads, or its SQL), then: {_run(model)}"
        )
    if status == "blocked":
        return f"fix the input the reason names (a drifted or bad source), then: {_run(model)}"
    if status == "skipped":
        return f"fix what failed upstream of {model} (its own remedy), then: {_run(model)}"
    return None


def broken(model: str, error: str) -> str:
    """A model whose file does not load: fix where the error points, then build it and what
    it held back.

    >>> broken("marts.x", "models/marts/x.sql:15: SQL syntax error: ...")
    'fix models/marts/x.sql:15, then: orchestrator run marts.x+'
    """
    where = error.split(": ")[0]
    return f"fix {where}, then: orchestrator run {model}+"


def held_rebuild(model: str, windows: list) -> str:
    """A changed model whose rebuild waits for some of its partitions' inputs: wait (the next
    run rebuilds it whole once they are ready), or publish the new version of the ready ones
    now with a backfill over its range (the partitions that are not ready keep waiting).

    >>> from orchestrator.core.partitions import Grain, Window
    >>> from datetime import datetime as at
    >>> days = [Window.containing(at(2026, 12, d), Grain.DAY) for d in (1, 2, 9)]
    >>> held_rebuild("marts.x", days).split(": ")[1]
    'orchestrator backfill marts.x --start 2026-12-01 --end 2026-12-10'
    """
    start, end = min(w.start for w in windows), max(w.end for w in windows)
    return (
        "wait, or publish the ready partitions now: "
        f"orchestrator backfill {model} --start {_point(start)} --end {_point(end)}"
    )


def _point(ts) -> str:
    return f"{ts:%Y-%m-%d}" if ts.hour == ts.minute == 0 else f"{ts:%Y-%m-%dT%H:%M}"


def of_partition(
    model: str, last_attempt: str | None, error: str | None, pending: str | None
) -> str | None:
    """The remedy of one partition as `status` sees it: by how its last attempt ended, or,
    held back, by what holds it (a source, or a failure upstream)."""
    if last_attempt in ("failed", "check_failed", "timed_out"):
        return remedy(model, last_attempt, error)
    held = pending or ""
    if held.startswith(f"blocked: {BROKEN}"):
        return broken(model, held.removeprefix(f"blocked: {BROKEN}"))
    upstream = _WAITS_FOR_BROKEN.match(held)
    if upstream:  # what it reads is broken: that file is the fix, then it and what it held
        return f"fix {upstream['where']}, then: orchestrator run {upstream['model']}+"
    if held.startswith("blocked"):
        return remedy(model, "blocked" if "source" in held else "skipped", None)
    if held.startswith("skipped"):
        return remedy(model, "skipped", None)
    return None


def _run(model: str) -> str:
    return f"orchestrator run +{model}"
