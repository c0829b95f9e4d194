"""The run writing now, as pages show it: read from the side file its lock keeps (never the
lock itself, never the warehouse), so pages that poll it cost nothing however often they ask."""

from __future__ import annotations

from ...app.shapes import iso
from ...app.workspace import Workspace, now
from ...engines import lock


def running(ws: Workspace) -> dict | None:
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
    return {"as_of": iso(now()), "running": running(ws)}
