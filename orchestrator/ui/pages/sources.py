"""The sources page: every declared source, how it is declared, its evaluations over time
(freshness, drift messages), who reads it, and what arrived in each of its latest periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ... import state
from ...app.shapes import iso, records
from ...app.workspace import Workspace
from ...core.partitions import Window, window_for_key
from ...sources.survey import file_periods, has_placeholders
from .memo import project_status, sources_survey
from .shared import from_state, notes, reading

ARRIVAL_PERIODS = 31
"""How many of a source's latest periods its page lists."""


def sources_page(ws: Workspace) -> dict:
    """Every declared source: how it is declared, its evaluations over time (freshness,
    drift messages), and who reads it."""
    sources = ws.project.sources

    def read(con) -> dict:
        return {name: records(state.freshness_history(con, name)) for name in sources}

    with reading() as policy:
        history = from_state(ws, read, {})
        holdings = project_status(ws).snapshot.holdings if ws.dag.models else {}
    said = notes(policy)
    readers_of = {
        name: [m for m in ws.dag.order if name in ws.dag.sources_read(m)] for name in sources
    }
    return {
        "notes": said,
        "sources": [
            {
                "name": name,
                "path": s.path,
                "format": s.format,
                "owner": s.owner,
                "partition_by": s.partition_by,
                "grain": str(s.grain) if s.partitioned else None,
                "read_by_partition": s.read_by_partition,
                "immutable": s.immutable,
                "columns": [f"{c} {t}" for c, t in s.columns],
                "warn_after": s.warn_after.total_seconds() if s.warn_after else None,
                "error_after": s.error_after.total_seconds() if s.error_after else None,
                "readers": readers_of[name],
                "evaluations": history.get(name, []),
                "arrivals": _arrivals(ws, s, holdings.get(name, ())),
            }
            for name, s in sorted(sources.items())
        ],
    }


def _arrivals(ws: Workspace, source, holdings) -> list[dict]:
    """What arrived in each of the source's latest periods, newest first, the periods with
    nothing in them between included: for files named by period, the files (count, bytes, when
    the last one landed); for a table with `partition_by`, the rows a build last saw there."""
    if not source.partitioned:
        return []
    if has_placeholders(source.path):
        periods = _file_periods(ws, source)
    else:
        periods = _table_periods(source, holdings)
    if not periods:
        return []
    keys = sorted(periods)
    last = window_for_key(keys[-1], source.grain)
    out = []
    current = last
    while len(out) < ARRIVAL_PERIODS and current.key >= keys[0]:
        found = periods.get(current.key)
        if found:
            out.append({**found, "arrived": iso(found.get("arrived")), "missing": False})
        else:
            files = 0 if source.path else None
            rows = None if source.path else 0
            out.append(
                {"period": current.key, "files": files, "bytes": files, "rows": rows}
                | {"arrived": None, "missing": True}
            )
        current = Window.containing(current.start - timedelta(seconds=1), source.grain)
    return out


def _file_periods(ws: Workspace, source) -> dict[str, dict]:
    """The files of a source named by period, per period: how many, their bytes, and when the
    last one landed."""
    periods: dict[str, dict] = {}
    period_of = file_periods(ws.project.root, source)
    surveyed = sources_survey(ws)
    for name in surveyed.files(source):
        window = period_of(name)
        found = surveyed.stat(name)
        if window is None or found is None:
            continue
        entry = periods.setdefault(
            window.key, {"period": window.key, "files": 0, "bytes": 0, "rows": None}
        )
        entry["files"] += 1
        entry["bytes"] += found.size
        landed = datetime.fromtimestamp(found.mtime, UTC).replace(tzinfo=None)
        entry["arrived"] = max(entry.get("arrived") or landed, landed)
    return periods


def _table_periods(source, holdings) -> dict[str, dict]:
    """The rows a build last saw in each period of a table with `partition_by`."""
    periods: dict[str, dict] = {}
    for h in holdings:
        if h.start is None:
            continue
        key = Window.containing(h.start, source.grain).key
        rows = int(h.print.split(":")[0]) if h.print.split(":")[0].isdigit() else None
        periods[key] = {"period": key, "files": None, "bytes": None, "rows": rows}
    return periods
