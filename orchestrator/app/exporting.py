"""Exports (`[exports.NAME]`): after a run's tasks and the checks it judges, each published
partition of an exported model whose latest attempt succeeded (not held back, no failed
blocking check) and whose build was not exported yet is written out, atomically:

- a file is written beside its destination under a hidden `.partial` name, then renamed over
  it (`os.replace`, one file system): a reader sees the old file or the new one, never half;
- a table of another database (ATTACHed) is filled as a staging table and swapped in, or has
  one partition's rows deleted and inserted, in one transaction of that database (the
  warehouse is only read).

Each write is a row of `orchestrator.exports` (what, where, which build, which run, when); an
export whose build is recorded `success` is not written again. A failure is recorded `failed`,
printed, and alerted to the export's owner; it never fails the run's tasks. Exports never run
in an environment (its data is its author's to look at).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from .. import state
from ..core import crashpoints
from ..core.clock import now
from ..core.errors import first_line
from ..core.partitions import WHOLE, window_for_key
from ..core.status import NEEDS_ACTION
from ..engines import engine, readers
from ..project.model import Export, Model
from ..statements import exports as sql
from .alerts import Event, Told
from .workspace import Workspace


@dataclass(frozen=True)
class Exported:
    """One partition (or the whole model) an export wrote, or failed to."""

    export: str
    model: str
    key: str
    destination: str  # the file or table written, placeholders filled
    built_run: int | None
    status: str  # success | failed
    rows: int | None = None
    error: str | None = None
    owner: str | None = None


Builds = Mapping[str, tuple[str, int | None]]
"""partition key -> (the status of its latest attempt, the run that built what is published)."""


def due(export: Export, model: Model, builds: Builds, exported: Mapping[str, int]) -> list:
    """(key, built_run) of what `export` has to write: published builds that are current (their
    latest attempt succeeded) and not exported yet. A whole export of a partitioned model is
    due when any partition was rebuilt, and waits while one failed, failed a check or is
    blocked (a partition waiting for its source does not hold it)."""
    published = {k: (s, b) for k, (s, b) in builds.items() if b is not None}
    if export.per_partition:
        found = [(k, b) for k, (s, b) in published.items() if s == "success" and k != WHOLE]
        return sorted((k, b) for k, b in found if exported.get(k) != b)
    if not published or any(s in NEEDS_ACTION for s, _ in builds.values()):
        return []
    build = max(b for _, b in published.values())
    return [] if exported.get(WHOLE) == build else [(WHOLE, build)]


def after_run(ws: Workspace, con, result, run_id: int):
    """The run's result with what its exports wrote (see the module): called once its tasks
    and the checks it judges are done."""
    exports = ws.project.ops.exports
    if ws.env is not None or not exports or result.cancelled:
        return result
    variables = dict(ws.project.settings.vars) | dict(result.plan.request.vars)
    done: list[Exported] = []
    for export in exports.values():
        model = ws.dag.models.get(export.model)
        if model is None or model.broken:
            continue
        builds = {k: v for (_, k), v in state.partition_builds(con, [model.name]).items()}
        for key, built in due(export, model, builds, state.exported_builds(con, export.name)):
            done.append(write(ws, con, export, model, key, built, run_id, variables))
    return replace(result, exports=tuple(done))


def write(
    ws: Workspace, con, export: Export, model: Model, key: str, built: int | None, run_id, variables
) -> Exported:
    """One partition (or the whole model) of `export` written, and its row recorded."""
    window = window_for_key(key, model.grain) if key != WHOLE else None
    destination = sql.file_path(export, window) if export.path else export.destination
    try:
        query = sql.rows_of(export, model, window, variables)
        if export.path is not None:
            rows = _to_file(con, _under(ws.project.root, destination), query, export.format or "")
        else:
            database = str(_under(ws.project.root, export.database or ""))
            rows = _to_table(con, database, export, model, window, query)
        done = Exported(export.name, model.name, key, destination, built, "success", rows)
    except Exception as exc:  # recorded, printed and alerted: the run's tasks stand
        error = first_line(exc)
        done = Exported(export.name, model.name, key, destination, built, "failed", None, error)
    state.record_exports(
        con,
        [
            state.ExportRow(
                done.export,
                done.model,
                done.key,
                done.destination,
                done.built_run,
                run_id,
                done.status,
                done.rows,
                done.error,
                now(),
            )
        ],
    )
    return replace(done, owner=export.owner)


def _under(root: Path, path: str) -> Path:
    given = Path(path)
    return given if given.is_absolute() else root / given


def _to_file(con, target: Path, query: str, fmt: str) -> int:
    """COPY the rows to a hidden file beside `target`, then rename it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = sql.aside(target)
    try:
        rows = con.execute(sql.copy_to(query, str(partial), fmt)).fetchone()[0]
        crashpoints.moment()  # written aside, not yet in place
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return int(rows)


def _to_table(con, database: str, export: Export, model: Model, window, query: str) -> int:
    """The rows into `export.table` of `database`, in one transaction of that database."""
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    con.execute(sql.attach(database))
    try:
        table = export.table or ""
        if window is not None:
            statements = sql.replace_partition(table, query, model.partition_by or "", window)
            crashpoints.moment()
            with con.transaction():
                for statement in statements[:-1]:
                    con.execute(statement)
                return int(con.execute(statements[-1]).fetchone()[0])
        fill, swap = sql.stage_whole(table, query)
        for statement in fill[:-1]:
            con.execute(statement)
        rows = con.execute(fill[-1]).fetchone()[0]
        crashpoints.moment()  # staged, not yet swapped in
        with con.transaction():
            for statement in swap:
                con.execute(statement)
        return int(rows)
    finally:
        con.execute(sql.detach())


def news(result, told: Told) -> list[Event]:
    """An export that failed is news for its owner, once per export and partition."""
    failed: dict[str, list[Exported]] = {}
    for done in getattr(result, "exports", ()):
        if done.status == "failed":
            failed.setdefault(done.export, []).append(done)
    events = []
    for name, items in failed.items():
        known = told.get(("export", name, "failed"), set())
        fresh = [d for d in items if d.key not in known]
        if not fresh:
            continue
        keys = ", ".join(d.key for d in fresh[:4]) + (" ..." if len(fresh) > 4 else "")
        events.append(
            Event(
                "export_failed",
                name,
                fresh[0].owner,
                f"export {name} of {fresh[0].model} to {fresh[0].destination} failed ({keys})",
                fresh[0].error or "",
                result.run_id,
                None,
                tuple(d.key for d in fresh),
                retry="fix the destination, then: orchestrator run (due exports are retried)",
                cause="failed",
            )
        )
    return events


def healthy(con, ws: Workspace) -> set[tuple[str, str]]:
    """("export", name) of every export whose latest write of each partition succeeded."""
    names = list(ws.project.ops.exports)
    if not names:
        return set()
    failing = {r.export for r in state.latest_exports(con, names) if r.status != "success"}
    return {("export", n) for n in names if n not in failing}


class ExportStatus(NamedTuple):
    """One export as `status` and the UI show it."""

    export: str
    model: str
    destination: str
    per: str
    exported: int  # partitions (or 1: the whole) whose current build is exported
    behind: int  # published builds not exported yet
    failed: int  # partitions whose latest export failed
    last_built_run: int | None
    last_exported_at: object
    error: str | None


def status_lines(found: list[ExportStatus]) -> list[str]:
    """`status`'s lines about exports: one per export."""
    lines = []
    for s in found:
        how = f"{s.exported} exported" + (
            f" (build of run {s.last_built_run})" if s.exported else ""
        )
        if s.behind:
            how += f", {s.behind} behind (written by the next run)"
        if s.failed:
            how += f", {s.failed} failed: {s.error}"
        lines.append(f"export {s.export}: {s.model} -> {s.destination}: {how}")
    return lines


def statuses(ws: Workspace, con) -> list[ExportStatus]:
    """Every export: how much is exported, behind (to be written by the next run) or failed."""
    found = []
    for export in ws.project.ops.exports.values():
        model = ws.dag.models.get(export.model)
        if model is None:
            continue
        builds = {k: v for (_, k), v in state.partition_builds(con, [model.name]).items()}
        latest = state.latest_exports(con, [export.name])
        ok = [r for r in latest if r.status == "success"]
        bad = [r for r in latest if r.status == "failed"]
        behind = due(export, model, builds, state.exported_builds(con, export.name))
        found.append(
            ExportStatus(
                export.name,
                export.model,
                export.destination,
                export.per,
                len(ok),
                len(behind),
                len(bad),
                max((r.built_run for r in ok if r.built_run is not None), default=None),
                max((r.exported_at for r in latest), default=None),
                bad[0].error if bad else None,
            )
        )
    return found


def read_statuses(ws: Workspace) -> list[ExportStatus]:
    """`statuses` over a reader of the warehouse (none before the first run)."""
    if not ws.project.ops.exports or not ws.warehouse.exists():
        return []
    con = readers.connect(ws.warehouse).con
    try:
        with engine.reading(ws.warehouse):
            return statuses(ws, con) if state.has_state(con) else []
    finally:
        con.close()


class PlannedExport(NamedTuple):
    """What a run would export: up to `partitions` of `model` (1 for a whole export)."""

    export: str
    model: str
    destination: str
    per: str
    partitions: int


def planned(ws: Workspace, the_plan, found: list[ExportStatus] | None = None) -> list:
    """What the run of `the_plan` would export: per export, the partitions it rebuilds and
    those already published but not exported yet (failed before, or a new export)."""
    if ws.env is not None or not ws.project.ops.exports:
        return []
    behind = {s.export: s.behind for s in (read_statuses(ws) if found is None else found)}
    wanted = []
    for export in ws.project.ops.exports.values():
        rebuilt = {t.key for t in the_plan.units if t.model == export.model}
        count = len(rebuilt) if export.per_partition else min(len(rebuilt), 1)
        count = count + behind.get(export.name, 0)
        if export.per == "whole":
            count = min(count, 1)
        if count:
            wanted.append(
                PlannedExport(export.name, export.model, export.destination, export.per, count)
            )
    return wanted


def plan_lines(wanted: list[PlannedExport]) -> list[str]:
    return [
        f"export {p.export}: {p.model} -> {p.destination} ("
        + (
            f"up to {p.partitions} partition{'s' if p.partitions != 1 else ''}, "
            if p.per == "partition"
            else ""
        )
        + "once published and checked)"
        for p in wanted
    ]


def report(result) -> list[str]:
    """The lines a run prints about its exports: one per export, and one per failure."""
    lines = []
    by_name: dict[str, list[Exported]] = {}
    for done in getattr(result, "exports", ()):
        by_name.setdefault(done.export, []).append(done)
    for name, items in by_name.items():
        ok = [d for d in items if d.status == "success"]
        if ok:
            rows = sum(d.rows or 0 for d in ok)
            where = ok[0].destination if len(ok) == 1 else f"{len(ok)} partitions"
            lines.append(f"exported {name}: {where} ({rows} rows)")
        for d in items:
            if d.status == "failed":
                lines.append(f"error: export {name} failed on {d.key} ({d.destination}): {d.error}")
    return lines
