"""Which planned tasks a task waits for (`plan.deps.task_deps`): those publishing what it reads,
through views too, and those of the models its checks read."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.snapshot import Snapshot
from orchestrator.core.tasks import Reason, Request, Task
from orchestrator.plan.context import Context
from orchestrator.plan.deps import task_deps
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

NOW = datetime(2024, 1, 4, 9, 30)
DAILY = (
    "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n{extra}"
    "select * from {source} where d >= {{{{ start }}}} and d < {{{{ end }}}}"
)


@pytest.fixture
def dag(project):
    """raw.src -> s.a (daily) -> s.v (view) -> s.b (daily, checked against s.dim)."""
    project.model("s.a", DAILY.format(source="raw.src", extra=""))
    project.model("s.v", "-- kind: view\nselect * from s.a")
    project.model("s.dim", "select 1 as id")
    check = "-- check: relationships(id, s.dim.id)\n"
    project.model("s.b", DAILY.format(source="s.v", extra=check))
    return dag_mod.build(loader.load(project.root, strict=True))


def day(key: str):
    return window_for_key(key, Grain.DAY)


def planned(ctx: Context, name: str, *keys: str) -> list[Task]:
    """Tasks of `name` added to the plan in the making, ids following those already there."""
    first = sum(len(p) for p in ctx.publishers.values())
    tasks = [
        Task(first + i, name, day(k) if k != "all" else None, Reason.MISSING)
        for i, k in enumerate(keys)
    ]
    ctx.publishers.setdefault(name, {}).update((t.key, t) for t in tasks)
    return tasks


def context(dag, relations=None) -> Context:
    snapshot = Snapshot(relations=relations or {})
    return Context(dag, snapshot, Request(frozenset(dag.models), NOW), {})


def test_a_partition_waits_for_the_partition_it_reads_through_a_view(dag):
    ctx = context(dag, {"s.a": "table", "s.dim": "table"})
    a1, a2 = planned(ctx, "s.a", "2024-01-01", "2024-01-02")
    assert task_deps(ctx, dag.models["s.b"], day("2024-01-02")) == (a2.id,)
    assert task_deps(ctx, dag.models["s.b"], None) == (a1.id, a2.id)  # the whole reads all


def test_nothing_planned_upstream_means_nothing_to_wait_for(dag):
    ctx = context(dag, {"s.a": "table", "s.dim": "table"})
    assert task_deps(ctx, dag.models["s.b"], day("2024-01-02")) == ()


def test_a_reader_waits_for_every_task_of_an_upstream_whose_table_does_not_exist_yet(dag):
    ctx = context(dag, {"s.dim": "table"})
    a1, a2 = planned(ctx, "s.a", "2024-01-01", "2024-01-02")
    # it reads none of these days, but whichever runs first creates the table it reads
    assert task_deps(ctx, dag.models["s.b"], day("2024-01-03")) == (a1.id, a2.id)


def test_a_check_s_reference_is_built_first(dag):
    ctx = context(dag, {"s.a": "table"})
    [dim] = planned(ctx, "s.dim", "all")
    assert task_deps(ctx, dag.models["s.b"], day("2024-01-02")) == (dim.id,)
