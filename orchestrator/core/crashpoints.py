"""Numbered moments at which a crash test may kill this process, on engines whose writes are
not one transaction (Spark): each statement sent to Spark, each directory moved, each journal
file renamed into place.

`ORCHESTRATOR_KILL_AT=N` sends SIGKILL to this process at the N-th moment, so that a test
reaches every moment exactly instead of by timing; `ORCHESTRATOR_MOMENTS=FILE` writes how many
moments the process passed when it exits (to choose N). Neither is set in normal use, and then
a moment costs one dictionary lookup.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading

_lock = threading.Lock()
_passed = 0


def moment() -> None:
    """One moment passed: the one to die at, when a test asked for it."""
    global _passed
    target = os.environ.get("ORCHESTRATOR_KILL_AT")
    if not target and not os.environ.get("ORCHESTRATOR_MOMENTS"):
        return
    with _lock:
        _passed += 1
        if target and _passed == int(target):
            os.kill(os.getpid(), signal.SIGKILL)


def _report() -> None:
    path = os.environ.get("ORCHESTRATOR_MOMENTS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write(str(_passed))


atexit.register(_report)
