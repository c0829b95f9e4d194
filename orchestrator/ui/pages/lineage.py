"""The lineage page: the models around what was asked (a model and its neighbours, a selector,
a name search), coloured by readiness, with the sources they read; bounded, so it stays
interactive at any size. Laid out in the browser by dagre, in a worker."""

from __future__ import annotations

from ...app.workspace import Workspace
from ...core.errors import UsageError
from ...project import selectors
from .memo import project_status
from .shared import letter, notes, readiness, reading

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
    dag = ws.dag
    start = _asked(dag, focus, select, query)
    chosen = _neighbourhood(dag, start, hops if focus else 0)
    truncated = len(chosen) > LINEAGE_LIMIT
    chosen = set(sorted(chosen, key=lambda n: (n not in start, n))[:LINEAGE_LIMIT])
    with reading() as policy:
        found = project_status(ws) if chosen else None
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
        "notes": notes(policy),
        "asked": {"focus": focus, "hops": hops, "select": select, "q": query},
        "truncated": truncated,
        "limit": LINEAGE_LIMIT,
        "models": len(dag.models),
        "nodes": nodes,
        "edges": sorted(edges),
    }


def _asked(dag, focus: str | None, select: str | None, query: str | None) -> set[str]:
    """The models asked for: a selector's, the one in focus, those whose name has the query,
    or all of them."""
    if select:
        return selectors.select(dag, [select])
    if focus:
        if focus not in dag.models:
            raise UsageError(f"no model named '{focus}'")
        return {focus}
    if query:
        return {n for n in dag.models if query.lower() in n.lower()}
    return set(dag.models)


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
