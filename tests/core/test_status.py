"""core.status: the status vocabulary, its groups, and ranking statuses by an order."""

from __future__ import annotations

from orchestrator.core.status import (
    HOLDS,
    NEEDS_ACTION,
    PROBLEMS,
    REJECTED,
    RETRYABLE,
    SOURCE_HEALTHY,
    SOURCE_PROBLEMS,
    URGENCY,
    Status,
    rank,
)


def test_a_status_equals_the_text_the_state_tables_hold():
    assert Status.CHECK_FAILED == "check_failed"
    assert "timed_out" in REJECTED
    assert Status("waiting") is Status.WAITING


def test_the_groups_agree_with_each_other():
    assert REJECTED < NEEDS_ACTION and REJECTED < RETRYABLE
    assert Status.WAITING not in NEEDS_ACTION  # only time is needed
    assert Status.SUCCESS not in RETRYABLE
    assert not SOURCE_PROBLEMS & SOURCE_HEALTHY
    assert set(URGENCY) == set(PROBLEMS)  # the same problems, in another order


def test_rank_puts_unknown_statuses_last():
    assert [rank(s, HOLDS) for s in ("blocked", "waiting", "skipped", "success")] == [0, 1, 2, 3]
    assert sorted(["waiting", "failed", "blocked"], key=lambda s: rank(s, URGENCY)) == [
        "failed",
        "blocked",
        "waiting",
    ]
