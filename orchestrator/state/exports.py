"""`exports`: each time an export wrote (or failed to write) a model's partition out of the
warehouse: what, where, which build of it, by which run, when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA, append_rows


class ExportRow(NamedTuple):
    """One row of orchestrator.exports. `built_run`: the run that built the partition written;
    `run_id`: the run that wrote it."""

    export: str
    model: str
    partition_key: str
    destination: str
    built_run: int | None
    run_id: int | None
    status: str  # success | failed | skipped
    rows: int | None
    error: str | None
    exported_at: datetime


def record_exports(con, rows: Sequence[ExportRow]) -> None:
    append_rows(con, "exports", [tuple(r) for r in rows])


def exported_builds(con, export: str) -> dict[str, int]:
    """partition key -> the build its latest successful export wrote (runs are numbered in
    order; a pinned clock can make two runs' times tie or cross)."""
    return {
        key: built
        for key, built in con.execute(
            f"SELECT partition_key, arg_max(built_run, run_id) FROM {SCHEMA}.exports "
            "WHERE export = ? AND status = 'success' GROUP BY partition_key",
            [export],
        ).fetchall()
    }


def latest_exports(con, exports: Sequence[str] | None = None) -> list[ExportRow]:
    """The latest row of each export and partition (whatever its status), by export and key."""
    where = "WHERE list_contains(?, export)" if exports is not None else ""
    return [
        ExportRow(*row)
        for row in con.execute(
            "SELECT export, model, partition_key, destination, built_run, run_id, status, rows, "
            f"error, exported_at FROM {SCHEMA}.exports {where} "
            "QUALIFY row_number() OVER (PARTITION BY export, partition_key "
            "ORDER BY run_id DESC NULLS LAST, exported_at DESC) = 1 "
            "ORDER BY export, partition_key",
            [list(exports)] if exports is not None else None,
        ).fetchall()
    ]


def run_exports(con, run_id: int) -> list[ExportRow]:
    """What one run exported (or failed to), in the order it did."""
    return [
        ExportRow(*row)
        for row in con.execute(
            "SELECT export, model, partition_key, destination, built_run, run_id, status, rows, "
            f"error, exported_at FROM {SCHEMA}.exports WHERE run_id = ? "
            "ORDER BY exported_at, export, partition_key",
            [run_id],
        ).fetchall()
    ]
