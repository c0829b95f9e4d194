"""Batches (`plan.batching.batched`): runs of consecutive windows of one model, built the same
way, planned as one task that keeps its parts and their dependencies."""

from __future__ import annotations

from datetime import datetime

from orchestrator.core.partitions import Grain, Window
from orchestrator.core.tasks import Action, Reason, Task
from orchestrator.plan.batching import batched


def day(d: int) -> Window:
    return Window.containing(datetime(2024, 1, d), Grain.DAY)


def days(model: str, *numbers: int, first_id: int = 0, action=Action.BUILD) -> list[Task]:
    return [
        Task(first_id + i, model, day(d), Reason.MISSING, action) for i, d in enumerate(numbers)
    ]


def test_consecutive_windows_become_batches_of_at_most_the_size():
    tasks = days("m", 1, 2, 3, 4, 5)
    result = batched(tasks, lambda m: 2)
    assert [t.key for t in result] == [
        "2024-01-01..2024-01-02",
        "2024-01-03..2024-01-04",
        "2024-01-05",
    ]
    first = result[0]
    assert first.id == 0 and first.parts == tuple(tasks[:2])
    assert (first.window.start, first.window.end) == (datetime(2024, 1, 1), datetime(2024, 1, 3))


def test_a_size_of_one_leaves_the_tasks_as_they_are():
    tasks = days("m", 1, 2, 3)
    assert batched(tasks, lambda m: 1) is tasks


def test_a_batch_depends_on_what_its_parts_depend_on():
    parts = [
        Task(5, "r", day(1), Reason.MISSING, deps=(2, 0)),
        Task(6, "r", day(2), Reason.MISSING, deps=(1,)),
    ]
    [batch] = batched(parts, lambda m: 10)
    assert batch.deps == (0, 1, 2)
    assert [p.deps for p in batch.parts] == [(2, 0), (1,)]  # each part keeps its own


def test_only_tasks_of_one_model_and_action_join():
    mixed = (
        days("a", 1, 2) + days("b", 3, first_id=2) + days("b", 4, first_id=3, action=Action.SHADOW)
    )
    assert [t.key for t in batched(mixed, lambda m: 10)] == [
        "2024-01-01..2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]


def test_swaps_and_whole_tables_are_never_batched():
    tasks = [
        *days("m", 1, 2, action=Action.SHADOW),
        Task(2, "m", None, Reason.MISSING, Action.SWAP, (0, 1)),
        Task(3, "t", None, Reason.MISSING),
        Task(4, "t", None, Reason.MISSING),
    ]
    result = batched(tasks, lambda m: 10)
    assert [(t.model, t.action, len(t.units)) for t in result] == [
        ("m", Action.SHADOW, 2),
        ("m", Action.SWAP, 1),
        ("t", Action.BUILD, 1),
        ("t", Action.BUILD, 1),
    ]


def test_each_model_has_its_own_size():
    tasks = days("a", 1, 2, 3) + days("b", 1, 2, 3, first_id=3)
    sizes = {"a": 3, "b": 1}
    assert [len(t.units) for t in batched(tasks, sizes.__getitem__)] == [3, 1, 1, 1]
