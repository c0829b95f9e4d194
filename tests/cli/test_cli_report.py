"""report.py is pure formatting: hand-built plans, outcomes and reports in, exact lines out."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.app.api import CheckReport, RunResult
from orchestrator.app.scheduler import TickReport
from orchestrator.cli import report
from orchestrator.core.partitions import WHOLE, Grain, window_for_key
from orchestrator.core.tasks import Action, Held, Plan, Reason, Request, Task
from orchestrator.execution import Outcome
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader as project_mod
from orchestrator.project.checks import Check, Result, Severity

NOW = datetime(2024, 1, 4, 9, 30)


@pytest.fixture
def dag(project):
    """raw.src -> s.daily (incremental, daily) -> s.total (table) -> s.v (view)"""
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select * from raw.src where d >= {{ start }} and d < {{ end }}
        """,
    )
    project.model("s.total", "select count(*) as n from s.daily")
    project.model("s.v", "-- kind: view\nselect * from s.total")
    return dag_mod.build(project_mod.load(project.root, strict=True))


def day(key: str):
    return window_for_key(key, Grain.DAY)


def request(**kwargs) -> Request:
    return Request(selected=frozenset({"s.daily", "s.total", "s.v"}), now=NOW, **kwargs)


def make_plan(tasks=(), held=(), backfill_only=(), **kwargs) -> Plan:
    return Plan(
        tasks=tuple(tasks),
        held=tuple(held),
        models=("s.daily", "s.total", "s.v"),
        request=request(**kwargs),
        backfill_only=tuple(backfill_only),
    )


def daily_tasks(*keys: str, reason=Reason.MISSING, action=Action.BUILD) -> list[Task]:
    return [Task(i, "s.daily", day(k), reason, action) for i, k in enumerate(keys)]


def test_plan_groups_tasks_by_model_and_reason(dag):
    tasks = daily_tasks("2024-01-01", "2024-01-02", "2024-01-03") + [
        Task(9, "s.total", None, Reason.UPSTREAM_REBUILT)
    ]
    assert report.format_plan(make_plan(tasks), dag) == [
        "plan: 4 tasks over 2 models (as of 2024-01-04 09:30 UTC)",
        "  s.daily  3 partitions     missing  2024-01-01..2024-01-03",
        "  s.total  whole            stale: upstream rebuilt",
        "up to date: s.v",
        "external sources read: raw.src",
    ]


def test_plan_verbose_lists_each_window(dag):
    lines = report.format_plan(
        make_plan(daily_tasks("2024-01-01", "2024-01-02")), dag, verbose=True
    )
    assert lines[1:4] == [
        "  s.daily  2 partitions     missing  2024-01-01..2024-01-02",
        "      2024-01-01",
        "      2024-01-02",
    ]


def test_plan_full_refresh_writes_a_shadow_then_swaps(dag):
    tasks = daily_tasks("2024-01-01", reason=Reason.FULL_REFRESH, action=Action.SHADOW) + [
        Task(5, "s.daily", None, Reason.FULL_REFRESH, Action.SWAP)
    ]
    assert report.format_plan(make_plan(tasks), dag)[:3] == [
        "plan: 2 tasks over 1 model (as of 2024-01-04 09:30 UTC)",
        "  s.daily  1 partition      full refresh into a new table  2024-01-01",
        "  s.daily  then swap in the rebuilt table",
    ]


def test_plan_batches_are_counted(dag):
    parts = tuple(daily_tasks("2024-01-01", "2024-01-02"))
    batch = Task(7, "s.daily", day("2024-01-01"), Reason.MISSING, parts=parts)
    assert report.format_plan(make_plan([batch]), dag)[0] == (
        "plan: 2 tasks over 1 model, 1 batch of several partitions (as of 2024-01-04 09:30 UTC)"
    )


def test_plan_with_nothing_to_do_held_tasks_and_backfill_only(dag):
    held = [
        Held("s.daily", day("2024-01-03"), "waiting", "raw.src has no rows yet"),
        Held("s.total", None, "blocked", "s.daily[2024-01-03] is waiting"),
    ]
    assert report.format_plan(make_plan(held=held, backfill_only=["s.v"]), dag) == [
        "plan: nothing to do (as of 2024-01-04 09:30 UTC)",
        "held back: 2 tasks will not run (1 blocked, 1 waiting)",
        "  waiting: s.daily[2024-01-03]: raw.src has no rows yet",
        "  blocked: s.total: s.daily[2024-01-03] is waiting",
        "not built: s.v has no start: build it with "
        "orchestrator backfill s.v --start DATE --end DATE",
        "external sources read: raw.src",
    ]


def test_plan_shows_at_most_twenty_held_lines_unless_verbose(dag):
    held = [Held(f"s.m{i:02}", None, "blocked", "upstream failed") for i in range(25)]
    lines = report.format_plan(make_plan(held=held), dag)
    assert lines[1] == "held back: 25 tasks will not run (25 blocked)"
    assert lines[2] == "  blocked: s.m00: upstream failed"
    assert lines[22] == "  ... 5 more"
    assert len(report.format_plan(make_plan(held=held), dag, verbose=True)) == len(lines) + 4


def outcome(model, key, status="success", rows=None, task=None, **kwargs) -> Outcome:
    return Outcome(model, key, status, "missing", rows=rows, task=task, **kwargs)


def test_result_one_line_per_model_then_problems_then_totals(dag):
    tasks = daily_tasks("2024-01-01", "2024-01-02", "2024-01-03")
    total = Task(9, "s.total", None, Reason.UPSTREAM_REBUILT)
    outcomes = (
        outcome("s.daily", "2024-01-01", rows=5, task=tasks[0]),
        outcome("s.daily", "2024-01-02", rows=1200, task=tasks[1], attempts=2),
        outcome("s.daily", "2024-01-03", "failed", task=tasks[2], error="Binder Error: no x"),
        outcome("s.total", WHOLE, "skipped", task=total, error="upstream failed"),
    )
    result = RunResult(7, make_plan([*tasks, total]), outcomes, 2.345)
    assert report.format_result(result, dag) == [
        "  x  s.daily  2 partitions 2024-01-01..2024-01-02, 1,205 rows; 1 failed; 1 retry",
        "  -  s.total  1 skipped",
        "  failed: s.daily[2024-01-03]: Binder Error: no x",
        "  skipped: s.total[all]: upstream failed",
        "run 7 failed in 2.3s: 2 succeeded, 1 failed, 1 skipped",
    ]


def test_result_of_a_view_and_a_table_and_check_warnings(dag):
    warn = Check("not_null(n)", "not_null", Severity.WARN, "models/s/total.sql")
    total = Task(1, "s.total", None, Reason.MISSING)
    view = Task(2, "s.v", None, Reason.MISSING)
    outcomes = (
        outcome("s.total", WHOLE, rows=1, task=total, checks=(Result(warn, WHOLE, "warn", 2),)),
        outcome("s.v", WHOLE, task=view),
    )
    result = RunResult(3, make_plan([total, view]), outcomes, 0.5)
    assert report.format_result(result, dag) == [
        "  ok s.total  built, 1 row; 1 check warning",
        "  ok s.v      built",
        "  check warning: s.total[all]: not_null(n): 2 failing rows",
        "run 3 success in 0.5s: 2 succeeded",
    ]


def test_result_with_nothing_to_do_or_cancelled(dag):
    assert report.format_result(RunResult(4, make_plan(), (), 0.1), dag) == [
        "run 4: nothing to do, everything is up to date"
    ]
    backfill = make_plan(backfill=(datetime(2024, 1, 1), datetime(2024, 1, 2)))
    assert report.format_result(RunResult(5, backfill, (), 0.1), dag) == [
        "run 5: nothing to backfill: the selected models have no complete partition in "
        "[2024-01-01 00:00, 2024-01-02 00:00)"
    ]
    task = daily_tasks("2024-01-01")[0]
    cancelled = RunResult(
        6, make_plan([task]), (outcome("s.daily", "2024-01-01", "cancelled", task=task),), 1.0,
        cancelled=True,
    )  # fmt: skip
    assert report.format_result(cancelled, dag)[-1] == (
        "run 6 cancelled after 1.0s: 0 succeeded, 1 cancelled; running tasks were rolled back "
        "(orchestrator retry picks up the rest)"
    )


def test_table_aligns_columns_and_right_aligns_numbers():
    rows = [("a", 1, 1.5, datetime(2024, 1, 2, 3, 4, 5)), ("bbb", 22, None, None)]
    assert report.format_table(["name", "n", "x", "at"], rows) == [
        "name   n    x  at",
        "----  --  ---  -------------------",
        "a      1  1.5  2024-01-02 03:04:05",
        "bbb   22",
    ]


def test_table_limit_and_lists_and_empty():
    rows = [(["a", "b"],), ((1, 2.0),), ("c",)]
    assert report.format_table(["v"], rows, limit=2) == [
        "v",
        "----",
        "a, b",
        "1, 2",
        "... 1 more rows",
    ]
    assert report.format_table(["a", "bb"], []) == ["a  bb", "-  --"]


def check(name: str, severity=Severity.BLOCK) -> Check:
    return Check(name, name.split("(")[0], severity, "models/s/daily.sql")


def test_check_report_one_line_per_model_then_failures():
    unique, positive = check("unique(id)"), check("expression(n > 0)", Severity.WARN)
    results = (
        ("s.daily", Result(unique, "2024-01-01", "pass")),
        ("s.daily", Result(unique, "2024-01-02", "fail", 3, sample=((7, 2),))),
        ("s.daily", Result(positive, "2024-01-02", "warn", 1)),
        ("s.total", Result(check("not_null(n)"), WHOLE, "pass")),
        ("s.v", Result(check("custom"), WHOLE, "error", message="Catalog Error: no t")),
    )
    assert report.format_check_report(CheckReport(12, results)) == [
        "  x  s.daily  2 checks on 2 partitions: 1 passed, 1 failed, 1 warned",
        "      failed: unique(id) [2024-01-02]: 3 failing rows  e.g. (7, 2)",
        "      warning: expression(n > 0) [2024-01-02]: 1 failing row",
        "  ok s.total  1 check: passed",
        "  x  s.v      1 check: 0 passed, 1 could not run",
        f"      error: custom [{WHOLE}]: Catalog Error: no t",
        "check run 12: 5 results, 2 blocking failures",
    ]


def test_check_report_with_nothing_to_check_or_many_failures():
    assert report.format_check_report(CheckReport(1, ())) == [
        "no checks to run (no selected model with checks is built)"
    ]
    unique = check("unique(id)")
    results = tuple(("s.daily", Result(unique, f"2024-01-{d:02}", "fail", 1)) for d in range(1, 13))
    lines = report.format_check_report(CheckReport(2, results))
    assert lines[0] == "  x  s.daily  1 check on 12 partitions: 0 passed, 12 failed"
    assert lines[-2:] == [
        "      ... and 2 more (orchestrator.check_results, run 2)",
        "check run 2: 12 results, 12 blocking failures",
    ]


def test_ticks_one_line_each():
    assert report.format_ticks([]) == ["schedule: nothing due"]
    at = datetime(2024, 1, 4, 6, 0)
    ticks = [
        TickReport("nightly", at, "cron", "success", run_id=8),
        TickReport("hourly", at, "catch-up", "skipped", detail="another run holds the warehouse"),
    ]
    assert report.format_ticks(ticks) == [
        "  nightly  cron 2024-01-04 06:00  success (run 8)",
        "  hourly  catch-up 2024-01-04 06:00  skipped: another run holds the warehouse",
    ]
