"""state: the orchestrator schema on a real DuckDB file, written and read back."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import engine, state
from orchestrator.errors import WarehouseError
from orchestrator.snapshot import Publication, TaskRecord

AT = datetime(2024, 1, 10, 12, 0)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


def test_ensure_creates_the_schema_once_and_is_idempotent(con):
    assert state.has_state(con)
    assert state.schema_version(con) == state.SCHEMA_VERSION
    assert state.ensure(con) == []  # nothing to migrate the second time


def test_a_newer_schema_than_this_tool_knows_is_refused(con):
    con.execute(
        f"UPDATE {state.SCHEMA}.meta SET value = ? WHERE key = 'schema_version'",
        [str(state.SCHEMA_VERSION + 1)],
    )
    with pytest.raises(WarehouseError, match="newer than this orchestrator understands"):
        state.ensure(con)


def test_a_publication_reads_back_as_the_snapshots_built_partition(con):
    run_id = state.start_run(
        con,
        command="run",
        arguments="",
        variables={"region": "eu"},
        who="ana",
        host="h",
        pid=1,
        started=AT,
        tool_version="t",
    )
    publication = Publication(
        "s.m",
        "2024-01-05",
        datetime(2024, 1, 5),
        datetime(2024, 1, 6),
        "v1",
        "",
        {"s.up": (1, run_id)},
        {"region": "eu"},
        run_id,
        42,
        AT,
    )
    state.publish_partitions(con, [publication])
    built = state.snapshot(con).get("s.m", "2024-01-05")
    assert (built.version, built.run, built.rows) == ("v1", run_id, 42)
    assert dict(built.inputs) == {"s.up": (1, run_id)}
    assert dict(built.vars) == {"region": "eu"}


def test_reads_are_typed_rows_named_like_their_columns(con):
    run_id = state.start_run(
        con,
        command="backfill",
        arguments="backfill m",
        variables={},
        who="ana",
        host="h",
        pid=1,
        started=AT,
        tool_version="t",
    )
    record = TaskRecord(
        run_id, 1, "s.m", "2024-01-05", None, None, 1, "failed", "missing", AT, AT, None, "v1", "x"
    )
    state.insert_task_runs(con, [record])
    state.mark_partitions(con, [record])
    state.finish_run(con, run_id, status="failed", finished=AT, counts={"tasks": 1, "failed": 1})

    (summary,) = state.runs(con, 10)
    assert (summary.run_id, summary.command, summary.status, summary.failed) == (
        run_id,
        "backfill",
        "failed",
        1,
    )
    detail = state.run_row(con, run_id)
    assert (detail.arguments, detail.who, detail.host) == ("backfill m", "ana", "h")
    (attempt,) = state.run_tasks(con, run_id)
    assert (attempt.partition_key, attempt.status, attempt.error) == ("2024-01-05", "failed", "x")
    (partition,) = state.partition_rows(con)
    assert (partition.model, partition.status, partition.built_run) == ("s.m", "failed", None)
    assert state.run_row(con, run_id + 1) is None


def test_an_incident_is_open_until_it_is_closed(con):
    state.open_incident(
        con, "model", "s.m", "check unique(id)", ["2024-01-05"], "data-eng", AT, 1, 7
    )
    [incident] = state.open_incidents(con)
    assert (incident.kind, incident.subject, incident.cause, incident.partitions) == (
        "model",
        "s.m",
        "check unique(id)",
        ("2024-01-05",),
    )
    assert (incident.owner, incident.opened_run, incident.alert_id) == ("data-eng", 1, 7)
    state.close_incident(con, incident, AT, 2, "removed")
    assert state.open_incidents(con) == []
    assert con.execute(
        f"SELECT closed_run, closed_how FROM {state.SCHEMA}.incidents"
    ).fetchall() == [(2, "removed")]


def test_an_older_schema_is_migrated_to_the_current_version(con):
    # a version-1 warehouse: runs had no waiting/blocked counts and no schedule ticks existed
    # and builds recorded no source fingerprints
    con.execute(f"ALTER TABLE {state.SCHEMA}.runs DROP COLUMN waiting")
    con.execute(f"ALTER TABLE {state.SCHEMA}.partitions DROP COLUMN sources")
    con.execute(f"DROP TABLE {state.SCHEMA}.schedule_ticks")
    con.execute(f"UPDATE {state.SCHEMA}.meta SET value = '1' WHERE key = 'schema_version'")
    assert state.ensure(con) == [1, 2, 3, 4, 5, 6, 7]
    assert state.schema_version(con) == state.SCHEMA_VERSION
    columns = {r[0] for r in con.execute(f"DESCRIBE {state.SCHEMA}.runs").fetchall()}
    assert {"waiting", "blocked"} <= columns
    columns = [r[0] for r in con.execute(f"DESCRIBE {state.SCHEMA}.partitions").fetchall()]
    assert columns[-1] == "sources"  # last, where new warehouses have it too
    assert state.open_ticks(con, "nightly") == []


def test_a_run_left_running_is_abandoned_and_a_finished_one_is_not(con):
    common = dict(arguments="", variables={}, who="a", host="h", pid=1, tool_version="t")
    done = state.start_run(con, command="run", started=AT, **common)
    state.finish_run(con, done, status="success", finished=AT, counts={"tasks": 2})
    cut = state.start_run(con, command="backfill", started=AT, **common)
    assert cut == done + 1
    assert state.abandon_running(con, AT) == [(cut, "backfill")]
    assert state.run_row(con, cut).status == "abandoned"
    assert state.run_row(con, done).status == "success"
    assert state.last_run_id(con) == cut


def test_a_tick_is_open_until_it_finishes_and_late_only_past_its_deadline(con):
    due = datetime(2024, 1, 10, 6, 0)
    state.add_tick(con, "nightly", due, "cron", "pending", AT, deadline_at=datetime(2024, 1, 10, 9))
    (tick,) = state.open_ticks(con, "nightly")
    assert (tick.due_at, tick.trigger, tick.outcome) == (due, "cron", "pending")
    assert state.late_ticks(con, "nightly", datetime(2024, 1, 10, 8)) == []
    assert state.late_ticks(con, "nightly", datetime(2024, 1, 10, 10)) == [tick]
    state.update_tick(con, "nightly", tick, outcome="success", run_id=1, at=AT)
    assert state.open_ticks(con, "nightly") == []
    assert state.last_tick(con, "nightly") == due
