"""What a request asks the planner for, checked before anything is planned: the models it may
touch (the selection, and for a backfill what reads it), and the errors in the request itself
(a backfill's bounds that name no whole partition or no partition at all, a var not passed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..core.errors import UsageError
from ..core.partitions import Grain, floor
from ..core.tasks import Request
from ..project.dag import DAG

_FINEST_FIRST = (Grain.HOUR, Grain.DAY, Grain.MONTH, Grain.YEAR)


def scope(dag: DAG, request: Request) -> tuple[list[str], set[str]]:
    """(models the request may touch in order, those only because they are downstream)."""
    if request.backfill is not None:
        affected = dag.descendants(request.selected) - request.selected - request.excluded
        return dag.ordered(request.selected | affected), affected
    return dag.ordered(request.selected), set()


def validate(dag: DAG, request: Request) -> None:
    """Errors in the request itself, found before anything is opened or written."""
    if request.backfill is not None:
        check_backfill_points(dag, request.selected, *request.backfill, now=request.now)
        check_backfill_range(dag, request.selected, *request.backfill)
    if request.strict_vars:
        check_vars(dag, scope(dag, request)[0], request.vars)


def check_vars(dag: DAG, names: list[str], variables: Mapping[str, str]) -> None:
    """UsageError naming the first var a model (or one of its checks) uses and nobody passed."""
    for name in names:
        model = dag.models[name]
        used = list(model.vars) + [v for c in model.checks for v in c.vars]
        for var in used:
            if var not in variables:
                raise UsageError(
                    f"{name} uses var('{var}'): pass --var {var}=VALUE "
                    "(or set it under [vars] in orchestrator.toml)"
                )


def check_backfill_points(
    dag: DAG, selected: frozenset[str], start: datetime, end: datetime, *, now: datetime
) -> None:
    """A backfill names whole partitions: `--start 2026-11-05T10:00` on daily models would
    rebuild the whole day, which is not what it says. A time of day must fall on an hour of
    hourly models, and daily or coarser ones take dates only (a day inside a month rebuilds
    that month, as a range of days touches it). An end at or past now stops at now. A range
    wholly in the future has nothing to build yet."""
    grains = {dag.models[n].grain for n in selected if dag.models[n].partitioned}
    if grains:
        finest = min(grains, key=_FINEST_FIRST.index)
        finest = finest if finest is Grain.HOUR else Grain.DAY
        for flag, point in (("--start", start), ("--end", end)):
            if flag == "--end" and point >= now:
                continue
            if floor(point, finest) != point:
                raise UsageError(
                    f"backfill: {flag} {_point(point)} is not at the start of "
                    f"{'an hour' if finest is Grain.HOUR else 'a day'}, where the selected "
                    f"models' partitions begin: use {_point(floor(point, finest))}"
                )
    if start >= now:
        raise UsageError(
            f"backfill: [{_point(start)}, {_point(end)}) is in the future (now is "
            f"{_point(now)}): there is nothing to build yet"
        )


def check_backfill_range(dag: DAG, selected: frozenset[str], start: datetime, end: datetime):
    """A backfill whose range lies wholly before the `start` or from the `end` of every selected
    model would rebuild nothing: a mistyped year, most likely. Say so instead of recording an
    empty run. (When some selected model has partitions there, the rest are simply skipped.)"""
    models = [dag.models[name] for name in dag.ordered(selected)]
    outside = [
        m
        for m in models
        if m.partitioned
        and ((m.start is not None and end <= m.start) or (m.end is not None and start >= m.end))
    ]
    if not outside or len(outside) < len(models):
        return
    bounds = "; ".join(
        f"{m.name} has start {_point(m.start)}"
        + (f", end {_point(m.end)} (exclusive)" if m.end else "")
        for m in outside[:3]
    ) + (f"; and {len(outside) - 3} more" if len(outside) > 3 else "")
    raise UsageError(
        f"backfill: [{_point(start)}, {_point(end)}) is outside the partitions of the selected "
        f"models, nothing would be rebuilt: {bounds}"
    )


def _point(ts: datetime | None) -> str:
    if ts is None:
        return "(none)"
    return f"{ts:%Y-%m-%d}" if ts.hour == ts.minute == 0 else f"{ts:%Y-%m-%d %H:%M}"
