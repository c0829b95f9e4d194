"""state.runs: runs started, finished and abandoned on a real DuckDB file, read back as typed
rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import state
from orchestrator.core.snapshot import TaskRecord
from orchestrator.engines import engine

AT = datetime(2024, 1, 10, 12, 0)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


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
