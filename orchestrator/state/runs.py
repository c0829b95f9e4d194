"""Runs: their rows (started, finished, abandoned), their plans and vars, and the reads `runs` and
`status` show as typed rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA


def abandon_running(con, now: datetime) -> list[tuple[int, str]]:
    """Runs still marked running were cut off (one writer at a time): mark them abandoned.
    Returns their (run_id, command)."""
    found = [
        (r[0], r[1])
        for r in con.execute(
            f"SELECT run_id, command FROM {SCHEMA}.runs WHERE status = 'running' ORDER BY run_id"
        ).fetchall()
    ]
    if found:
        con.execute(
            f"UPDATE {SCHEMA}.runs SET status = 'abandoned', finished = coalesce(finished, ?) "
            "WHERE status = 'running'",
            [now],
        )
    return found


def start_run(
    con,
    *,
    command: str,
    arguments: str,
    variables: Mapping[str, str],
    who: str,
    host: str,
    pid: int,
    started: datetime,
    tool_version: str,
    env: str | None = None,
) -> int:
    run_id = con.execute(f"SELECT coalesce(max(run_id), 0) + 1 FROM {SCHEMA}.runs").fetchone()[0]
    con.execute(
        f"INSERT INTO {SCHEMA}.runs (run_id, command, arguments, vars, who, host, pid, started, "
        "status, tool_version, env) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
        [
            run_id,
            command,
            arguments,
            json.dumps(dict(variables)),
            who,
            host,
            pid,
            started,
            tool_version,
            env,
        ],
    )
    return run_id


def finish_run(
    con,
    run_id: int,
    *,
    status: str,
    finished: datetime,
    counts: Mapping[str, int],
    error: str | None = None,
) -> None:
    con.execute(
        f"UPDATE {SCHEMA}.runs SET status = ?, finished = ?, tasks = ?, succeeded = ?, "
        "failed = ?, skipped = ?, waiting = ?, blocked = ?, error = ? WHERE run_id = ?",
        [status, finished]
        + [
            counts.get(k, 0)
            for k in ("tasks", "succeeded", "failed", "skipped", "waiting", "blocked")
        ]
        + [error, run_id],
    )


def record_plan(con, run_id: int, plan) -> None:
    """What a run set out to do, task by task: `retry` reruns what of it did not succeed, even
    when the process died before getting to it."""
    tasks = plan.units  # a batch's partitions one by one: `retry` redoes what failed of it
    if not tasks:
        return
    con.execute(
        f"INSERT INTO {SCHEMA}.run_plans SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?), "
        "unnest(?), unnest(?)",
        [
            run_id,
            [t.id for t in tasks],
            [t.model for t in tasks],
            [t.key for t in tasks],
            [str(t.action) for t in tasks],
            [t.why for t in tasks],
            [list(t.deps) for t in tasks],
        ],
    )


def planned_tasks(con, run_id: int) -> list[tuple[str, str, str]] | None:
    """(model, partition key, action) of every task run `run_id` planned; None: no such run."""
    if not con.execute(f"SELECT 1 FROM {SCHEMA}.runs WHERE run_id = ?", [run_id]).fetchone():
        return None
    return con.execute(
        f"SELECT model, partition_key, action FROM {SCHEMA}.run_plans WHERE run_id = ? "
        "ORDER BY task_id",
        [run_id],
    ).fetchall()


def final_statuses(con, run_id: int) -> dict[tuple[str, str], str]:
    """The status of the last attempt of each task a run started."""
    return {
        (m, k): s
        for m, k, s in con.execute(
            f"SELECT model, partition_key, arg_max(status, attempt) FROM {SCHEMA}.task_runs "
            "WHERE run_id = ? AND task_id >= 0 GROUP BY ALL",
            [run_id],
        ).fetchall()
    }


def held_tasks(con, run_id: int) -> list[tuple[str, str, str]]:
    return con.execute(
        f"SELECT model, partition_key, status FROM {SCHEMA}.task_runs WHERE run_id = ? AND "
        "task_id < 0",
        [run_id],
    ).fetchall()


def run_vars(con, run_id: int) -> dict[str, str]:
    row = con.execute(f"SELECT vars FROM {SCHEMA}.runs WHERE run_id = ?", [run_id]).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


BUILD_COMMANDS = ("run", "backfill", "retry")
"""The commands whose runs build models (and so can be retried)."""


def last_run_id(con, commands: tuple[str, ...] = BUILD_COMMANDS) -> int | None:
    row = con.execute(
        f"SELECT max(run_id) FROM {SCHEMA}.runs WHERE list_contains(?, command)", [list(commands)]
    ).fetchone()
    return row[0] if row else None


def undone_runs(con, commands: tuple[str, ...] = BUILD_COMMANDS) -> list[int]:
    """The build runs that may have left work undone, newest first: a task whose last attempt
    in that run did not succeed and whose partition is not a success now (a later run that had
    nothing to do does not hide it), or a run whose process died. `retry` asks each, newest
    first, what is still undone (`retry.retry_request`)."""
    return [
        r
        for (r,) in con.execute(
            f"SELECT DISTINCT run_id FROM ("
            f"SELECT t.run_id FROM {SCHEMA}.task_runs t JOIN {SCHEMA}.runs r USING (run_id) "
            f"LEFT JOIN {SCHEMA}.partitions p "
            "ON p.model = t.model AND p.partition_key = t.partition_key "
            "WHERE list_contains(?, r.command) AND t.status IN "
            "('failed', 'check_failed', 'timed_out', 'cancelled', 'skipped') "
            "AND coalesce(p.status, '') <> 'success' "
            f"UNION ALL SELECT run_id FROM {SCHEMA}.runs "
            "WHERE list_contains(?, command) AND status = 'abandoned') ORDER BY run_id DESC",
            [list(commands), list(commands)],
        ).fetchall()
    ]


class RunSummary(NamedTuple):
    """A row of `orchestrator runs`."""

    run_id: int
    command: str
    status: str
    started: datetime
    finished: datetime | None
    tasks: int | None
    succeeded: int | None
    failed: int | None
    skipped: int | None
    waiting: int | None
    blocked: int | None
    who: str
    env: str | None = None  # the environment it built (None: production)


class RunRecord(NamedTuple):
    """One run as `orchestrator runs N` heads it."""

    run_id: int
    command: str
    arguments: str
    status: str
    started: datetime
    finished: datetime | None
    who: str
    host: str
    vars: str | None
    error: str | None


class TaskAttempt(NamedTuple):
    """One attempt of one partition task of a run."""

    model: str
    partition_key: str
    attempt: int
    status: str
    reason: str | None
    rows_written: int | None
    seconds: float | None
    error: str | None


class PartitionState(NamedTuple):
    """A partition's row in orchestrator.partitions: its last attempt and its published build."""

    model: str
    partition_key: str
    status: str | None
    built_run: int | None
    rows: int | None
    built_at: datetime | None
    last_run: int | None
    error: str | None


def runs(con, limit: int) -> list[RunSummary]:
    """The latest runs, newest first (a state older than environments has no `env`)."""
    import duckdb

    query = (
        f"SELECT run_id, command, status, started, finished, tasks, succeeded, failed, skipped, "
        f"waiting, blocked, who, env FROM {SCHEMA}.runs ORDER BY run_id DESC LIMIT ?"
    )
    try:
        rows = con.execute(query, [limit]).fetchall()
    except duckdb.BinderException:
        rows = con.execute(query.replace(", env FROM", ", NULL FROM"), [limit]).fetchall()
    return [RunSummary(*r) for r in rows]


def run_tasks(con, run_id: int) -> list[TaskAttempt]:
    rows = con.execute(
        f"SELECT model, partition_key, attempt, status, reason, rows_written, "
        f"epoch(finished - started) AS seconds, error FROM {SCHEMA}.task_runs WHERE run_id = ? "
        "ORDER BY task_id, attempt",
        [run_id],
    ).fetchall()
    return [TaskAttempt(*r) for r in rows]


def run_row(con, run_id: int) -> RunRecord | None:
    row = con.execute(
        f"SELECT run_id, command, arguments, status, started, finished, who, host, vars, error "
        f"FROM {SCHEMA}.runs WHERE run_id = ?",
        [run_id],
    ).fetchone()
    return RunRecord(*row) if row else None


def partition_rows(con) -> list[PartitionState]:
    rows = con.execute(
        f"SELECT model, partition_key, status, built_run, rows, built_at, last_run, error "
        f"FROM {SCHEMA}.partitions ORDER BY model, partition_key"
    ).fetchall()
    return [PartitionState(*r) for r in rows]


class TimedAttempt(NamedTuple):
    """One attempt of a task with its times: a run's timeline, a model's recent attempts."""

    task_id: int
    model: str
    partition_key: str
    attempt: int
    status: str
    reason: str | None
    started: datetime
    finished: datetime | None
    error: str | None
    run_id: int | None = None
    rows_written: int | None = None


_ATTEMPT_COLUMNS = (
    "task_id, model, partition_key, attempt, status, reason, started, finished, error, run_id, "
    "rows_written"
)


def run_timeline(con, run_id: int) -> list[TimedAttempt]:
    rows = con.execute(
        f"SELECT {_ATTEMPT_COLUMNS} FROM {SCHEMA}.task_runs WHERE run_id = ? "
        "ORDER BY started, task_id, attempt",
        [run_id],
    ).fetchall()
    return [TimedAttempt(*row) for row in rows]


def model_attempts(con, model: str, limit: int = 30) -> list[TimedAttempt]:
    """A model's latest attempts, newest first."""
    rows = con.execute(
        f"SELECT {_ATTEMPT_COLUMNS} FROM {SCHEMA}.task_runs WHERE model = ? "
        "ORDER BY started DESC, run_id DESC LIMIT ?",
        [model, limit],
    ).fetchall()
    return [TimedAttempt(*row) for row in rows]
