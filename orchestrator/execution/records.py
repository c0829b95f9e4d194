"""The task_runs and partitions rows of attempts that published nothing: held, skipped,
cancelled, failed. Each set is written in one transaction (with the check results of the
attempt, when it has some), so the state never holds half an attempt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from .. import state
from ..core.fingerprints import Prints
from ..core.snapshot import TaskRecord
from ..core.tasks import BROKEN, Plan, Task
from ..project.dag import DAG
from .values import Outcome


def unit_record(
    run_id: int,
    unit: Task,
    dag: DAG,
    attempt: int,
    status: str,
    reason: str,
    started: datetime,
    finished: datetime,
    rows: int | None = None,
    error: str | None = None,
) -> TaskRecord:
    """The task_runs row of one partition task."""
    return TaskRecord(
        run_id,
        unit.id,
        unit.model,
        unit.key,
        unit.window.start if unit.window else None,
        unit.window.end if unit.window else None,
        attempt,
        status,
        reason,
        started,
        finished,
        rows,
        dag.models[unit.model].version,
        error,
    )


def record_unpublished(
    engine,
    records: list[TaskRecord],
    partitions: list[TaskRecord] | None = None,
    also: Callable[[object], None] | None = None,
    tried: Mapping[str, Prints] | None = None,
) -> None:
    """Attempts that published nothing; `partitions` (default: all) also get their status;
    `also(engine)` adds rows of its own (check results) in the same transaction; `tried`: per
    partition key, what the attempt read from sources."""
    con = engine.state
    with con.transaction():
        state.insert_task_runs(con, records)
        state.mark_partitions(con, records if partitions is None else partitions, tried)
        if also is not None:
            also(con)


def record_held(plan: Plan, engine, run_id: int, at: datetime) -> list[Outcome]:
    """The tasks the planner held back (waiting, blocked, skipped), recorded as such."""
    if not plan.held:
        return []
    records = [
        TaskRecord(
            run_id,
            -1,
            h.model,
            h.key,
            h.window.start if h.window else None,
            h.window.end if h.window else None,
            1,
            h.status,
            h.reason,
            at,
            at,
        )
        for h in plan.held
    ]
    # a broken model's hold is about its file, not a partition: the state of its partitions
    # (their last good data) stands, and its brokenness is read from the project itself
    kept = [r for r, h in zip(records, plan.held, strict=True) if not h.reason.startswith(BROKEN)]
    record_unpublished(engine, records, kept)
    return [Outcome(h.model, h.key, h.status, h.reason, window=h.window) for h in plan.held]
