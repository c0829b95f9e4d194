"""One task attempt after attempt (`execution.attempt.run_task`), on Plans built by hand: a
transient error is retried with every attempt a row, a permanent one is not, a timeout
interrupts the task, a cancel stops the retries, and a batch whose parts cannot all run writes
the others one by one."""

from __future__ import annotations

import threading
from datetime import timedelta

from conftest import DAILY_SOURCE
from hand_plans import FACT, Recorder, attempts, batch, run_plan, tables, task

from orchestrator.execution import Policy


def test_a_transient_error_is_retried_until_it_passes(project):
    csv = project.root / "arrives_late.csv"
    project.model("s.m", f"select * from read_csv('{csv}')")
    # the file appears while the task backs off after its first attempt
    recorder = Recorder(on_retry=lambda: csv.write_text("x\n1\n2\n", encoding="utf-8"))
    policy = Policy(retries=2, retry_delay=timedelta(0))
    [outcome] = run_plan(project, [task(1, "s.m")], policy=policy, reporter=recorder).values()
    assert (outcome.status, outcome.attempts) == ("success", 2)
    assert len(recorder.retries) == 1 and "IOException" in recorder.retries[0][1]
    assert attempts(project, "s.m") == ["retried", "success"]
    assert project.scalar("select sum(x) from s.m") == 3


def test_a_permanent_error_is_not_retried(project):
    project.model("s.m", "select no_such_column from (select 1 as a)")
    policy = Policy(retries=5, retry_delay=timedelta(0))
    [outcome] = run_plan(project, [task(1, "s.m")], policy=policy).values()
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert attempts(project, "s.m") == ["failed"]


def test_a_task_past_its_timeout_is_interrupted_and_writes_nothing(project):
    project.model(
        "s.slow", "select count(*) as n from range(3000000000) r where hash(r.range) % 1000003 = 7"
    )
    project.model("s.after", "select n from s.slow")
    policy = Policy(retries=2, retry_delay=timedelta(0), timeout=timedelta(seconds=1))
    outcomes = run_plan(project, [task(1, "s.slow"), task(2, "s.after", 1)], policy=policy)
    slow = outcomes["s.slow", "all"]
    assert slow.status == "timed_out" and slow.attempts == 1  # a timeout is not retried
    assert "ran longer than its timeout (1s)" in slow.error
    assert slow.seconds < 20
    assert outcomes["s.after", "all"].status == "skipped"
    assert "timed out" in outcomes["s.after", "all"].reason
    assert tables(project) == []


def test_a_cancel_while_backing_off_stops_the_retries(project):
    project.model("s.m", f"select * from read_csv('{project.root / 'never.csv'}')")
    cancel = threading.Event()
    policy = Policy(retries=5, retry_delay=timedelta(minutes=10))
    outcomes = run_plan(
        project,
        [task(1, "s.m")],
        policy=policy,
        reporter=Recorder(on_retry=cancel.set),
        options={"cancel": cancel},
    )
    [outcome] = outcomes.values()
    assert (outcome.status, outcome.attempts) == ("cancelled", 2)
    assert outcome.error == "the run was cancelled before the next attempt"
    assert attempts(project, "s.m") == ["retried", "cancelled"]


def test_a_batch_part_whose_input_failed_is_skipped_and_the_rest_is_written(project):
    project.seed(DAILY_SOURCE)
    project.seed("update raw.events set amount = 5000 where event_date = date '2024-01-02'")
    project.model("s.fact", FACT)
    project.model(
        "s.daily",
        "-- kind: incremental\n-- partition_by: event_date\n-- start: 2024-01-01\n"
        "select event_date, sum(amount) as total from s.fact "
        "where event_date >= {{ start }} and event_date < {{ end }} group by all",
    )
    days = batch(task(3, "s.daily", 1, key="2024-01-01"), task(4, "s.daily", 2, key="2024-01-02"))
    outcomes = run_plan(
        project,
        [task(1, "s.fact", key="2024-01-01"), task(2, "s.fact", key="2024-01-02"), days],
    )
    assert outcomes["s.fact", "2024-01-02"].status == "check_failed"
    assert outcomes["s.daily", "2024-01-01"].status == "success"
    skipped = outcomes["s.daily", "2024-01-02"]
    assert (skipped.status, skipped.reason) == (
        "skipped",
        "upstream s.fact[2024-01-02] failed a check",
    )
    assert project.query("select event_date::varchar from s.daily") == [("2024-01-01",)]
