"""retry_request: what `retry` reruns, from a previous run's rows, with no database."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.errors import NothingToRetry
from orchestrator.core.tasks import Request
from orchestrator.plan.retry import PreviousRun, retry_request

MODELS = {"a": None, "b": None, "c": None}
REQUEST = Request(selected=frozenset(MODELS), now=datetime(2024, 1, 10), vars={"x": "cli"})


def test_failed_and_unfinished_tasks_are_retried_and_rebuilds_aside_whole():
    previous = PreviousRun(
        7,
        planned=[("a", "k1", "write"), ("a", "k2", "write"), ("b", "all", "swap"), ("c", "k", "w")],
        final={("a", "k1"): "success", ("a", "k2"): "failed", ("b", "all"): "failed"},
        held=[("c", "k9", "skipped"), ("c", "k8", "waiting")],
        vars={"x": "run", "y": "run"},
    )
    request = retry_request(MODELS, previous, REQUEST)
    assert request.selected == {"a", "b", "c"}
    assert request.retry == {"a": {"k2"}, "c": {"k", "k9"}}
    assert request.retry_whole == {"b"}
    assert dict(request.vars) == {"x": "cli", "y": "run"}


def test_a_run_that_succeeded_leaves_nothing_to_retry():
    previous = PreviousRun(3, [("a", "k", "write")], {("a", "k"): "success"}, [], {})
    with pytest.raises(NothingToRetry, match="run 3 left nothing to retry") as raised:
        retry_request(MODELS, previous, REQUEST)
    assert raised.value.exit_code == 0


def test_what_was_built_since_is_not_retried():
    previous = PreviousRun(
        2,
        planned=[("a", "k1", "write"), ("a", "k2", "write"), ("b", "d1", "shadow")],
        final={("a", "k1"): "failed", ("a", "k2"): "failed", ("b", "d1"): "failed"},
        held=[("b", "all", "skipped"), ("c", "k", "skipped")],
        vars={},
    )
    now = {("a", "k1"): ("success", 3), ("a", "k2"): ("failed", 1), ("b", "d1"): ("success", 4)}
    request = retry_request(MODELS, previous, REQUEST, now)
    assert request.retry == {"a": {"k2"}, "c": {"k"}}  # b rebuilt since: every partition good
    assert request.retry_whole == frozenset() and request.retry_of == 2
    # a task the run never got to (its process died) whose partition is a success from
    # before it (a backfill's old day) is still undone; one that failed is not
    dead = PreviousRun(2, [("a", "k1", "write"), ("a", "k2", "write")], {}, [], {})
    older = {("a", "k1"): ("success", 1), ("a", "k2"): ("success", 3)}
    assert retry_request(MODELS, dead, REQUEST, older).retry == {"a": {"k1"}}
    everything_good = {**now, ("a", "k2"): ("success", 5), ("c", "k"): ("success", 5)}
    with pytest.raises(NothingToRetry, match="succeeded or was built since"):
        retry_request(MODELS, previous, REQUEST, everything_good)


# -- the CLI: a healthy project has nothing to retry ----------------------------------------

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, sum(amount) as amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""


def test_retry_on_a_healthy_project_says_so_and_does_nothing(project):
    from conftest import DAILY_SOURCE

    project.seed(DAILY_SOURCE)
    path = project.model("marts.daily", DAILY)
    project.cli("run", check=True)
    path.write_text(path.read_text().replace("sum(amount)", "sum(amountx)"))
    assert project.cli("run").returncode == 1  # run 2: the rebuild aside fails
    dry = project.cli("retry", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("retry of run 2, without writing anything:")
    assert project.scalar("select max(run_id) from orchestrator.runs") == 2
    path.write_text(path.read_text().replace("sum(amountx)", "sum(amount)"))
    assert "nothing to do" in project.cli("run").stdout  # run 3: the old version is there
    retried = project.cli("retry")
    assert retried.returncode == 0, retried.stderr
    assert "nothing to retry" in retried.stdout + retried.stderr
    assert project.scalar("select max(run_id) from orchestrator.runs") == 3
    assert "--dry-run" in project.cli("retry", "--help").stdout


def test_retry_names_the_run_it_redoes(project):
    from conftest import DAILY_SOURCE

    project.seed(DAILY_SOURCE)
    path = project.model("marts.daily", DAILY)
    project.model("marts.total", "-- kind: table\nselect sum(amount) as a from marts.daily\n")
    project.cli("run", check=True)
    path.write_text(path.read_text().replace("sum(amount)", "sum(amountx)"))
    project.cli("run")
    path.write_text(path.read_text().replace("sum(amountx)", "sum(amount)"))
    project.seed("alter table raw.events add column extra int")  # no effect on the models
    retried = project.cli("retry", "--run", "2")
    assert "retry of run 2:" in retried.stdout + retried.stderr
