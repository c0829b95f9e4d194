"""The one-writer session: the write lock (or who holds it), signals, progress for other
processes, access checks with their audit row, and `recorded_run`, the one protocol by which a
command records itself as a run (start the row with who/host/pid, finish it with its status).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, state
from ..core.errors import AccessDenied, RunStopped
from ..core.quoting import literal
from ..core.status import REJECTED
from ..core.tasks import Plan
from ..engines import engine
from ..engines.lock import WriteLock
from ..execution import Outcome, Reporter, utcnow
from ..project import access
from ..project import loader as project_mod
from ..sources.survey import Survey
from .workspace import Workspace, who


@contextmanager
def writing(ws: Workspace, command: str, wait: float | None = None):
    """The one-writer protocol around every writing command: take the lock file (or say who
    holds it), open the warehouse, create or migrate the state schema, and mark runs that a
    dead process left `running` as abandoned. Yields (connection, lock, abandoned runs as
    (run id, command))."""
    lock = WriteLock(ws.warehouse).acquire(command, who(), wait)
    try:
        con = open_state(ws)
        try:
            # files a model reads by a relative path (seeds among them) are the project's
            con.execute(f"SET GLOBAL file_search_path = {literal(str(ws.project.settings.root))}")
            with engine.reading(ws.warehouse):
                state.ensure(con)
                abandoned = state.abandon_running(con, utcnow())
            yield con, lock, abandoned
            _leave_state_copy(ws, con)
        finally:
            con.close()
    finally:
        lock.release()


def open_state(ws: Workspace):
    """The writer's connection to the state: the warehouse itself on DuckDB; on Spark the
    DuckDB file that mirrors the state's journal in the warehouse_dir (`state.journal`)."""
    settings = ws.project.settings.engine
    if settings.kind != "spark":
        return engine.connect(ws.warehouse)
    from ..engines import journal

    con = journal.connect(ws.warehouse, Path(settings.warehouse_dir or ".") / "orchestrator")
    journal.compact(con)
    return con


@contextmanager
def data_engine(ws: Workspace, con, surveyed: Survey | None = None):
    """The engine the models' data lives on: the warehouse connection itself on DuckDB; on
    Spark a session started for this command (state rows still go through `con`), over the
    sources' files the command's survey found."""
    settings = ws.project.settings.engine
    if settings.kind != "spark":
        yield con
        return
    spark = _OnFirstUse(lambda: start_spark(ws, con, surveyed), con)
    try:
        yield spark
    finally:
        spark.stop()


class _OnFirstUse:
    """A Spark engine started when first used: a command that finds nothing to do (a run with
    every partition current, a scheduler tick) never pays for a JVM."""

    def __init__(self, start, control):
        self._start = start
        self._engine = None
        self.state = control  # where state rows go (see Spark.state): no session needed

    def __getattr__(self, name: str):
        if self._engine is None:
            self._engine = self._start()
        return getattr(self._engine, name)

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stop()


def start_spark(ws: Workspace, control, surveyed: Survey | None = None):
    """A Spark engine for the workspace: its sources with the glob of their files (those with
    a file yet), `control` the connection to the state (None: read no state)."""
    from ..engines.spark import engine as spark_engine
    from ..sources import survey

    found = surveyed or survey.take(ws.project)
    patterns = {}
    for source in ws.project.sources.values():
        if source.path and source.format and found.files(source):
            patterns[source.name] = survey.glob_pattern(ws.project.settings.root, source.path)
    return spark_engine.start(
        ws.project.settings.engine, ws.project.settings.root, ws.project.sources, patterns, control
    )


def _leave_state_copy(ws: Workspace, con) -> None:
    """What readers open while the next writer holds the warehouse (`readers`). Never fails
    the command that wrote: without a copy, readers only wait or say the warehouse is busy."""
    try:
        state.write_state_copy(con, state.state_copy_path(ws.warehouse))
    except Exception as exc:
        print(f"warning: the state copy for readers was not written: {exc}", file=sys.stderr)


@contextmanager
def cancellable(cancel: threading.Event):
    """SIGINT and SIGTERM set `cancel`: the executor interrupts the running tasks and rolls them
    back, and the run is recorded cancelled. A signal when `cancel` is already set stops at
    once, as KeyboardInterrupt in the main thread (SIGTERM too, so that the run can still be
    recorded cancelled on the way out). Only the main thread can install handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Progress(Reporter):
    """Passes progress on, and keeps the lock file's done/total current for other processes."""

    def __init__(self, inner: Reporter | None, lock: WriteLock):
        self.inner = inner or Reporter()
        self.lock = lock
        self.done = 0
        self.failed = 0
        self.last = 0.0

    def started(self, plan: Plan, run_id: int) -> None:
        self.lock.update(run_id=run_id, total=len(plan.units) + len(plan.held))
        self.inner.started(plan, run_id)

    def finished_task(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status in REJECTED
        if time.monotonic() - self.last > 0.5:
            self.last = time.monotonic()
            latest = f"{outcome.model} {outcome.key}: {outcome.status}"
            self.lock.update(done=self.done, failed=self.failed, latest=latest)
        self.inner.finished_task(outcome)

    def retrying(self, task, attempt: int, error: str, delay: float) -> None:
        self.inner.retrying(task, attempt, error, delay)


@dataclass
class Recording:
    """A run being recorded: the body sets how it ended with `finish`."""

    run_id: int
    status: str = "success"
    counts: Mapping[str, int] = field(default_factory=dict)

    def finish(self, status: str, counts: Mapping[str, int]) -> None:
        self.status, self.counts = status, counts


@contextmanager
def recorded_run(
    con,
    command: str,
    arguments: str,
    variables: Mapping[str, str],
    *,
    retryable: bool = False,
    env: str | None = None,
) -> Iterator[Recording]:
    """Record the body as a run: a `running` row with who, host and pid, finished with the
    status the body gave (`Recording.finish`). When the body raises, whatever it left open is
    rolled back (it must not commit with the run's record) and the run is recorded failed and
    the exception goes on; a KeyboardInterrupt (a second signal) is recorded cancelled and
    raised as RunStopped (`retryable`: its message says how to rerun what did not finish)."""
    run_id = state.start_run(
        con,
        command=command,
        arguments=arguments,
        variables=variables,
        who=who(),
        host=socket.gethostname(),
        pid=os.getpid(),
        started=utcnow(),
        tool_version=__version__,
        env=env,
    )
    recording = Recording(run_id)
    try:
        yield recording
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt)

        state.finish_run(
            con,
            run_id,
            status="cancelled" if stopped else "failed",
            finished=utcnow(),
            counts={},
            error="stopped at once by a second signal"
            if stopped
            else f"{type(exc).__name__}: {exc}",
        )
        if stopped:
            message = f"run {run_id} stopped at once by a second signal and recorded cancelled"
            if retryable:
                message += f"; `orchestrator retry --run {run_id}` reruns what it did not finish"
            raise RunStopped(message) from None
        raise
    state.finish_run(
        con, run_id, status=recording.status, finished=utcnow(), counts=recording.counts
    )


def authorize(
    ws: Workspace | None,
    command: str,
    *,
    root: Path | str | None = None,
    warehouse_path: Path | str | None = None,
) -> None:
    """Raise AccessDenied (and record the denial) when the user may not run `command`. Light
    commands pass `root` instead of a workspace: only the config is read."""
    if ws is not None:
        ops, target = ws.project.ops, ws.warehouse
    else:
        settings, ops = project_mod.load_operations(root or ".", warehouse_path)
        target = settings.warehouse
    reason = access.check(ops.access, who(), command)
    if reason is None:
        return
    if not target.exists():  # no warehouse to record it in: a denial creates none
        raise AccessDenied(reason)
    try:  # never waits for a writer: a denied command must not hold anyone up
        lock = WriteLock(target).acquire(f"{command} (denied)", who(), wait=None)
        try:
            con = open_state(ws) if ws is not None else engine.connect(target)
            try:
                state.ensure(con)
                state.add_audit(
                    con, utcnow(), who(), socket.gethostname(), command, "denied", reason
                )
            finally:
                con.close()
        finally:
            lock.release()
    except Exception:  # recording is best effort; the denial stands
        pass
    raise AccessDenied(reason)


def deny(con, command: str, reason: str) -> None:
    """Record the denial in the audit table of the open warehouse, and raise it."""
    state.add_audit(con, utcnow(), who(), socket.gethostname(), command, "denied", reason)
    raise AccessDenied(reason)


def check_protected(ws: Workspace, con, command: str, plan: Plan) -> None:
    """Refuse (and audit) a plan that rebuilds protected models the user may not touch."""
    protected = sorted({t.model for t in plan.tasks if ws.dag.models[t.model].protected})
    denial = access.check_protected(ws.project.ops.access, who(), protected)
    if denial:
        deny(con, command, denial)
