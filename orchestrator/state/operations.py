"""Operations: schedule ticks and sensor marks, incidents and alerts, and the access audit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA


def last_tick(con, job: str, trigger: str = "cron") -> datetime | None:
    return con.execute(
        f"SELECT max(due_at) FROM {SCHEMA}.schedule_ticks WHERE job = ? AND trigger = ?",
        [job, trigger],
    ).fetchone()[0]


class Tick(NamedTuple):
    """A schedule tick still to run or to finish."""

    due_at: datetime
    trigger: str
    detail: str | None
    deadline_at: datetime | None
    outcome: str
    deadline_missed_at: datetime | None


TICK_COLUMNS = "due_at, trigger, detail, deadline_at, outcome, deadline_missed_at"


def add_tick(
    con,
    job: str,
    due_at: datetime,
    trigger: str,
    outcome: str,
    at: datetime,
    *,
    detail: str = "",
    deadline_at: datetime | None = None,
) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.schedule_ticks VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL)",
        [job, due_at, trigger, detail, deadline_at, outcome, at],
    )


def open_ticks(con, job: str) -> list[Tick]:
    """Ticks still to run (pending) or to finish (their run waited for data): oldest first."""
    return [
        Tick(*row)
        for row in con.execute(
            f"SELECT {TICK_COLUMNS} FROM {SCHEMA}.schedule_ticks "
            "WHERE job = ? AND outcome IN ('pending', 'waiting') ORDER BY due_at",
            [job],
        ).fetchall()
    ]


def update_tick(
    con,
    job: str,
    tick: Tick,
    *,
    outcome: str | None = None,
    run_id: int | None = None,
    at: datetime,
    detail: str | None = None,
    deadline_missed: bool = False,
) -> None:
    con.execute(
        f"UPDATE {SCHEMA}.schedule_ticks SET outcome = coalesce(?, outcome), "
        "run_id = coalesce(?, run_id), updated_at = ?, detail = coalesce(?, detail), "
        "deadline_missed_at = CASE WHEN ? THEN ? ELSE deadline_missed_at END "
        "WHERE job = ? AND due_at = ? AND trigger = ?",
        [outcome, run_id, at, detail, deadline_missed, at, job, tick.due_at, tick.trigger],
    )


def late_ticks(con, job: str, now: datetime) -> list[Tick]:
    """Ticks past their deadline with outputs not published, not yet alerted about."""
    return [
        Tick(*row)
        for row in con.execute(
            f"SELECT {TICK_COLUMNS} FROM {SCHEMA}.schedule_ticks WHERE job = ? "
            "AND deadline_at <= ? AND deadline_missed_at IS NULL "
            "AND outcome IN ('pending', 'waiting', 'failed', 'cancelled') ORDER BY due_at",
            [job, now],
        ).fetchall()
    ]


def run_problems(con, job: str, due_at: datetime, trigger: str) -> list[str]:
    """Why the run of a tick did not publish everything: its tasks that did not succeed."""
    return [
        f"{m}[{k}] {s}: {r}"
        for m, k, s, r in con.execute(
            f"SELECT t.model, t.partition_key, t.status, coalesce(t.error, t.reason) "
            f"FROM {SCHEMA}.schedule_ticks s JOIN {SCHEMA}.task_runs t USING (run_id) "
            "WHERE s.job = ? AND s.due_at = ? AND s.trigger = ? AND t.status NOT IN "
            "('success', 'retried') ORDER BY t.task_id < 0, t.model, t.partition_key",
            [job, due_at, trigger],
        ).fetchall()
    ]


def sensor_marks(con, job: str, source: str) -> set[str]:
    return {
        k
        for (k,) in con.execute(
            f"SELECT partition_key FROM {SCHEMA}.sensor_marks WHERE job = ? AND source = ?",
            [job, source],
        ).fetchall()
    }


def add_sensor_marks(con, job: str, source: str, keys: Sequence[str], at: datetime) -> None:
    if keys:
        con.executemany(
            f"INSERT INTO {SCHEMA}.sensor_marks VALUES (?, ?, ?, ?)",
            [[job, source, k, at] for k in keys],
        )


class OpenIncident(NamedTuple):
    """An incident not closed: one subject (a model, a source, a job), one cause (`failed`,
    `check NAME`, `blocked`, `deadline`), the partitions it is about."""

    kind: str
    subject: str
    cause: str
    partitions: tuple[str, ...]
    owner: str | None
    opened_at: datetime
    opened_run: int | None
    alert_id: int


def open_incidents(con) -> list[OpenIncident]:
    return [
        OpenIncident(k, s, c or "", tuple(p or ()), o, at, run, alert)
        for k, s, c, p, o, at, run, alert in con.execute(
            f"SELECT kind, subject, cause, partitions, owner, opened_at, opened_run, alert_id "
            f"FROM {SCHEMA}.incidents WHERE closed_at IS NULL ORDER BY opened_at, kind, subject"
        ).fetchall()
    ]


def open_incident(
    con,
    kind: str,
    subject: str,
    cause: str,
    partitions: Sequence[str],
    owner: str | None,
    at: datetime,
    run_id: int | None,
    alert_id: int,
) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.incidents VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL)",
        [kind, subject, owner, at, run_id, alert_id, cause, list(partitions)],
    )


def close_incident(
    con, incident: OpenIncident, at: datetime, run_id: int | None, how: str = "recovered"
) -> None:
    con.execute(
        f"UPDATE {SCHEMA}.incidents SET closed_at = ?, closed_run = ?, closed_how = ? "
        "WHERE kind = ? AND subject = ? AND coalesce(cause, '') = ? AND opened_at = ? "
        "AND closed_at IS NULL",
        [at, run_id, how, incident.kind, incident.subject, incident.cause, incident.opened_at],
    )


class Undelivered(NamedTuple):
    """An alert of an open incident that did not reach its owner yet."""

    alert_id: int
    owner: str | None
    payload: str
    attempts: int


def undelivered_alerts(con, now: datetime) -> list[Undelivered]:
    """Alerts of open incidents not delivered yet whose next try is due."""
    return [
        Undelivered(*row)
        for row in con.execute(
            f"SELECT DISTINCT a.alert_id, a.owner, a.payload::VARCHAR, a.attempts "
            f"FROM {SCHEMA}.alerts a JOIN {SCHEMA}.incidents i ON i.alert_id = a.alert_id "
            "WHERE i.closed_at IS NULL AND NOT a.delivered "
            "AND (a.next_try_at IS NULL OR a.next_try_at <= ?) ORDER BY a.alert_id",
            [now],
        ).fetchall()
    ]


def update_delivery(
    con,
    alert_id: int,
    delivered: bool,
    attempts: int,
    error: str | None,
    next_try_at: datetime | None,
) -> None:
    con.execute(
        f"UPDATE {SCHEMA}.alerts SET delivered = ?, attempts = ?, error = ?, next_try_at = ? "
        "WHERE alert_id = ?",
        [delivered, attempts, error, next_try_at, alert_id],
    )


def add_alert(con, row: Mapping[str, object]) -> int:
    alert_id = con.execute(
        f"SELECT coalesce(max(alert_id), 0) + 1 FROM {SCHEMA}.alerts"
    ).fetchone()[0]
    con.execute(
        f"INSERT INTO {SCHEMA}.alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            alert_id,
            row["created_at"],
            row["event"],
            row["subject"],
            row["owner"],
            row["run_id"],
            row["job"],
            list(row["partitions"]),
            row["message"],
            json.dumps(row["payload"], default=str),
            list(row["sinks"]),
            row["delivered"],
            row["attempts"],
            row["error"],
            row.get("next_try_at"),
        ],
    )
    return alert_id


def add_audit(
    con, at: datetime, who: str, host: str, command: str, decision: str, reason: str
) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.audit VALUES (?, ?, ?, ?, ?, ?)",
        [at, who, host, command, decision, reason],
    )


class AlertRow(NamedTuple):
    alert_id: int
    created_at: datetime
    event: str
    subject: str
    owner: str | None
    run_id: int | None
    delivered: bool
    attempts: int
    error: str | None
    next_try_at: datetime | None


def recent_alerts(con, limit: int = 50) -> list[AlertRow]:
    return [
        AlertRow(*row)
        for row in con.execute(
            f"SELECT alert_id, created_at, event, subject, owner, run_id, delivered, attempts, "
            f"error, next_try_at FROM {SCHEMA}.alerts ORDER BY alert_id DESC LIMIT ?",
            [limit],
        ).fetchall()
    ]


class IncidentRow(NamedTuple):
    kind: str
    subject: str
    cause: str | None
    partitions: list | None
    owner: str | None
    opened_at: datetime
    closed_at: datetime | None
    closed_how: str | None


def recent_incidents(con, limit: int = 50) -> list[IncidentRow]:
    return [
        IncidentRow(*row)
        for row in con.execute(
            f"SELECT kind, subject, cause, partitions, owner, opened_at, closed_at, closed_how "
            f"FROM {SCHEMA}.incidents ORDER BY closed_at IS NOT NULL, opened_at DESC LIMIT ?",
            [limit],
        ).fetchall()
    ]


class TickRow(NamedTuple):
    job: str
    due_at: datetime
    trigger: str
    detail: str | None
    deadline_at: datetime | None
    outcome: str
    deadline_missed_at: datetime | None
    run_id: int | None


def recent_ticks(con, limit: int = 50) -> list[TickRow]:
    """The latest schedule ticks of every job, newest first."""
    return [
        TickRow(*row)
        for row in con.execute(
            f"SELECT job, {TICK_COLUMNS}, run_id FROM {SCHEMA}.schedule_ticks "
            "ORDER BY due_at DESC LIMIT ?",
            [limit],
        ).fetchall()
    ]
