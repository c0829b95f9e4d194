"""app.gating on real files: a plan holds back what reads a source with no file yet, and a model
whose SQL changed since its builds carries its change's category into the plan."""

from __future__ import annotations

from datetime import datetime

from changes import STAGED, changes_project
from conftest import NOW

from orchestrator.app import gating, workspace
from orchestrator.app.workspace import Selection, open_workspace


def test_a_plan_holds_back_what_reads_a_source_with_no_file_yet(project):
    project.write(
        "orchestrator.toml",
        '[sources."raw.events"]\npath = "data/events_{date}.csv"\nread_by_partition = true\n',
    )
    project.write("data/events_2024-01-01.csv", "id,d\n1,2024-01-01\n")
    project.model(
        "s.ev",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select id, d::date as d from raw.events where d >= {{ start }} and d < {{ end }}",
    )
    ws = open_workspace(project.root)
    request = workspace.request_for(ws, Selection(), datetime(2024, 1, 3, 6))
    with workspace.reading(ws) as (con, snapshot, surveyed):
        the_plan, sources = gating.gated_plan(ws, con, snapshot, surveyed, request)
    assert [t.key for t in the_plan.units] == ["2024-01-01"]
    assert [(h.key, h.status) for h in the_plan.held] == [("2024-01-02", "waiting")]
    assert [s.source for s in sources] == ["raw.events"]


def test_a_changed_model_carries_its_category_and_an_unchanged_project_none(project):
    changes_project(project)
    project.api_run()
    ws = open_workspace(project.root)
    request = workspace.request_for(ws, Selection(), NOW)
    with workspace.reading(ws) as (con, snapshot, _):
        assert gating.with_changes(ws, con, snapshot, request).changes == {}
    project.model("staging.events", STAGED.replace("amount from", "amount, 1 as one from"))
    ws = open_workspace(project.root)
    request = workspace.request_for(ws, Selection(), NOW)
    with workspace.reading(ws) as (con, snapshot, _):
        found = gating.with_changes(ws, con, snapshot, request).changes
    assert {n: c.category for n, c in found.items()} == {"staging.events": "non-breaking"}
