"""One writer: a lock file next to the warehouse saying who writes it and how far it got.

DuckDB lets one process hold a database file, and a second process cannot even open it to ask
who. So a writer also takes an exclusive `flock` on `<warehouse>.lock` and writes its run id,
pid, host, command, start and progress there as JSON. The kernel releases a `flock` when its
process dies (even by SIGKILL), so a lock left by a dead process is simply free to take: the
next writer takes it over and says so, and the dead run is marked `abandoned` in the state.
Readers never take the lock; they read the file to say who is busy.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import clock
from ..core.errors import WarehouseBusy


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def read_holder(warehouse: Path) -> dict | None:
    """What the current (or last) writer wrote about itself, or None."""
    path = lock_path(warehouse)
    for _ in range(3):  # a reader may catch the writer mid-rewrite: look again
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            time.sleep(0.05)
    return None


def describe(holder: dict | None) -> str:
    if not holder:
        return "another process (it left no details)"
    parts = [f"run {holder.get('run_id') or '?'}"]
    if holder.get("command"):
        parts.append(f"`orchestrator {holder['command']}`")
    parts.append(f"pid {holder.get('pid')} on {holder.get('host')}")
    if holder.get("user"):
        parts.append(f"by {holder['user']}")
    if holder.get("started"):
        parts.append(f"since {holder['started']} UTC")
    done, total = holder.get("done"), holder.get("total")
    if total:
        parts.append(f"{done or 0}/{total} tasks done")
    return ", ".join(parts)


def is_alive(holder: dict | None) -> bool:
    """Is the process named by a lock file's content still running (on this host)?"""
    if not holder or holder.get("host") != socket.gethostname():
        return bool(holder)
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


@dataclass
class WriteLock:
    """Held for the duration of one writing command."""

    warehouse: Path
    fd: int = -1
    info: dict | None = None
    previous: dict | None = None  # what a dead holder left behind, when we took over

    def acquire(self, command: str, user: str, wait: float | None = None) -> WriteLock:
        """Take the lock, or raise WarehouseBusy naming the holder. `wait`: seconds to wait for
        it (a negative number waits as long as it takes)."""
        path = lock_path(self.warehouse)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if wait is None or wait < 0 else time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait is None or (deadline is not None and time.monotonic() >= deadline):
                    holder = read_holder(self.warehouse)
                    os.close(self.fd)
                    self.fd = -1
                    waited = f" (waited {wait:g}s)" if wait else ""
                    raise WarehouseBusy(
                        f"the warehouse {self.warehouse} is being written by "
                        f"{describe(holder)}{waited}; try again later, or pass --wait"
                    ) from None
                time.sleep(0.2)
        left = read_holder(self.warehouse)
        self.previous = left if left else None
        self.info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": user,
            "command": command,
            "run_id": None,
            "started": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
            "done": 0,
            "total": 0,
        }
        self._write()
        return self

    def update(self, **fields) -> None:
        if self.info is None:
            return
        self.info.update(fields)
        self._write()

    def _write(self) -> None:
        data = json.dumps(self.info).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            os.ftruncate(self.fd, 0)  # an empty file: nobody is writing
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = -1
            self.info = None

    def __enter__(self) -> WriteLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
