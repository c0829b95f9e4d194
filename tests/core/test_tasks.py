"""core.tasks: what a plan's tasks say of themselves (keys, reasons, batches) and which hold
is reported when several inputs are not ready."""

from __future__ import annotations

from datetime import datetime

from orchestrator.core.partitions import Grain, Window
from orchestrator.core.tasks import (
    Action,
    Gate,
    Held,
    Plan,
    Reason,
    Request,
    Task,
    broken_gate,
    worst,
)

NOW = datetime(2024, 1, 10)


def day(d: int) -> Window:
    return Window.containing(datetime(2024, 1, d), Grain.DAY)


def test_a_task_is_keyed_by_its_window_or_all():
    assert Task(1, "s.m", day(5), Reason.MISSING).key == "2024-01-05"
    assert Task(1, "s.v", None, Reason.MISSING).key == "all"
    assert Held("s.m", None, "waiting", "r").key == "all"


def test_a_batch_is_keyed_by_its_first_and_last_part_and_carries_them_out():
    parts = tuple(Task(i, "s.m", day(i), Reason.MISSING) for i in (1, 2, 3))
    span = Window(day(1).start, day(3).end, Grain.DAY)
    batch = Task(9, "s.m", span, Reason.MISSING, parts=parts)
    assert batch.key == "2024-01-01..2024-01-03"
    assert batch.units == parts
    assert parts[0].units == (parts[0],)


def test_the_reason_says_what_it_is_about():
    task = Task(1, "s.m", day(2), Reason.SOURCE_CHANGED, detail="o_2024-01-02.csv")
    assert task.why == "stale: source changed (o_2024-01-02.csv)"
    assert Task(1, "s.m", day(2), Reason.MISSING).why == "missing"


def test_a_plan_opens_its_batches_and_finds_each_models_first_writing_task():
    parts = (
        Task(1, "s.m", day(1), Reason.FULL_REFRESH),
        Task(2, "s.m", day(2), Reason.FULL_REFRESH),
    )
    shadow = Task(3, "s.m", None, Reason.FULL_REFRESH, Action.SHADOW, parts=parts)
    swap = Task(4, "s.m", None, Reason.FULL_REFRESH, Action.SWAP)
    view = Task(5, "s.v", None, Reason.MISSING)
    plan = Plan((swap, shadow, view), (), ("s.m", "s.v"), Request(frozenset(), NOW))
    assert [u.id for u in plan.units] == [4, 1, 2, 5]
    assert plan.first_tasks() == {"s.m": shadow, "s.v": view}  # the swap writes nothing new
    assert not plan.empty and Plan((), (), (), plan.request).empty


def test_the_worst_gate_is_the_one_that_needs_someone():
    waiting, blocked = Gate("waiting", "no file yet"), Gate("blocked", "stale source")
    assert worst([waiting, blocked, Gate("skipped", "x")]) is blocked
    assert worst([waiting]) is waiting


def test_what_reads_a_broken_model_is_blocked_and_names_its_file():
    gate = broken_gate("s.m", "models/s/m.sql:3: syntax error")
    assert (gate.status, gate.origin) == ("blocked", "s.m")
    assert gate.reason == "waits for s.m: broken (models/s/m.sql:3)"
    assert gate.cause == "broken: models/s/m.sql:3: syntax error"
