"""One model's page (`ui.pages.model`): its partition grid with the states of `status`, its
checks with their failing rows and history, long histories as ranges, its columns and the
commands that fix what is red."""

from __future__ import annotations

import json

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages import model as model_pages
from orchestrator.ui.pages.model import GRID_CELLS, columns, model_page

NOW = "2024-01-05T06:00"


def test_the_model_page_draws_the_grid_and_the_checks_with_their_failing_rows(estate):
    with serving(estate) as base:
        status, model = get(f"{base}/api/models/s.daily")
        cells = {c["partition"]: c["state"] for c in json.loads(model)["partitions"]}
        assert cells == {
            "2024-01-01": "complete",
            "2024-01-02": "complete",
            "2024-01-03": "waiting",
            "2024-01-04": "complete",
        }
        status, html = get(f"{base}/models/s.daily")
        assert status == 200 and 'data-state="waiting"' in html and ">W</span>" in html
        assert 'href="/models/s.daily/why/2024-01-03"' in html

        checked = json.loads(get(f"{base}/api/models/s.checked")[1])
        [result] = checked["checks"]
        assert result["status"] == "fail" and result["sample"] == [{"x": None}]
        assert result["failing_partitions"] == ["all"] and result["check"] == "not_null(x)"
        assert checked["commands"] == [
            "fix the rows check not_null(x) names (in what s.checked reads, or its SQL), "
            "then: orchestrator run +s.checked"
        ]
        assert "sample of failing rows" in get(f"{base}/models/s.checked")[1]


def test_a_checks_history_outlives_the_build_that_fixed_it(estate):
    """The model page keeps each check's result run by run: fixing the data makes the latest
    result pass, and the failure before it is still there, linked to its run."""
    estate.model("s.checked", "-- check: not_null(x)\nselect 1::int as x")
    assert estate.cli("run", "s.checked", now=NOW).returncode == 0
    with serving(estate) as base:
        [check] = json.loads(get(f"{base}/api/models/s.checked")[1])["checks"]
        assert check["status"] == "pass" and check["run_id"] == 2
        assert [(h["run_id"], h["status"], h["failing_rows"]) for h in check["history"]] == [
            (1, "fail", 1),
            (2, "pass", 0),
        ]
        html = get(f"{base}/models/s.checked")[1]
        assert 'class="tick t-fail" href="/runs/1"' in html
        assert 'class="tick t-pass" href="/runs/2"' in html


HOURLY = """
-- kind: incremental
-- partition_by: ts
-- grain: hour
-- start: 2024-01-01
-- end: 2024-03-03T12
-- batch_size: 500
select h as ts, 1 as n
from generate_series({{ start }}, {{ end }} - interval 1 hour, interval 1 hour) t(h)
"""


def test_a_long_history_comes_as_the_latest_cells_and_ranges(project, monkeypatch):
    """1,500 hourly partitions: the model page draws the latest GRID_CELLS cells and the whole
    history as ranges."""
    project.model("s.hourly", HOURLY)
    assert project.cli("run", now="2024-03-10T00:00").returncode == 0
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-03-10T00:00")
    with serving(project) as base:
        page = json.loads(get(f"{base}/api/models/s.hourly")[1])
        assert page["partitions_total"] == 1500 and len(page["partitions"]) == GRID_CELLS
        assert page["partitions"][-1]["partition"] == "2024-03-03T11"
        assert page["partition_ranges"] == [
            {
                "from": "2024-01-01T00",
                "to": "2024-03-03T11",
                "state": "complete",
                "count": 1500,
                "letter": "C",
            }
        ]
        assert "All 1,500 partitions" in get(f"{base}/models/s.hourly")[1]


def test_past_grid_cells_the_latest_are_cells_and_all_are_ranges(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-01T03:00")
    project.model("s.hourly", HOURLY)
    ws = open_workspace(project.root)
    page = model_page(ws, "s.hourly")  # three hours, none built yet
    assert [c["partition"] for c in page["partitions"]] == [f"2024-01-01T0{h}" for h in range(3)]
    assert {c["state"] for c in page["partitions"]} == {"missing"}
    assert page["partitions_total"] == 3 and page["partition_ranges"] is None
    assert page["model"]["grain"] == "hour" and page["model"]["path"] == "models/s/hourly.sql"
    monkeypatch.setattr(model_pages, "GRID_CELLS", 2)
    page = model_page(ws, "s.hourly")
    assert [c["partition"] for c in page["partitions"]] == ["2024-01-01T01", "2024-01-01T02"]
    assert [(r["from"], r["to"], r["count"]) for r in page["partition_ranges"]] == [
        ("2024-01-01T00", "2024-01-01T02", 3)
    ]


def test_an_unknown_model_has_no_page(project):
    project.model("s.m", "select 1 as x")
    assert model_page(open_workspace(project.root), "s.nope") is None


def test_a_broken_model_says_where_to_fix_it(project):
    project.model("s.m", "select 1 as x")
    project.model("s.bad", "select from from where")
    page = model_page(open_workspace(project.root), "s.bad")
    assert page["model"]["broken"] and page["model"]["broken"].startswith("models/s/bad.sql")
    [command] = page["commands"]
    assert command.startswith("fix models/s/bad.sql")
    assert command.endswith("then: orchestrator run s.bad+")


def test_columns_as_built_come_with_their_descriptions_then_those_not_built_yet():
    built = [("ID", "BIGINT"), ("amount", "DOUBLE")]
    described = {"id": "the key", "note": "added next release"}
    assert columns(built, described) == [
        {"name": "ID", "type": "BIGINT", "description": "the key"},
        {"name": "amount", "type": "DOUBLE", "description": None},
        {"name": "note", "type": None, "description": "added next release"},
    ]


def test_each_column_says_what_it_is_computed_from_and_what_it_feeds(project):
    project.seed("create schema raw; create table raw.t (id int, amount double, note text)")
    project.model("s.a", "select id, amount * 2 as doubled from raw.t")
    project.model(
        "s.b", "-- description: totals\nselect sum(doubled) as total, count(*) as n from s.a"
    )
    project.cli("run", "s.a", check=True)
    project.model("s.a", "select id, amount * 2 as doubled, note from raw.t")  # note: not built
    with serving(project) as base:
        page = json.loads(get(f"{base}/api/models/s.a")[1])
        by_name = {c["name"]: c for c in page["model"]["columns"]}
        assert list(by_name) == ["id", "doubled", "note"]
        assert by_name["note"]["type"] is None and by_name["note"]["fed_by"] == [
            {"relation": "raw.t", "column": "note", "kind": "relation"}
        ]
        assert by_name["doubled"]["fed_by"] == [
            {"relation": "raw.t", "column": "amount", "kind": "relation"}
        ]
        assert by_name["doubled"]["feeds"] == [
            {"relation": "s.b", "column": "total", "kind": "model"}
        ]
        assert by_name["id"]["feeds"] == []
        html = get(f"{base}/models/s.a")[1]
        assert '<tr id="column-s.a.doubled">' in html
        assert 'href="/models/s.b#column-s.b.total"' in html
        b = json.loads(get(f"{base}/api/models/s.b")[1])["model"]["columns"]
        assert [(c["name"], [f["column"] for f in c["fed_by"]]) for c in b] == [
            ("total", ["doubled"]),
            ("n", []),
        ]
        assert "no column: rows counted, or a constant" in get(f"{base}/models/s.b")[1]


def test_what_cannot_be_traced_is_said_under_the_columns(project):
    project.seed("create schema raw; create table raw.t (id int); create table raw.u (id int)")
    project.model("s.a", "select id from raw.t join raw.u using (id) where q > 0")
    page = model_page(open_workspace(project.root), "s.a")
    assert page["model"]["lineage_problems"] == [
        "column 'q' could come from raw.t or raw.u: qualify it"
    ]


def test_a_built_column_the_sql_no_longer_makes_still_shows_who_reads_it(project):
    project.seed("create schema raw; create table raw.t (id int, old int)")
    project.model("s.a", "select id, old from raw.t")
    project.model("s.b", "select old from s.a")
    project.cli("run", check=True)
    project.model("s.a", "select id from raw.t")
    page = model_page(open_workspace(project.root), "s.a")
    old = next(c for c in page["model"]["columns"] if c["name"] == "old")
    assert old["fed_by"] is None
    assert old["feeds"] == [{"relation": "s.b", "column": "old", "kind": "model"}]
