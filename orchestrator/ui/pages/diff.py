"""The diff page (`ui --env NAME`, /diff): what the environment's change does, as a reviewer
reads it before promoting: per changed model the SQL diff, the columns, the category, what it
rebuilds downstream and the data diff against production, with samples."""

from __future__ import annotations

from ...app import diffing, shapes
from ...app.workspace import Workspace
from ...core.errors import WarehouseBusy


def diff_page(ws: Workspace) -> dict:
    """The environment's diff (the JSON of `diff --env NAME --json`), or why there is none."""
    if ws.env is None:
        return {"env": None, "models": [], "notes": []}
    if not ws.env.copies:
        return {"env": ws.env.name, "models": [], "notes": []}
    try:
        found = diffing.diff(ws)
    except WarehouseBusy as exc:
        return {"env": ws.env.name, "models": [], "notes": [str(exc)]}
    page = shapes.diff(ws.env.name, found)
    for model in page["models"]:
        model["sql_lines"] = [_line(text) for text in (model["sql_diff"] or "").splitlines()]
    return {**page, "notes": []}


def _line(text: str) -> dict:
    """A line of the unified diff with how to colour it."""
    kind = "same"
    if text.startswith(("+++", "---")):
        kind = "file"
    elif text.startswith("@@"):
        kind = "hunk"
    elif text.startswith("+"):
        kind = "added"
    elif text.startswith("-"):
        kind = "removed"
    return {"text": text, "kind": kind}
