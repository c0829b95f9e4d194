"""The landing page (`ui.pages.overview`): every model's readiness as `status` gives it,
problems first, with the counts, open incidents, sources and the last runs."""

from __future__ import annotations

import json

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages.overview import overview as overview_data
from orchestrator.ui.pages.shared import STATES

NOW = "2024-01-05T06:00"


def test_the_overview_shows_the_states_of_status_problems_first(estate):
    with serving(estate) as base:
        status, overview = get(f"{base}/api/")
        assert status == 200
        shown = {m["model"]: m["readiness"] for m in json.loads(overview)["models"]}
        assert shown == {
            "s.after_broken": "blocked",
            "s.broken": "failed",
            "s.checked": "failed",
            "s.changing": "stale",
            "s.daily": "waiting",
            "s.good": "complete",
        }
        page = json.loads(overview)
        assert page["counts"]["failed"] == 2 and page["runs"][0]["run_id"] == 1
        assert {i["subject"] for i in page["incidents"]} == {"s.broken", "s.checked"}
        # problems first
        assert [m["model"] for m in page["models"]][:2] == ["s.broken", "s.checked"]

        status, html = get(f"{base}/")
        assert status == 200 and "Is today's data ready?" in html
        assert 'href="/models/s.broken"' in html and "s-failed" in html


def test_a_fresh_project_says_what_to_do_next(project):
    with serving(project) as base:
        status, html = get(f"{base}/")
        assert status == 200 and "No models yet" in html


def test_before_any_run_every_model_is_missing_and_nothing_else_is_listed(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW)
    project.model("s.b", "select 1 as x")
    project.model("s.a", "select 1 as x")
    page = overview_data(open_workspace(project.root))
    assert [(m["model"], m["readiness"], m["letter"]) for m in page["models"]] == [
        ("s.a", "missing", "M"),
        ("s.b", "missing", "M"),
    ]
    assert page["counts"] == {name: 2 if name == "missing" else 0 for name in STATES}
    assert (page["incidents"], page["sources"], page["runs"]) == ([], [], [])
    assert page["running"] is None and page["notes"] == []
    assert page["as_of"].startswith("2024-01-05T06:")  # the pinned clock, as it runs on


def test_the_overview_forgets_a_source_that_was_removed(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW)
    project.write("orchestrator.toml", '[sources."raw.events"]\npath = "data/events.csv"\n')
    project.write("data/events.csv", "id\n1\n")
    project.model("s.m", "select id from raw.events")
    project.model("s.other", "select 1 as x")
    assert project.cli("run", now=NOW).returncode == 0
    names = [s["source"] for s in overview_data(open_workspace(project.root))["sources"]]
    assert names == ["raw.events"]
    project.write("orchestrator.toml", "")
    (project.root / "models/s/m.sql").unlink()
    assert project.cli("prune", "--yes", now=NOW).returncode == 0
    assert overview_data(open_workspace(project.root))["sources"] == []
