"""The one transaction of a task (`execution.publish`), on Plans built by hand: the write, its
audit, the hooks and the state rows commit together or not at all; a rebuild aside is swapped
in at the end."""

from __future__ import annotations

from conftest import DAILY_SOURCE
from hand_plans import FACT, run_plan, tables, task

from orchestrator.core.tasks import Action


def test_a_failed_blocking_check_rolls_the_whole_publish_back(project):
    project.seed(DAILY_SOURCE)
    project.model("s.fact", FACT)
    days = ["2024-01-02", "2024-01-03"]
    first = run_plan(project, [task(i, "s.fact", key=d) for i, d in enumerate(days, 1)])
    assert {o.status for o in first.values()} == {"success"}
    table_before = project.query("select * from s.fact order by all")
    built = "select partition_key, built_run, rows from orchestrator.partitions order by all"
    assert project.query(built) == [("2024-01-02", 1, 5), ("2024-01-03", 1, 5)]
    # the source now breaks the check on 01-03 only; both partitions are rebuilt
    project.seed("update raw.events set amount = 5000 where event_date = date '2024-01-03'")
    second = run_plan(project, [task(i, "s.fact", key=d) for i, d in enumerate(days, 1)])
    assert second["s.fact", "2024-01-02"].status == "success"
    failed = second["s.fact", "2024-01-03"]
    assert failed.status == "check_failed"
    assert [(r.check.kind, r.status, r.failing) for r in failed.checks] == [
        ("expression", "fail", 5)
    ]
    # 01-03 still holds the rows of the first run: its DELETE+INSERT was rolled back
    assert project.query("select * from s.fact order by all") == table_before
    # the good partition published in the second run; 01-03 keeps the build of the first
    assert project.query(built) == [("2024-01-02", 2, 5), ("2024-01-03", 1, 5)]
    assert project.query(
        "select status from orchestrator.partitions where partition_key = '2024-01-03'"
    ) == [("check_failed",)]


def test_rows_outside_the_window_fail_the_task_and_write_nothing(project):
    project.seed(DAILY_SOURCE)
    project.model(
        "s.leaky",
        "-- kind: incremental\n-- partition_by: event_date\n-- start: 2024-01-01\n"
        "select * from raw.events where event_date >= {{ start }}",
    )
    [outcome] = run_plan(project, [task(1, "s.leaky", key="2024-01-01")]).values()
    assert outcome.status == "failed"
    assert "outside partition 2024-01-01" in outcome.error
    assert "Nothing was written" in outcome.error
    assert tables(project) == []


def test_a_rebuild_aside_is_swapped_in_whole_and_recorded(project):
    project.seed(DAILY_SOURCE)
    project.model("s.fact", FACT)
    days = ("2024-01-01", "2024-01-02")
    run_plan(project, [task(i, "s.fact", key=d) for i, d in enumerate(days, 1)])
    project.seed("update raw.events set amount = amount + 1")
    shadows = [task(i, "s.fact", key=d, action=Action.SHADOW) for i, d in enumerate(days, 1)]
    swap = task(3, "s.fact", 1, 2, action=Action.SWAP)
    outcomes = run_plan(project, [*shadows, swap])
    assert {o.status for o in outcomes.values()} == {"success"}
    assert outcomes["s.fact", "all"].rows == 10  # the swap counts what it published
    assert project.scalar("select sum(amount) from s.fact") == sum(range(10)) + 10
    built = "select partition_key, built_run, rows from orchestrator.partitions order by all"
    assert project.query(built) == [("2024-01-01", 2, 5), ("2024-01-02", 2, 5)]
    assert tables(project) == ["fact"]  # no shadow left behind
