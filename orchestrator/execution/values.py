"""The values an execution works with: its options, the outcome of a task, the progress
callbacks, and what the tasks of one run share while it runs."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..core import clock
from ..core.fingerprints import Prints
from ..core.partitions import Window
from ..core.snapshot import Built, Publication
from ..core.tasks import Plan, Task
from ..project.dag import DAG
from ..project.model import Model


def utcnow() -> datetime:
    """The one clock (`clock.now`: ORCHESTRATOR_NOW pins it)."""
    return clock.now()


@dataclass
class Outcome:
    """How one task (or one held task) ended."""

    model: str
    key: str
    status: str  # a Status: success | failed | check_failed | timed_out | cancelled | skipped ...
    reason: str
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None
    task: Task | None = None
    window: Window | None = None
    checks: tuple = ()
    attempts: int = 1
    remedy: str | None = None  # the command that fixes it, when retrying would not

    def __post_init__(self):
        if self.window is None and self.task is not None:
            self.window = self.task.window


class Reporter:
    """Receives progress; the CLI prints it. The default reports nothing."""

    def started(self, plan: Plan, run_id: int) -> None: ...

    def finished_task(self, outcome: Outcome) -> None: ...

    def retrying(self, task: Task, attempt: int, error: str, delay: float) -> None: ...


@dataclass(frozen=True)
class Policy:
    """How hard to try one model's tasks."""

    retries: int = 2  # extra attempts after a transient error
    retry_delay: timedelta = timedelta(seconds=5)
    retry_max_delay: timedelta = timedelta(minutes=5)
    timeout: timedelta | None = None

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): doubling, capped, jittered (half
        fixed, half random, so retries of many tasks do not land together)."""
        base = self.retry_delay.total_seconds() * 2 ** (attempt - 1)
        capped = min(base, self.retry_max_delay.total_seconds())
        return capped / 2 + random.uniform(0, capped / 2)


def _default_policy(model: Model) -> Policy:
    return Policy()


@dataclass(frozen=True)
class Options:
    """How to execute one plan. `session(task)` gives the files each read-by-partition source
    means for the task, bound on its cursor first (`bind_files`); `policy(model)` the retries
    and timeout of a model's tasks; setting `cancel` stops the run."""

    run_id: int
    variables: Mapping[str, str]
    threads: int = 1
    reporter: Reporter = field(default_factory=Reporter)
    now: Callable[[], datetime] = utcnow
    default_schema: str = "main"
    session: Callable[[Task], list[tuple[str, list[str] | None]]] | None = None
    # what a partition task reads from sources (their fingerprints), recorded with its build
    reads: Callable[[object, Task], Prints] | None = None
    policy: Callable[[Model], Policy] = _default_policy
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class Live:
    """The execution's view of what is published, updated as tasks commit."""

    built: dict[str, dict[str, Built]]
    relations: dict[str, str]
    shadows: dict[str, dict[str, Publication]] = field(default_factory=dict)
    columns_checked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Shared:
    """What every task of one run shares."""

    dag: DAG
    live: Live
    options: Options
    recorded: Mapping[str, frozenset[str]]  # see Snapshot
    active: dict[int, object] = field(default_factory=dict)  # task id -> cursor in use
    # per cursor, the search_path it was last given (setting it again costs a statement)
    paths: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def interrupt_all(self) -> None:
        with self.lock:
            for cur in self.active.values():
                cur.interrupt()
