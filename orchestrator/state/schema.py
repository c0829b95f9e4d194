"""The state schema: its DDL, the readiness view, migrations between versions, and the version
check that refuses a newer schema."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.errors import WarehouseError

SCHEMA = "orchestrator"


SCHEMA_VERSION = 10


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
    tool_version VARCHAR,
    env VARCHAR
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
    error VARCHAR,
    sources JSON,
    tried_sources JSON,
    data_run BIGINT
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
CREATE TABLE IF NOT EXISTS {SCHEMA}.exports (
    export VARCHAR,
    model VARCHAR,
    partition_key VARCHAR,
    destination VARCHAR,
    built_run BIGINT,
    run_id BIGINT,
    status VARCHAR,
    rows BIGINT,
    error VARCHAR,
    exported_at TIMESTAMP
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
    error VARCHAR,
    next_try_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.incidents (
    kind VARCHAR,
    subject VARCHAR,
    owner VARCHAR,
    opened_at TIMESTAMP,
    opened_run BIGINT,
    alert_id BIGINT,
    closed_at TIMESTAMP,
    closed_run BIGINT,
    cause VARCHAR,
    partitions VARCHAR[],
    closed_how VARCHAR
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.step_runs (
    step VARCHAR,
    partition_key VARCHAR,
    partition_start TIMESTAMP,
    partition_end TIMESTAMP,
    run_id BIGINT,
    attempt INTEGER,
    status VARCHAR,
    started TIMESTAMP,
    finished TIMESTAMP,
    exit_code INTEGER,
    output_tail VARCHAR,
    log_path VARCHAR,
    built_runs VARCHAR,
    error VARCHAR
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
CREATE TABLE IF NOT EXISTS {SCHEMA}.model_versions (
    model VARCHAR,
    version VARCHAR,
    template VARCHAR,
    columns VARCHAR[],
    recorded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.environments (
    name VARCHAR,
    created_at TIMESTAMP,
    created_by VARCHAR,
    updated_at TIMESTAMP,
    updated_by VARCHAR,
    models JSON,
    reasons JSON
);
"""


READINESS_VIEW = f"""
CREATE VIEW IF NOT EXISTS {SCHEMA}.readiness AS
WITH RECURSIVE clock AS (
    -- `orchestrator sql` sets orchestrator_now when ORCHESTRATOR_NOW pins the clock
    SELECT coalesce(
        TRY_CAST(getvariable('orchestrator_now') AS TIMESTAMP),
        CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)
    ) AS now_utc
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
        count(*) FILTER (WHERE status = 'skipped') AS held_by_failure,
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
        coalesce(p.skipped, 0) AS skipped, coalesce(p.held_by_failure, 0) AS held_by_failure,
        p.built_through, p.last_built_at,
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
            WHEN blocked > 0 OR held_by_failure > 0 THEN 'blocked'
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
    # version 5 -> 6: each build records what it read from sources (their fingerprints)
    5: (f"ALTER TABLE {SCHEMA}.partitions ADD COLUMN IF NOT EXISTS sources JSON",),
    # version 6 -> 7: an incident per subject and cause (with its partitions, and how it
    # closed); an undelivered alert is tried again after `next_try_at`; a rejected attempt
    # records what it read from sources, so a later change of them may be its fix
    6: (
        f"ALTER TABLE {SCHEMA}.incidents ADD COLUMN IF NOT EXISTS cause VARCHAR",
        f"ALTER TABLE {SCHEMA}.incidents ADD COLUMN IF NOT EXISTS partitions VARCHAR[]",
        f"ALTER TABLE {SCHEMA}.incidents ADD COLUMN IF NOT EXISTS closed_how VARCHAR",
        f"ALTER TABLE {SCHEMA}.alerts ADD COLUMN IF NOT EXISTS next_try_at TIMESTAMP",
        f"ALTER TABLE {SCHEMA}.partitions ADD COLUMN IF NOT EXISTS tried_sources JSON",
        f"DROP VIEW IF EXISTS {SCHEMA}.readiness",  # it follows a pinned clock
    ),
    # version 7 -> 8: readiness says `blocked` of a model held by a failure upstream
    # (skipped), as status does
    7: (f"DROP VIEW IF EXISTS {SCHEMA}.readiness",),
    # version 8 -> 9: environments (a run says which one it built; the models a run built are
    # remembered by version, with their SQL, for diffs and change categories)
    # a build records the run whose build last changed what its readers read (data_run)
    8: (
        f"ALTER TABLE {SCHEMA}.runs ADD COLUMN IF NOT EXISTS env VARCHAR",
        f"ALTER TABLE {SCHEMA}.partitions ADD COLUMN IF NOT EXISTS data_run BIGINT",
    ),
    9: (),  # version 9 -> 10: exports and step runs (tables created by the DDL)
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
        raise WarehouseError(
            f"the warehouse's state schema version is {row[0]!r} (in {SCHEMA}.meta), not a "
            "version number: the state was edited by hand or written by another tool"
        )
    return version


def ensure(con) -> list[int]:
    """Create the state schema if it is missing, or migrate an older one, in one transaction.
    Returns the versions migrated from. A newer schema than this tool knows is refused."""

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


def has_state(con) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [SCHEMA, "partitions"],
    ).fetchone()
    return bool(row and row[0])


def append_rows(con, table: str, rows: Sequence[Sequence], columns: str = "") -> None:
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
