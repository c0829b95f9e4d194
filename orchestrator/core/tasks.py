"""What the planner decides, as values: a `Plan` of `Task`s (each with its `Reason` and
`Action`), the `Held` tasks that will not run and the `Gate` that holds them, for a `Request`.
The planner makes them; the executor, the reports and the state records read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .partitions import WHOLE, Window
from .status import HOLDS, rank

Marker = tuple[int, int]
"""(number of upstream partitions read, latest run that built one of them)."""


class Reason(StrEnum):
    MISSING = "missing"
    MODEL_CHANGED = "stale: model changed"
    VARS_CHANGED = "stale: vars changed"
    UPSTREAM_REBUILT = "stale: upstream rebuilt"
    SOURCE_CHANGED = "stale: source changed"
    REQUESTED = "requested"
    FULL_REFRESH = "full refresh"
    RETRY = "retry"
    ADOPTED = "adopted"  # built by another tool, already right: recorded, not written


class Action(StrEnum):
    BUILD = "build"  # write the partition, table or view in place
    SHADOW = "shadow"  # full refresh of an incremental model: write into its shadow table
    SWAP = "swap"  # publish the shadow table in place of the model's table, in one transaction
    ADOPT = "adopt"  # record what is already there as built, after its blocking checks pass


@dataclass(frozen=True)
class Change:
    """How a model's current SQL differs from what built it: `breaking` (readers must be
    rebuilt), `non-breaking` (columns added, or changed where no reader reads them: readers
    keep their data) or `forward-only` (built partitions keep their data; new ones use the new
    SQL); `detail` says what changed, for the plan's reason."""

    category: str
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{self.category}: {self.detail}" if self.detail else self.category


@dataclass(frozen=True)
class Request:
    selected: frozenset[str]
    now: datetime
    vars: Mapping[str, str] = field(default_factory=dict)
    full_refresh: bool = False
    backfill: tuple[datetime, datetime] | None = None
    strict_vars: bool = True  # a missing var is an error (off for status, which only looks)
    excluded: frozenset[str] = frozenset()  # never touched, not even downstream of a backfill
    # `orchestrator retry`: exactly these partitions, and these models rebuilt whole
    retry: Mapping[str, frozenset[str]] | None = None
    retry_whole: frozenset[str] = frozenset()
    retry_of: int | None = None  # the run `retry` redoes what it left undone
    batch_size: int | None = None  # partitions per task for every model (None: each model's own)
    # models whose SQL or settings differ from their builds: how (see `Change`)
    changes: Mapping[str, Change] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    model: str
    window: Window | None
    reason: Reason
    action: Action = Action.BUILD
    deps: tuple[int, ...] = ()  # ids of the partition tasks it reads (inside batches or not)
    # a batch: the consecutive partition tasks it writes at once (`window` spans them all);
    # each keeps its own id, reason and dependencies, and is recorded as a partition of its own
    parts: tuple[Task, ...] = ()
    detail: str = ""  # what the reason is about (the source files that changed)
    # a rebuild by a non-breaking change: what its readers read stays as it was, so they are
    # not rebuilt (its build keeps the data run of the one it replaces)
    keeps_readers: bool = False

    @property
    def why(self) -> str:
        """The reason as people read it: `stale: source changed (orders_2026-11-02.csv)`."""
        return f"{self.reason} ({self.detail})" if self.detail else str(self.reason)

    @property
    def key(self) -> str:
        if self.parts:
            return f"{self.parts[0].key}..{self.parts[-1].key}"
        return self.window.key if self.window else WHOLE

    @property
    def units(self) -> tuple[Task, ...]:
        """The partition tasks this task carries out: its parts, or itself."""
        return self.parts or (self,)


@dataclass(frozen=True, slots=True)
class Held:
    """A task that will not run in this plan, and why."""

    model: str
    window: Window | None
    status: str
    reason: str
    origin: str = ""  # "model[key]" of the task the hold began at, when it was passed down
    cause: str = ""  # the reason it began with

    @property
    def key(self) -> str:
        return self.window.key if self.window else WHOLE


@dataclass(frozen=True)
class Plan:
    tasks: tuple[Task, ...]
    held: tuple[Held, ...]
    models: tuple[str, ...]
    request: Request
    # incremental models without `start` that have no partition: only a backfill builds them
    backfill_only: tuple[str, ...] = ()
    # (model, key) whose latest attempt failed but whose published build is current: the
    # failure is no longer the state (nothing to rebuild, nothing to alert about)
    settled: tuple[tuple[str, str], ...] = ()
    # (model, its checks that never judged its published data): the run judges them
    unjudged: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (forward-only model, its built partitions of an older version): they keep their data
    forward_only: tuple[tuple[str, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.tasks and not self.held

    @property
    def units(self) -> tuple[Task, ...]:
        """Every partition task, batches opened up: what is recorded and reported per partition."""
        return tuple(u for t in self.tasks for u in t.units)

    def first_tasks(self) -> dict[str, Task]:
        """Each model's first writing task (a rebuild's swap writes nothing of its own): what
        a check done once per model before the run (binding, Spark's analysis) looks at."""
        first: dict[str, Task] = {}
        for task in self.tasks:
            if task.action is not Action.SWAP:
                first.setdefault(task.model, task)
        return first


@dataclass(frozen=True, slots=True)
class Gate:
    """Why a task may not run yet: `waiting` (its input has not arrived) or `blocked` (its input
    is stale or drifted, someone must act), or `skipped` (an input it needs is not built)."""

    status: str
    reason: str
    origin: str = ""  # where the hold began, "model[key]", when it was passed down
    cause: str = ""  # the reason it began with


BROKEN = "broken: "
"""How the reason of a broken model's hold begins (`broken: models/x.sql:3: ...`): it is held
back as `blocked` (someone must fix the file), and so is what reads it."""


def broken_gate(model: str, error: str) -> Gate:
    """The hold of what reads broken `model`: until its file loads, nothing is built on it."""
    where = error.split(": ")[0]  # the file and line: the error itself is said at the model
    return Gate("blocked", f"waits for {model}: broken ({where})", model, f"{BROKEN}{error}")


def worst(gates: list[Gate]) -> Gate:
    """The gate to report when several inputs are not ready."""
    return min(gates, key=lambda g: rank(g.status, HOLDS))
