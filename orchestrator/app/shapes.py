"""The JSON the CLI prints with `--json`: stable, documented shapes (README, "Machine-readable
output") built from the same typed values as the text, never by parsing text.

Every shape is one object with `"version": 1`. Names are the columns of the text output and of
the state tables; times are ISO 8601 in UTC with a `Z`; durations are seconds; a value the
state does not have is null. A new field may be added within a version; one is never renamed
or removed without a new version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

VERSION = 1


def iso(value: datetime | None) -> str | None:
    """A UTC time as ISO 8601 with a `Z`.

    >>> iso(datetime(2026, 11, 28, 6, 0)), iso(None)
    ('2026-11-28T06:00:00Z', None)
    """
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def records(rows: Iterable[Any]) -> list[dict]:
    """NamedTuple rows as objects named by their fields."""
    return [{k: _plain(v) for k, v in row._asdict().items()} for row in rows]


def dump(shape: dict) -> str:
    return json.dumps({"version": VERSION, **shape}, indent=2, default=str)


def plan(the_plan) -> dict:
    return {
        "as_of": iso(the_plan.request.now),
        "tasks": [
            {
                "id": t.id,
                "model": t.model,
                "partition": t.key,
                "reason": t.why,
                "action": str(t.action),
                "after": list(t.deps),
            }
            for t in the_plan.units
        ],
        "held": [
            {"model": h.model, "partition": h.key, "status": h.status, "reason": h.reason}
            for h in the_plan.held
        ],
        "backfill_only": list(the_plan.backfill_only),
    }


def status(
    as_of: datetime, rows: Sequence, partitions: bool, removed: Sequence[tuple[str, str]]
) -> dict:
    return {
        "as_of": iso(as_of),
        "partitions" if partitions else "models": records(rows),
        "removed_models": [{"model": name, "relation": kind} for name, kind in removed],
    }


def run_list(rows: Sequence) -> dict:
    return {"runs": records(rows)}


def run_detail(record, rows: Sequence) -> dict:
    run = {k: _plain(v) for k, v in record._asdict().items()}
    run["vars"] = json.loads(record.vars) if record.vars else {}
    return {"run": run, "tasks": records(rows)}


def freshness(run_id: int, statuses: Sequence) -> dict:
    return {
        "run_id": run_id,
        "sources": [
            {
                "source": s.source,
                "status": s.status,
                "latest_loaded_at": iso(s.latest),
                "lag_seconds": s.lag.total_seconds() if s.lag is not None else None,
                "detail": s.detail,
                "checked_at": iso(s.checked_at),
            }
            for s in statuses
        ],
    }


def check_report(report) -> dict:
    return {
        "run_id": report.run_id,
        "results": [
            {
                "model": model,
                "check": r.check.name,
                "kind": r.check.kind,
                "severity": str(r.check.severity),
                "partition": r.key,
                "status": r.status,
                "failing_rows": r.failing,
                "message": r.message,
                "sample": _plain(list(r.sample)),
            }
            for model, r in report.results
        ],
    }
