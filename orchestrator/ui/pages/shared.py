"""What several pages share: a model's readiness and its letter, a partition's state as the
grid colours it, ranges of equal state, and how a page reads the warehouse (read-only, for the
length of one call, from the last state copy while a run holds it)."""

from __future__ import annotations

from ... import state
from ...app import views
from ...app.shapes import iso
from ...app.workspace import Workspace
from ...core.status import REJECTED
from ...engines import readers

STATES = ("broken", "failed", "blocked", "waiting", "stale", "missing", "partial", "complete")
"""A model's readiness, most urgent first; the UI colours and letters follow it."""

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


def letter(state_name: str) -> str:
    return _LETTERS.get(state_name, "?")


def partition_state(row: views.PartitionRow) -> str:
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


def cell(row: views.PartitionRow) -> dict:
    """One partition as the grid shows it: its state, letter and what the hover says."""
    name = partition_state(row)
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


def ranges(states: list[tuple[str, str]]) -> list[dict]:
    """Consecutive partitions (key, state) of one state as one range: {from, to, state, count}."""
    found: list[dict] = []
    for key, name in states:
        if found and found[-1]["state"] == name:
            found[-1]["to"] = key
            found[-1]["count"] += 1
        else:
            found.append({"from": key, "to": key, "state": name, "count": 1})
    for r in found:
        r["letter"] = letter(r["state"])
    return found


def reading():
    """A page's readers policy: state alone will do, so while a run holds the lock a page
    reads the state copy and never opens the warehouse in the run's way."""
    return readers.reading_policy(spare_writer=True)


def notes(policy) -> list[str]:
    """What the page's reads left to say (a run holds the warehouse...), each once."""
    return list(dict.fromkeys(policy.notes))


def from_state(ws: Workspace, read, empty):
    """`read(con)` on the warehouse (during a run, its state copy), or `empty` before the
    first run. Called under the page's readers policy, which collects the notes."""
    if not ws.warehouse.exists():
        return empty
    con = readers.connect(ws.warehouse).con
    try:
        return read(con) if state.has_state(con) else empty
    finally:
        con.close()
