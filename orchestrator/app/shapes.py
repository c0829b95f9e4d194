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
        "forward_only": [{"model": m, "partitions": n} for m, n in the_plan.forward_only],
    }


def status(
    as_of: datetime, rows: Sequence, partitions: bool, removed: Sequence[tuple[str, str]]
) -> dict:
    return {
        "as_of": iso(as_of),
        "partitions" if partitions else "models": records(rows),
        "removed_models": [{"model": name, "relation": kind} for name, kind in removed],
    }


def steps(rows: Sequence) -> dict:
    """`status --json` and `runs N --json`: the steps, or the run's step attempts."""
    return {"steps": records(rows)}


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


def environment(found) -> dict:
    """One environment of `env list --json`."""
    row = found.row
    return {
        "name": found.name,
        "models": dict(row.models) if row else {},
        "reasons": dict(row.reasons) if row else {},
        "relations": list(found.relations),
        "built_partitions": found.partitions,
        "created_at": iso(row.created_at) if row else None,
        "created_by": row.created_by if row else None,
        "updated_at": iso(row.updated_at) if row else None,
        "updated_by": row.updated_by if row else None,
    }


def diff(env: str, found: Sequence) -> dict:
    """`diff --env NAME --json`: per model, what the environment's change does."""
    return {"env": env, "models": [_model_diff(d) for d in found]}


def _model_diff(d) -> dict:
    data = None
    if d.data is not None:
        data = {
            "key": list(d.data.key),
            "compared_columns": list(d.data.compared),
            "identical": d.data.identical,
            "only_in_env": d.data.total("only_env"),
            "only_in_production": d.data.total("only_prod"),
            "changed": d.data.total("changed"),
            "partitions": [
                {
                    "partition": p.partition,
                    "env_rows": p.env_rows,
                    "production_rows": p.prod_rows,
                    "only_in_env": p.only_env,
                    "only_in_production": p.only_prod,
                    "changed": p.changed,
                }
                for p in d.data.partitions
                if p.differs
            ],
            "samples": {
                side: {"columns": list(cols), "rows": [_plain(list(r)) for r in rows]}
                for side, (cols, rows) in d.data.samples.items()
            },
        }
    return {
        "model": d.model,
        "relation": d.copy,
        "reason": d.reason,
        "category": d.category,
        "sql_diff": d.sql_diff,
        "production_sql_recorded": d.production_sql,
        "columns": [c._asdict() for c in d.columns],
        "downstream": [{"model": m, "partitions": n} for m, n in d.downstream],
        "built_partitions": d.built,
        "failed_partitions": d.failed,
        "env_rows": d.env_rows,
        "data": data,
    }


def environment_plan(env) -> dict:
    """What `plan --env NAME --json` adds: the environment's models and why it builds each."""
    return {
        "name": env.name,
        "models": [
            {
                "model": home,
                "relation": copy,
                "reason": env.reasons.get(home, ""),
                "category": env.categories.get(home),
            }
            for home, copy in env.copies.items()
        ],
        "left_to_production": [{"model": m, "reason": why} for m, why in env.left.items()],
    }
