"""app.workspace: a project loaded with its DAG (a model with a bad reference held back, a job
that selects nothing refused), and what a user asks turned into a planner Request."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.app import workspace
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import ProjectError, UsageError
from orchestrator.core.snapshot import EMPTY

AT = datetime(2024, 1, 10, 12)


@pytest.fixture
def chain(project):
    """s.a -> s.b, and s.c apart; vars region=eu and tier=1 in orchestrator.toml."""
    project.write("orchestrator.toml", '[vars]\nregion = "eu"\ntier = "1"\n')
    project.model("s.a", "select 1 as x")
    project.model("s.b", "select x from s.a")
    project.model("s.c", "select 2 as y")
    return project


def test_a_model_with_a_reference_to_no_model_is_held_back_as_broken(project):
    project.model("s.a", "select 1 as x")
    project.model("s.b", "-- depends_on: s.aa\nselect 2 as y")
    ws = open_workspace(project.root)
    assert ws.dag.models["s.a"].broken is None
    broken = ws.dag.models["s.b"].broken
    assert broken is not None and "depends_on: no model named 's.aa'" in str(broken)
    assert ws.warehouse == project.warehouse


def test_a_job_that_selects_nothing_is_a_project_error(chain):
    chain.write("orchestrator.toml", '[jobs.nightly]\ncron = "0 6 * * *"\nselect = "s.zz"\n')
    with pytest.raises(ProjectError, match="job 'nightly': select: no model matches 's.zz'"):
        open_workspace(chain.root)


def test_a_request_merges_the_projects_vars_with_the_selections(chain):
    ws = open_workspace(chain.root)
    request = workspace.request_for(
        ws, Selection(("s.b",), vars={"region": "us"}, full_refresh=True, batch_size=3), AT
    )
    assert request.selected == {"s.b"}
    assert request.vars == {"region": "us", "tier": "1"}
    assert (request.now, request.full_refresh, request.batch_size) == (AT, True, 3)


def test_a_request_knows_what_was_excluded(chain):
    ws = open_workspace(chain.root)
    request = workspace.request_for(ws, Selection((), ("s.a",)), AT)
    assert request.selected == {"s.b", "s.c"} and request.excluded == {"s.a"}


@pytest.mark.parametrize(
    ("models", "selection", "message"),
    [
        ((), Selection(), "no models: add SQL files under "),
        (("s.a",), Selection(("s.a",), ("s.a",)), "the selection matches no model"),
    ],
)
def test_a_request_for_nothing_is_a_usage_error(project, models, selection, message):
    for name in models:
        project.model(name, "select 1 as x")
    with pytest.raises(UsageError, match=message):
        workspace.request_for(open_workspace(project.root), selection, AT)


def test_now_is_the_pinned_time_itself_and_who_the_named_user(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-10T12:00")
    monkeypatch.setenv("ORCHESTRATOR_USER", "ada")
    assert workspace.now() == AT
    assert workspace.who() == "ada"


def test_before_the_first_run_the_state_is_empty_and_nothing_is_written(chain):
    ws = open_workspace(chain.root)
    assert workspace.read_snapshot(ws) is EMPTY
    with workspace.reading(ws) as (_con, snapshot, _survey):
        assert snapshot is EMPTY
    assert not chain.warehouse.exists()
