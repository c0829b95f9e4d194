"""One model's page: its settings and SQL, neighbours, checks with their latest results and
failing samples, the partition grid (the latest cells, the whole history as ranges), recent
attempts and the commands that fix what is red."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ... import state
from ...app import exporting, views
from ...app.shapes import iso, records
from ...app.workspace import Workspace, now
from ...plan import remedies
from ...statements.materialize import describe_relation
from .memo import project_status, remember
from .shared import cell, from_state, notes, partition_state, ranges, reading

if TYPE_CHECKING:  # the lineage reads SQL: sqlglot is imported when a page first needs it
    from ...app.column_lineage import ProjectLineage

GRID_CELLS = 1000
"""Most partitions a model page draws one cell each (the latest); all of them come as ranges
of equal state too, so ten years of hours is a strip, not a hundred thousand cells."""

_WORST = ("error", "fail", "warn", "pass")


def model_page(ws: Workspace, name: str, lineage: ProjectLineage | None = None) -> dict | None:
    """One model: its settings and SQL, neighbours, its columns with the columns each comes
    from and feeds, checks with their latest results and failing samples, the partition grid,
    recent attempts and the commands for what is red. `lineage`: the project's column lineage,
    when the caller has it (the report, for every model at once); else the page traces the
    model and its readers only."""
    model = ws.dag.models.get(name)
    if model is None:
        return None
    with reading() as policy:
        lineage = lineage or _lineage(ws, name)
        rows = project_status(ws).partitions[name]
        checks, history, attempts, built, exports = from_state(
            ws,
            lambda con: (
                records(state.latest_checks(con, name)),
                records(state.check_history(con, name)),
                records(state.model_attempts(con, name)),
                con.execute(*describe_relation(model.schema, model.table)).fetchall(),
                records(s for s in exporting.statuses(ws, con) if s.model == name),
            ),
            ([], [], [], [], []),
        )
    states = [(r.partition, partition_state(r)) for r in rows]
    red = [
        r
        for r, (_, state_name) in zip(rows, states, strict=True)
        if state_name in ("failed", "blocked")
    ]
    cells = [cell(r) for r in rows[-GRID_CELLS:]]  # the latest; the rest as ranges
    return {
        "as_of": iso(now()),
        "notes": notes(policy),
        "model": {
            "name": name,
            "kind": str(model.kind),
            "owner": model.owner,
            "tags": list(model.tags),
            "partition_by": model.partition_by,
            "grain": str(model.grain) if model.partitioned else None,
            "start": iso(model.start),
            "path": model.relpath,
            "broken": str(model.broken) if model.broken else None,
            "sql": model.template,
            "description": model.description,
            "columns": with_lineage(ws, columns(built, model.column_descriptions), name, lineage),
            "lineage_problems": list(lineage.models[name].problems),
        },
        "upstream": list(ws.dag.upstream.get(name, ())),
        "downstream": list(ws.dag.downstream.get(name, ())),
        "sources": list(ws.dag.sources.get(name, ())),
        "checks": _per_check(checks, history),
        "partitions": cells,
        "partitions_total": len(rows),
        "partition_ranges": ranges(states) if len(rows) > GRID_CELLS else None,
        "attempts": attempts,
        "exports": exports,
        "commands": [remedies.broken(name, str(model.broken))]
        if model.broken
        else _commands(name, red),
    }


def columns(built: list[tuple[str, str]], described: dict) -> list[dict]:
    """Each column of the relation as built, with its type and description; then the
    described columns it does not have (yet), without a type."""
    found = [{"name": n, "type": t, "description": described.get(n.lower())} for n, t in built]
    have = {n.lower() for n, _ in built}
    found += [
        {"name": n, "type": None, "description": text}
        for n, text in described.items()
        if n not in have
    ]
    return found


def _lineage(ws: Workspace, name: str) -> ProjectLineage:
    """The column lineage a model page shows: the model's and that of the models reading it,
    over the columns the warehouse holds (read once for each state of the world)."""
    from ...app.column_lineage import known_columns, project_lineage

    known = remember(ws, ("known_columns",), lambda: known_columns(ws))
    return project_lineage(ws, [name, *ws.dag.downstream.get(name, ())], known)


def with_lineage(
    ws: Workspace, found: list[dict], name: str, lineage: ProjectLineage
) -> list[dict]:
    """Each column with the columns it is computed from (`fed_by`; None when its SQL, as it
    could be read, has no such column) and those computed from it (`feeds`: what reads the
    table may read a column the SQL no longer makes), one step each way; the columns of the
    model's SQL not built yet come before the described ones the SQL does not have."""
    have = {c["name"].lower() for c in found}
    own = [
        {"name": c, "type": None, "description": None}
        for c in lineage.models[name].columns
        if c not in have
    ]
    described = [c for c in found if c["type"] is None]
    found = [c for c in found if c["type"] is not None] + own + described
    from ...app.column_lineage import kind_of

    traced = set(lineage.models[name].columns)
    for column in found:
        key = column["name"].lower()
        for field, step in (("fed_by", lineage.fed_by), ("feeds", lineage.feeds)):
            column[field] = [
                {"relation": r, "column": c, "kind": kind_of(ws, r)} for r, c in step(name, key)
            ]
        if key not in traced:  # built once, or described, but not in its SQL (as read) now
            column["fed_by"] = None
    return found


def _per_check(results: list[dict], history: list[dict]) -> list[dict]:
    """One line per check: its worst latest result over the partitions it judged, those that
    failed, a sample of the failing rows of the first of them, and its result run by run."""
    by_name: dict[str, list[dict]] = {}
    for r in results:
        by_name.setdefault(r["check_name"], []).append(r)
    out = []
    for name, rows in by_name.items():
        worst = min(rows, key=lambda r: _WORST.index(r["status"]) if r["status"] in _WORST else 0)
        bad = [r for r in rows if r["status"] != "pass"]
        first = bad[0] if bad else None
        out.append(
            {
                "check": name,
                "status": worst["status"],
                "partitions": len(rows),
                "failing_partitions": [r["partition_key"] for r in bad],
                "failing_rows": sum(r["failing_rows"] or 0 for r in bad),
                "sample": json.loads(first["sample"]) if first and first["sample"] else [],
                "message": first["message"] if first else None,
                "checked_at": max(r["checked_at"] for r in rows),
                "run_id": max(r["run_id"] for r in rows),
                "history": [
                    {k: v for k, v in h.items() if k != "check_name"}
                    for h in history
                    if h["check_name"] == name
                ],
            }
        )
    return out


def _commands(name: str, red: list[views.PartitionRow]) -> list[str]:
    """What fixes the red partitions, each cause once (see remedies): a fix before a retry."""
    found = [remedies.of_partition(name, r.last_attempt, r.error, r.pending) for r in red]
    unique = list(dict.fromkeys(f for f in found if f))
    return sorted(unique, key=remedies.is_retry)
