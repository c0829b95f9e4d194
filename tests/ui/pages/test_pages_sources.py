"""The sources page (`ui.pages.sources`): every declared source, how it is declared, its
evaluations, who reads it, and what arrived in each of its latest periods, gaps included."""

from __future__ import annotations

import json

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages.sources import sources_page


def test_each_source_lists_its_readers_and_evaluations(estate):
    with serving(estate) as base:
        sources = json.loads(get(f"{base}/api/sources")[1])["sources"]
        [events] = sources
        assert events["name"] == "raw.events" and events["readers"] == ["s.daily"]
        assert events["evaluations"][0]["status"] == "fresh"
        assert "Read by:" in get(f"{base}/sources")[1]


def test_the_sources_page_lists_arrivals_per_window_with_the_gaps(estate):
    with serving(estate) as base:
        [source] = json.loads(get(f"{base}/api/sources")[1])["sources"]
        arrivals = [(a["period"], a["files"], a["missing"]) for a in source["arrivals"]]
        assert arrivals == [
            ("2024-01-04", 1, False),
            ("2024-01-03", 0, True),  # the late day
            ("2024-01-02", 1, False),
            ("2024-01-01", 1, False),
        ]
        assert source["arrivals"][0]["bytes"] > 0 and source["arrivals"][0]["arrived"]
        assert "not arrived" in get(f"{base}/sources")[1]


def test_before_any_run_a_source_is_listed_as_declared(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.files"]
        path = "data/f_{date}.csv"
        owner = "ann"

        [sources."raw.whole"]
        path = "data/whole.csv"
        """,
    )
    project.write("data/f_2024-01-02.csv", "id\n1\n")
    project.write("data/f_2024-01-04.csv", "id\n1\n2\n")
    project.write("data/whole.csv", "id\n1\n")
    project.model("s.m", "select id from raw.whole")
    page = sources_page(open_workspace(project.root))
    files, whole = page["sources"]
    assert (files["name"], files["owner"], files["grain"]) == ("raw.files", "ann", "day")
    assert (files["readers"], files["evaluations"]) == ([], [])
    assert [(a["period"], a["files"], a["bytes"], a["missing"]) for a in files["arrivals"]] == [
        ("2024-01-04", 1, 7, False),
        ("2024-01-03", 0, 0, True),
        ("2024-01-02", 1, 5, False),
    ]
    assert files["arrivals"][0]["arrived"].endswith("Z")
    # a source whose files are not named by period has no periods to list
    assert (whole["readers"], whole["grain"], whole["arrivals"]) == (["s.m"], None, [])
