"""Which partitions a plan looks at for a model: those `run` keeps built (from `start` up to
the last complete period), a backfill's range, the ones a retry names, failed ones outside
those, and, downstream of a backfill, the ones that read what it rebuilds. Pure functions of
the model, what is built and the request's values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from ..core.partitions import WHOLE, Window, floor, window_for_key, windows
from ..project.model import Kind, Model


def expected_windows(model: Model, now: datetime) -> list[Window]:
    """The partitions `run` keeps built: from `start` up to the last complete period (or `end`)."""
    if model.start is None:
        return []
    stop = floor(now, model.grain)
    if model.end is not None:
        stop = min(stop, model.end)
    return list(windows(model.start, stop, model.grain)) if model.start < stop else []


def in_bounds(model: Model, window: Window) -> bool:
    if model.start is not None and window.start < model.start:
        return False
    return not (model.end is not None and window.end > model.end)


def overlapping_keys(
    upstream: Model, window: Window | None, built: Mapping[str, object]
) -> list[str]:
    """Keys of the upstream's partitions that a downstream window reads (all, for the whole)."""
    if not upstream.partitioned:
        return [WHOLE]
    if window is None:
        return sorted(built)
    if window.grain == upstream.grain:
        return [window.key]
    return [w.key for w in windows(window.start, window.end, upstream.grain)]


def run_windows(model: Model, built: Mapping, expected: list[Window]) -> list[Window | None]:
    """What `run` looks at: the whole of an unpartitioned model, the `expected` partitions of
    one with `start`, the built ones of one without (only backfill creates those)."""
    if not model.partitioned:
        return [None]
    if model.start is None:
        return [window_for_key(k, model.grain) for k in sorted(built) if k != WHOLE]
    return list(expected)


def failed_windows(
    model: Model, failed: Mapping[str, object], candidates: list[Window | None]
) -> list[Window]:
    """Partitions whose latest attempt failed that `run` would not look at otherwise
    (outside `start`..now, or of a model only backfill builds)."""
    if not model.partitioned:
        return []
    known = {w.key for w in candidates if w is not None}
    return [
        window_for_key(k, model.grain)
        for k in sorted(failed)
        if k != WHOLE and k not in known and in_bounds(model, window_for_key(k, model.grain))
    ]


def retry_windows(model: Model, keys: Iterable[str]) -> list[Window | None]:
    """The partitions a retry names (WHOLE: the unpartitioned table)."""
    return [None if k == WHOLE else window_for_key(k, model.grain) for k in sorted(keys)]


def backfill_windows(
    model: Model, start: datetime, end: datetime, now: datetime
) -> list[Window | None]:
    """A backfill's partitions of a model, inside its bounds. A period still in progress is
    never built: it would count as built once complete (so a far-off `end` costs nothing: the
    range stops at now)."""
    if not model.partitioned:
        return [None]
    return [
        w
        for w in windows(start, min(end, now), model.grain)
        if in_bounds(model, w) and w.end <= now
    ]


def affected_windows(
    model: Model,
    built: Mapping,
    expected: list[Window],
    upstream: Iterable[str],
    touched: Callable[[str, Window | None], bool],
    backfill: tuple[datetime, datetime],
    now: datetime,
) -> list[Window | None]:
    """Windows of a model downstream of a backfill that read something the plan rebuilds
    (`touched(upstream, window)`): of those it should have, has, or the backfill names."""
    rebuilt = [up for up in upstream if touched(up, None)]
    if not rebuilt or model.kind is Kind.VIEW:
        return []  # a view reads its inputs when queried: nothing to rebuild
    if not model.partitioned:
        return [None]
    start, end = backfill
    candidates = {w.key: w for w in expected}
    candidates.update((k, window_for_key(k, model.grain)) for k in built if k != WHOLE)
    candidates.update(
        (w.key, w) for w in windows(start, min(end, now), model.grain) if w.end <= now
    )
    return [
        w
        for _, w in sorted(candidates.items())
        if in_bounds(model, w) and any(touched(up, w) for up in rebuilt)
    ]
