"""state.builds: publications, attempts and evaluations written to a real DuckDB file and
read back."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import state
from orchestrator.core.snapshot import Publication, TaskRecord
from orchestrator.engines import engine

AT = datetime(2024, 1, 10, 12, 0)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


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


def _record(run_id: int, key: str, status: str) -> TaskRecord:
    return TaskRecord(run_id, 1, "s.m", key, None, None, 1, status, "missing", AT, AT, None, "v2")


def test_a_failed_attempt_keeps_the_published_build_and_is_reported_as_failed(con):
    built = Publication("s.m", "2024-01-05", None, None, "v1", "", {}, {}, 1, 3, AT)
    state.publish_partitions(con, [built])
    state.insert_task_runs(
        con, [_record(2, "2024-01-05", "failed"), _record(2, "2024-01-06", "failed")]
    )
    state.mark_partitions(
        con, [_record(2, "2024-01-05", "failed"), _record(2, "2024-01-06", "failed")]
    )

    snap = state.snapshot(con)
    assert snap.get("s.m", "2024-01-05").version == "v1"  # still what readers read
    assert snap.get("s.m", "2024-01-06") is None  # never built: a row, but no build
    assert snap.recorded["s.m"] == {"2024-01-05", "2024-01-06"}
    assert {k: (f.status, f.run, f.version) for k, f in snap.failed["s.m"].items()} == {
        "2024-01-05": ("failed", 2, "v2"),
        "2024-01-06": ("failed", 2, "v2"),
    }


def test_settling_a_failure_makes_the_build_the_state_again(con):
    state.publish_partitions(
        con, [Publication("s.m", "all", None, None, "v1", "", {}, {}, 1, 3, AT)]
    )
    state.mark_partitions(con, [_record(2, "all", "failed")])
    assert state.partition_statuses(con, ["s.m"]) == {("s.m", "all"): "failed"}
    state.settle_partitions(con, [("s.m", "all")])
    assert state.partition_builds(con, ["s.m"]) == {("s.m", "all"): ("success", 1)}
    assert state.recorded_models(con, built=True) == {"s.m"}
