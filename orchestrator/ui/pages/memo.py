"""Pages remembered for one state of the world (the warehouse, its state copy, the source
files, the project, the minute), and the project's status they share: planning ten thousand
models takes seconds, a page must not."""

from __future__ import annotations

import threading
from pathlib import Path

from ...app import views
from ...app.workspace import Workspace, now
from ...engines import lock, readers
from ...sources import survey
from ...sources.survey import Survey
from ...state.mirror import state_copy_path
from .shared import reading

_MEMO: dict[tuple, tuple[object, list[str]]] = {}  # (warehouse, key) -> (value, notes)
_WORLDS: dict[Path, tuple[Workspace, tuple, Survey]] = {}  # warehouse -> the state remembered for
_MEMO_LOCK = threading.RLock()  # a page remembered may ask for the project status, remembered too
_MEMO_SIZE = 256
_COMPUTING = threading.local()  # the world a page being computed belongs to, for what it asks


def remember(ws: Workspace, key: tuple, compute):
    """`compute()`, once for each state of the world, shared by every request until that
    changes: the warehouse, its state copy, a source file, the project (a new `ws`) or the
    minute. Planning ten thousand models, or a hundred thousand hourly partitions, takes
    seconds; a page must not. One request computes, the others wait for it; the notes its
    reads left (a run holds the warehouse...) come back with it. When the world changes, all
    that was remembered of it is forgotten at once."""
    policy = readers.current_policy()
    outer = getattr(_COMPUTING, "stamp", None)
    # within a page being computed: that page's world
    stamp, surveyed = outer or _stamp(ws)
    at = (ws.warehouse, *key)
    with _MEMO_LOCK:
        world = _WORLDS.get(ws.warehouse)
        if world is None or world[0] is not ws or world[1] != stamp:
            for old in [k for k in _MEMO if k[0] == ws.warehouse]:
                del _MEMO[old]
            _WORLDS[ws.warehouse] = (ws, stamp, surveyed)
        cached = _MEMO.get(at)
        if cached is not None:
            policy.notes.extend(cached[1])
            return cached[0]
        before = len(policy.notes)
        _COMPUTING.stamp = (stamp, surveyed)
        try:
            found = compute()
        finally:
            _COMPUTING.stamp = outer
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[at] = (found, policy.notes[before:])
        return found


class Remembered:
    """A page remembered, with what is made from it (its JSON, its HTML) kept beside it: made
    from this very value, so never from a page of an older state."""

    def __init__(self, value):
        self.value = value
        self._made: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def made(self, key: tuple, make):
        with self._lock:
            if key not in self._made:
                if len(self._made) >= 16:  # HTML per progress of a run: keep the latest few
                    self._made.pop(next(iter(self._made)))
                self._made[key] = make()
            return self._made[key]


def warm(ws: Workspace) -> None:
    """Compute the project's status ahead of the first page (the server does it as it
    starts, in a thread): on ten thousand models that takes seconds nobody should wait for."""
    try:
        with reading():
            project_status(ws)
    except Exception:  # noqa: BLE001 - the first page that asks reports it, as one line
        pass


def project_status(ws: Workspace) -> views.ProjectStatus:
    """The whole project's status (see `remember`)."""
    return remember(ws, ("project_status",), lambda: views.project_status(ws, sources_survey(ws)))


def sources_survey(ws: Workspace) -> Survey:
    """The sources' files as the world the page belongs to found them (see `remember`)."""
    computing = getattr(_COMPUTING, "stamp", None)
    if computing is not None:
        return computing[1]
    with _MEMO_LOCK:
        world = _WORLDS.get(ws.warehouse)
    return world[2] if world is not None and world[0] is ws else survey.take(ws.project)


def _stamp(ws: Workspace) -> tuple[tuple, Survey]:
    """What the status depends on besides the project, cheap to take: file times and sizes,
    and who holds the write lock; with the survey of the sources' files it was taken from."""

    def stat(path: Path):
        try:
            found = path.stat()
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size

    warehouse = ws.warehouse
    files = (warehouse, warehouse.with_name(warehouse.name + ".wal"), state_copy_path(warehouse))
    surveyed = survey.take(ws.project)
    sources = tuple(
        (name, tuple((f.path, (f.mtime_ns, f.size)) for f in listed))
        for name, listed in sorted(surveyed.listed.items())
    )
    holder = lock.read_holder(warehouse)  # a run starting or ending changes what pages read
    writer = (holder.get("pid"), holder.get("run_id")) if lock.is_alive(holder) else None
    stamp = (
        tuple(stat(f) for f in files),
        sources,
        writer,
        now().replace(second=0, microsecond=0),
    )
    return stamp, surveyed
