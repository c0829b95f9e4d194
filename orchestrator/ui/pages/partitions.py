"""The partitions page: the grid across models for a date range (models as rows, periods as
columns), each row as ranges of equal state: what is missing this month."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from ...app import views
from ...app.shapes import iso
from ...app.workspace import Workspace, now
from ...core.errors import UsageError
from ...core.partitions import WHOLE, Window, parse_point
from .memo import project_status
from .shared import STATES, notes, partition_state, ranges, reading

_DAYS_31 = timedelta(days=31)


def partitions_page(
    ws: Workspace,
    start: str | None = None,
    end: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    only: str | None = None,
) -> dict:
    """The grid across models for a date range (models as rows, periods as columns): what is
    missing this month. Each row comes as ranges of equal state, not one cell per partition,
    so ten years of hours is a few ranges when all is well."""
    first, last = _range_asked(start, end)
    names = [
        n
        for n in ws.dag.order
        if ws.dag.models[n].partitioned
        and (owner is None or ws.dag.models[n].owner == owner)
        and (tag is None or tag in ws.dag.models[n].tags)
    ]
    with reading() as policy:
        found = project_status(ws) if names else None
    out = []
    for name in names:
        grain = ws.dag.models[name].grain
        inside = _between(
            [r for r in found.partitions[name] if r.partition != WHOLE], first, last, grain
        )
        states = [(r.partition, partition_state(r)) for r in inside]
        if only and not any(state_name == only for _, state_name in states):
            continue
        row = ranges(states)
        out.append(
            {
                "model": name,
                "grain": str(grain),
                "owner": ws.dag.models[name].owner,
                "ranges": row,
                "counts": {s: sum(r["count"] for r in row if r["state"] == s) for s in STATES},
            }
        )
    out.sort(key=lambda m: m["counts"]["complete"] == sum(m["counts"].values()))  # problems first
    return {
        "notes": notes(policy),
        "start": iso(first),
        "end": iso(last),
        "filters": {"owner": owner, "tag": tag, "state": only},
        "models": out,
    }


def _range_asked(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The range the page shows: as asked, else from 31 days before today's midnight to now."""
    at = now()
    try:
        first = (
            parse_point(start)
            if start
            else at.replace(hour=0, minute=0, second=0, microsecond=0) - _DAYS_31
        )
        last = parse_point(end) if end else at
    except ValueError as exc:
        raise UsageError(f"bad date in the range: {exc}") from None
    return first, last


def _between(rows: list[views.PartitionRow], first: datetime, last: datetime, grain):
    """The rows (sorted by key) whose windows overlap [first, last), found by bisection: keys
    of one grain sort as their periods do."""
    low = Window.containing(first, grain).key
    high = Window.containing(last, grain)
    keys = [r.partition for r in rows]
    start = bisect.bisect_left(keys, low)
    if high.start < last:  # `last` falls inside that window: it overlaps
        end = bisect.bisect_right(keys, high.key)
    else:
        end = bisect.bisect_left(keys, high.key)
    return rows[start:end]
