"""Sources: whether a partition has arrived, how fresh they are, and whether their columns
still match what was declared, judged over the command's `Survey` of their files.

A window of a source with placeholders has arrived when a file for each of its periods exists;
a source with `partition_by` (a table, or files without placeholders) has arrived for a window
when it holds rows in it.

What this finds becomes gates for the planner: `waiting` (not arrived yet: a later run picks it
up) or `blocked` (stale past `error_after`, or columns drifted from `columns`: someone must act).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..core.column_types import canonical_types, column_differences
from ..core.errors import essential, first_line
from ..core.partitions import WHOLE, Window, floor, windows
from ..core.tasks import Action, Gate, Task, worst
from ..project.dag import DAG
from ..project.model import Project, Source
from . import probes
from .survey import Listed, Survey, file_periods, has_placeholders, window_pattern


def reader(project: Project, source: Source, files: Sequence[str]) -> str:
    """What to select from to read a source (`probes.reader`). On Spark a source that is a
    table lives in the warehouse_dir, which the state's connection does not hold: its Parquet
    files are read instead, as Spark wrote them."""
    if files or source.path or project.settings.engine.kind != "spark":
        return probes.reader(source, files)
    from ..engines.spark import files as spark_files

    found = spark_files.table_files(project.settings.engine, project.root, source.name)
    return probes.table_files_reader(found) if found else probes.reader(source, files)


def table_exists(con, project: Project, source: Source) -> bool:
    """Does the table of a source without `path` exist (on Spark: hold data files)?"""
    if project.settings.engine.kind == "spark":
        from ..engines.spark import files as spark_files

        return bool(spark_files.table_files(project.settings.engine, project.root, source.name))
    return bool(con.execute(*probes.table_exists(source)).fetchone()[0])


@dataclass(frozen=True)
class SourceStatus:
    """A whole-source evaluation, as recorded in orchestrator.freshness."""

    source: str
    checked_at: datetime
    latest: datetime | None
    lag: timedelta | None
    status: str  # fresh | warn | stale | drifted | missing | unchecked
    detail: str
    per_file: bool = False  # drift found in some files only: windows judge their own files

    def gate(self, windowed: bool = False) -> Gate | None:
        if self.status == "stale" or (
            self.status == "drifted" and not (windowed and self.per_file)
        ):
            return Gate("blocked", f"source {self.source} is {self.status}: {self.detail}")
        if self.status == "missing":
            return Gate("waiting", f"source {self.source} has no data yet: {self.detail}")
        return None

    def row(self, run_id: int | None) -> tuple:
        lag = self.lag.total_seconds() if self.lag is not None else None
        return (self.source, self.checked_at, run_id, self.latest, lag, self.status, self.detail)


class Inspector:
    """Evaluates sources on one connection, remembering what it found for the rest of the run."""

    def __init__(
        self,
        con,
        project: Project,
        now: datetime,
        survey: Survey,
        unreadable: Mapping[str, str] | None = None,
    ):
        self.con = con
        self.project = project
        self.now = now
        self.survey = survey
        self.unreadable = dict(unreadable or {})  # source -> why its view could not be made
        self.statuses: dict[str, SourceStatus] = {}
        self.windows: dict[tuple[str, str], Gate | None] = {}
        self._headers: dict[tuple[str, float, int], list[str]] = {}
        self._reads: dict[tuple[str, tuple[str, ...]], str] = {}

    # -- the whole source ---------------------------------------------------------------------

    def source_status(self, source: Source) -> SourceStatus:
        if source.name not in self.statuses:
            self.statuses[source.name] = self._evaluate(source)
        return self.statuses[source.name]

    def _evaluate(self, source: Source) -> SourceStatus:
        import duckdb

        if source.name in self.unreadable:
            return self._status(
                source, None, "drifted", f"cannot be read: {self.unreadable[source.name]}"
            )
        files: list[str] = []
        if source.path:
            files = self.survey.files(source)
            if not files:
                return self._status(source, None, "missing", f"no file matches {source.path}")
        elif not self._table_exists(source):
            return self._status(source, None, "missing", f"no table {source.name}")
        try:
            if files:
                self._probe(source, files[0])
            drift = self._whole_drift(source, files)
            latest = self._latest(source, files)
        except (duckdb.Error, OSError, csv.Error) as exc:
            return self._status(
                source, None, "drifted", f"cannot be read: {first_line(exc, named=False)}"
            )
        if drift:
            return self._status(
                source, latest, "drifted", drift, per_file=has_placeholders(source.path)
            )
        if files:
            # read as readers will: every row of the newest file (of each file without
            # placeholders), so a good header over an unreadable body is not "fresh"
            newest = [self.survey.newest(files)] if has_placeholders(source.path) else files
            why = self.unreadable_files(source, newest)
            if why:
                return self._status(
                    source, latest, "drifted", why, per_file=has_placeholders(source.path)
                )
        if latest is None:
            status = "stale" if source.error_after else "unchecked"
            return self._status(
                source, None, status, "no rows with a load time" if source.loaded_at else ""
            )
        lag = self.now - latest
        loaded = f"last loaded {latest:%Y-%m-%d %H:%M} UTC, {ago(lag)} ago"
        if source.error_after is not None and lag > source.error_after:
            return self._status(
                source, latest, "stale", f"{loaded} (error_after {ago(source.error_after)})", lag
            )
        if source.warn_after is not None and lag > source.warn_after:
            return self._status(
                source, latest, "warn", f"{loaded} (warn_after {ago(source.warn_after)})", lag
            )
        return self._status(source, latest, "fresh", f"last loaded {ago(lag)} ago", lag)

    def _status(
        self,
        source: Source,
        latest: datetime | None,
        status: str,
        detail: str,
        lag: timedelta | None = None,
        per_file: bool = False,
    ) -> SourceStatus:
        return SourceStatus(source.name, self.now, latest, lag, status, detail, per_file)

    def _probe(self, source: Source, path: str) -> None:
        """Bind the source's reader, options and all, on one of its files: a bad option (or a
        file it cannot read) shows here, before anything reads the source, not in its readers."""
        self.con.describe(probes.select_all(probes.untyped_reader(source, path)))

    def unreadable_files(self, source: Source, files: Sequence[str]) -> str:
        """Why these files cannot be read as the source's readers read them (every row and
        column, with the declared types and options), or ''."""
        import duckdb

        key = (source.name, tuple(files))
        if key not in self._reads:
            try:
                self.con.execute(probes.whole_print(probes.reader(source, files))).fetchone()
                self._reads[key] = ""
            except duckdb.Error as exc:
                self._reads[key] = f"cannot be read: {essential(str(exc))}"
        return self._reads[key]

    def files_gate(self, source: Source) -> Gate | None:
        """For a reader of every file of the source (a whole table): can all be read?"""
        if not source.path:
            return None
        files = self.survey.files(source)
        why = self.unreadable_files(source, files) if files else ""
        return Gate("blocked", f"source {source.name} {why}") if why else None

    def _stat(self, path: str) -> Listed:
        """A file's size and time as the survey found them (stat again: not listed)."""
        listed = self.survey.stat(path)
        if listed is None:
            found = os.stat(path)
            listed = Listed(path, found.st_size, found.st_mtime, found.st_mtime_ns)
        return listed

    def _table_exists(self, source: Source) -> bool:
        return table_exists(self.con, self.project, source)

    def _latest(self, source: Source, files: Sequence[str]) -> datetime | None:
        if source.loaded_at:
            target = reader(self.project, source, files)
            kind = self.con.execute(probes.type_of(target, source.loaded_at)).fetchone()
            # a time with a zone is read as UTC, whatever the session's zone
            with_zone = bool(kind and "TIME ZONE" in kind[0])
            newest = self.con.execute(probes.latest(target, source.loaded_at, with_zone))
            return newest.fetchone()[0]
        if files:
            newest = max(self._stat(f).mtime for f in files)
            return datetime.fromtimestamp(newest, UTC).replace(tzinfo=None)
        return None

    def _whole_drift(self, source: Source, files: Sequence[str]) -> str:
        """Column drift of the whole source. Files are judged one by one (a union of their
        columns would hide a file that lacks one)."""
        if not source.columns:
            return ""
        if not files:
            return self._drift(source, self._describe(reader(self.project, source, [])), typed=True)
        problems = []
        for f in files:
            found = self._file_drift(source, [f])
            if found:
                problems.append(f"{os.path.basename(f)}: {found}")
        if problems:
            more = f"; and {len(problems) - 3} more files" if len(problems) > 3 else ""
            return "; ".join(problems[:3]) + more
        return ""

    def _describe(self, target: str) -> list[tuple[str, str]]:
        return self.con.describe(probes.select_all(target))

    def _file_drift(self, source: Source, files: Sequence[str]) -> str:
        """Declared columns against the columns of these files. Text formats carry no types
        (a sniffed type varies with the data), so only their column names are compared."""
        if (source.format or "csv") == "csv":
            names: list[str] = []
            for f in files:
                names = [n for n in self._csv_header(source, f) if n not in names] + names
            return self._drift(source, [(n, "ANY") for n in names], typed=False)
        plain = probes.plain_reader(source, files)
        return self._drift(source, self._describe(plain), typed=source.format == "parquet")

    def _csv_header(self, source: Source, path: str) -> list[str]:
        """The column names in a CSV file's first line: cheap, and exact for drift."""
        stat = self._stat(path)
        key = (path, stat.mtime, stat.size)
        if key not in self._headers:
            options = source.options
            if options.get("header") is False:
                described = self._describe(probes.plain_reader(source, [path]))
                self._headers[key] = [n for n, _ in described]
            else:
                delimiter = str(options.get("delim", options.get("sep", ",")))
                with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
                    first = next(csv.reader(f, delimiter=delimiter[:1] or ","), [])
                self._headers[key] = [c.strip() for c in first]
        return self._headers[key]

    def _drift(self, source: Source, actual: Sequence[tuple[str, str]], typed: bool) -> str:
        # loaded_at and partition_by are named by the declaration itself: a source carries
        # them whether or not `columns` lists them, so they are never unexpected
        implied = {c for c in (source.loaded_at, source.partition_by) if c} - {
            n for n, _ in source.columns
        }
        actual = [(n, t) for n, t in actual if n.lower() not in implied]
        if typed:
            expected = list(
                zip(
                    [n for n, _ in source.columns],
                    canonical_types([t for _, t in source.columns]),
                    strict=True,
                )
            )
        else:
            expected = [(n, "ANY") for n, _ in source.columns]
            actual = [(n, "ANY") for n, _ in actual]
        return "; ".join(
            column_differences(expected, actual, exact_types=True, extra_allowed=False)
        )

    # -- one window ---------------------------------------------------------------------------

    def window_gate(self, source: Source, window: Window) -> Gate | None:
        """Has the source arrived for `window` (of the source's grain), with the right columns?"""
        key = (source.name, window.key)
        if key not in self.windows:
            self.windows[key] = self._window_gate(source, window)
        return self.windows[key]

    def _window_gate(self, source: Source, window: Window) -> Gate | None:
        import duckdb

        if has_placeholders(source.path):
            pattern = window_pattern(self.project.root, source.path or "", window)
            files = self.survey.window_files(source, window)
            if not files:
                rel = os.path.relpath(pattern, self.project.root)
                return Gate(
                    "waiting",
                    f"source {source.name}[{window.key}] has not arrived: no file matches {rel}",
                )
            if source.columns:
                try:
                    drift = self._file_drift(source, files)
                except (duckdb.Error, OSError, csv.Error) as exc:
                    drift = f"cannot be read: {first_line(exc, named=False)}"
                if drift:
                    names = ", ".join(os.path.basename(f) for f in files)
                    return Gate(
                        "blocked", f"source {source.name}[{window.key}] drifted ({names}): {drift}"
                    )
            why = self.unreadable_files(source, files)
            if why:
                names = ", ".join(os.path.basename(f) for f in files)
                return Gate("blocked", f"source {source.name}[{window.key}] ({names}) {why}")
            return None
        gate = self.files_gate(source)
        if gate is not None:
            return gate
        try:
            rows = self._rows_in(source, window)
        except duckdb.Error as exc:
            why = first_line(exc, named=False)
            return Gate("blocked", f"source {source.name}[{window.key}] cannot be read: {why}")
        if not rows:
            return Gate(
                "waiting",
                f"source {source.name}[{window.key}] has not arrived: no rows "
                f"with {source.partition_by} in it",
            )
        return None

    def _rows_in(self, source: Source, window: Window) -> int:
        target = reader(self.project, source, self.survey.files(source))
        return self.con.execute(
            probes.rows_in(target, source.partition_by or "", window)
        ).fetchone()[0]


def ago(delta: timedelta) -> str:
    """A duration as people say it: `45s`, `12m`, `3h20m`, `2d4h`."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{seconds}s"


def watched(source: Source) -> bool:
    """Is there anything to evaluate about this source before its readers run?"""
    return bool(
        source.path
        or source.partitioned
        or source.columns
        or source.error_after
        or source.warn_after
        or source.loaded_at
    )


def gates(inspector: Inspector, dag: DAG, tasks: Iterable[Task]) -> dict[tuple[str, str], Gate]:
    """Gates for the tasks about to run, from the declared sources their models read. When
    several inputs are not ready, the gate that needs someone (blocked) wins over waiting."""
    project = inspector.project
    found: dict[tuple[str, str], Gate] = {}
    for task in tasks:
        if task.action is Action.SWAP:
            continue
        candidates: list[Gate] = []
        for name in dag.sources_read(task.model):
            source = project.sources.get(name)
            if source is None or not watched(source):
                continue
            windowed = task.window is not None and source.partitioned
            gate = inspector.source_status(source).gate(windowed)
            if gate is None and windowed:
                for window in windows(task.window.start, task.window.end, source.grain):
                    gate = inspector.window_gate(source, window)
                    if gate is not None:
                        break
            if gate is None and not (windowed and source.read_by_partition):
                gate = inspector.files_gate(source)  # it reads every file
            if gate is not None:
                candidates.append(gate)
        if candidates:
            found[(task.model, task.key if task.window else WHOLE)] = worst(candidates)
    return found


def arrived_keys(inspector: Inspector, source: Source) -> set[str]:
    """The partition keys (of the source's grain) the source holds now: from file names for a
    path with placeholders, from `partition_by` values otherwise."""
    import duckdb  # imported when used: the CLI starts faster without it

    project = inspector.project
    if has_placeholders(source.path):
        periods = file_periods(project.root, source)
        found = (periods(f) for f in inspector.survey.files(source))
        return {w.key for w in found if w is not None}
    if not source.partition_by:
        return set()
    try:
        target = reader(project, source, inspector.survey.files(source))
        values = inspector.con.execute(
            probes.partition_values(target, source.partition_by)
        ).fetchall()
    except duckdb.Error:
        return set()
    return {
        Window.containing(floor(v, source.grain), source.grain).key
        for (v,) in values
        if v is not None
    }
