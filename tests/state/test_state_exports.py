"""state.exports on a real DuckDB file: the rows an export leaves, the builds exported, the
latest row of each partition."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import state
from orchestrator.engines import engine


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


def row(key, built, run, status, at, export="fin"):
    error = "disk full" if status == "failed" else None
    rows = None if status == "failed" else 10
    return state.ExportRow(
        export, "m.d", key, f"out/{key}.csv", built, run, status, rows, error, at
    )


def test_the_build_exported_is_that_of_the_latest_success(con):
    state.record_exports(
        con,
        [
            row("2024-01-01", 1, 1, "success", datetime(2024, 1, 1)),
            row("2024-01-01", 3, 3, "failed", datetime(2024, 1, 3)),
            row("2024-01-02", 1, 1, "success", datetime(2024, 1, 1)),
            row("2024-01-02", 2, 2, "success", datetime(2024, 1, 2)),
            row("2024-01-02", 9, 9, "success", datetime(2024, 1, 9), export="other"),
        ],
    )
    assert state.exported_builds(con, "fin") == {"2024-01-01": 1, "2024-01-02": 2}
    latest = state.latest_exports(con, ["fin"])
    assert [(r.partition_key, r.status, r.error) for r in latest] == [
        ("2024-01-01", "failed", "disk full"),
        ("2024-01-02", "success", None),
    ]
    assert len(state.latest_exports(con)) == 3
    assert [r.partition_key for r in state.run_exports(con, 1)] == ["2024-01-01", "2024-01-02"]


def test_an_older_state_gains_the_exports_table(tmp_path):
    con = engine.connect(tmp_path / "old.duckdb")
    state.ensure(con)
    con.execute("DROP TABLE orchestrator.exports")
    con.execute("UPDATE orchestrator.meta SET value = '9' WHERE key = 'schema_version'")
    assert state.ensure(con) == [9]
    assert state.exported_builds(con, "fin") == {}
    assert state.schema_version(con) == state.SCHEMA_VERSION == 10
    con.close()
