"""Running a Python model's function for one window, in a child process of its own
(`python_child`): a timeout or a cancel kills the child and all it started; the rows come back
as a Parquet file that the task then publishes like a SQL model's query, in one transaction
with its state row.

The child reads models through the parent, which holds the warehouse (DuckDB lets one process
open it): each `ctx.query(sql)` is sent over a private socket, checked to be a query, written by
the parent to a Parquet file, and read by the child. What went wrong comes back classified: a
timeout, a dropped connection, HTTP 429 or 5xx, or `ctx.Transient` is worth another attempt
(the task's retries and backoff apply); anything else fails at once, naming the model's own
line that raised.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..core.errors import Cancelled, TaskError, TaskTimeout
from ..core.partitions import Window

CHILD = "orchestrator.execution.python_child"
POLL = 0.02
"""Seconds between looks at the child: what a timeout or a cancel waits at most."""


class PythonModelError(TaskError):
    """What a Python model raised, with its class, message and line; transient or not."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def run_python_model(
    model,
    columns: list[tuple[str, str]],
    window: Window | None,
    variables: Mapping[str, str],
    run_id: int,
    workdir: Path,
    answer: Callable[[str, Path], None] | None,
    stop: Callable[[], str | None],
) -> Path:
    """The Parquet file of the rows `model(ctx)` returned for `window`. `answer(sql, path)`
    writes a query's result to `path` (None: the model reads no model); `stop()` says
    "timeout" or "cancel" when the task must end now."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, error, log = workdir / "rows.parquet", workdir / "error.json", workdir / "output.log"
    for stale in (out, error):
        stale.unlink(missing_ok=True)
    spec = {
        "file": str(Path(model.path).resolve()),
        "root": str(Path(model.path).resolve().parents[len(Path(model.relpath).parts) - 1]),
        "start": window.start.isoformat() if window else None,
        "end": window.end.isoformat() if window else None,
        "key": window.key if window else None,
        "vars": dict(variables),
        "run_id": run_id,
        "columns": [list(c) for c in columns],
        "out": str(out),
        "error": str(error),
    }
    server = _QueryServer(workdir, answer) if answer is not None else None
    if server is not None:
        spec["queries"], spec["authkey"] = server.address, server.authkey.hex()
    (workdir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    try:
        with log.open("wb") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", CHILD, str(workdir / "spec.json")],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed with all it started
            )
            _wait(child, stop, model.relpath)
    finally:
        if server is not None:
            server.close()
    if child.returncode == 0 and out.exists():
        return out
    raise _failure(model.relpath, child.returncode, error, log)


def _wait(child: subprocess.Popen, stop: Callable[[], str | None], relpath: str) -> None:
    while child.poll() is None:
        why = stop()
        if why is not None:
            _kill(child)
            if why == "timeout":
                raise TaskTimeout(f"{relpath}: ran longer than its timeout: its process was killed")
            raise Cancelled("the run was cancelled: the model's process was killed")
        time.sleep(POLL)


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _failure(relpath: str, code: int, error: Path, log: Path) -> PythonModelError:
    if error.exists():
        found = json.loads(error.read_text(encoding="utf-8"))
        where = f"{relpath}:{found['line']}" if found.get("line") else relpath
        said = f"{found['type']}: {found['message']}" if found["message"] else found["type"]
        code_line = f" (in `{found['code']}`)" if found.get("code") else ""
        return PythonModelError(f"{where}: {said}{code_line}", bool(found.get("transient")))
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return PythonModelError(f"{relpath}: its process {how}: {' / '.join(tail)}".rstrip(": "))


class _QueryServer:
    """Answers the child's queries on a private Unix socket, one connection at a time."""

    def __init__(self, workdir: Path, answer: Callable[[str, Path], None]):
        from multiprocessing.connection import Listener

        self.authkey = secrets.token_bytes(16)
        # a Unix socket's path is short (108 bytes): a folder of its own under the temp dir
        self._folder = Path(tempfile.mkdtemp(prefix="orchestrator-q-"))
        self.address = str(self._folder / "q")
        self._listener = Listener(self.address, family="AF_UNIX", authkey=self.authkey)
        self._answer, self._workdir, self._count = answer, workdir, 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            with self._listener.accept() as connection:
                while True:
                    try:
                        kind, sql = connection.recv()
                    except (EOFError, OSError):
                        return
                    self._count += 1
                    path = self._workdir / f"query-{self._count}.parquet"
                    try:
                        self._answer(sql, path)
                        connection.send(("ok", str(path)))
                    except Exception as exc:  # the model's query failed: the model says so
                        connection.send(("error", str(exc).strip().splitlines()[0]))
        except OSError:
            return  # closed before the child connected

    def close(self) -> None:
        self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)
