"""The "why" page of one partition (`ui.pages.why`): its cause chain, from its sources and
upstream partitions to its checks, its last error and the SQL it runs, and what changed since
its last good build."""

from __future__ import annotations

import json

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages.why import why_page

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
select {{ start }} as d, {{ var('region') }} as region
"""


def test_the_why_page_gives_the_cause_chain_of_each_red_partition(estate):
    with serving(estate) as base:
        why = json.loads(get(f"{base}/api/models/s.daily/why/2024-01-03")[1])
        assert why["cell"]["state"] == "waiting" and why["built"] is None
        assert why["sources"] == [
            {"source": "raw.events", "status": "fresh", "detail": "last loaded 0s ago"}
        ]
        assert "DATE '2024-01-03'" in why["sql"]
        broken = json.loads(get(f"{base}/api/models/s.broken/why/all")[1])
        assert broken["error"].startswith("CatalogException") and "nowhere" in broken["error"]
        stale = json.loads(get(f"{base}/api/models/s.changing/why/all")[1])
        assert stale["changed"][0].startswith("its SQL or settings changed")
        checked = json.loads(get(f"{base}/api/models/s.checked/why/all")[1])
        assert checked["checks"][0]["sample"] == [{"x": None}]
        assert (
            "What changed since its last good build"
            in get(f"{base}/models/s.daily/why/2024-01-03")[1]
        )


def test_an_unknown_model_has_no_why_page(project):
    project.model("s.m", "select 1 as x")
    assert why_page(open_workspace(project.root), "s.nope", "all") is None


def test_an_unbuilt_partition_lists_the_upstream_partitions_of_its_window(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.model("s.up", DAILY)
    project.model(
        "s.down",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select d from s.up where d >= {{ start }} and d < {{ end }}
        """,
    )
    page = why_page(open_workspace(project.root), "s.down", "2024-01-02")
    assert (page["model"], page["partition"], page["cell"]["state"]) == (
        "s.down",
        "2024-01-02",
        "missing",
    )
    # only the upstream day that overlaps this one, not the other days
    assert [(u["model"], u["partition"], u["state"]) for u in page["upstream"]] == [
        ("s.up", "2024-01-02", "missing")
    ]
    assert (page["built"], page["changed"], page["error"], page["last_attempt"]) == (
        None,
        [],
        None,
        None,
    )
    assert page["sources"] == [] and page["checks"] == []
    assert "DATE '2024-01-02'" in page["sql"] and "DATE '2024-01-03'" in page["sql"]


def test_the_sql_shown_marks_a_var_that_is_not_set(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.model("s.up", DAILY)
    page = why_page(open_workspace(project.root), "s.up", "2024-01-03")
    assert "DATE '2024-01-03' as d" in page["sql"] and "<var region>" in page["sql"]
