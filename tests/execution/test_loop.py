"""The loop of a run (`execution.loop.execute`) on Plans built by hand: tasks run in dependency
order on worker threads, the readers of what did not succeed are skipped (partition by
partition), the independent rest goes on, and a cancel stops what has not started."""

from __future__ import annotations

import threading

import pytest
from conftest import DAILY_SOURCE
from hand_plans import FACT, Recorder, attempts, run_plan, tables, task


def test_tasks_run_in_dependency_order_not_in_id_order(project):
    project.model("s.a", "select 1 as x")
    project.model("s.b", "select x + 1 as x from s.a")
    project.model("s.c", "select x + 1 as x from s.b")
    recorder = Recorder()
    # the lowest id reads the others: only the dependencies can put it last
    outcomes = run_plan(
        project, [task(1, "s.c", 2), task(2, "s.b", 3), task(3, "s.a")], reporter=recorder
    )
    assert [m for m, _, _ in recorder.finished] == ["s.a", "s.b", "s.c"]
    assert {o.status for o in outcomes.values()} == {"success"}
    assert project.scalar("select x from s.c") == 3


def test_a_failed_task_skips_its_readers_and_the_independent_rest_goes_on(project):
    project.model("s.bad", "select error('boom') as x")
    project.model("s.reader", "select x from s.bad")
    project.model("s.further", "select x from s.reader")
    project.model("s.other", "select 7 as y")
    outcomes = run_plan(
        project,
        [task(1, "s.bad"), task(2, "s.reader", 1), task(3, "s.further", 2), task(4, "s.other")],
    )
    status = {m: o.status for (m, _), o in outcomes.items()}
    assert status == {
        "s.bad": "failed",
        "s.reader": "skipped",
        "s.further": "skipped",
        "s.other": "success",
    }
    assert "boom" in outcomes["s.bad", "all"].error
    assert "upstream s.bad[all] failed" in outcomes["s.reader", "all"].reason
    assert attempts(project, "s.reader") == ["skipped"]
    assert project.scalar("select y from s.other") == 7
    assert tables(project) == ["other"]


@pytest.mark.parametrize("threads", [1, 3])
def test_one_failed_partition_skips_only_the_partition_that_reads_it(project, threads):
    project.seed(DAILY_SOURCE)
    project.seed("update raw.events set amount = 5000 where event_date = date '2024-01-02'")
    project.model("s.fact", FACT)
    project.model(
        "s.daily",
        "-- kind: incremental\n-- partition_by: event_date\n-- start: 2024-01-01\n"
        "select event_date, sum(amount) as total from s.fact "
        "where event_date >= {{ start }} and event_date < {{ end }} group by all",
    )
    tasks = [
        task(1, "s.fact", key="2024-01-01"),
        task(2, "s.fact", key="2024-01-02"),
        task(3, "s.daily", 1, key="2024-01-01"),
        task(4, "s.daily", 2, key="2024-01-02"),
    ]
    outcomes = run_plan(project, tasks, threads=threads)
    assert {k: o.status for k, o in outcomes.items()} == {
        ("s.fact", "2024-01-01"): "success",
        ("s.fact", "2024-01-02"): "check_failed",
        ("s.daily", "2024-01-01"): "success",
        ("s.daily", "2024-01-02"): "skipped",
    }
    assert "failed a check" in outcomes["s.daily", "2024-01-02"].reason
    assert project.query("select event_date::varchar from s.daily") == [("2024-01-01",)]


def test_a_run_cancelled_before_it_starts_records_every_task_cancelled(project):
    project.model("s.a", "select 1 as x")
    project.model("s.b", "select x from s.a")
    cancel = threading.Event()
    cancel.set()
    outcomes = run_plan(project, [task(1, "s.a"), task(2, "s.b", 1)], options={"cancel": cancel})
    assert {k: (o.status, o.reason) for k, o in outcomes.items()} == {
        ("s.a", "all"): ("cancelled", "the run was cancelled before this task started"),
        ("s.b", "all"): ("cancelled", "the run was cancelled before this task started"),
    }
    assert attempts(project, "s.a") == ["cancelled"]
    assert tables(project) == []
