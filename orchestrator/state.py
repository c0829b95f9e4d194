"""The `orchestrator` schema: its DDL and migrations, the snapshot the planner reads, and the rows
the executor writes. No other module names a state table.

The state tables are a public interface (see the README): users query them with plain SQL.
Timestamps are UTC. A partition's key is `all` for models that are not partitioned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from .partitions import WHOLE
from .snapshot import Built, Publication, Snapshot, TaskRecord, decode_inputs, encode_inputs

SCHEMA = "orchestrator"
SCHEMA_VERSION = 5

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (
    run_id BIGINT,
    command VARCHAR,
    arguments VARCHAR,
    vars JSON,
    who VARCHAR,
    host VARCHAR,
    pid INTEGER,
    started TIMESTAMP,
    finished TIMESTAMP,
    status VARCHAR,
    tasks INTEGER,
    succeeded INTEGER,
    failed INTEGER,
    skipped INTEGER,
    waiting INTEGER,
    blocked INTEGER,
    error VARCHAR,
    tool_version VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.task_runs (
    run_id BIGINT,
    task_id INTEGER,
    model VARCHAR,
    partition_key VARCHAR,
    partition_start TIMESTAMP,
    partition_end TIMESTAMP,
    attempt INTEGER,
    status VARCHAR,
    reason VARCHAR,
    started TIMESTAMP,
    finished TIMESTAMP,
    rows_written BIGINT,
    model_version VARCHAR,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.partitions (
    model VARCHAR,
    partition_key VARCHAR,
    partition_start TIMESTAMP,
    partition_end TIMESTAMP,
    status VARCHAR,
    model_version VARCHAR,
    layout VARCHAR,
    inputs JSON,
    vars JSON,
    built_run BIGINT,
    rows BIGINT,
    built_at TIMESTAMP,
    last_run BIGINT,
    last_attempt_at TIMESTAMP,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.check_results (
    run_id BIGINT,
    task_id INTEGER,
    model VARCHAR,
    partition_key VARCHAR,
    check_name VARCHAR,
    check_kind VARCHAR,
    severity VARCHAR,
    status VARCHAR,
    failing_rows BIGINT,
    sample JSON,
    message VARCHAR,
    checked_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.freshness (
    source VARCHAR,
    checked_at TIMESTAMP,
    run_id BIGINT,
    latest_loaded_at TIMESTAMP,
    lag_seconds DOUBLE,
    status VARCHAR,
    detail VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.run_plans (
    run_id BIGINT,
    task_id INTEGER,
    model VARCHAR,
    partition_key VARCHAR,
    action VARCHAR,
    reason VARCHAR,
    after INTEGER[]
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.schedule_ticks (
    job VARCHAR,
    due_at TIMESTAMP,
    trigger VARCHAR,
    detail VARCHAR,
    deadline_at TIMESTAMP,
    run_id BIGINT,
    outcome VARCHAR,
    updated_at TIMESTAMP,
    deadline_missed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.sensor_marks (
    job VARCHAR,
    source VARCHAR,
    partition_key VARCHAR,
    seen_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.alerts (
    alert_id BIGINT,
    created_at TIMESTAMP,
    event VARCHAR,
    subject VARCHAR,
    owner VARCHAR,
    run_id BIGINT,
    job VARCHAR,
    partitions VARCHAR[],
    message VARCHAR,
    payload JSON,
    sinks VARCHAR[],
    delivered BOOLEAN,
    attempts INTEGER,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.incidents (
    kind VARCHAR,
    subject VARCHAR,
    owner VARCHAR,
    opened_at TIMESTAMP,
    opened_run BIGINT,
    alert_id BIGINT,
    closed_at TIMESTAMP,
    closed_run BIGINT
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.audit (
    happened_at TIMESTAMP,
    who VARCHAR,
    host VARCHAR,
    command VARCHAR,
    decision VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.models (
    name VARCHAR,
    kind VARCHAR,
    owner VARCHAR,
    tags VARCHAR[],
    version VARCHAR,
    upstream VARCHAR[],
    sources VARCHAR[],
    partition_by VARCHAR,
    grain VARCHAR,
    first_partition TIMESTAMP,
    end_partition TIMESTAMP,
    path VARCHAR,
    updated_at TIMESTAMP
);
"""


# -- the snapshot the planner reads ---------------------------------------------------------------


def has_state(con) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [SCHEMA, "partitions"],
    ).fetchone()
    return bool(row and row[0])


def snapshot(con) -> Snapshot:
    """Read the published builds and the existing relations in one pass each."""
    relations = {
        f"{schema}.{name}".lower(): "view" if kind == "VIEW" else "table"
        for schema, name, kind in con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }
    if f"{SCHEMA}.partitions" not in relations:
        return Snapshot(relations=MappingProxyType(relations))
    built: dict[str, dict[str, Built]] = {}
    recorded: dict[str, set[str]] = {}
    rows = con.execute(
        f"SELECT model, partition_key, model_version, layout, built_run, inputs, vars, rows "
        f"FROM {SCHEMA}.partitions"
    ).fetchall()
    for model, key, version, layout, run, inputs, variables, count in rows:
        recorded.setdefault(model, set()).add(key)
        if run is None:
            continue
        built.setdefault(model, {})[key] = Built(
            key=key,
            version=version,
            run=run,
            layout=layout or "",
            inputs=decode_inputs(inputs),
            vars=MappingProxyType(json.loads(variables)) if variables else MappingProxyType({}),
            rows=count,
        )
    return Snapshot(
        built=MappingProxyType(built),
        relations=MappingProxyType(relations),
        recorded=MappingProxyType({m: frozenset(k) for m, k in recorded.items()}),
    )


# -- writes ---------------------------------------------------------------------------------------


READINESS_VIEW = f"""
CREATE VIEW IF NOT EXISTS {SCHEMA}.readiness AS
WITH RECURSIVE clock AS (
    SELECT CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP) AS now_utc
),
expected AS (
    SELECT m.name, m.kind, m.owner, m.grain, m.version, m.first_partition, m.sources,
        CASE WHEN m.kind = 'incremental' AND m.first_partition IS NOT NULL THEN
            least(coalesce(m.end_partition, TIMESTAMP '9999-12-31'), date_trunc(m.grain, now_utc))
        END AS expected_through
    FROM {SCHEMA}.models m, clock
),
parts AS (
    SELECT model,
        count(*) FILTER (WHERE built_run IS NOT NULL) AS built,
        count(*) FILTER (WHERE status IN ('failed', 'check_failed', 'timed_out')) AS failed,
        count(*) FILTER (WHERE status = 'blocked') AS blocked,
        count(*) FILTER (WHERE status = 'waiting') AS waiting,
        count(*) FILTER (WHERE status IN ('skipped', 'cancelled')) AS skipped,
        max(partition_end) FILTER (WHERE built_run IS NOT NULL) AS built_through,
        max(built_at) AS last_built_at,
        list(DISTINCT model_version) FILTER (WHERE built_run IS NOT NULL) AS versions
    FROM {SCHEMA}.partitions GROUP BY model
),
latest_source AS (
    SELECT source, status FROM {SCHEMA}.freshness
    QUALIFY row_number() OVER (PARTITION BY source ORDER BY checked_at DESC, run_id DESC) = 1
),
counted AS (
    SELECT e.*, coalesce(p.built, 0) AS built, coalesce(p.failed, 0) AS failed,
        coalesce(p.blocked, 0) AS blocked, coalesce(p.waiting, 0) AS waiting,
        coalesce(p.skipped, 0) AS skipped, p.built_through, p.last_built_at,
        coalesce(len(list_filter(p.versions, lambda v: v <> e.version)), 0) > 0 AS outdated,
        (SELECT list(s.source ORDER BY s.source) FROM latest_source s
         WHERE list_contains(e.sources, s.source) AND s.status IN ('stale', 'drifted')
        ) AS bad_sources,
        CASE
            WHEN e.kind <> 'incremental' THEN 1
            WHEN e.expected_through IS NULL THEN coalesce(p.built, 0)
            ELSE greatest(date_diff(e.grain, e.first_partition, e.expected_through), 0)
        END AS expected
    FROM expected e LEFT JOIN parts p ON p.model = e.name
),
own AS (
    SELECT *,
        CASE
            WHEN failed > 0 THEN 'failed'
            WHEN blocked > 0 THEN 'blocked'
            WHEN built = 0 THEN 'missing'
            WHEN outdated OR len(coalesce(bad_sources, [])) > 0 THEN 'stale'
            WHEN built < expected OR waiting > 0 OR skipped > 0 THEN 'partial'
            ELSE 'complete'
        END AS own_state
    FROM counted
),
ranked AS (
    SELECT *, list_position(['complete', 'partial', 'missing', 'stale', 'blocked', 'failed'],
                            own_state) AS rank
    FROM own
),
edges AS (
    SELECT name, unnest(upstream) AS up FROM {SCHEMA}.models
),
reach(name, up) AS (
    SELECT name, up FROM edges
    UNION
    SELECT r.name, e.up FROM reach r JOIN edges e ON e.name = r.up
),
upstream_worst AS (
    SELECT r.name, max(u.rank) AS rank, arg_max(u.name, u.rank) AS model
    FROM reach r JOIN ranked u ON u.name = r.up
    WHERE u.rank > 1
    GROUP BY r.name
)
SELECT o.name AS model, o.kind, o.owner, o.grain,
    CASE WHEN coalesce(w.rank, 0) > o.rank THEN
        CASE WHEN u.own_state = 'missing' THEN 'partial' ELSE u.own_state END
        ELSE o.own_state
    END AS state,
    o.own_state,
    CASE WHEN w.model IS NOT NULL THEN w.model || ' is ' || u.own_state END AS upstream_issue,
    o.bad_sources AS stale_sources,
    o.expected, o.built, o.failed, o.blocked, o.waiting, o.skipped,
    o.expected_through, o.built_through, o.last_built_at
FROM ranked o
LEFT JOIN upstream_worst w ON w.name = o.name
LEFT JOIN ranked u ON u.name = w.model
ORDER BY o.name
"""
"""Per model: is its data complete, partial, stale or failed, as of the current time (UTC)?
`own_state` judges the model's own partitions (and its sources' latest freshness); `state`
also counts the worst of everything upstream of it."""


MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 1 -> 2: runs count tasks held back by sources (new tables come from the DDL)
    1: (
        f"ALTER TABLE {SCHEMA}.runs ADD COLUMN IF NOT EXISTS waiting INTEGER",
        f"ALTER TABLE {SCHEMA}.runs ADD COLUMN IF NOT EXISTS blocked INTEGER",
    ),
    # version 2 -> 3: the readiness view also judges upstream models and sources
    2: (f"DROP VIEW IF EXISTS {SCHEMA}.readiness",),
    3: (),  # version 3 -> 4: run_plans (created by the DDL)
    4: (),  # version 4 -> 5: schedule_ticks, sensor_marks, alerts, incidents, audit (DDL)
}
"""Statements that bring the state schema from version N to N + 1, in order."""


def schema_version(con) -> int | None:
    """The state schema version of this warehouse, or None when it has no state yet."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
        "table_name = 'meta'",
        [SCHEMA],
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
    if not row:
        return 1
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        version = 0
    if version < 1:
        from .errors import WarehouseError

        raise WarehouseError(
            f"the warehouse's state schema version is {row[0]!r} (in {SCHEMA}.meta), not a "
            "version number: the state was edited by hand or written by another tool"
        )
    return version


def ensure(con) -> list[int]:
    """Create the state schema if it is missing, or migrate an older one, in one transaction.
    Returns the versions migrated from. A newer schema than this tool knows is refused."""
    from .errors import WarehouseError

    version = schema_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise WarehouseError(
            f"the warehouse's state schema is version {version}, newer than this orchestrator "
            f"understands ({SCHEMA_VERSION}): upgrade orchestrator before writing to it"
        )
    if version == SCHEMA_VERSION:
        return []
    migrated = list(range(version, SCHEMA_VERSION)) if version is not None else []
    with con.transaction():
        for step in migrated:
            for statement in MIGRATIONS.get(step, ()):
                con.execute(statement)
        for statement in DDL.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(READINESS_VIEW)
        con.execute(f"DELETE FROM {SCHEMA}.meta WHERE key = 'schema_version'")
        con.execute(
            f"INSERT INTO {SCHEMA}.meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
    return migrated


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
) -> int:
    run_id = con.execute(f"SELECT coalesce(max(run_id), 0) + 1 FROM {SCHEMA}.runs").fetchone()[0]
    con.execute(
        f"INSERT INTO {SCHEMA}.runs (run_id, command, arguments, vars, who, host, pid, started, "
        "status, tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)",
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


def replace_models(con, rows: Sequence[Sequence], now: datetime) -> None:
    """The models table mirrors the project as of the latest writing command (rewritten only
    when something in it changed)."""
    current = con.execute(
        f"SELECT * EXCLUDE (updated_at) FROM {SCHEMA}.models ORDER BY name"
    ).fetchall()

    def norm(row) -> tuple:
        return tuple(tuple(v) if isinstance(v, list) else v for v in row)

    if sorted(map(norm, current), key=repr) == sorted(map(norm, rows), key=repr):
        return
    con.execute(f"DELETE FROM {SCHEMA}.models")
    if rows:
        _append(con, "models", [list(r) + [now] for r in rows])


def _append(con, table: str, rows: Sequence[Sequence], columns: str = "") -> None:
    """Insert `rows` with one statement: each column goes in as one list, unnested side by
    side. DuckDB runs `executemany` row by row, which made state writes cost more than the
    data they describe."""
    if not rows:
        return
    width = len(rows[0])
    lists = [[row[i] for row in rows] for i in range(width)]
    target = f"{SCHEMA}.{table}" + (f" ({columns})" if columns else "")
    con.execute(
        f"INSERT INTO {target} SELECT {', '.join(['unnest(?)'] * width)}",
        lists,
    )


def insert_task_runs(con, records: Sequence[TaskRecord]) -> None:
    _append(
        con,
        "task_runs",
        [
            [
                r.run_id,
                r.task_id,
                r.model,
                r.key,
                r.start,
                r.end,
                r.attempt,
                r.status,
                r.reason,
                r.started,
                r.finished,
                r.rows,
                r.version,
                r.error,
            ]
            for r in records
        ],
    )


def publish_partitions(
    con, publications: Sequence[Publication], recorded: Mapping[str, frozenset[str]] | None = None
) -> None:
    """Within the publishing transaction: replace the partitions' rows by their new builds.
    `recorded`: the partition rows known to exist (None: unknown); a model with none of the
    published keys among them has no row to delete, which saves a statement per task."""
    by_model: dict[str, list[str]] = {}
    for p in publications:
        by_model.setdefault(p.model, []).append(p.key)
    for model, keys in by_model.items():
        if recorded is not None:
            rows = recorded.get(model, frozenset())
            if not rows or (WHOLE not in keys and rows.isdisjoint(keys)):
                continue  # no row of these partitions (a whole table: no row at all) to delete
        if WHOLE in keys:  # a whole table or view: no partition rows of an older kind remain
            con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE model = ?", [model])
        else:
            con.execute(
                f"DELETE FROM {SCHEMA}.partitions WHERE model = ? "
                "AND list_contains(?, partition_key)",
                [model, keys],
            )
    _append(
        con,
        "partitions",
        [
            [
                p.model,
                p.key,
                p.start,
                p.end,
                "success",
                p.version,
                p.layout,
                encode_inputs(p.inputs),
                json.dumps(dict(p.vars)),
                p.run_id,
                p.rows,
                p.built_at,
                p.run_id,
                p.built_at,
                None,
            ]
            for p in publications
        ],
    )


def mark_partitions(con, records: Sequence[TaskRecord]) -> None:
    """Attempts that published nothing (failed, skipped...): the published build stays as it was;
    only the partition's latest status changes (a partition never built gets a row saying so)."""
    if not records:
        return
    lists = [
        [r.model for r in records],
        [r.key for r in records],
        [r.start for r in records],
        [r.end for r in records],
        [r.status for r in records],
        [r.run_id for r in records],
        [r.finished for r in records],
        [r.error or r.reason for r in records],
    ]
    attempts = (
        "SELECT unnest(?) AS model, unnest(?) AS partition_key, unnest(?) AS partition_start, "
        "unnest(?) AS partition_end, unnest(?) AS status, unnest(?) AS last_run, "
        "unnest(?) AS last_attempt_at, unnest(?) AS error"
    )
    con.execute(
        f"UPDATE {SCHEMA}.partitions p SET status = a.status, last_run = a.last_run, "
        f"last_attempt_at = a.last_attempt_at, error = a.error FROM ({attempts}) a "
        "WHERE p.model = a.model AND p.partition_key = a.partition_key",
        lists,
    )
    con.execute(
        f"INSERT INTO {SCHEMA}.partitions (model, partition_key, partition_start, partition_end, "
        f"status, last_run, last_attempt_at, error) SELECT * FROM ({attempts}) a WHERE NOT EXISTS "
        f"(SELECT 1 FROM {SCHEMA}.partitions p WHERE p.model = a.model "
        "AND p.partition_key = a.partition_key)",
        lists,
    )


def relations(con) -> set[str]:
    return {
        f"{schema}.{name}".lower()
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }


def source_views(con) -> dict[str, str]:
    """The statement each declared file source's view was last created with."""
    return dict(
        con.execute(
            f"SELECT substr(key, 13), value FROM {SCHEMA}.meta WHERE key LIKE 'source_view:%'"
        ).fetchall()
    )


def remember_source_view(con, name: str, statement: str) -> None:
    con.execute(f"DELETE FROM {SCHEMA}.meta WHERE key = ?", [f"source_view:{name}"])
    con.execute(f"INSERT INTO {SCHEMA}.meta VALUES (?, ?)", [f"source_view:{name}", statement])


def insert_check_results(con, run_id: int, task_id: int, model: str, results, at: datetime) -> None:
    if not results:
        return
    _append(
        con,
        "check_results",
        [
            [
                run_id,
                task_id,
                model,
                r.key,
                r.check.name,
                r.check.kind,
                str(r.check.severity),
                r.status,
                r.failing,
                json.dumps(list(r.sample), default=str) if r.sample else None,
                r.message,
                at,
            ]
            for r in results
        ],
    )


def insert_freshness(con, rows: Sequence[Sequence]) -> None:
    """rows: (source, checked_at, run_id, latest_loaded_at, lag_seconds, status, detail)."""
    if rows:
        _append(con, "freshness", rows)


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
            [str(t.reason) for t in tasks],
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


# -- schedules, alerts, access -------------------------------------------------------------------


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


def open_incidents(con) -> dict[tuple[str, str], tuple]:
    """(kind, subject) -> (owner, opened_at, opened_run, alert_id) of incidents not closed."""
    return {
        (k, s): (o, at, run, alert)
        for k, s, o, at, run, alert in con.execute(
            f"SELECT kind, subject, owner, opened_at, opened_run, alert_id FROM {SCHEMA}.incidents "
            "WHERE closed_at IS NULL"
        ).fetchall()
    }


def open_incident(
    con, kind: str, subject: str, owner: str | None, at: datetime, run_id: int | None, alert_id: int
) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.incidents VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
        [kind, subject, owner, at, run_id, alert_id],
    )


def close_incident(con, kind: str, subject: str, at: datetime, run_id: int | None) -> None:
    con.execute(
        f"UPDATE {SCHEMA}.incidents SET closed_at = ?, closed_run = ? WHERE kind = ? "
        "AND subject = ? AND closed_at IS NULL",
        [at, run_id, kind, subject],
    )


def add_alert(con, row: Mapping[str, object]) -> int:
    alert_id = con.execute(
        f"SELECT coalesce(max(alert_id), 0) + 1 FROM {SCHEMA}.alerts"
    ).fetchone()[0]
    con.execute(
        f"INSERT INTO {SCHEMA}.alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ],
    )
    return alert_id


def failing_models(con) -> set[str]:
    """Models with a partition whose latest attempt failed (their incident is not over)."""
    return {
        m
        for (m,) in con.execute(
            f"SELECT DISTINCT model FROM {SCHEMA}.partitions "
            "WHERE status IN ('failed', 'check_failed', 'timed_out')"
        ).fetchall()
    }


def add_audit(
    con, at: datetime, who: str, host: str, command: str, decision: str, reason: str
) -> None:
    con.execute(
        f"INSERT INTO {SCHEMA}.audit VALUES (?, ?, ?, ?, ?, ?)",
        [at, who, host, command, decision, reason],
    )


def forget_partitions(con, model: str) -> None:
    """A full refresh replaces the whole table: its old partition rows go with it."""
    con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE model = ?", [model])


# -- reads for the CLI ----------------------------------------------------------------------------


def runs(con, limit: int) -> list[tuple]:
    return con.execute(
        f"SELECT run_id, command, status, started, finished, tasks, succeeded, failed, skipped, "
        f"who FROM {SCHEMA}.runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    ).fetchall()


def run_tasks(con, run_id: int) -> list[tuple]:
    return con.execute(
        f"SELECT model, partition_key, attempt, status, reason, rows_written, "
        f"epoch(finished - started), error FROM {SCHEMA}.task_runs WHERE run_id = ? "
        "ORDER BY task_id, attempt",
        [run_id],
    ).fetchall()


def run_row(con, run_id: int) -> tuple | None:
    return con.execute(
        f"SELECT run_id, command, arguments, status, started, finished, who, host, vars, error "
        f"FROM {SCHEMA}.runs WHERE run_id = ?",
        [run_id],
    ).fetchone()


def partition_rows(con) -> list[tuple]:
    return con.execute(
        f"SELECT model, partition_key, status, built_run, rows, built_at, last_run, error "
        f"FROM {SCHEMA}.partitions ORDER BY model, partition_key"
    ).fetchall()
