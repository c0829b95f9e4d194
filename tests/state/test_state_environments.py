"""state.environments on a real DuckDB file: an environment's row, the SQL of each version,
and promotion of a copy's rows into production's names."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from orchestrator import state
from orchestrator.engines import engine
from orchestrator.state.schema import append_rows

AT = datetime(2024, 1, 10, 12, 0)
COLUMNS = (
    "model, partition_key, partition_start, partition_end, status, model_version, layout, "
    "inputs, vars, built_run, rows, built_at, last_run, last_attempt_at"
)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


def test_an_environment_row_is_created_then_updated(con):
    state.save_environment(con, "dev", "ann", AT, {"m.a": "m__dev.a"}, {"m.a": "changed"})
    later = datetime(2024, 1, 11)
    state.save_environment(con, "dev", "bob", later, {"m.b": "m__dev.b"}, {"m.b": "new"})
    (row,) = state.environments(con)
    assert (row.created_by, row.updated_by, row.updated_at) == ("ann", "bob", later)
    assert row.models == {"m.b": "m__dev.b"} and row.reasons == {"m.b": "new"}
    assert state.environment(con, "nope") is None


def test_a_version_is_recorded_once(con):
    state.remember_versions(con, [("m.a", "v1", "select 1")], AT)
    state.remember_versions(con, [("m.a", "v1", "select 1"), ("m.a", "v2", "select 2")], AT)
    assert con.execute("select count(*) from orchestrator.model_versions").fetchone()[0] == 2
    assert state.version_template(con, "m.a", "v2") == "select 2"
    assert state.version_template(con, "m.a", "v3") is None


def partition(model, key, run, inputs):
    return [
        model,
        key,
        None,
        None,
        "success",
        "v",
        "",
        json.dumps(inputs),
        "{}",
        run,
        1,
        AT,
        run,
        AT,
    ]


def test_promoted_rows_name_production_and_replace_its_rows(con):
    append_rows(
        con,
        "partitions",
        [
            partition("m.a", "all", 1, []),
            partition("m__dev.a", "all", 2, []),
            partition("m__dev.b", "all", 3, [{"model": "m__dev.a", "partitions": 1, "run": 2}]),
            partition("m.c", "all", 1, []),
        ],
        COLUMNS,
    )
    written = state.promote_rows(con, {"m__dev.a": "m.a", "m__dev.b": "m.b"})
    assert written == 2
    rows = con.execute(
        "select model, built_run, inputs from orchestrator.partitions order by model, built_run"
    ).fetchall()
    assert [(m, r) for m, r, _ in rows] == [
        ("m.a", 2),
        ("m.b", 3),
        ("m.c", 1),
        ("m__dev.a", 2),
        ("m__dev.b", 3),
    ]
    assert json.loads(rows[1][2]) == [{"model": "m.a", "partitions": 1, "run": 2}]


def test_forgetting_an_environment_leaves_production_rows(con):
    rows = [partition("m.a", "all", 1, []), partition("m__dev.a", "all", 2, [])]
    append_rows(con, "partitions", rows, COLUMNS)
    state.save_environment(con, "dev", "ann", AT, {"m.a": "m__dev.a"}, {})
    assert state.forget_environment(con, "dev", ["m__dev"]) == 1
    assert con.execute("select model from orchestrator.partitions").fetchall() == [("m.a",)]
    assert state.environments(con) == []


def test_a_state_older_than_environments_reads_as_having_none(con):
    """Read-only commands after an upgrade read a warehouse no writer migrated yet."""
    con.execute("alter table orchestrator.partitions drop column data_run")
    con.execute("drop table orchestrator.environments")
    con.execute("drop table orchestrator.model_versions")
    append_rows(con, "partitions", [partition("m.a", "all", 3, [])], COLUMNS)
    assert state.environments(con) == []
    assert state.version_template(con, "m.a", "v") is None
    assert state.snapshot(con).built["m.a"]["all"].read_run == 3
