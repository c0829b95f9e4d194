"""state.freshness on a real DuckDB file: each source's latest evaluation and its history."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import state
from orchestrator.engines import engine

AT = datetime(2024, 1, 10, 12, 0)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


def test_latest_freshness_is_the_newest_evaluation_of_each_source(con):
    older, newer = datetime(2024, 1, 9), datetime(2024, 1, 10)
    state.insert_freshness(
        con,
        [
            ("raw.a", older, 1, None, None, "stale", "old"),
            ("raw.a", newer, 2, None, None, "fresh", None),
            ("raw.b", older, 1, None, None, "missing", "no files"),
        ],
    )
    assert [(h.source, h.status) for h in state.latest_freshness(con)] == [
        ("raw.a", "fresh"),
        ("raw.b", "missing"),
    ]
    assert [e.status for e in state.freshness_history(con, "raw.a")] == ["fresh", "stale"]
