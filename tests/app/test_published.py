"""app.published on a real warehouse in tmp_path: `check` judges what is published and records
it as a run, and the checks that never judged a built model are found."""

from __future__ import annotations

from contextlib import closing

import pytest
from conftest import DAILY_SOURCE

from orchestrator.app import published
from orchestrator.app.workspace import open_workspace
from orchestrator.engines import engine

NULLS = "select * from (values (1), (null)) t(x)"


@pytest.fixture
def built(project):
    """s.m, built with no check, two rows of which one is null."""
    project.model("s.m", NULLS)
    project.api_run()
    return project


def test_check_records_a_run_of_command_check(project):
    project.seed(DAILY_SOURCE)
    project.model(
        "s.total", "-- check: not_null(amount)\nselect sum(amount) as amount from raw.events"
    )
    project.api_run()
    report = published.check_published(open_workspace(project.root))
    assert report.exit_code == 0
    assert [(m, r.status) for m, r in report.results] == [("s.total", "pass")]
    assert project.query(
        "select run_id, command, who is not null, host is not null, pid is not null, status "
        "from orchestrator.runs where command = 'check'"
    ) == [(report.run_id, "check", True, True, True, "success")]


def test_a_check_added_after_the_build_is_unjudged_until_checked(built):
    built.model("s.m", f"-- check: not_null(x)\n{NULLS}")
    ws = open_workspace(built.root)
    with closing(engine.connect(ws.warehouse, read_only=True)) as con:
        unjudged = published.unjudged_checks(ws, con)
    assert {m: [c.name for c in cs] for m, cs in unjudged.items()} == {"s.m": ["not_null(x)"]}
    published.check_published(ws)
    with closing(engine.connect(ws.warehouse, read_only=True)) as con:
        assert published.unjudged_checks(ws, con) == {}


def test_a_blocking_failure_on_published_data_exits_1_and_is_recorded(built):
    built.model("s.m", f"-- check: not_null(x)\n{NULLS}")
    report = published.check_published(open_workspace(built.root))
    assert report.exit_code == 1
    [(model, result)] = report.results
    assert (model, result.status, result.failing) == ("s.m", "fail", 1)
    assert built.query(
        "select model, check_name, status, failing_rows from orchestrator.check_results"
    ) == [("s.m", "not_null(x)", "fail", 1)]
    assert built.scalar("select status from orchestrator.runs where command = 'check'") == "failed"


def test_a_warning_failure_exits_0(built):
    built.model("s.m", f"-- check warn: not_null(x)\n{NULLS}")
    report = published.check_published(open_workspace(built.root))
    assert [r.status for _, r in report.results] == ["warn"]
    assert report.exit_code == 0


def test_a_model_never_built_has_nothing_to_check(project):
    project.model("s.built", "select 1 as x")
    project.api_run()
    project.model("s.new", "-- check: not_null(x)\nselect 1 as x")
    report = published.check_published(open_workspace(project.root), ["s.new"])
    assert report.results == () and report.exit_code == 0
