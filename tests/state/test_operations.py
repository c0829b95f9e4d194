"""state.operations: schedule ticks and incidents on a real DuckDB file."""

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
