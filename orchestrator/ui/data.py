"""What each page of the UI shows, as plain JSON-ready dicts (the `/api/...` endpoints return
them as they are; the templates render them). Every function reads the warehouse through
`readers`: read-only, for the length of one call, from the last state copy while a run holds it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .. import lock, readers, state, views
from ..partitions import WHOLE, Window, window_for_key
from ..schedule import to_local, zone
from ..shapes import iso, records
from ..status import REJECTED
from ..workspace import Workspace, now

STATES = ("failed", "blocked", "waiting", "stale", "missing", "partial", "complete")
"""A model's readiness, most urgent first; the UI colours and letters follow it."""

_DAYS_31 = timedelta(days=31)

_LETTERS = {
    "failed": "F",
    "blocked": "B",
    "waiting": "W",
    "stale": "S",
    "missing": "M",
    "partial": "P",
    "complete": "C",
}


def readiness(text: str) -> str:
    """A model's one-word state from `status`'s text, the most urgent of its labels.

    >>> readiness("up to date"), readiness("1 waiting (11-02); 1 stale"), readiness("not built")
    ('complete', 'waiting', 'missing')
    >>> readiness("2 check_failed (a, b), last good data kept"), readiness("3 skipped (x)")
    ('failed', 'blocked')
    """
    labels = {part.strip().split(" ")[1] for part in text.split(";") if part.strip()[:1].isdigit()}
    if not labels:
        return "complete" if text == "up to date" else "missing"
    if labels & {"failed", "check_failed", "timed_out", "cancelled"}:
        return "failed"
    if labels & {"blocked", "skipped"}:
        return "blocked"  # skipped: held by an input that failed
    for name in ("waiting", "stale", "missing"):
        if name in labels:
            return name
    return "partial"


def _reading():
    """A page's readers policy: state alone will do, so while a run holds the lock a page
    reads the state copy and never opens the warehouse in the run's way."""
    return readers.reading_policy(spare_writer=True)


def letter(state_name: str) -> str:
    return _LETTERS.get(state_name, "?")


def _running(ws: Workspace) -> dict | None:
    """The run writing now, from the side file its lock keeps (never the lock itself)."""
    holder = lock.read_holder(ws.warehouse)
    if not holder or not lock.is_alive(holder):
        return None
    return {
        "run_id": holder.get("run_id"),
        "command": holder.get("command"),
        "user": holder.get("user"),
        "started": holder.get("started"),
        "done": holder.get("done") or 0,
        "total": holder.get("total") or 0,
        "failed": holder.get("failed") or 0,
        "latest": holder.get("latest"),
    }


def progress(ws: Workspace) -> dict:
    """The run writing now, if any, for pages that poll: read from the lock's side file alone,
    so polling never opens the warehouse, however often it asks."""
    return {"as_of": iso(now()), "running": _running(ws)}


def overview(ws: Workspace) -> dict:
    """The landing page: every model's readiness (problems first), counts, open incidents,
    sources with problems, the run in progress and the last runs."""
    with _reading() as policy:
        rows = views.status(ws) if ws.dag.models else []
        models = [
            {**r._asdict(), "readiness": readiness(r.state), "letter": letter(readiness(r.state))}
            for r in rows
        ]
        incidents, sources, runs_ = _from_state(
            ws,
            lambda con: (
                records(state.open_incidents(con)),
                records(state.latest_freshness(con)),
                records(state.runs(con, 10)),
            ),
            ([], [], []),
        )
    models.sort(key=lambda m: (STATES.index(m["readiness"]), m["model"]))
    counts = {name: sum(1 for m in models if m["readiness"] == name) for name in STATES}
    return {
        "as_of": iso(now()),
        "notes": list(dict.fromkeys(policy.notes)),
        "running": _running(ws),
        "counts": counts,
        "models": models,
        "incidents": incidents,
        "sources": sources,
        "runs": runs_,
    }


def model_page(ws: Workspace, name: str) -> dict | None:
    """One model: its settings and SQL, neighbours, checks with their latest results and
    failing samples, the partition grid, recent attempts and the commands for what is red."""
    model = ws.dag.models.get(name)
    if model is None:
        return None
    with _reading() as policy:
        rows = views.status(ws, [name], partitions=True)
        checks, history, attempts = _from_state(
            ws,
            lambda con: (
                records(state.latest_checks(con, name)),
                records(state.check_history(con, name)),
                records(state.model_attempts(con, name)),
            ),
            ([], [], []),
        )
    cells = [_cell(r, model.grain if model.partitioned else None) for r in rows]
    red = [c["partition"] for c in cells if c["state"] in ("failed", "blocked")]
    return {
        "as_of": iso(now()),
        "notes": list(dict.fromkeys(policy.notes)),
        "model": {
            "name": name,
            "kind": str(model.kind),
            "owner": model.owner,
            "tags": list(model.tags),
            "partition_by": model.partition_by,
            "grain": str(model.grain) if model.partitioned else None,
            "start": iso(model.start),
            "path": model.relpath,
            "sql": model.template,
        },
        "upstream": list(ws.dag.upstream.get(name, ())),
        "downstream": list(ws.dag.downstream.get(name, ())),
        "sources": list(ws.dag.sources.get(name, ())),
        "checks": _per_check(checks, history),
        "partitions": cells,
        "attempts": attempts,
        "commands": _commands(name, model.partitioned, red, model.grain),
    }


_WORST = ("error", "fail", "warn", "pass")


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


def _cell(row: views.PartitionRow, grain) -> dict:
    """One partition as the grid shows it: its state, letter and what the hover says."""
    pending = row.pending or ""
    if row.last_attempt in REJECTED:
        name = "failed"
    elif pending.startswith(("blocked", "waiting")):
        name = pending.split(":")[0]
    elif pending.startswith("stale"):
        name = "stale"
    elif pending:
        name = "missing"
    else:
        name = "complete" if row.built_run is not None else "missing"
    return {
        "partition": row.partition,
        "state": name,
        "letter": letter(name),
        "status": row.last_attempt,
        "rows": row.rows,
        "built_at": iso(row.built_at),
        "run": row.built_run,
        "pending": pending,
        "error": row.error,
    }


def _commands(name: str, partitioned: bool, red: list[str], grain) -> list[str]:
    if not red:
        return []
    if not partitioned or red == [WHOLE]:
        return [f"orchestrator run {name}", "orchestrator retry"]
    windows = sorted(window_for_key(k, grain) for k in red if k != WHOLE)
    first, last = windows[0], windows[-1]
    return [
        "orchestrator retry",
        f"orchestrator backfill {name} --start {first.key} --end {_end(last)}",
    ]


def _end(window: Window) -> str:
    end: datetime = window.end
    return f"{end:%Y-%m-%dT%H:%M}" if end.hour else f"{end:%Y-%m-%d}"


def runs_page(ws: Workspace, limit: int = 50) -> dict:
    with _reading() as policy:
        rows = views.runs(ws.warehouse, limit)
    return {"notes": list(dict.fromkeys(policy.notes)), "runs": records(rows)}


def run_page(ws: Workspace, run_id: int) -> dict:
    """One run: who started it with what, its tasks, and their attempts on a timeline with
    the worker threads as lanes (retries are attempts of their own; tasks held back, skipped
    or waiting, are listed with their reasons)."""
    with _reading() as policy:
        record, rows = views.run_detail(ws.warehouse, run_id)
        con = readers.connect(ws.warehouse).con
        try:
            attempts = state.run_timeline(con, run_id)
        finally:
            con.close()
    run = records([record])[0]
    run["vars"] = json.loads(record.vars) if record.vars else {}
    ran = [a for a in attempts if a.task_id >= 0 and a.finished is not None]
    held = [a for a in attempts if a.task_id < 0]
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "run": run,
        "tasks": records(rows),
        "timeline": _lanes(ran, record.started),
        "held": records(held),
    }


def _lanes(attempts, began: datetime) -> dict:
    """Attempts placed on lanes: each goes on the first lane free when it starts, which is how
    a pool of worker threads took them. Offsets and lengths are seconds from the run's start."""
    ends: list[datetime] = []
    bars = []
    for a in sorted(attempts, key=lambda a: (a.started, a.task_id, a.attempt)):
        lane = next((i for i, end in enumerate(ends) if end <= a.started), None)
        if lane is None:
            lane = len(ends)
            ends.append(a.finished)
        else:
            ends[lane] = a.finished
        bars.append(
            {
                "lane": lane,
                "model": a.model,
                "partition": a.partition_key,
                "attempt": a.attempt,
                "status": a.status,
                "reason": a.reason,
                "error": (a.error or "").split("\n")[0] or None,
                "start": (a.started - began).total_seconds(),
                "seconds": (a.finished - a.started).total_seconds(),
            }
        )
    span = max((b["start"] + b["seconds"] for b in bars), default=0.0) or 1.0
    return {"lanes": len(ends), "seconds": span, "bars": bars}


def _from_state(ws: Workspace, read, empty):
    """`read(con)` on the warehouse (during a run, its state copy), or `empty` before the
    first run. Called under the page's readers policy, which collects the notes."""
    if not ws.warehouse.exists():
        return empty
    con = readers.connect(ws.warehouse).con
    try:
        return read(con) if state.has_state(con) else empty
    finally:
        con.close()


def sources_page(ws: Workspace) -> dict:
    """Every declared source: how it is declared, its evaluations over time (freshness,
    drift messages), and who reads it."""
    sources = ws.project.sources

    def read(con) -> dict:
        return {name: records(state.freshness_history(con, name)) for name in sources}

    with _reading() as policy:
        history = _from_state(ws, read, {})
    notes = list(dict.fromkeys(policy.notes))
    readers_of = {
        name: [m for m in ws.dag.order if name in ws.dag.sources_read(m)] for name in sources
    }
    return {
        "notes": notes,
        "sources": [
            {
                "name": name,
                "path": s.path,
                "format": s.format,
                "owner": s.owner,
                "partition_by": s.partition_by,
                "grain": str(s.grain) if s.partitioned else None,
                "read_by_partition": s.read_by_partition,
                "immutable": s.immutable,
                "columns": [f"{c} {t}" for c, t in s.columns],
                "warn_after": s.warn_after.total_seconds() if s.warn_after else None,
                "error_after": s.error_after.total_seconds() if s.error_after else None,
                "readers": readers_of[name],
                "evaluations": history.get(name, []),
            }
            for name, s in sorted(sources.items())
        ],
    }


def alerts_page(ws: Workspace) -> dict:
    """Alerts with their delivery, incidents open and closed, jobs with their next tick and
    deadline, and the latest ticks (missed deadlines among them)."""

    def read(con) -> dict:
        return {
            "alerts": records(state.recent_alerts(con)),
            "incidents": records(state.recent_incidents(con)),
            "ticks": records(state.recent_ticks(con)),
        }

    with _reading() as policy:
        found = _from_state(ws, read, {})
    notes = list(dict.fromkeys(policy.notes))
    at = now()
    jobs = []
    for job in ws.project.ops.jobs.values():
        upcoming = None
        if job.cron is not None:
            upcoming = job.cron.next_after(at, zone(job.timezone))
        jobs.append(
            {
                "job": job.name,
                "select": list(job.select),
                "cron": job.cron.text if job.cron else None,
                "on": job.on,
                "timezone": job.timezone,
                "owner": job.owner,
                "deadline": job.deadline.strftime("%H:%M") if job.deadline else None,
                "next_tick": iso(upcoming),
                "next_tick_local": str(to_local(upcoming, zone(job.timezone)))[:16]
                if upcoming
                else None,
            }
        )
    return {
        "notes": notes,
        "alerts": found.get("alerts", []),
        "incidents": found.get("incidents", []),
        "jobs": jobs,
        "ticks": found.get("ticks", []),
    }


def partitions_page(
    ws: Workspace,
    start: str | None = None,
    end: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    only: str | None = None,
) -> dict:
    """The grid across models for a date range (models as rows, periods as columns): what is
    missing this month. Each row comes as ranges of equal state, not one cell per partition,
    so ten years of hours is a few ranges when all is well."""
    from ..errors import UsageError
    from ..partitions import parse_point

    at = now()
    try:
        first = (
            parse_point(start)
            if start
            else at.replace(hour=0, minute=0, second=0, microsecond=0) - _DAYS_31
        )
        last = parse_point(end) if end else at
    except ValueError as exc:
        raise UsageError(f"bad date in the range: {exc}") from None
    names = [
        n
        for n in ws.dag.order
        if ws.dag.models[n].partitioned
        and (owner is None or ws.dag.models[n].owner == owner)
        and (tag is None or tag in ws.dag.models[n].tags)
    ]
    with _reading() as policy:
        rows = views.status(ws, names, partitions=True) if names else []
    by_model: dict[str, list[dict]] = {n: [] for n in names}
    for row in rows:
        if row.partition == WHOLE:
            continue
        model = ws.dag.models[row.model]
        window = window_for_key(row.partition, model.grain)
        if window.end <= first or window.start >= last:
            continue
        by_model[row.model].append(_cell(row, model.grain))
    out = []
    for name in names:
        cells = sorted(by_model[name], key=lambda c: c["partition"])
        if only and not any(c["state"] == only for c in cells):
            continue
        out.append(
            {
                "model": name,
                "grain": str(ws.dag.models[name].grain),
                "owner": ws.dag.models[name].owner,
                "ranges": _ranges(cells),
                "counts": {s: sum(1 for c in cells if c["state"] == s) for s in STATES},
            }
        )
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "start": iso(first),
        "end": iso(last),
        "filters": {"owner": owner, "tag": tag, "state": only},
        "models": out,
    }


def _ranges(cells: list[dict]) -> list[dict]:
    """Consecutive partitions of one state as one range: {from, to, state, count}."""
    ranges: list[dict] = []
    for c in cells:
        if ranges and ranges[-1]["state"] == c["state"]:
            ranges[-1]["to"] = c["partition"]
            ranges[-1]["count"] += 1
        else:
            ranges.append(
                {"from": c["partition"], "to": c["partition"], "state": c["state"], "count": 1}
            )
    for r in ranges:
        r["letter"] = letter(r["state"])
    return ranges


LINEAGE_LIMIT = 300
"""Most nodes one lineage view draws: a bounded neighbourhood stays interactive at any size."""


def lineage_page(
    ws: Workspace,
    focus: str | None = None,
    hops: int = 2,
    select: str | None = None,
    query: str | None = None,
) -> dict:
    """The lineage around what was asked (a model and its neighbours `hops` away, a selector,
    a name search), at most LINEAGE_LIMIT nodes: models coloured by readiness and the sources
    they read. Laid out in the browser by dagre, in a worker."""
    from .. import selectors

    dag = ws.dag
    if select:
        start = selectors.select(dag, [select])
    elif focus:
        if focus not in dag.models:
            from ..errors import UsageError

            raise UsageError(f"no model named '{focus}'")
        start = {focus}
    elif query:
        start = {n for n in dag.models if query.lower() in n.lower()}
    else:
        start = set(dag.models)
    chosen = _neighbourhood(dag, start, hops if focus else 0)
    truncated = len(chosen) > LINEAGE_LIMIT
    chosen = set(sorted(chosen, key=lambda n: (n not in start, n))[:LINEAGE_LIMIT])
    with _reading() as policy:
        rows = views.status(ws, sorted(chosen)) if chosen else []
    states = {r.model: readiness(r.state) for r in rows}
    nodes = [
        {
            "id": n,
            "kind": str(dag.models[n].kind),
            "owner": dag.models[n].owner,
            "state": states.get(n, "missing"),
            "letter": letter(states.get(n, "missing")),
            "focus": n == focus,
        }
        for n in dag.ordered(chosen)
    ]
    edges = [[up, n] for n in chosen for up in dag.upstream.get(n, ()) if up in chosen]
    sources = sorted({s for n in chosen for s in dag.sources.get(n, ())})
    nodes += [
        {"id": s, "kind": "source", "owner": None, "state": "source", "letter": "·"}
        for s in sources
    ]
    edges += [[s, n] for n in chosen for s in dag.sources.get(n, ())]
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "asked": {"focus": focus, "hops": hops, "select": select, "q": query},
        "truncated": truncated,
        "limit": LINEAGE_LIMIT,
        "models": len(dag.models),
        "nodes": nodes,
        "edges": sorted(edges),
    }


def _neighbourhood(dag, start: set[str], hops: int) -> set[str]:
    found, frontier = set(start), set(start)
    for _ in range(hops):
        frontier = {
            m
            for n in frontier
            for m in (*dag.upstream.get(n, ()), *dag.downstream.get(n, ()))
            if m not in found
        }
        found |= frontier
    return found


def why_page(ws: Workspace, name: str, key: str) -> dict | None:
    """Why is this partition red or stale: the cause chain, from its inputs to its own SQL.
    Its sources (latest evaluation), its upstream partitions (their state), its failed checks
    (failing rows), the error of its last attempt and the SQL it runs, and what changed since
    its last good build (its SQL, its upstream builds, its source files)."""
    from .. import fingerprints, sql
    from ..planner import marker
    from ..workspace import reading

    model = ws.dag.models.get(name)
    if model is None:
        return None
    window = window_for_key(key, model.grain) if model.partitioned and key != WHOLE else None
    with _reading() as policy:
        rows = views.status(ws, [name, *ws.dag.upstream.get(name, ())], partitions=True)
        with reading(ws) as (con, snapshot):
            has = ws.warehouse.exists() and state.has_state(con)
            checks = records(state.latest_checks(con, name)) if has else []
            attempts = records(state.model_attempts(con, name, 200)) if has else []
            health = {h.source: h for h in state.latest_freshness(con)} if has else {}
    mine = next((r for r in rows if r.model == name and r.partition == key), None)
    built = snapshot.get(name, key)
    changed = []
    if built is not None:
        if built.version != model.version:
            changed.append(
                f"its SQL or settings changed (version {built.version} -> {model.version})"
            )
        for up in ws.dag.upstream.get(name, ()):
            if built.inputs.get(up) != marker(ws.dag, snapshot.built, up, window):
                changed.append(f"{up} was rebuilt since")
        for source, recorded in sorted(built.sources.items()):
            holding = snapshot.holdings.get(source)
            if holding is not None:
                differ = fingerprints.changed(recorded, fingerprints.held_in(holding, window))
                if differ:
                    changed.append(f"{source}: {fingerprints.describe(differ)} changed")
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
            cell = _cell(r, up_model.grain)
            if cell["state"] != "complete":
                upstream.append({"model": up, **cell})
    try:
        rendered = sql.render(
            model.template,
            model.window_literals(window),
            lambda v: ws.project.settings.vars.get(v, f"<var {v}>"),
            path=model.relpath,
        )
    except Exception as exc:  # the chain still shows the rest
        rendered = f"-- cannot render: {exc}"
    last = next((a for a in attempts if a["partition_key"] == key), None)
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "model": name,
        "partition": key,
        "cell": _cell(mine, model.grain) if mine else None,
        "sources": [
            {
                "source": s,
                "status": health[s].status if s in health else "not evaluated",
                "detail": health[s].detail if s in health else "",
            }
            for s in ws.dag.sources_read(name)
        ],
        "upstream": upstream,
        "checks": [
            {**c, "sample": json.loads(c["sample"]) if c["sample"] else []}
            for c in checks
            if c["partition_key"] == key and c["status"] != "pass"
        ],
        "error": last["error"] if last and last["status"] != "success" else None,
        "last_attempt": last,
        "changed": changed,
        "sql": rendered,
        "built": {"run": built.run, "version": built.version} if built else None,
    }
