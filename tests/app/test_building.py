"""app.building on a real warehouse in tmp_path: `plan` writes nothing, `run` records a run,
`retry` reruns only what failed, and a run's result says its status and exit code."""

from __future__ import annotations

import pytest
import seeded_projects
from conftest import NOW
from seeded_projects import TOTAL

from orchestrator.app import building
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import NothingToRetry, UsageError
from orchestrator.core.tasks import Plan, Request
from orchestrator.execution import Outcome

seeded = seeded_projects.seeded_daily  # the fixture: a daily aggregate and a total


def run(project, *selectors, command="run", **kwargs):
    ws = open_workspace(project.root)
    return building.run(
        ws, Selection(tuple(selectors)), command=command, at=NOW, threads=2, **kwargs
    )


def test_plan_writes_nothing(seeded):
    before = seeded.files()
    the_plan = building.plan(open_workspace(seeded.root), Selection(), at=NOW)
    assert {t.model for t in the_plan.tasks} == {"marts.daily", "marts.total"}
    assert seeded.files() == before


def test_run_records_one_run_and_a_second_run_does_nothing(seeded):
    first = run(seeded)
    assert (first.status, first.exit_code) == ("success", 0)
    assert first.count("success") == len(first.outcomes) > 0
    second = run(seeded)
    assert second.outcomes == ()
    rows = seeded.query("select run_id, command, status, tasks from orchestrator.runs order by 1")
    assert rows == [(1, "run", "success", len(first.outcomes)), (2, "run", "success", 0)]
    assert seeded.scalar("select count(*) from orchestrator.models") == 2


def test_retry_reruns_only_what_failed(seeded):
    seeded.model("marts.total", "-- kind: table\nselect no_such_column from marts.daily")
    failed = run(seeded)
    assert failed.status == "failed"
    seeded.model("marts.total", TOTAL)
    retried = run(seeded, command="retry", retry_of=failed.run_id)
    assert {o.task.model for o in retried.outcomes} == {"marts.total"}
    assert retried.status == "success"
    with pytest.raises(NothingToRetry):
        run(seeded, command="retry", retry_of=retried.run_id)


def test_retry_before_any_run_is_a_usage_error(seeded):
    with pytest.raises(UsageError, match="no run to retry yet"):
        run(seeded, command="retry", retry_of=0)


def test_a_retry_of_an_unknown_run_names_the_run(seeded):
    run(seeded)
    with pytest.raises(UsageError, match=r"no run with id 7 \(see: orchestrator runs\)"):
        run(seeded, command="retry", retry_of=7)


def test_a_retry_plan_shows_what_failed_and_writes_nothing(seeded):
    seeded.model("marts.total", "-- kind: table\nselect no_such_column from marts.daily")
    failed = run(seeded)
    seeded.model("marts.total", TOTAL)
    before = seeded.files()
    the_plan = building.plan(open_workspace(seeded.root), Selection(), at=NOW, retry_of=0)
    assert the_plan.request.retry_of == failed.run_id
    assert [t.model for t in the_plan.tasks] == ["marts.total"]
    assert seeded.files() == before


def result(*statuses: str, cancelled: bool = False) -> building.RunResult:
    plan = Plan((), (), (), Request(selected=frozenset(), now=NOW))
    outcomes = tuple(Outcome("s.m", str(i), s, "missing") for i, s in enumerate(statuses))
    return building.RunResult(1, plan, outcomes, 0.5, cancelled=cancelled)


@pytest.mark.parametrize(
    ("statuses", "cancelled", "status", "code"),
    [
        (("success", "waiting"), False, "success", 0),  # waiting alone is no failure
        (("success", "failed"), False, "failed", 1),
        (("check_failed",), False, "failed", 1),
        (("blocked",), False, "failed", 1),
        (("success", "failed"), True, "cancelled", 130),
    ],
)
def test_a_run_result_says_its_status_and_exit_code(statuses, cancelled, status, code):
    done = result(*statuses, cancelled=cancelled)
    assert (done.status, done.exit_code) == (status, code)


def test_a_run_result_counts_what_the_runs_table_records():
    done = result("success", "failed", "timed_out", "skipped", "cancelled", "waiting", "blocked")
    assert done.counts == {
        "tasks": 7,
        "succeeded": 1,
        "failed": 2,
        "skipped": 2,
        "waiting": 1,
        "blocked": 1,
    }
