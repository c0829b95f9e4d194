"""One plan in the making (`plan.context.Context`): the built partitions it sees, the partitions
`run` keeps, and whether the plan rebuilds what a reader's window exposes."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.snapshot import Built, Snapshot
from orchestrator.core.tasks import Reason, Request, Task
from orchestrator.plan.context import Context
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

NOW = datetime(2024, 1, 4, 9, 30)


@pytest.fixture
def dag(project):
    """raw.src -> s.a (daily, from 2024-01-01) -> s.v (view) -> s.t (table)."""
    project.model(
        "s.a",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select * from raw.src where d >= {{ start }} and d < {{ end }}",
    )
    project.model("s.v", "-- kind: view\nselect * from s.a")
    project.model("s.t", "select count(*) as n from s.v")
    return dag_mod.build(loader.load(project.root, strict=True))


def context(dag, snapshot=None) -> Context:
    return Context(dag, snapshot or Snapshot(), Request(frozenset(dag.models), NOW), {})


def day(key: str):
    return window_for_key(key, Grain.DAY)


def test_built_partitions_count_only_while_their_relation_exists(dag):
    a = dag.models["s.a"]
    parts = {"2024-01-01": Built("2024-01-01", a.version, 1, a.layout)}
    assert (
        context(dag, Snapshot(built={"s.a": parts}, relations={"s.a": "table"})).built("s.a")
        == parts
    )
    # the table was dropped behind the tool's back: nothing of it is built
    assert context(dag, Snapshot(built={"s.a": parts})).built("s.a") == {}


def test_expected_partitions_and_the_failed_ones_run_retries(dag):
    ctx = context(dag)
    a = dag.models["s.a"]
    assert [w.key for w in ctx.expected(a)] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # as the planner does: the failed partitions are added before any reason is asked
    ctx.expect_also(a, [day("2024-01-09")])
    assert ctx.expects(a, day("2024-01-02")) and ctx.expects(a, day("2024-01-09"))
    assert ctx.expects(a, None)  # the whole of it
    assert not ctx.expects(a, day("2024-01-08"))
    assert list(ctx.expected_keys(a)) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-09"]


def test_touched_says_whether_the_plan_rebuilds_what_a_window_reads(dag):
    ctx = context(dag)
    assert not ctx.touched("s.a", None)  # nothing planned yet
    ctx.publishers["s.a"] = {"2024-01-02": Task(0, "s.a", day("2024-01-02"), Reason.MISSING)}
    assert ctx.touched("s.a", None)
    assert ctx.touched("s.a", day("2024-01-02"))
    assert not ctx.touched("s.a", day("2024-01-03"))
    # a view passes it through: reading the view reads what the plan rebuilds
    assert ctx.touched("s.v", day("2024-01-02")) and ctx.touched("s.v", None)
    assert not ctx.touched("s.t", None)


def test_a_planned_whole_table_is_touched_for_any_window(dag):
    ctx = context(dag)
    ctx.publishers["s.t"] = {"all": Task(0, "s.t", None, Reason.MISSING)}
    assert ctx.touched("s.t", day("2024-01-02"))
