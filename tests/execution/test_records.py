"""The rows of attempts that published nothing (`execution.records`): one task_runs row per
partition task, the held tasks of a plan, and each set written in one transaction, on a real
DuckDB file in tmp_path."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from conftest import NOW

from orchestrator import state
from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import BROKEN, Held, Plan, Reason, Request, Task
from orchestrator.engines import engine
from orchestrator.execution.records import record_held, record_unpublished, unit_record
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

DAY = window_for_key("2024-01-02", Grain.DAY)
LATER = datetime(2024, 1, 10, 12, 5)


@pytest.fixture
def dag(project):
    project.model(
        "s.d",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select * from raw.src where d >= {{ start }} and d < {{ end }}",
    )
    project.model("s.t", "select 1 as x")
    return dag_mod.build(loader.load(project.root, strict=True))


@pytest.fixture
def con(project):
    connection = engine.connect(project.warehouse)
    state.ensure(connection)
    yield connection
    connection.close()


def rows(con, table: str, columns: str) -> list[tuple]:
    return con.execute(f"select {columns} from orchestrator.{table} order by all").fetchall()


def test_a_unit_record_carries_the_partition_and_the_model_version(dag):
    unit = Task(4, "s.d", DAY, Reason.MISSING)
    record = unit_record(9, unit, dag, 2, "failed", "missing", NOW, LATER, None, "boom")
    assert (record.run_id, record.task_id, record.model, record.key) == (9, 4, "s.d", DAY.key)
    assert (record.start, record.end) == (DAY.start, DAY.end)
    assert (record.attempt, record.status, record.error) == (2, "failed", "boom")
    assert record.version == dag.models["s.d"].version
    whole = unit_record(9, Task(5, "s.t", None, Reason.MISSING), dag, 1, "skipped", "x", NOW, NOW)
    assert (whole.key, whole.start, whole.end) == ("all", None, None)


def test_unpublished_attempts_get_their_rows_and_their_partition_s_status(dag, con):
    record = unit_record(
        1,
        Task(1, "s.d", DAY, Reason.MISSING),
        dag,
        1,
        "failed",
        "missing",
        NOW,
        LATER,
        error="boom",
    )
    record_unpublished(con, [record])
    assert rows(con, "task_runs", "model, partition_key, status, error") == [
        ("s.d", "2024-01-02", "failed", "boom")
    ]
    assert rows(con, "partitions", "model, partition_key, status, built_run, error") == [
        ("s.d", "2024-01-02", "failed", None, "boom")
    ]


def test_what_is_added_to_the_transaction_fails_it_whole(dag, con):
    record = unit_record(1, Task(1, "s.t", None, Reason.MISSING), dag, 1, "failed", "x", NOW, NOW)

    def also(engine_) -> None:
        engine_.execute("select error('the check results could not be written')")

    with pytest.raises(duckdb.Error, match="the check results could not be written"):
        record_unpublished(con, [record], also=also)
    assert rows(con, "task_runs", "model") == [] and rows(con, "partitions", "model") == []


def test_held_tasks_are_recorded_and_a_broken_model_s_partitions_keep_their_state(dag, con):
    held = (
        Held("s.d", DAY, "waiting", "source raw.src[2024-01-02] has not arrived"),
        Held("s.t", None, "blocked", f"{BROKEN}models/s/t.sql:1: SQL syntax error"),
    )
    plan = Plan((), held, ("s.d", "s.t"), Request(frozenset({"s.d", "s.t"}), NOW))
    outcomes = record_held(plan, con, 3, NOW)
    assert [(o.model, o.key, o.status, o.window) for o in outcomes] == [
        ("s.d", "2024-01-02", "waiting", DAY),
        ("s.t", "all", "blocked", None),
    ]
    assert rows(con, "task_runs", "task_id, model, status") == [
        (-1, "s.d", "waiting"),
        (-1, "s.t", "blocked"),
    ]
    assert rows(con, "partitions", "model, status") == [("s.d", "waiting")]


def test_a_plan_with_nothing_held_records_nothing(con):
    plan = Plan((), (), (), Request(frozenset(), NOW))
    assert record_held(plan, con, 1, NOW) == []
    assert rows(con, "task_runs", "model") == []
