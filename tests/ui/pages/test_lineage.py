"""The lineage page (`ui.pages.lineage`): the models around what was asked (a model and its
neighbours, a selector, a name search) coloured by readiness, with the sources they read,
bounded to LINEAGE_LIMIT nodes."""

from __future__ import annotations

import json

import pytest
from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import UsageError
from orchestrator.ui.pages import lineage
from orchestrator.ui.pages.lineage import lineage_page


@pytest.fixture
def chain(project):
    """s.a -> s.b -> s.c -> s.d, and s.other on its own; s.a reads raw.events."""
    project.write("orchestrator.toml", '[sources."raw.events"]\npath = "data/events.csv"\n')
    project.model("s.a", "select * from raw.events")
    project.model("s.b", "select * from s.a")
    project.model("s.c", "select * from s.b")
    project.model("s.d", "select * from s.c")
    project.model("s.other", "select 1 as x")
    return open_workspace(project.root)


def ids(page: dict) -> set[str]:
    return {n["id"] for n in page["nodes"]}


def test_the_lineage_colours_each_model_by_its_state_with_the_sources(estate):
    with serving(estate) as base:
        lineage = json.loads(get(f"{base}/api/lineage")[1])
        assert {n["id"]: n["state"] for n in lineage["nodes"]} == {
            "s.after_broken": "blocked",
            "s.broken": "failed",
            "s.checked": "failed",
            "s.changing": "stale",
            "s.daily": "waiting",
            "s.good": "complete",
            "raw.events": "source",
            "main.nowhere": "source",
        }
        assert ["raw.events", "s.daily"] in lineage["edges"]
        near = json.loads(get(f"{base}/api/lineage?focus=s.daily&hops=1")[1])
        assert {n["id"] for n in near["nodes"]} == {"s.daily", "raw.events"}
        assert get(f"{base}/api/lineage?focus=s.nope")[0] == 400
        assert get(f"{base}/api/lineage?hops=many")[0] == 400


def test_a_focus_shows_the_models_up_to_hops_away(chain):
    page = lineage_page(chain, "s.b", 1)
    assert ids(page) == {"s.a", "s.b", "s.c", "raw.events"}
    assert [n["id"] for n in page["nodes"] if n.get("focus")] == ["s.b"]
    assert page["edges"] == [["raw.events", "s.a"], ["s.a", "s.b"], ["s.b", "s.c"]]
    assert ids(lineage_page(chain, "s.b", 0)) == {"s.b"}
    assert ids(lineage_page(chain, "s.b", 5)) == {"s.a", "s.b", "s.c", "s.d", "raw.events"}


def test_an_unknown_focus_is_refused(chain):
    with pytest.raises(UsageError, match="no model named 's.nope'"):
        lineage_page(chain, "s.nope")


def test_a_selector_or_a_name_search_picks_the_models(chain):
    assert ids(lineage_page(chain, select="s.c+")) == {"s.c", "s.d"}
    assert ids(lineage_page(chain, query="OTH")) == {"s.other"}
    assert ids(lineage_page(chain, query="nothing")) == set()
    everything = lineage_page(chain)
    assert everything["models"] == 5 and not everything["truncated"]
    assert {n["id"]: n["state"] for n in everything["nodes"]} == {
        "s.a": "waiting",  # its source has no file yet
        "s.b": "waiting",  # and what reads it waits with it
        "s.c": "waiting",
        "s.d": "waiting",
        "s.other": "missing",
        "raw.events": "source",
    }


def test_past_the_limit_the_view_is_truncated_keeping_what_was_asked(chain, monkeypatch):
    monkeypatch.setattr(lineage, "LINEAGE_LIMIT", 2)
    page = lineage_page(chain, "s.d", 3)
    assert page["truncated"] and page["limit"] == 2
    assert ids(page) == {"s.d", "s.a", "raw.events"}  # the focus first, then by name
