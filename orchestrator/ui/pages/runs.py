"""The runs' pages: the last runs, and one run with its tasks and their attempts on a timeline
with the worker threads as lanes (a backfill of a hundred thousand hours is capped to the
tasks worth reading)."""

from __future__ import annotations

import heapq
import json
from datetime import datetime

from ... import state
from ...app import views
from ...app.shapes import records
from ...app.workspace import Workspace
from ...engines import readers
from .shared import notes, reading

RUN_ROWS = 2000
"""Most tasks (and timeline bars) a run's page lists: every problem first, then the slowest.
A backfill of a hundred thousand hours is a page people read, not a hundred thousand rows."""


def runs_page(ws: Workspace, limit: int = 50) -> dict:
    with reading() as policy:
        rows = views.runs(ws.warehouse, limit)
    return {"notes": notes(policy), "runs": records(rows)}


def run_page(ws: Workspace, run_id: int) -> dict:
    """One run: who started it with what, its tasks, and their attempts on a timeline with
    the worker threads as lanes (retries are attempts of their own; tasks held back, skipped
    or waiting, are listed with their reasons)."""
    with reading() as policy:
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
        "notes": notes(policy),
        "run": run,
        "tasks": records(shown),
        "tasks_total": len(rows),
        "timeline": _lanes(ran, record.started),
        "held": records(held[:RUN_ROWS]),
        "held_total": len(held),
    }


def _most_telling(items: list, status, seconds) -> list:
    """At most RUN_ROWS of `items`, in their order: all that did not succeed (up to the
    limit), then the slowest of the rest."""
    if len(items) <= RUN_ROWS:
        return items
    ranked = sorted(
        range(len(items)), key=lambda i: (status(items[i]) == "success", -seconds(items[i]))
    )
    return [items[i] for i in sorted(ranked[:RUN_ROWS])]


def _batches(attempts) -> list[list]:
    """Attempts in the order they started, those of one batch together: the partitions of a
    batch ran as one statement (same model, times, attempt and status)."""
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
    return batches


def _lanes(attempts, began: datetime) -> dict:
    """Attempts placed on lanes: each goes on the first lane free when it starts, which is how
    a pool of worker threads took them. The partitions of one batch ran as one statement, so
    they are one bar. Offsets and lengths are seconds from the run's start."""
    busy: list[tuple[datetime, int]] = []  # (ends, lane) of the bars running
    free: list[int] = []
    lanes = 0
    bars = []
    for batch in _batches(attempts):
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
