"""views: status as typed rows, computed from plain values (no warehouse needed)."""

from __future__ import annotations

from orchestrator import views
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
    assert text == "1 failed (2024-01-03); 1 failed (2024-01-02), last good data kept; 1 missing"
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
