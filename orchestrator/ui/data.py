"""What each page of the UI shows, as plain JSON-ready dicts (the `/api/...` endpoints return
them as they are; the templates render them). Every function reads the warehouse through
`readers`: read-only, for the length of one call, from the last state copy while a run holds it.
"""

from __future__ import annotations

import bisect
import heapq
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .. import freshness, lock, readers, remedies, state, views
from ..materialize import describe_relation
from ..model_sql import render_model
from ..partitions import WHOLE, Window, window_for_key
from ..schedule import to_local, zone
from ..shapes import iso, records
from ..state.mirror import state_copy_path
from ..status import REJECTED
from ..workspace import Workspace, now

STATES = ("broken", "failed", "blocked", "waiting", "stale", "missing", "partial", "complete")
"""A model's readiness, most urgent first; the UI colours and letters follow it."""

_DAYS_31 = timedelta(days=31)

_LETTERS = {
    "broken": "X",  # its file does not load
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
    >>> readiness("1 check_failed, last good data kept")
    'failed'
    >>> readiness("broken: models/s/m.sql:3: SQL syntax error")
    'broken'

    """
    if text.startswith("broken: "):
        return "broken"
    labels = {
        part.strip().split(" ")[1].rstrip(",")
        for part in text.split(";")
        if part.strip()[:1].isdigit()
    }
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


_MEMO: dict[tuple, tuple[object, list[str]]] = {}  # (warehouse, key) -> (value, notes)
_WORLDS: dict[Path, tuple[Workspace, tuple]] = {}  # warehouse -> the state remembered for
_MEMO_LOCK = threading.RLock()  # a page remembered may ask for the survey, remembered too
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
    stamp = outer or _stamp(ws)  # within a page being computed: that page's world
    at = (ws.warehouse, *key)
    with _MEMO_LOCK:
        world = _WORLDS.get(ws.warehouse)
        if world is None or world[0] is not ws or world[1] != stamp:
            for old in [k for k in _MEMO if k[0] == ws.warehouse]:
                del _MEMO[old]
            _WORLDS[ws.warehouse] = (ws, stamp)
        cached = _MEMO.get(at)
        if cached is not None:
            policy.notes.extend(cached[1])
            return cached[0]
        before = len(policy.notes)
        _COMPUTING.stamp = stamp
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
        with _reading():
            _survey(ws)
    except Exception:  # noqa: BLE001 - the first page that asks reports it, as one line
        pass


def _survey(ws: Workspace) -> views.Survey:
    """The whole project's status (see `remember`)."""
    return remember(ws, ("survey",), lambda: views.survey(ws))


def _stamp(ws: Workspace) -> tuple:
    """What the status depends on besides the project, cheap to take: file times and sizes,
    and who holds the write lock."""

    def stat(path: Path):
        try:
            found = path.stat()
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size

    warehouse = ws.warehouse
    files = (warehouse, warehouse.with_name(warehouse.name + ".wal"), state_copy_path(warehouse))
    sources = tuple(
        (name, tuple((f, stat(Path(f))) for f in freshness.matching_files(pattern)))
        for name, pattern in (
            (name, freshness.glob_pattern(ws.project.root, source.path))
            for name, source in sorted(ws.project.sources.items())
            if source.path
        )
    )
    holder = lock.read_holder(warehouse)  # a run starting or ending changes what pages read
    writer = (holder.get("pid"), holder.get("run_id")) if lock.is_alive(holder) else None
    return (
        tuple(stat(f) for f in files),
        sources,
        writer,
        now().replace(second=0, microsecond=0),
    )


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
        rows = list(_survey(ws).models.values()) if ws.dag.models else []
        models = [
            {
                **r._asdict(),
                # as status's table reads them: "yes", "2024-01-10 12:00 (run 3)"
                "built_shown": r.shown()[3],
                "last_built_shown": r.shown()[5],
                "readiness": readiness(r.state),
                "letter": letter(readiness(r.state)),
            }
            for r in rows
        ]
        incidents, sources, runs_ = _from_state(
            ws,
            lambda con: (
                records(state.open_incidents(con)),
                # a source no longer declared (removed, pruned) has nothing left to say
                records(h for h in state.latest_freshness(con) if h.source in ws.project.sources),
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
        rows = _survey(ws).partitions[name]
        checks, history, attempts, built = _from_state(
            ws,
            lambda con: (
                records(state.latest_checks(con, name)),
                records(state.check_history(con, name)),
                records(state.model_attempts(con, name)),
                con.execute(*describe_relation(model.schema, model.table)).fetchall(),
            ),
            ([], [], [], []),
        )
    states = [(r.partition, _state_of(r)) for r in rows]
    red = [
        r
        for r, (_, state_name) in zip(rows, states, strict=True)
        if state_name in ("failed", "blocked")
    ]
    cells = [_cell(r) for r in rows[-GRID_CELLS:]]  # the latest; the rest as ranges
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
            "broken": str(model.broken) if model.broken else None,
            "sql": model.template,
            "description": model.description,
            "columns": columns(built, model.column_descriptions),
        },
        "upstream": list(ws.dag.upstream.get(name, ())),
        "downstream": list(ws.dag.downstream.get(name, ())),
        "sources": list(ws.dag.sources.get(name, ())),
        "checks": _per_check(checks, history),
        "partitions": cells,
        "partitions_total": len(rows),
        "partition_ranges": _ranges(states) if len(rows) > GRID_CELLS else None,
        "attempts": attempts,
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


GRID_CELLS = 1000
"""Most partitions a model page draws one cell each (the latest); all of them come as ranges
of equal state too, so ten years of hours is a strip, not a hundred thousand cells."""

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


def _state_of(row: views.PartitionRow) -> str:
    """One partition's state as the grid colours it."""
    pending = row.pending or ""
    if row.last_attempt in REJECTED:
        return "failed"
    if pending.startswith(("blocked", "waiting")):
        return pending.split(":")[0]
    if pending.startswith("stale"):
        return "stale"
    if pending:
        return "missing"
    return "complete" if row.built_run is not None else "missing"


def _cell(row: views.PartitionRow) -> dict:
    """One partition as the grid shows it: its state, letter and what the hover says."""
    name = _state_of(row)
    pending = row.pending or ""
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


def _commands(name: str, red: list[views.PartitionRow]) -> list[str]:
    """What fixes the red partitions, each cause once (see remedies): a fix before a retry."""
    found = [remedies.of_partition(name, r.last_attempt, r.error, r.pending) for r in red]
    unique = list(dict.fromkeys(f for f in found if f))
    return sorted(unique, key=remedies.is_retry)


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
    for kind in ("waiting", "blocked"):  # what it left for the next run, in its heading
        run[kind] = sum(1 for a in held if a.status == kind)
    shown = _most_telling(rows, lambda t: t.status, lambda t: t.seconds or 0.0)
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "run": run,
        "tasks": records(shown),
        "tasks_total": len(rows),
        "timeline": _lanes(ran, record.started),
        "held": records(held[:RUN_ROWS]),
        "held_total": len(held),
    }


RUN_ROWS = 2000
"""Most tasks (and timeline bars) a run's page lists: every problem first, then the slowest.
A backfill of a hundred thousand hours is a page people read, not a hundred thousand rows."""


def _most_telling(items: list, status, seconds) -> list:
    """At most RUN_ROWS of `items`, in their order: all that did not succeed (up to the
    limit), then the slowest of the rest."""
    if len(items) <= RUN_ROWS:
        return items
    ranked = sorted(
        range(len(items)), key=lambda i: (status(items[i]) == "success", -seconds(items[i]))
    )
    return [items[i] for i in sorted(ranked[:RUN_ROWS])]


def _lanes(attempts, began: datetime) -> dict:
    """Attempts placed on lanes: each goes on the first lane free when it starts, which is how
    a pool of worker threads took them. The partitions of one batch ran as one statement, so
    they are one bar. Offsets and lengths are seconds from the run's start."""
    batches: list[list] = []
    for a in sorted(attempts, key=lambda a: (a.started, a.task_id, a.attempt)):
        last = batches[-1][0] if batches else None
        same = last is not None and (
            last.model,
            last.started,
            last.finished,
            last.attempt,
            last.status,
        ) == (
            a.model,
            a.started,
            a.finished,
            a.attempt,
            a.status,
        )
        if same:
            batches[-1].append(a)
        else:
            batches.append([a])
    busy: list[tuple[datetime, int]] = []  # (ends, lane) of the bars running
    free: list[int] = []
    lanes = 0
    bars = []
    for batch in batches:
        a = batch[0]
        while busy and busy[0][0] <= a.started:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lane, lanes = lanes, lanes + 1
        heapq.heappush(busy, (a.finished, lane))
        keys = sorted(b.partition_key for b in batch)
        bars.append(
            {
                "lane": lane,
                "model": a.model,
                "partition": keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}",
                "partitions": len(keys),
                "attempt": a.attempt,
                "status": a.status,
                "reason": a.reason,
                "error": (a.error or "").split("\n")[0] or None,
                "start": (a.started - began).total_seconds(),
                "seconds": (a.finished - a.started).total_seconds(),
            }
        )
    span = max((b["start"] + b["seconds"] for b in bars), default=0.0) or 1.0
    shown = _most_telling(bars, lambda b: b["status"], lambda b: b["seconds"])
    return {"lanes": lanes, "seconds": span, "bars": shown, "total": len(bars)}


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
        holdings = _survey(ws).snapshot.holdings if ws.dag.models else {}
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
                "arrivals": _arrivals(ws, s, holdings.get(name, ())),
            }
            for name, s in sorted(sources.items())
        ],
    }


ARRIVAL_PERIODS = 31
"""How many of a source's latest periods its page lists."""


def _arrivals(ws: Workspace, source, holdings) -> list[dict]:
    """What arrived in each of the source's latest periods, newest first, the periods with
    nothing in them between included: for files named by period, the files (count, bytes, when
    the last one landed); for a table with `partition_by`, the rows a build last saw there."""
    if not source.partitioned:
        return []
    periods: dict[str, dict] = {}
    if freshness.has_placeholders(source.path):
        period_of = freshness.file_periods(ws.project.root, source)
        for name in freshness.matching_files(freshness.glob_pattern(ws.project.root, source.path)):
            window = period_of(name)
            try:
                found = Path(name).stat()
            except OSError:
                continue
            if window is None:
                continue
            entry = periods.setdefault(
                window.key, {"period": window.key, "files": 0, "bytes": 0, "rows": None}
            )
            entry["files"] += 1
            entry["bytes"] += found.st_size
            landed = datetime.fromtimestamp(found.st_mtime, UTC).replace(tzinfo=None)
            entry["arrived"] = max(entry.get("arrived") or landed, landed)
    else:
        for h in holdings:
            if h.start is None:
                continue
            key = Window.containing(h.start, source.grain).key
            rows = int(h.print.split(":")[0]) if h.print.split(":")[0].isdigit() else None
            periods[key] = {"period": key, "files": None, "bytes": None, "rows": rows}
    if not periods:
        return []
    keys = sorted(periods)
    last = window_for_key(keys[-1], source.grain)
    out = []
    current = last
    while len(out) < ARRIVAL_PERIODS and current.key >= keys[0]:
        found = periods.get(current.key)
        if found:
            out.append({**found, "arrived": iso(found.get("arrived")), "missing": False})
        else:
            files = 0 if source.path else None
            rows = None if source.path else 0
            out.append(
                {"period": current.key, "files": files, "bytes": files, "rows": rows}
                | {"arrived": None, "missing": True}
            )
        current = Window.containing(current.start - timedelta(seconds=1), source.grain)
    return out


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
        found = _survey(ws) if names else None
    out = []
    for name in names:
        grain = ws.dag.models[name].grain
        inside = _between(
            [r for r in found.partitions[name] if r.partition != WHOLE], first, last, grain
        )
        states = [(r.partition, _state_of(r)) for r in inside]
        if only and not any(state_name == only for _, state_name in states):
            continue
        ranges = _ranges(states)
        out.append(
            {
                "model": name,
                "grain": str(grain),
                "owner": ws.dag.models[name].owner,
                "ranges": ranges,
                "counts": {s: sum(r["count"] for r in ranges if r["state"] == s) for s in STATES},
            }
        )
    out.sort(key=lambda m: m["counts"]["complete"] == sum(m["counts"].values()))  # problems first
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "start": iso(first),
        "end": iso(last),
        "filters": {"owner": owner, "tag": tag, "state": only},
        "models": out,
    }


def _between(rows: list[views.PartitionRow], first: datetime, last: datetime, grain):
    """The rows (sorted by key) whose windows overlap [first, last), found by bisection: keys
    of one grain sort as their periods do."""
    low = Window.containing(first, grain).key
    high = Window.containing(last, grain)
    keys = [r.partition for r in rows]
    start = bisect.bisect_left(keys, low)
    if high.start < last:  # `last` falls inside that window: it overlaps
        end = bisect.bisect_right(keys, high.key)
    else:
        end = bisect.bisect_left(keys, high.key)
    return rows[start:end]


def _ranges(states: list[tuple[str, str]]) -> list[dict]:
    """Consecutive partitions (key, state) of one state as one range: {from, to, state, count}."""
    ranges: list[dict] = []
    for key, name in states:
        if ranges and ranges[-1]["state"] == name:
            ranges[-1]["to"] = key
            ranges[-1]["count"] += 1
        else:
            ranges.append({"from": key, "to": key, "state": name, "count": 1})
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
        found = _survey(ws) if chosen else None
    states = {n: readiness(found.models[n].state) for n in chosen} if found else {}
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
    from .. import fingerprints
    from ..planner import marker

    model = ws.dag.models.get(name)
    if model is None:
        return None
    window = window_for_key(key, model.grain) if model.partitioned and key != WHOLE else None
    with _reading() as policy:
        found = _survey(ws)
        rows = [r for n in (name, *ws.dag.upstream.get(name, ())) for r in found.partitions[n]]
        snapshot = found.snapshot
        checks, attempts, health = _from_state(
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
            cell = _cell(r)
            if cell["state"] != "complete":
                upstream.append({"model": up, **cell})
    try:
        rendered = render_model(
            model,
            model.window_literals(window),
            lambda v: ws.project.settings.vars.get(v, f"<var {v}>"),
        )
    except Exception as exc:  # the chain still shows the rest
        rendered = f"-- cannot render: {exc}"
    last = next((a for a in attempts if a["partition_key"] == key), None)
    return {
        "notes": list(dict.fromkeys(policy.notes)),
        "model": name,
        "partition": key,
        "cell": _cell(mine) if mine else None,
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
        "remedy": remedies.of_partition(name, mine.last_attempt, mine.error, mine.pending)
        if mine
        else None,
        "last_attempt": last,
        "changed": changed,
        "sql": rendered,
        "built": {"run": built.run, "version": built.version} if built else None,
    }
