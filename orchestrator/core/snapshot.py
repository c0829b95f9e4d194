"""What the planner and the executor know of the warehouse's state, as plain values: the
published build of each partition (`Built`, gathered in a `Snapshot`), one attempt of a task
(`TaskRecord`) and a publication (`Publication`). No I/O: `state` reads and writes the tables
these values come from and go to.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from .fingerprints import Holding, Prints
from .partitions import WHOLE


@dataclass(frozen=True, slots=True)
class Built:
    """The published build of one partition (or of a whole table or view)."""

    key: str
    version: str
    run: int
    layout: str = ""
    inputs: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    vars: Mapping[str, str] = field(default_factory=dict)
    rows: int | None = None
    sources: Prints = field(default_factory=dict)  # what it read from sources (fingerprints)
    # the run whose build last changed what readers read: a rebuild by a non-breaking change
    # (a column added, or one no reader reads, changed) keeps its predecessor's, so readers
    # that recorded it stay current (None: `run`)
    data_run: int | None = None

    @property
    def read_run(self) -> int:
        """The run readers' markers compare with."""
        return self.run if self.data_run is None else self.data_run


@dataclass(frozen=True, slots=True)
class Failure:
    """A partition's latest attempt, when it was rejected: what ran, when, and which version."""

    status: str
    run: int
    at: datetime | None
    version: str
    sources: Prints = field(default_factory=dict)  # what the attempt read from sources
    # the published build itself fails a blocking check (found by `check`): it is still
    # what readers read, so they are held back until a fix or a rebuild passes
    on_published: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What the warehouse holds: built partitions per model, and which relations exist."""

    built: Mapping[str, Mapping[str, Built]] = field(default_factory=dict)
    relations: Mapping[str, str] = field(default_factory=dict)  # name -> 'table' or 'view'
    # every partition with a row in orchestrator.partitions, built or not (a first build of
    # one that has none needs no DELETE of its row)
    recorded: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # what the sources that builds depend on hold now (filled in before planning)
    holdings: Mapping[str, tuple[Holding, ...]] = field(default_factory=dict)
    # per model: partitions whose latest attempt was rejected (failed, check_failed, timed out)
    failed: Mapping[str, Mapping[str, Failure]] = field(default_factory=dict)
    # per model: built partitions whose latest run held them back (waiting, blocked, skipped):
    # once the plan finds their build current again, that build is their state again
    held: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, model: str, key: str = WHOLE) -> Built | None:
        return self.built.get(model, {}).get(key)


EMPTY = Snapshot()


def encode_inputs(inputs: Mapping[str, tuple[int, int]]) -> str:
    return json.dumps(
        [{"model": m, "partitions": n, "run": r} for m, (n, r) in sorted(inputs.items())]
    )


def encode_sources(prints: Prints) -> str | None:
    if not prints:
        return None
    return json.dumps({s: dict(sorted(p.items())) for s, p in sorted(prints.items())})


@functools.lru_cache(maxsize=16384)
def decode_sources(text: str | None) -> Prints:
    if not text:
        return MappingProxyType({})
    return MappingProxyType({s: MappingProxyType(p) for s, p in json.loads(text).items()})


@functools.lru_cache(maxsize=16384)
def decode_vars(text: str | None) -> Mapping[str, str]:
    return MappingProxyType(json.loads(text)) if text else MappingProxyType({})


@functools.lru_cache(maxsize=16384)
def decode_inputs(text: str | None) -> Mapping[str, tuple[int, int]]:
    """Cached by text: the partitions of one model mostly record the same inputs and sources
    (a daily model over a daily upstream), and their values are immutable, so one decoded
    value serves them all; ten thousand models of a month are 300,000 rows to read."""
    if not text:
        return MappingProxyType({})
    return MappingProxyType({i["model"]: (i["partitions"], i["run"]) for i in json.loads(text)})


@dataclass(frozen=True)
class TaskRecord:
    """One attempt of one task, as it goes into task_runs."""

    run_id: int
    task_id: int
    model: str
    key: str
    start: datetime | None
    end: datetime | None
    attempt: int
    status: str
    reason: str
    started: datetime
    finished: datetime
    rows: int | None = None
    version: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Publication:
    """A partition (or whole table/view) as published: what the partitions table remembers."""

    model: str
    key: str
    start: datetime | None
    end: datetime | None
    version: str
    layout: str
    inputs: Mapping[str, tuple[int, int]]
    vars: Mapping[str, str]
    run_id: int
    rows: int | None
    built_at: datetime
    sources: Prints = field(default_factory=dict)
    data_run: int | None = None  # see Built.data_run

    def built(self) -> Built:
        return Built(
            self.key,
            self.version,
            self.run_id,
            self.layout,
            MappingProxyType(dict(self.inputs)),
            MappingProxyType(dict(self.vars)),
            self.rows,
            self.sources,
            self.data_run,
        )
