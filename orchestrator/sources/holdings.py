"""What each declared source holds now, as fingerprints (`fingerprints` says what they mean):
the files' sizes, times and content hashes, or per period the rows and their hashes.

Two moments read them. Before planning, `current` prints every source that a recorded build
(or a rejected attempt) depends on, hashing only files whose size or time differ from what was
recorded. Before a task writes, `read_by` prints what it is about to read; the build (or the
rejected attempt) records it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from ..core.fingerprints import Holding, Prints, file_print, held_in, rows_print, stat_matches
from ..core.partitions import WHOLE, Window
from ..core.snapshot import Snapshot
from ..core.tasks import Task
from ..project.dag import DAG
from ..project.model import Project, Source
from . import probes
from .freshness import reader
from .survey import Survey, file_periods, has_placeholders

HASH_LIMIT = 256 * 1024 * 1024
"""Files up to this size are hashed (once per change: an unchanged size and time reuse the
recorded hash); larger ones are compared by size and modification time."""


def tracked(source: Source | None, window: Window | None) -> bool:
    """Does a reader of `window` (None: a whole table) depend on what this source holds?"""
    return source is not None and not source.immutable and (window is None or source.partitioned)


def current(
    con, project: Project, dag: DAG, snapshot: Snapshot, survey: Survey
) -> dict[str, tuple[Holding, ...]]:
    """What the sources that recorded builds depend on hold now (no record: nothing to compare,
    nothing read)."""
    known: dict[str, dict[str, str]] = {}
    for model in dag.models:
        recorded = [b.sources for b in snapshot.built.get(model, {}).values()]
        recorded += [f.sources for f in snapshot.failed.get(model, {}).values()]
        for sources in recorded:
            for source, prints in sources.items():
                known.setdefault(source, {}).update(prints)
    return {
        name: held(con, project, project.sources[name], known[name], survey)
        for name in sorted(known)
        if name in project.sources and not project.sources[name].immutable
    }


def read_by(
    con,
    project: Project,
    dag: DAG,
    task: Task,
    known: Mapping[str, tuple[Holding, ...]],
    survey: Survey,
) -> Prints:
    """The prints of what one partition task (or whole table) reads, to record with its build.
    `known`: what planning found, so an unchanged file is not hashed twice."""
    prints: dict[str, dict[str, str]] = {}
    for name in dag.sources_read(task.model):
        source = project.sources.get(name)
        if not tracked(source, task.window):
            continue
        before = {h.item: h.print for h in known.get(name, ())}
        found = held(con, project, source, before, survey, task.window, hash_all=True)
        prints[name] = held_in(found, task.window)
    return prints


def held(
    con,
    project: Project,
    source: Source,
    known: Mapping[str, str],
    survey: Survey,
    window: Window | None = None,
    hash_all: bool = False,
) -> tuple[Holding, ...]:
    """What `source` holds (in `window`, or all of it). A file is hashed when `hash_all` asks
    or when its size or time differ from its `known` print (else that print's hash holds)."""
    import duckdb  # imported when used: the CLI starts faster without it

    if source.path:
        if has_placeholders(source.path):
            return _placed_files(survey, source, known, window, hash_all)
        files = survey.files(source)
        if not source.partition_by:
            return tuple(_file(survey, f, None, known, hash_all) for f in files)
        if not files:
            return ()
    else:
        files = []
    target = reader(project, source, files)
    try:
        if source.partition_by:
            rows = con.execute(
                probes.period_prints(target, source.partition_by, source.grain, window)
            ).fetchall()
            spans = [(Window.containing(p, source.grain), n, h) for p, n, h in rows if p]
            return tuple(
                Holding(w.key, rows_print(n, h), w.start, w.end) for w, n, h in sorted(spans)
            )
        count, hashed = con.execute(probes.whole_print(target)).fetchone()
        return (Holding(WHOLE, rows_print(count, hashed)),)
    except duckdb.Error:
        return ()  # not there or unreadable: arrival and drift gates say so, not this


def _placed_files(
    survey: Survey,
    source: Source,
    known: Mapping[str, str],
    window: Window | None,
    hash_all: bool,
) -> tuple[Holding, ...]:
    files = survey.files(source) if window is None else sorted(survey.span_files(source, window))
    period = file_periods(survey.root, source)
    return tuple(
        _file(survey, f, found, known, hash_all) for f in files if (found := period(f)) is not None
    )


def _file(
    survey: Survey, path: str, period: Window | None, known: Mapping[str, str], hash_all: bool
) -> Holding:
    item = os.path.relpath(path, survey.root)
    listed = survey.stat(path)
    size, mtime_ns = (listed.size, listed.mtime_ns) if listed else _stat(path)
    before = known.get(item)
    if before is not None and stat_matches(before, size, mtime_ns):
        text = before
    elif (hash_all or before is not None) and size <= HASH_LIMIT:
        text = file_print(size, mtime_ns, _sha256(path))
    else:
        text = file_print(size, mtime_ns)
    start, end = (period.start, period.end) if period else (None, None)
    return Holding(item, text, start, end)


def _stat(path: str) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_size, found.st_mtime_ns


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
