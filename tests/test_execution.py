"""The execution package on hand-built Plans: no planner, no api, no CLI. Each test writes a
few models, builds the Tasks it wants by hand (ids, dependencies, windows), and calls
`execution.execute` on a real DuckDB file in tmp_path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAILY_SOURCE, NOW

from orchestrator import engine, state
from orchestrator.execution import Options, Policy, Reporter, execute
from orchestrator.partitions import Grain, window_for_key
from orchestrator.tasks import Plan, Reason, Request, Task
from orchestrator.workspace import open_workspace

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
-- check: expression(amount < 1000)
select user_id, event_date, amount
from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""


class Recorder(Reporter):
    """Remembers the order tasks end in, and runs `on_retry` before a task backs off."""

    def __init__(self, on_retry=None):
        self.finished: list[tuple[str, str, str]] = []
        self.retries: list[tuple[int, str]] = []
        self.on_retry = on_retry

    def finished_task(self, outcome) -> None:
        self.finished.append((outcome.model, outcome.key, outcome.status))

    def retrying(self, task, attempt, error, delay) -> None:
        self.retries.append((attempt, error))
        if self.on_retry:
            self.on_retry()


def task(id_: int, model: str, *deps: int, key: str | None = None) -> Task:
    window = window_for_key(key, Grain.DAY) if key else None
    return Task(id_, model, window, Reason.MISSING, deps=deps)


def run_plan(project, tasks, *, policy=None, reporter=None, threads=2) -> dict:
    """Execute `tasks` as one recorded run; the outcomes by (model, key)."""
    ws = open_workspace(project.root)
    con = engine.connect(project.warehouse)
    try:
        state.ensure(con)
        snapshot = state.snapshot(con)
        run_id = state.start_run(
            con,
            command="test",
            arguments="",
            variables={},
            who="test",
            host="test",
            pid=0,
            started=NOW,
            tool_version="test",
        )
        models = tuple(sorted({t.model for t in tasks}))
        plan = Plan(tuple(tasks), (), models, Request(frozenset(models), NOW))
        chosen = {"policy": lambda model: policy} if policy else {}
        options = Options(
            run_id=run_id, variables={}, threads=threads, reporter=reporter or Reporter(), **chosen
        )
        outcomes = execute(plan, ws.dag, con, snapshot, options)
    finally:
        con.close()
    return {(o.model, o.key): o for o in outcomes}


def attempts(project, model: str) -> list[str]:
    return [
        status
        for (status,) in project.query(
            "select status from orchestrator.task_runs where model = ? order by run_id, attempt",
            [model],
        )
    ]


def tables(project) -> list[str]:
    """The tables and views in schema `s`."""
    query = "select table_name from information_schema.tables where table_schema = 's' order by 1"
    return [name for (name,) in project.query(query)]


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
