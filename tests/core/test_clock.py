"""ORCHESTRATOR_NOW pins every clock the tool writes or judges by (issue 10, item 22)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from orchestrator.core import clock
from orchestrator.core.errors import UsageError

NOW = datetime(2031, 3, 4, 6, 0)


def test_every_time_the_state_records_starts_at_the_pinned_time(project):
    project.write(
        "orchestrator.toml",
        """
        [owners.default]
        log = "alerts.jsonl"

        [sources."raw.events"]
        path = "data/events_{date}.csv"
        """,
    )
    project.write("data/events_2031-03-03.csv", "id,d\n1,2031-03-03\n")
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2031-03-03
        -- check: not_null(id)
        select id, d::date as d from raw.events where d >= {{ start }} and d < {{ end }}
        """,
    )
    project.model("s.broken", "select 1 as id from nowhere\n")
    assert project.cli("run", now=NOW).returncode == 1
    assert project.cli("check", now=NOW).returncode == 0
    times = {
        "runs.started": "select started from orchestrator.runs",
        "runs.finished": "select finished from orchestrator.runs",
        "task_runs.started": "select started from orchestrator.task_runs",
        "task_runs.finished": "select finished from orchestrator.task_runs",
        "partitions.built_at": "select built_at from orchestrator.partitions "
        "where built_at is not null",
        "partitions.last_attempt_at": "select last_attempt_at from orchestrator.partitions",
        "check_results.checked_at": "select checked_at from orchestrator.check_results",
        "freshness.checked_at": "select checked_at from orchestrator.freshness",
        "alerts.created_at": "select created_at from orchestrator.alerts",
        "incidents.opened_at": "select opened_at from orchestrator.incidents",
        "models.updated_at": "select updated_at from orchestrator.models",
    }
    for name, query in times.items():
        found = [t for (t,) in project.query(query)]
        assert found, name
        assert all(NOW <= t < NOW + timedelta(minutes=5) for t in found), (name, found)
    # durations stay true on a pinned clock: a task's finish is not before its start
    assert (
        project.scalar("select count(*) from orchestrator.task_runs where finished < started") == 0
    )

    # the readiness view judges "now" as of the pinned time when read through `sql`
    out = project.cli(
        "sql",
        "select model, expected_through from orchestrator.readiness where model = 's.daily'",
        "--format",
        "csv",
        now=NOW,
    )
    assert out.returncode == 0, out.stderr
    assert "s.daily,2031-03-04" in out.stdout


def test_a_pinned_clock_ticks_from_the_pinned_time(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2031-03-04T06:00")
    before = time.monotonic()
    first = clock.now()
    assert clock.pinned() == NOW
    # from the pinned time on, as long as this process has lived (a test worker may be old)
    assert NOW <= first < NOW + timedelta(days=1)
    time.sleep(0.05)
    second = clock.now()
    elapsed = time.monotonic() - before
    assert timedelta(seconds=0.05) <= second - first <= timedelta(seconds=elapsed)
    monkeypatch.setenv("ORCHESTRATOR_NOW", "yesterday")
    with pytest.raises(UsageError, match="ORCHESTRATOR_NOW"):
        clock.now()
    monkeypatch.delenv("ORCHESTRATOR_NOW")
    assert clock.pinned() is None and clock.now() > NOW - timedelta(days=3650)
