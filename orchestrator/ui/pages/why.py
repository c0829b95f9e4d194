"""The "why" page of one partition: why it is red or stale, as a chain of causes from its
inputs to its own SQL, and what changed since its last good build."""

from __future__ import annotations

import json

from ... import state
from ...app.shapes import records
from ...app.workspace import Workspace
from ...core import fingerprints
from ...core.partitions import WHOLE, Window, window_for_key
from ...plan import remedies
from ...plan.staleness import marker
from ...sql.model_sql import render_model
from .memo import project_status
from .shared import cell, from_state, notes, reading


def why_page(ws: Workspace, name: str, key: str) -> dict | None:
    """Why is this partition red or stale: the cause chain, from its inputs to its own SQL.
    Its sources (latest evaluation), its upstream partitions (their state), its failed checks
    (failing rows), the error of its last attempt and the SQL it runs, and what changed since
    its last good build (its SQL, its upstream builds, its source files)."""
    model = ws.dag.models.get(name)
    if model is None:
        return None
    window = window_for_key(key, model.grain) if model.partitioned and key != WHOLE else None
    with reading() as policy:
        found = project_status(ws)
        rows = [r for n in (name, *ws.dag.upstream.get(name, ())) for r in found.partitions[n]]
        snapshot = found.snapshot
        checks, attempts, health = from_state(
            ws,
            lambda con: (
                records(state.latest_checks(con, name)),
                records(state.model_attempts(con, name, 200)),
                {h.source: h for h in state.latest_freshness(con)},
            ),
            ([], [], {}),
        )
    mine = next((r for r in rows if r.model == name and r.partition == key), None)
    built = snapshot.get(name, key)
    last = next((a for a in attempts if a["partition_key"] == key), None)
    return {
        "notes": notes(policy),
        "model": name,
        "partition": key,
        "cell": cell(mine) if mine else None,
        "sources": [
            {
                "source": s,
                "status": health[s].status if s in health else "not evaluated",
                "detail": health[s].detail if s in health else "",
            }
            for s in ws.dag.sources_read(name)
        ],
        "upstream": _upstream_not_complete(ws, name, rows, window),
        "checks": [
            {**c, "sample": json.loads(c["sample"]) if c["sample"] else []}
            for c in checks
            if c["partition_key"] == key and c["status"] != "pass"
        ],
        "error": last["error"] if last and last["status"] != "success" else None,
        "remedy": remedies.of_partition(name, mine.last_attempt, mine.error, mine.pending)
        if mine
        else None,
        "last_attempt": last,
        "changed": _changed_since(ws, name, built, snapshot, window) if built else [],
        "sql": _rendered_sql(ws, model, window),
        "built": {"run": built.run, "version": built.version} if built else None,
    }


def _changed_since(ws: Workspace, name: str, built, snapshot, window: Window | None) -> list[str]:
    """What changed since the partition's last good build: its SQL or settings, the upstream
    models rebuilt since, the source files it read."""
    model = ws.dag.models[name]
    changed = []
    if built.version != model.version:
        changed.append(f"its SQL or settings changed (version {built.version} -> {model.version})")
    for up in ws.dag.upstream.get(name, ()):
        if built.inputs.get(up) != marker(ws.dag, snapshot.built, up, window):
            changed.append(f"{up} was rebuilt since")
    for source, recorded in sorted(built.sources.items()):
        holding = snapshot.holdings.get(source)
        if holding is not None:
            differ = fingerprints.changed(recorded, fingerprints.held_in(holding, window))
            if differ:
                changed.append(f"{source}: {fingerprints.describe(differ)} changed")
    return changed


def _upstream_not_complete(ws: Workspace, name: str, rows, window: Window | None) -> list[dict]:
    """The partitions of the model's inputs that overlap its window and are not complete."""
    upstream = []
    for up in ws.dag.upstream.get(name, ()):
        up_model = ws.dag.models[up]
        for r in rows:
            if r.model != up:
                continue
            if window is not None and up_model.partitioned and r.partition != WHOLE:
                other = window_for_key(r.partition, up_model.grain)
                if other.end <= window.start or other.start >= window.end:
                    continue
            shown = cell(r)
            if shown["state"] != "complete":
                upstream.append({"model": up, **shown})
    return upstream


def _rendered_sql(ws: Workspace, model, window: Window | None) -> str:
    """The SQL the partition runs, or why it cannot be rendered (the chain still shows the
    rest)."""
    try:
        return render_model(
            model,
            model.window_literals(window),
            lambda v: ws.project.settings.vars.get(v, f"<var {v}>"),
        )
    except Exception as exc:  # the chain still shows the rest
        return f"-- cannot render: {exc}"
