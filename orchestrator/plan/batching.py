"""Batches: runs of consecutive windows of one model, built the same way, planned as one task
(one statement and one transaction instead of one per window)."""

from __future__ import annotations

from collections.abc import Callable

from ..core.partitions import Window
from ..core.tasks import Action, Task


def batched(tasks: list[Task], size_of: Callable[[str], int]) -> list[Task]:
    """Runs of consecutive windows of one model, built the same way, become one task of at most
    `size_of(model)` partitions: one statement and one transaction instead of one per window.
    A batch takes the id of its first part and depends on what its parts depend on; every
    dependency still names a partition task, so a reader can tell which partition it waits for.

    >>> from datetime import datetime as at
    >>> from orchestrator.core.partitions import Grain
    >>> from orchestrator.core.tasks import Reason
    >>> days = [Window.containing(at(2024, 1, d), Grain.DAY) for d in (1, 2, 3, 5)]
    >>> tasks = [Task(i, "m", w, Reason.MISSING) for i, w in enumerate(days)]
    >>> [t.key for t in batched(tasks, lambda m: 2)]  # 01-04 is not planned: 01-05 stands alone
    ['2024-01-01..2024-01-02', '2024-01-03', '2024-01-05']
    """
    groups = _runs(tasks, size_of)
    if len(groups) == len(tasks):
        return tasks
    result = []
    for group in groups:
        first = group[0]
        if len(group) == 1:
            result.append(first)
            continue
        deps = tuple(sorted({d for t in group for d in t.deps}))
        outer = Window(first.window.start, group[-1].window.end, first.window.grain)
        result.append(
            Task(first.id, first.model, outer, first.reason, first.action, deps, tuple(group))
        )
    return result


def _runs(tasks: list[Task], size_of: Callable[[str], int]) -> list[list[Task]]:
    """The tasks in groups of consecutive windows of one model and action, each at most
    `size_of(model)` long (a task that cannot join the one before starts a group)."""
    groups: list[list[Task]] = []
    for task in tasks:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and task.window is not None
            and last.window is not None
            and task.action in (Action.BUILD, Action.SHADOW)
            and (last.model, last.action) == (task.model, task.action)
            and last.window.end == task.window.start
            and len(groups[-1]) < size_of(task.model)
        ):
            groups[-1].append(task)
        else:
            groups.append([task])
    return groups
