"""The api compositions on a real warehouse in tmp_path: plan writes nothing, run records a run,
retry reruns only what failed, status/runs/dag/init/query/check/freshness read as the CLI shows."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from conftest import DAILY_SOURCE, NOW

from orchestrator import api
from orchestrator.errors import NothingToRetry, UsageError
from orchestrator.report import format_run_header
from orchestrator.workspace import Selection, open_workspace

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, sum(amount) as amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""

TOTAL = """
-- kind: table
select sum(amount) as amount from marts.daily
"""


@pytest.fixture
def seeded(project):
    project.seed(DAILY_SOURCE)
    project.model("marts.daily", DAILY)
    project.model("marts.total", TOTAL)
    return project


def run(project, *selectors, command="run", **kwargs):
    ws = open_workspace(project.root)
    return api.run(ws, Selection(tuple(selectors)), command=command, at=NOW, threads=2, **kwargs)


def test_plan_writes_nothing(seeded):
    before = seeded.files()
    the_plan = api.plan(open_workspace(seeded.root), Selection(), at=NOW)
    assert {t.model for t in the_plan.tasks} == {"marts.daily", "marts.total"}
    assert seeded.files() == before


def test_run_records_one_run_and_a_second_run_does_nothing(seeded):
    first = run(seeded)
    assert (first.status, first.exit_code) == ("success", 0)
    assert first.count("success") == len(first.outcomes) > 0
    second = run(seeded)
    assert second.outcomes == ()
    rows = seeded.query("select run_id, command, status, tasks from orchestrator.runs order by 1")
    assert rows == [(1, "run", "success", len(first.outcomes)), (2, "run", "success", 0)]
    assert seeded.scalar("select count(*) from orchestrator.models") == 2


def test_retry_reruns_only_what_failed(seeded):
    seeded.model("marts.total", "-- kind: table\nselect no_such_column from marts.daily")
    failed = run(seeded)
    assert failed.status == "failed"
    seeded.model("marts.total", TOTAL)
    retried = run(seeded, command="retry", retry_of=failed.run_id)
    assert {o.task.model for o in retried.outcomes} == {"marts.total"}
    assert retried.status == "success"
    with pytest.raises(NothingToRetry):
        run(seeded, command="retry", retry_of=retried.run_id)


def test_retry_before_any_run_is_a_usage_error(seeded):
    with pytest.raises(UsageError, match="no run to retry yet"):
        run(seeded, command="retry", retry_of=0)


def test_status_and_runs_as_the_cli_shows_them(seeded, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW.isoformat())
    ws = open_workspace(seeded.root)
    columns, rows = api.status(ws)
    assert columns == [
        "model",
        "kind",
        "owner",
        "partitioned",
        "built",
        "rows",
        "last_built",
        "last_run",
        "state",
        "remedy",
    ]
    assert [r.state for r in rows] == [
        "9 missing (2024-01-01, 2024-01-02, 2024-01-03 ...)",
        "1 missing",
    ]
    run(seeded)
    columns, rows = api.status(ws)
    assert [(r.model, r.state) for r in rows] == [
        ("marts.daily", "up to date"),
        ("marts.total", "up to date"),
    ]
    # when the latest build was published, and by which run (issue 10, item 23)
    # (a pinned clock ticks on in this process: the minute may have moved, not the hour)
    shown = [r.shown()[5] for r in rows]
    assert all(re.fullmatch(rf"{NOW:%Y-%m-%d %H}:\d\d \(run 1\)", s) for s in shown), shown
    assert [(r.built, r.last_run) for r in rows] == [(9, 1), (1, 1)]
    columns, rows = api.status(ws, partitions=True)
    assert columns[:3] == ["model", "partition", "last_attempt"]
    assert rows[0][:3] == ("marts.daily", "2024-01-01", "success")
    columns, rows = api.list_runs(ws.warehouse, 5)
    assert columns[:3] == ["run_id", "command", "status"] and rows[0][:3] == (1, "run", "success")
    record, columns, rows = api.show_run(ws.warehouse, 1)
    assert format_run_header(record).startswith("run 1: success  `orchestrator run`")
    assert columns == [
        "model",
        "partition",
        "attempt",
        "status",
        "reason",
        "rows",
        "seconds",
        "error",
    ]
    with pytest.raises(UsageError, match="no run with id 9"):
        api.show_run(ws.warehouse, 9)


def test_runs_before_the_warehouse_exists(project):
    assert api.list_runs(project.warehouse, 5) == (["run_id"], [])


def test_dag_in_three_formats(seeded):
    ws = open_workspace(seeded.root)
    text = api.describe_dag(ws, (), "text")
    assert text.splitlines()[-1] == "2 models, 1 external sources: raw.events"
    assert "    <- marts.daily" in text
    as_json = json.loads(api.describe_dag(ws, (), "json"))
    assert [m["name"] for m in as_json["models"]] == ["marts.daily", "marts.total"]
    assert as_json["sources"] == [
        {
            "name": "raw.events",
            "declared": False,
            "path": None,
            "description": None,
            "column_descriptions": {},
        }
    ]
    assert '"marts.daily" -> "marts.total";' in api.describe_dag(ws, (), "dot")


def test_init_creates_a_project_and_its_state_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-10T12:00")
    root = tmp_path / "new"
    created = api.init_project(root)
    names = {p.relative_to(root).as_posix() for p in created}
    assert names == {
        "orchestrator.toml",
        ".gitignore",
        "models",
        "checks",
        "models/staging/stg_orders.sql",
        "data/orders/orders_2024-01-07.csv",
        "data/orders/orders_2024-01-08.csv",
        "data/orders/orders_2024-01-09.csv",
        "warehouse.duckdb",
    }
    assert api.init_project(root) == []


def test_query_is_read_only(seeded):
    run(seeded)
    assert api.query(seeded.warehouse, "select count(*) as n from marts.daily") == (["n"], [(9,)])
    with pytest.raises(UsageError, match="read-only"):
        api.query(seeded.warehouse, "create table x as select 1")


def test_check_and_freshness_record_runs(seeded):
    seeded.write("orchestrator.toml", '[sources."raw.events"]\n')
    run(seeded)
    ws = open_workspace(seeded.root)
    report = api.check_published(ws)
    assert report.exit_code == 0
    run_id, statuses = api.source_freshness(ws, at=datetime(2024, 1, 10, 12))
    assert [s.source for s in statuses] == ["raw.events"]
    assert seeded.query(
        "select run_id, command, who is not null, host is not null, pid is not null, status "
        "from orchestrator.runs where command in ('check', 'freshness') order by 1"
    ) == [
        (report.run_id, "check", True, True, True, "success"),
        (run_id, "freshness", True, True, True, "success"),
    ]
    with pytest.raises(UsageError, match="no declared source named 'raw.evnts'"):
        api.source_freshness(ws, ["raw.evnts"])
