"""The landing page: is today's data ready? Every model's readiness, problems first, with the
counts, open incidents, sources with problems, the run in progress and the last runs."""

from __future__ import annotations

from ... import state
from ...app.shapes import iso, records
from ...app.workspace import Workspace, now
from .memo import project_status
from .progress import running
from .shared import STATES, from_state, letter, notes, readiness, reading


def overview(ws: Workspace) -> dict:
    """The landing page: every model's readiness (problems first), counts, open incidents,
    sources with problems, the run in progress and the last runs."""
    with reading() as policy:
        rows = list(project_status(ws).models.values()) if ws.dag.models else []
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
        incidents, sources, runs_ = from_state(
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
        "notes": notes(policy),
        "running": running(ws),
        "counts": counts,
        "models": models,
        "incidents": incidents,
        "sources": sources,
        "runs": runs_,
    }
