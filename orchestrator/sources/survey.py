"""Where the declared sources' files are, listed once per command: the `Survey`.

A file source's `path` is a glob relative to the project root that may carry partition
placeholders: `{date}` (YYYY-MM-DD), `{month}` (YYYY-MM), `{year}` (YYYY), `{hour}` (HH), e.g.
`data/payments/payments_{date}.csv`; the finest one sets the source's grain. The source's view
reads every file (placeholders become `*`); a partition window has arrived when a file for each
of its periods exists.

A command lists every source's files (with their sizes and times) once, at its start, and hands
the survey down: planning, gating, the catalog's views, what each task binds and records all
read this one listing instead of globbing the disk again, so they agree on what the sources hold.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

from ..core.partitions import Window, windows
from ..core.tasks import Task
from ..project.dag import DAG
from ..project.model import PLACEHOLDERS, Project, Source

_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

_KEY_PATTERNS = {
    "date": r"(?P<date>\d{4}-\d{2}-\d{2})",
    "month": r"(?P<month>\d{4}-\d{2})",
    "year": r"(?P<year>\d{4})",
    "hour": r"(?P<hour>\d{2})",
}


def absolute(root: Path, path: str) -> str:
    """A source's path as an absolute one (relative paths are the project root's)."""
    return str(Path(path) if Path(path).is_absolute() else root / path)


def glob_pattern(root: Path, path: str) -> str:
    """The absolute glob for every file of a source (placeholders become `*`)."""
    return _PLACEHOLDER.sub("*", absolute(root, path))


def window_pattern(root: Path, path: str, window: Window) -> str:
    """The absolute glob for the files of one period of the source's grain."""
    start = window.start
    values = {
        "date": f"{start:%Y-%m-%d}",
        "month": f"{start:%Y-%m}",
        "year": f"{start:%Y}",
        "hour": f"{start:%H}",
    }
    return _PLACEHOLDER.sub(lambda m: values[m[1]], absolute(root, path))


def matching_files(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern, recursive=True))


def glob_matches(path: str, pattern: str) -> bool:
    """Would `glob.glob(pattern, recursive=True)` find `path` (a file it lists for some pattern
    of the same source)? Name by name, as glob matches: `*` never crosses a `/`, and `**` as a
    whole name stands for any number of folders, none included."""
    return _names_match(path.split("/"), pattern.split("/"))


def _names_match(names: list[str], patterns: list[str]) -> bool:
    if not patterns:
        return not names
    first, rest = patterns[0], patterns[1:]
    if first == "**":
        return any(_names_match(names[i:], rest) for i in range(len(names) + 1))
    return bool(names) and fnmatchcase(names[0], first) and _names_match(names[1:], rest)


def _ambiguous(path: str) -> bool:
    """Can a placeholder's value be read from a file name in more than one way (a wildcard in
    the same name as a placeholder)? Then a file may belong to several periods."""
    return any(
        _PLACEHOLDER.search(name) and re.search(r"[*?\[]", _PLACEHOLDER.sub("", name))
        for name in path.split("/")
    )


def has_placeholders(path: str | None) -> bool:
    return bool(path and _PLACEHOLDER.search(path))


def file_periods(root: Path, source: Source) -> Callable[[str], Window | None]:
    """The period (of the source's grain) each of its files holds, from the values of its
    path's placeholders; None for a file the path does not name (a placeholder used twice must
    hold the same value both times)."""
    pattern = re.escape(absolute(root, source.path or ""))
    for name, regex in _KEY_PATTERNS.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), regex, 1)
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P={name})")
    matcher = re.compile(pattern.replace(re.escape("*"), "[^/]*") + "$")

    def period(path: str) -> Window | None:
        m = matcher.match(path)
        if not m:
            return None
        parts = m.groupdict()
        day = parts.get("date") or (
            parts.get("month", "") + "-01"
            if parts.get("month")
            else (parts.get("year", "") + "-01-01")
        )
        try:
            stamp = datetime.strptime(day, "%Y-%m-%d").replace(hour=int(parts.get("hour") or 0))
        except ValueError:  # shaped like a period but none (2024-02-30, hour 25): not one
            return None
        return Window.containing(stamp, source.grain)

    return period


@dataclass(frozen=True)
class Listed:
    """One file of a source as the survey found it."""

    path: str
    size: int
    mtime: float  # seconds, as `os.stat` gives them (the freshness of file sources)
    mtime_ns: int  # exact, for fingerprints


@dataclass(frozen=True)
class Survey:
    """Every declared file source's files, sorted by path, as one command found them."""

    root: Path
    listed: Mapping[str, tuple[Listed, ...]]
    by_path: Mapping[str, Listed] = field(default_factory=dict)
    # per source with placeholders: its files by the period their names hold, and the files
    # whose names hold no period the placeholders can read (matched by glob per window)
    by_period: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    unplaced: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def files(self, source: Source) -> list[str]:
        """Every file the source's path matches (none for a source that is a table)."""
        return [f.path for f in self.listed.get(source.name, ())]

    def stat(self, path: str) -> Listed | None:
        return self.by_path.get(path)

    def window_files(self, source: Source, window: Window) -> list[str]:
        """The files of one period (of the source's grain) of a source with placeholders:
        exactly those a glob of `window_pattern` finds. The files whose names hold that period
        are the candidates (with those that name none); where a name can be read more than one
        way, every file is."""
        pattern = window_pattern(self.root, source.path or "", window)
        if _ambiguous(source.path or ""):
            candidates = self.files(source)
        else:
            placed = self.by_period.get(source.name, {}).get(window.key, ())
            candidates = sorted([*placed, *self.unplaced.get(source.name, ())])
        return [f for f in candidates if glob_matches(f, pattern)]

    def span_files(self, source: Source, window: Window) -> list[str]:
        """The files of every period of the source's grain within `window`, in period order."""
        return [
            f
            for w in windows(window.start, window.end, source.grain)
            for f in self.window_files(source, w)
        ]

    def newest(self, files: list[str]) -> str:
        """The most recently modified of `files`."""
        return max(files, key=lambda f: self.by_path[f].mtime if f in self.by_path else 0.0)


def take(project: Project) -> Survey:
    """List every file source's files once (a stat each): the survey a command hands down."""
    listed: dict[str, tuple[Listed, ...]] = {}
    by_period: dict[str, dict[str, tuple[str, ...]]] = {}
    unplaced: dict[str, tuple[str, ...]] = {}
    for name, source in project.sources.items():
        if not source.path:
            continue
        found = []
        for path in matching_files(glob_pattern(project.root, source.path)):
            try:
                stat = os.stat(path)
            except OSError:  # gone between the listing and the stat: not there
                continue
            found.append(Listed(path, stat.st_size, stat.st_mtime, stat.st_mtime_ns))
        listed[name] = tuple(found)
        if has_placeholders(source.path):
            period = file_periods(project.root, source)
            groups: dict[str, list[str]] = {}
            odd = []
            for f in found:
                held = period(f.path)
                if held is None:
                    odd.append(f.path)
                else:
                    groups.setdefault(held.key, []).append(f.path)
            by_period[name] = {k: tuple(v) for k, v in groups.items()}
            unplaced[name] = tuple(odd)
    by_path = {f.path: f for files in listed.values() for f in files}
    return Survey(project.root, listed, by_path, by_period, unplaced)


def bindings(
    survey: Survey, project: Project, dag: DAG, task: Task
) -> list[tuple[str, list[str] | None]]:
    """Before a task runs: point every read-by-partition source at the files of the task's
    window when its model reads it, and at all files (None) otherwise (a cursor serves many
    tasks). The engine applies them (`bind_files`)."""
    statements: list[tuple[str, list[str] | None]] = []
    reads = set(dag.sources_read(task.model))
    for source in project.sources.values():
        if not source.read_by_partition:
            continue
        files = None
        if source.name in reads and task.window is not None and source.path:
            files = survey.span_files(source, task.window)
        statements.append((source.name, files))
    return statements
