"""Readers never meet the lock. DuckDB lets no other process open a file while one writes it,
so a command that only looks (`status`, `plan`, `runs`, `sql`, the UI) opens the warehouse
read-only for as long as it reads, and while a run holds it either waits (`--wait`) or reads
the last state copy that every writing command leaves beside the warehouse
(`state.mirror`), and says how old that is.

What to do when the warehouse is held, and what to tell the user, travel in a context (one per
command, or per request of a server) rather than through every signature in between.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from ..core.errors import WarehouseBusy
from ..state.mirror import state_copy_path
from . import engine
from .lock import describe, is_alive, read_holder


@dataclass
class Policy:
    """How the readers of one command behave: `wait` seconds for a writer (None: not at all,
    negative: as long as it takes), and the notes they leave for the user."""

    wait: float | None = None
    notes: list[str] = field(default_factory=list)
    spare_writer: bool = False  # state alone will do: read the copy as soon as a run holds the lock


_POLICY: ContextVar[Policy | None] = ContextVar("orchestrator_readers", default=None)


@contextmanager
def reading_policy(wait: float | None = None, *, spare_writer: bool = False) -> Iterator[Policy]:
    policy = Policy(wait, spare_writer=spare_writer)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def current_policy() -> Policy:
    """The policy of the command or request under way (a default one outside any)."""
    return _POLICY.get() or Policy()


class Opened(NamedTuple):
    con: engine.DuckDB
    copy: bool  # the last state copy (no data of the models), not the warehouse itself


def connect(warehouse: Path) -> Opened:
    """The warehouse, read-only; while a writer holds it (and the policy does not wait, or
    waited long enough), its last state copy, with a note saying whose run and how old."""
    policy = current_policy()
    deadline = None
    if policy.wait is not None and policy.wait >= 0:
        deadline = time.monotonic() + policy.wait
    copy = state_copy_path(warehouse)
    while True:
        try:
            if policy.spare_writer and copy.exists() and _writer_elsewhere(warehouse):
                raise WarehouseBusy("a writer holds the lock")  # not even a moment in its way
            return Opened(engine.connect(warehouse, read_only=True), False)
        except WarehouseBusy:
            waiting = policy.wait is not None and (deadline is None or time.monotonic() < deadline)
            if waiting:
                time.sleep(0.2)
                continue
            if not copy.exists():
                raise
            opened = Opened(engine.connect(copy, read_only=True), True)
            taken = datetime.fromtimestamp(copy.stat().st_mtime, UTC)
            policy.notes.append(
                f"note: the warehouse is being written by {describe(read_holder(warehouse))}; "
                f"this is its state as of {taken:%Y-%m-%d %H:%M:%S} UTC, before that run "
                "(--wait waits for it to finish)"
            )
            return opened


def _writer_elsewhere(warehouse: Path) -> bool:
    """Does another live process hold the write lock? Then a reader goes to the state copy
    at once rather than open the file in the moment the writer needs it (DuckDB would make
    the writer wait for the reader)."""
    holder = read_holder(warehouse)
    return bool(holder) and holder.get("pid") != os.getpid() and is_alive(holder)
