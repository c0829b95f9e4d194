"""app.queries on a real warehouse in tmp_path: status, runs and the DAG's order as the CLI
shows them, read-only SQL, and a model's compiled SQL."""

from __future__ import annotations

import json
import re

import pytest
import seeded_projects
from conftest import NOW

from orchestrator.app import building, queries
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.cli.report import format_dag, format_run_header
from orchestrator.core.errors import UsageError

seeded = seeded_projects.seeded_daily  # the fixture: a daily aggregate and a total


def run(project):
    ws = open_workspace(project.root)
    return building.run(ws, Selection(), command="run", at=NOW, threads=2)


def test_status_and_runs_as_the_cli_shows_them(seeded, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW.isoformat())
    ws = open_workspace(seeded.root)
    columns, rows = queries.status(ws)
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
    columns, rows = queries.status(ws)
    assert [(r.model, r.state) for r in rows] == [
        ("marts.daily", "up to date"),
        ("marts.total", "up to date"),
    ]
    # when the latest build was published, and by which run (issue 10, item 23)
    # (a pinned clock ticks on in this process: the minute may have moved, not the hour)
    shown = [r.shown()[5] for r in rows]
    assert all(re.fullmatch(rf"{NOW:%Y-%m-%d %H}:\d\d \(run 1\)", s) for s in shown), shown
    assert [(r.built, r.last_run) for r in rows] == [(9, 1), (1, 1)]
    columns, rows = queries.status(ws, partitions=True)
    assert columns[:3] == ["model", "partition", "last_attempt"]
    assert rows[0][:3] == ("marts.daily", "2024-01-01", "success")
    columns, rows = queries.list_runs(ws.warehouse, 5)
    assert columns[:3] == ["run_id", "command", "status"] and rows[0][:3] == (1, "run", "success")
    record, columns, rows = queries.show_run(ws.warehouse, 1)
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
        queries.show_run(ws.warehouse, 9)


def test_runs_before_the_warehouse_exists(project):
    assert queries.list_runs(project.warehouse, 5) == (["run_id"], [])


def test_dag_in_three_formats(seeded):
    ws = open_workspace(seeded.root)

    def dag(fmt):
        return format_dag(ws.dag, ws.project.sources, queries.dag_order(ws, ()), fmt)

    text = dag("text")
    assert text.splitlines()[-1] == "2 models, 1 external sources: raw.events"
    assert "    <- marts.daily" in text
    as_json = json.loads(dag("json"))
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
    assert '"marts.daily" -> "marts.total";' in dag("dot")


def test_dag_order_keeps_the_dependency_order_of_the_selection(seeded):
    ws = open_workspace(seeded.root)
    assert queries.dag_order(ws, ("marts.total", "marts.daily")) == ["marts.daily", "marts.total"]
    assert queries.dag_order(ws, ("marts.total",)) == ["marts.total"]


def test_query_is_read_only(seeded):
    run(seeded)
    assert queries.query(seeded.warehouse, "select count(*) as n from marts.daily") == (
        ["n"],
        [(9,)],
    )
    with pytest.raises(UsageError, match="read-only"):
        queries.query(seeded.warehouse, "create table x as select 1")
    with pytest.raises(UsageError, match="nothing to run: the query is empty"):
        queries.query(seeded.warehouse, "-- nothing")


def test_compile_renders_the_window_asked_or_the_latest(seeded, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW.isoformat())
    ws = open_workspace(seeded.root)
    asked = queries.compile_model(ws, "marts.daily", "duckdb", "2024-01-05", {})
    assert asked.startswith("-- marts.daily [2024-01-05] on duckdb\n")
    assert "'2024-01-05'" in asked and "'2024-01-06'" in asked and "{{" not in asked
    latest = queries.compile_model(ws, "marts.daily", "duckdb", None, {})
    assert latest.startswith("-- marts.daily [2024-01-09] on duckdb\n")
    whole = queries.compile_model(ws, "marts.total", "spark", None, {})
    assert whole.startswith("-- marts.total on spark\n") and "-- kind" not in whole


@pytest.mark.parametrize(
    ("name", "partition", "message"),
    [
        ("marts.dialy", None, "no model named 'marts.dialy' (did you mean: marts.daily"),
        ("marts.daily", "Jan 5", "--partition 'Jan 5' is not a day partition key"),
        ("marts.total", "2024-01-05", "--partition: marts.total is not partitioned (kind: table)"),
    ],
)
def test_compile_refuses_what_names_no_sql(seeded, name, partition, message):
    ws = open_workspace(seeded.root)
    with pytest.raises(UsageError, match=re.escape(message)):
        queries.compile_model(ws, name, "duckdb", partition, {})
