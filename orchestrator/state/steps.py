"""`step_runs`: each attempt of a step's command, per window (or per run), with what it printed
(the tail; the whole output is in its log file) and the builds of its models it ran for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA, append_rows

STEP_RUN_COLUMNS = (
    "step",
    "partition_key",
    "partition_start",
    "partition_end",
    "run_id",
    "attempt",
    "status",
    "started",
    "finished",
    "exit_code",
    "output_tail",
    "log_path",
    "built_runs",
    "error",
)


class StepRun(NamedTuple):
    """One attempt of a step (a row of orchestrator.step_runs)."""

    step: str
    partition_key: str
    partition_start: datetime | None
    partition_end: datetime | None
    run_id: int
    attempt: int
    status: str  # success | failed | timed_out | retried | cancelled
    started: datetime
    finished: datetime
    exit_code: int | None
    output_tail: str
    log_path: str | None
    built_runs: str  # the builds it ran for: "model=run,..." (per = run: the newest of them)
    error: str | None


def insert_step_runs(con, rows: Sequence[StepRun]) -> None:
    append_rows(con, "step_runs", [tuple(r) for r in rows], ", ".join(STEP_RUN_COLUMNS))


def step_successes(con, steps: Sequence[str]) -> set[tuple[str, str, str]]:
    """(step, partition key, built runs) of every attempt that succeeded: what is done."""
    if not steps:
        return set()
    return set(
        con.execute(
            f"SELECT DISTINCT step, partition_key, built_runs FROM {SCHEMA}.step_runs "
            "WHERE status = 'success' AND list_contains(?, step)",
            [list(steps)],
        ).fetchall()
    )


def _rows(con, where: str, params: list) -> list[StepRun]:
    columns = ", ".join(STEP_RUN_COLUMNS)
    return [
        StepRun(*row)
        for row in con.execute(
            f"SELECT {columns} FROM {SCHEMA}.step_runs {where}", params
        ).fetchall()
    ]


def run_step_runs(con, run_id: int) -> list[StepRun]:
    """Every step attempt of one run, in the order they ran."""
    return _rows(con, "WHERE run_id = ? ORDER BY started, step, partition_key, attempt", [run_id])


def latest_step_runs(con) -> list[StepRun]:
    """Each step's latest final attempt (a retried one is not final), per step."""
    if not step_runs_exist(con):
        return []
    return _rows(
        con,
        "WHERE status <> 'retried' QUALIFY row_number() OVER (PARTITION BY step "
        "ORDER BY finished DESC, attempt DESC) = 1 ORDER BY step",
        [],
    )


def failed_step_windows(con) -> list[StepRun]:
    """Per step and window, the latest final attempt when it did not succeed."""
    if not step_runs_exist(con):
        return []
    return [
        r
        for r in _rows(
            con,
            "WHERE status <> 'retried' QUALIFY row_number() OVER (PARTITION BY step, "
            "partition_key ORDER BY finished DESC, attempt DESC) = 1 ORDER BY step, "
            "partition_key",
            [],
        )
        if r.status != "success"
    ]


def step_runs_exist(con) -> bool:
    """A warehouse not migrated yet (read-only commands after an upgrade) has no step runs."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
            "table_name = 'step_runs'",
            [SCHEMA],
        ).fetchone()[0]
    )
