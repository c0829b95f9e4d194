"""views: status as typed rows, computed from plain values (no warehouse needed)."""

from __future__ import annotations

from orchestrator.app import views
from orchestrator.state.runs import PartitionState


def _attempt(key: str, status: str, built_run=None, rows=None, built_at=None) -> PartitionState:
    return PartitionState("m", key, status, built_run, rows, built_at, 1, None)


def test_state_text_orders_by_urgency_and_names_problem_partitions():
    built = {"2024-01-01": object(), "2024-01-02": object()}
    attempts = {
        "2024-01-02": _attempt("2024-01-02", "failed"),
        "2024-01-03": _attempt("x", "failed"),
    }
    todo = {"2024-01-03": "missing", "2024-01-04": "missing"}
    text = views.state_text(built, attempts, todo)
    assert text == (
        "1 failed (2024-01-03); 1 failed (2024-01-02), last good data kept; 1 missing (2024-01-04)"
    )
    assert views.state_text(built, {}, {}) == "up to date"
    assert views.state_text({}, {}, {}) == "not built"


def test_partition_rows_join_attempts_and_pending_work():
    attempts = {"m": {"k1": _attempt("k1", "success", 1, 5, "t")}}
    rows = views.partition_rows(["m"], attempts, {"m": {"k2": "missing"}})
    assert rows == [
        views.PartitionRow("m", "k1", "success", 1, 5, "t", "", None),
        views.PartitionRow("m", "k2", None, None, None, None, "missing", None),
    ]
    assert rows[1].pending == "missing"


def test_the_swap_step_of_a_rebuild_is_not_counted_as_a_partition():
    from datetime import datetime

    from orchestrator.core.partitions import Grain, window_for_key
    from orchestrator.core.tasks import Action, Plan, Reason, Request, Task

    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    shadow = [
        Task(i, "m", window_for_key(d, Grain.DAY), Reason.FULL_REFRESH, Action.SHADOW)
        for i, d in enumerate(days)
    ]
    swap = Task(len(days), "m", None, Reason.FULL_REFRESH, Action.SWAP)
    plan = Plan(
        tuple(shadow) + (swap,), (), ("m",), Request(frozenset({"m"}), datetime(2024, 1, 5))
    )
    todo = views.pending(plan)
    assert sorted(todo["m"]) == days
    built = {d: object() for d in days}
    assert views.state_text(built, {}, todo["m"]) == (
        "4 full refresh (2024-01-01, 2024-01-02, 2024-01-03 ...)"
    )
    assert views.state_text({"all": object()}, {}, {"all": "stale: model changed"}) == "1 stale"
