"""One task on one cursor (`execution.context.TaskContext`): where it writes, what its checks
look at, the rows of its attempt, and the checkpoint that turns a timeout or a cancel into an
error between statements."""

from __future__ import annotations

import pytest
from conftest import NOW

from orchestrator.core.errors import Cancelled, TaskTimeout
from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import Action, Reason, Task
from orchestrator.execution.context import TaskContext
from orchestrator.execution.values import Live, Options, Policy, Shared
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

DAY1, DAY2 = (window_for_key(k, Grain.DAY) for k in ("2024-01-01", "2024-01-02"))


@pytest.fixture
def shared(project):
    project.model(
        "s.d",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select d, {{ var('region') }} as region from raw.src "
        "where d >= {{ start }} and d < {{ end }}",
    )
    project.model("s.t", "select 1 as x")
    dag = dag_mod.build(loader.load(project.root, strict=True))
    options = Options(
        run_id=5,
        variables={"region": "'eu'", "unused": "1"},
        now=lambda: NOW,
        policy=lambda model: Policy(timeout=None),
    )
    return Shared(dag, Live({}, {}), options, {})


def batch(action: Action = Action.BUILD) -> Task:
    parts = (
        Task(1, "s.d", DAY1, Reason.MISSING, action),
        Task(2, "s.d", DAY2, Reason.SOURCE_CHANGED, action, detail="src_2024-01-02.csv"),
    )
    window = type(DAY1)(DAY1.start, DAY2.end, DAY1.grain)
    return Task(1, "s.d", window, Reason.MISSING, action, (), parts)


def test_a_task_sees_only_the_vars_its_model_uses(shared):
    ctx = TaskContext(batch(), shared, None)
    assert ctx.variables == {"region": "'eu'"}
    assert ctx.keys == {"2024-01-01", "2024-01-02"} and ctx.units == batch().parts


def test_a_task_writes_its_table_or_during_a_rebuild_its_shadow(shared):
    assert TaskContext(batch(), shared, None).target() == '"s"."d"'
    aside = TaskContext(batch(Action.SHADOW), shared, None)
    assert aside.into_shadow and aside.target() == '"s"."d__refresh"'


def test_the_checks_scope_is_the_task_s_windows(shared):
    scope = TaskContext(batch(), shared, None).scope('"s"."d"')
    assert (scope.relation, scope.partition_by, scope.grain) == ('"s"."d"', "d", Grain.DAY)
    assert scope.keys == ["2024-01-01", "2024-01-02"]
    whole = TaskContext(Task(3, "s.t", None, Reason.MISSING), shared, None).scope('"s"."t"')
    assert (whole.partition_by, whole.grain, whole.keys) == (None, None, ["all"])


def test_one_record_per_partition_with_its_reason_and_rows(shared):
    ctx = TaskContext(batch(), shared, None)
    ctx.attempt = 2
    records = ctx.records("success", NOW, NOW, {"2024-01-01": 5, "2024-01-02": 0})
    assert [(r.run_id, r.task_id, r.key, r.attempt, r.rows, r.reason) for r in records] == [
        (5, 1, "2024-01-01", 2, 5, "missing"),
        (5, 2, "2024-01-02", 2, 0, "stale: source changed (src_2024-01-02.csv)"),
    ]


def test_a_part_of_a_batch_runs_on_the_same_cursor(shared):
    cursor = object()
    ctx = TaskContext(batch(), shared, cursor)
    part = ctx.for_part(batch().parts[1])
    assert part.cur is cursor and part.keys == {"2024-01-02"} and part.attempt == 1


def test_the_checkpoint_raises_a_timeout_or_a_cancel_that_came_between_statements(shared):
    ctx = TaskContext(batch(), shared, None)
    ctx.checkpoint()  # nothing happened: it returns
    ctx.timed_out = True
    with pytest.raises(TaskTimeout, match="interrupted, nothing was written"):
        ctx.checkpoint()
    ctx.timed_out = False
    shared.options.cancel.set()
    with pytest.raises(Cancelled, match="the run was cancelled; nothing was written"):
        ctx.checkpoint()
