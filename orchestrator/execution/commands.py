"""One attempt of a step's command: a child process in its own process group (so a timeout or
a cancel kills it and whatever it started), never through a shell, its stdout and stderr
appended to a log file, the tail of what this attempt printed kept for the state."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_BYTES = 4096
GRACE = 2.0  # seconds between SIGTERM and SIGKILL for a group told to stop


@dataclass(frozen=True)
class Finished:
    """How one attempt ended: its exit code (None: it never started, or was killed by us)."""

    exit_code: int | None
    tail: str
    seconds: float
    timed_out: bool = False
    cancelled: bool = False
    error: str | None = None  # why it could not start
    pid: int | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.cancelled)


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float | None,
    cancel: threading.Event,
    header: str = "",
) -> Finished:
    """Run `argv` to its end, its timeout or the cancel, whichever comes first."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    clock = time.monotonic()
    with open(log_path, "ab") as log:
        if header:
            log.write(header.encode())
            log.flush()
        offset = log.tell()
        try:
            child = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )
        except OSError as exc:
            message = f"{argv[0]} could not start: {exc.strerror or exc}"
            log.write(f"{message}\n".encode())
            return Finished(None, message, time.monotonic() - clock, error=message)
        timed_out, cancelled = _wait(child, timeout, cancel, clock)
    return Finished(
        None if timed_out or cancelled else child.returncode,
        _tail(log_path, offset),
        time.monotonic() - clock,
        timed_out,
        cancelled,
        pid=child.pid,
    )


def _wait(child: subprocess.Popen, timeout: float | None, cancel, clock: float):
    """(timed out, cancelled): wait for the child, polling the cancel, killing its group."""
    while True:
        left = None if timeout is None else timeout - (time.monotonic() - clock)
        try:
            child.wait(0.05 if left is None else max(0.0, min(0.05, left)))
            return False, False
        except subprocess.TimeoutExpired:
            pass
        if cancel.is_set() or (left is not None and left <= 0):
            stop_group(child)
            return not cancel.is_set(), cancel.is_set()


def stop_group(child: subprocess.Popen) -> None:
    """SIGTERM to the child's whole process group, SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(wait)
            if sig == signal.SIGTERM:
                # the leader is gone; what it started may not be: the group still goes
                os.killpg(child.pid, signal.SIGKILL)
            break
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
    child.wait()


def _tail(path: Path, offset: int) -> str:
    """The last TAIL_BYTES this attempt wrote, as text."""
    with open(path, "rb") as log:
        size = log.seek(0, os.SEEK_END)
        log.seek(max(offset, size - TAIL_BYTES))
        return log.read().decode("utf-8", errors="replace")
