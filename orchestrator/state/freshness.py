"""`freshness`: each evaluation of a declared source (arrival, freshness, drift), its latest
verdict per source and its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA, append_rows


def insert_freshness(con, rows: Sequence[Sequence]) -> None:
    """rows: (source, checked_at, run_id, latest_loaded_at, lag_seconds, status, detail)."""
    if rows:
        append_rows(con, "freshness", rows)


class SourceHealth(NamedTuple):
    """A source's latest evaluation (orchestrator.freshness)."""

    source: str
    checked_at: datetime
    status: str
    detail: str | None


def latest_freshness(con) -> list[SourceHealth]:
    return [
        SourceHealth(*row)
        for row in con.execute(
            f"SELECT source, checked_at, status, detail FROM {SCHEMA}.freshness "
            "QUALIFY row_number() OVER (PARTITION BY source ORDER BY checked_at DESC, "
            "run_id DESC NULLS LAST) = 1 ORDER BY source"
        ).fetchall()
    ]


class Evaluation(NamedTuple):
    """One evaluation of a source (orchestrator.freshness), newest first."""

    checked_at: datetime
    status: str
    latest: datetime | None
    lag_seconds: float | None
    detail: str | None
    run_id: int | None


def freshness_history(con, source: str, limit: int = 30) -> list[Evaluation]:
    return [
        Evaluation(*row)
        for row in con.execute(
            f"SELECT checked_at, status, latest_loaded_at, lag_seconds, detail, run_id "
            f"FROM {SCHEMA}.freshness WHERE source = ? ORDER BY checked_at DESC LIMIT ?",
            [source, limit],
        ).fetchall()
    ]
