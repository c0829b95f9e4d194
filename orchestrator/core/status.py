"""The status vocabulary: every state a task, a run, a source or a tick can be in, and the named
groups that decide what a state means. Values are the strings stored in the state tables, so a
`Status` compares equal to the text a query returns.

One place for these groups keeps the CLI, the alerts, the status view and the scheduler agreeing
on what needs a person and what may be retried.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    # a task's attempt, and a run as a whole
    SUCCESS = "success"
    FAILED = "failed"
    CHECK_FAILED = "check_failed"  # blocking checks rejected the new data: nothing was published
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    RETRIED = "retried"  # an attempt that failed transiently and was tried again
    # a task held before it ran
    SKIPPED = "skipped"  # an input it needs was not built
    BLOCKED = "blocked"  # an input is stale or drifted: someone must act
    WAITING = "waiting"  # an input has not arrived yet: only time is needed
    # a run
    RUNNING = "running"
    ABANDONED = "abandoned"  # its process died; found by the next writer
    # a source
    FRESH = "fresh"
    STALE = "stale"
    DRIFTED = "drifted"
    MISSING = "missing"
    WARN = "warn"
    UNCHECKED = "unchecked"
    # a scheduled tick
    LATE = "late"


REJECTED = frozenset({Status.FAILED, Status.CHECK_FAILED, Status.TIMED_OUT})
"""An attempt to publish that was rolled back: the table keeps its last good data."""

NEEDS_ACTION = REJECTED | {Status.BLOCKED}
"""Outcomes that make a run fail and call for a person."""

RETRYABLE = REJECTED | {Status.CANCELLED, Status.SKIPPED}
"""Task outcomes that `retry` runs again."""

ATTEMPT_PROBLEMS = RETRYABLE
"""What a last attempt can have left behind that `status` reports for a partition."""

PROBLEMS = (
    Status.FAILED,
    Status.CHECK_FAILED,
    Status.TIMED_OUT,
    Status.BLOCKED,
    Status.CANCELLED,
    Status.WAITING,
    Status.SKIPPED,
)
"""Task outcomes other than success, in the order a run's summary lists them."""

URGENCY = (
    Status.FAILED,
    Status.CHECK_FAILED,
    Status.TIMED_OUT,
    Status.BLOCKED,
    Status.CANCELLED,
    Status.SKIPPED,
    Status.WAITING,
)
"""Problem labels of `status`, most urgent first."""

HOLDS = (Status.BLOCKED, Status.WAITING, Status.SKIPPED)
"""Why a task may not run, most urgent first: a blocked input needs someone, a waiting one time."""

SOURCE_PROBLEMS = frozenset({Status.STALE, Status.DRIFTED})
"""Source states that block their readers and make `freshness` exit 1."""

SOURCE_HEALTHY = frozenset({Status.FRESH, Status.WARN, Status.UNCHECKED})
"""Source states after which an open source incident closes."""


def rank(status: str, order: tuple[Status, ...]) -> int:
    """Position of `status` in `order`; statuses not in it sort last.

    >>> rank("blocked", HOLDS), rank("success", HOLDS)
    (0, 3)
    """
    return order.index(status) if status in order else len(order)
