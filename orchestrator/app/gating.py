"""The gated plan: the planner's plan with what the models read judged first. Each model whose
SQL changed since its builds is given its change's category (`categories`), and the sources the
planned tasks read are evaluated, so that what is not ready waits: the planner itself stays
free of I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from ..core.snapshot import Snapshot
from ..core.tasks import Plan, Request
from ..plan.planner import plan as make_plan
from ..sources import freshness
from ..sources.survey import Survey
from .categories import changes, differs
from .workspace import Workspace


def with_changes(ws: Workspace, con, snapshot: Snapshot, request: Request) -> Request:
    """The request with the category of each model's change since its builds (`categories`):
    what the planner rebuilds for it."""
    if request.changes or not any(
        differs(ws.dag.models[n], snapshot.built.get(n)) for n in request.selected
    ):
        return request
    return replace(request, changes=MappingProxyType(changes(ws, con, snapshot, request.vars)))


def gated_plan(
    ws: Workspace,
    con,
    snapshot: Snapshot,
    surveyed: Survey,
    request: Request,
    unreadable: Mapping[str, str] | None = None,
) -> tuple[Plan, list[freshness.SourceStatus]]:
    """Plan, evaluate the sources the planned tasks read, and plan again with what is not ready
    (not arrived, stale, drifted, `unreadable`) held back: the planner itself stays free of I/O.
    Models whose SQL changed since their builds are given their change's category first."""
    request = with_changes(ws, con, snapshot, request)
    first = make_plan(ws.dag, snapshot, request)
    inspector = freshness.Inspector(con, ws.project, request.now, surveyed, unreadable)
    found = freshness.gates(inspector, ws.dag, first.units)
    final = make_plan(ws.dag, snapshot, request, found) if found else first
    return final, list(inspector.statuses.values())
