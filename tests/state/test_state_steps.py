"""state.steps on a real DuckDB: attempts appended, what succeeded per build, each step's latest
final attempt and the windows whose latest attempt failed."""

from __future__ import annotations

from datetime import datetime

from orchestrator import state
from orchestrator.engines import engine


def row(step, key, run, attempt, status, built="m=1", at=0):
    when = datetime(2024, 1, 1, 0, at)
    return state.StepRun(
        step, key, None, None, run, attempt, status, when, when, 0, "", None, built, None
    )


def test_step_runs_round_trip(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    assert state.step_runs_exist(con) and state.latest_step_runs(con) == []
    state.insert_step_runs(
        con,
        [
            row("a", "k1", 1, 1, "retried", at=1),
            row("a", "k1", 1, 2, "success", at=2),
            row("a", "k2", 1, 1, "failed", at=3),
            row("b", "all", 1, 1, "success", built="4", at=4),
        ],
    )
    assert state.step_successes(con, ["a", "b"]) == {("a", "k1", "m=1"), ("b", "all", "4")}
    assert state.step_successes(con, []) == set()
    latest = {r.step: (r.partition_key, r.status) for r in state.latest_step_runs(con)}
    assert latest == {"a": ("k2", "failed"), "b": ("all", "success")}
    assert [(r.step, r.partition_key) for r in state.failed_step_windows(con)] == [("a", "k2")]
    assert [r.attempt for r in state.run_step_runs(con, 1)][:2] == [1, 2]
