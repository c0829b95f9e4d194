"""Pages remembered per state of the world (`ui.pages.memo`): computed once while the
warehouse, the source files, the project, the write lock and the minute stay as they were, and
computed again when one of them changes; the notes of its reads come back with a page."""

from __future__ import annotations

import pytest

from orchestrator.app.workspace import open_workspace
from orchestrator.engines.lock import WriteLock
from orchestrator.ui.pages import memo
from orchestrator.ui.pages.shared import reading


@pytest.fixture
def world(project, monkeypatch):
    """A project reading a source of daily files, and a counter of computations."""
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.write("orchestrator.toml", '[sources."raw.events"]\npath = "data/e_{date}.csv"\n')
    project.write("data/e_2024-01-01.csv", "id\n1\n")
    project.model("s.m", "select id from raw.events")
    computed: list[str] = []

    def page(ws, key="page"):
        return memo.remember(ws, (key,), lambda: computed.append(key) or len(computed))

    return project, open_workspace(project.root), page, computed


def test_a_page_is_computed_once_for_one_state_of_the_world(world):
    _, ws, page, computed = world
    assert [page(ws), page(ws), page(ws, "other"), page(ws, "other")] == [1, 1, 2, 2]
    assert computed == ["page", "other"]


def test_a_source_file_changing_or_arriving_computes_the_page_again(world):
    project, ws, page, computed = world
    assert page(ws) == page(ws) == 1
    project.write("data/e_2024-01-01.csv", "id\n1\n2\n")
    assert page(ws) == page(ws) == 2
    project.write("data/e_2024-01-02.csv", "id\n3\n")
    assert page(ws) == 3 and len(computed) == 3


def test_the_warehouse_changing_computes_the_page_again(world):
    project, ws, page, _ = world
    assert page(ws) == 1
    project.seed("create table t as select 1 as x")  # the warehouse appears
    assert page(ws) == page(ws) == 2
    project.seed("insert into t select range from range(100000)")
    assert page(ws) == 3


def test_a_project_loaded_again_forgets_what_the_old_one_remembered(world):
    project, ws, page, _ = world
    assert (page(ws), page(ws, "other")) == (1, 2)
    again = open_workspace(project.root)
    assert (page(again), page(again)) == (3, 3)
    assert page(ws) == 4  # the old project's pages are gone with it


def test_the_next_minute_or_a_run_taking_the_lock_computes_the_page_again(world, monkeypatch):
    project, ws, page, _ = world
    assert page(ws) == 1
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:01")
    assert page(ws) == page(ws) == 2
    lock = WriteLock(project.warehouse).acquire("run", "ann")
    try:
        assert page(ws) == page(ws) == 3
    finally:
        lock.release()
    assert page(ws) == 4


def test_the_notes_of_a_remembered_page_come_back_with_it(world):
    _, ws, _, _ = world

    def compute():
        with_notes.notes.append("note: a run holds the warehouse")
        return "page"

    with reading() as with_notes:
        assert memo.remember(ws, ("noted",), compute) == "page"
    with reading() as later:
        assert memo.remember(ws, ("noted",), lambda: "computed again") == "page"
    assert later.notes == ["note: a run holds the warehouse"]


def test_a_page_reads_the_world_it_is_computed_for(world):
    """What a page asks while it is computed (the project status, the sources' files) belongs
    to the state it started in, even if a file arrives meanwhile."""
    project, ws, page, _ = world
    source = ws.project.sources["raw.events"]
    seen = {}

    def compute():
        project.write("data/e_2024-01-02.csv", "id\n2\n")  # arrives while the page is made
        seen["files"] = len(memo.sources_survey(ws).files(source))
        seen["inner"] = page(ws, "inner")  # asked inside: the same world, kept
        return "outer"

    assert memo.remember(ws, ("outer",), compute) == "outer"
    assert seen == {"files": 1, "inner": 1}
    assert len(memo.sources_survey(ws).files(source)) == 1  # the world remembered
    assert page(ws, "inner") == 2  # outside: the new file is a new world
    assert len(memo.sources_survey(ws).files(source)) == 2


def test_the_project_status_is_remembered_and_warmed_ahead(world):
    _, ws, _, _ = world
    memo.warm(ws)
    status = memo.project_status(ws)
    assert memo.project_status(ws) is status
    assert status.models["s.m"].model == "s.m"


def test_what_is_made_from_a_page_is_made_once_per_key_and_the_latest_kept():
    page = memo.Remembered({"a": 1})
    made: list[int] = []
    assert page.made(("json",), lambda: made.append(0) or "json") == "json"
    assert page.made(("json",), lambda: "again") == "json" and made == [0]
    for n in range(20):
        page.made(("html", n), lambda n=n: n)
    assert page.made(("html", 19), lambda: "again") == 19
    assert page.made(("json",), lambda: "made again") == "made again"  # the oldest went
