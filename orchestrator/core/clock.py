"""The one clock: UTC, without a zone, as every time in the state is.

`ORCHESTRATOR_NOW` pins it (to replay a morning "as of" then, and in tests): every time the
tool writes or judges by (plans, builds, runs, alerts, incidents, freshness, ticks, the
readiness view read through `orchestrator sql`) starts there. A pinned clock still ticks from
the pinned time as the process runs, so durations and the order of events stay true.
Durations themselves (timeouts, backoff, elapsed seconds) use the monotonic clock.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from .errors import UsageError
from .partitions import parse_point

_STARTED = time.monotonic()


@lru_cache(maxsize=4)
def _pinned(text: str) -> datetime:
    try:
        return parse_point(text)
    except ValueError as exc:
        raise UsageError(f"ORCHESTRATOR_NOW: {exc}") from None


def pinned() -> datetime | None:
    """The time ORCHESTRATOR_NOW pins the clock to, or None."""
    text = os.environ.get("ORCHESTRATOR_NOW")
    return _pinned(text) if text else None


def now() -> datetime:
    """The current time in UTC (naive), from the pinned time when there is one."""
    start = pinned()
    if start is not None:
        return start + timedelta(seconds=time.monotonic() - _STARTED)
    return datetime.now(UTC).replace(tzinfo=None)
