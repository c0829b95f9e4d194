"""The alerts page: alerts with their delivery, incidents open and closed, jobs with their
next tick and deadline, and the latest ticks (missed deadlines among them)."""

from __future__ import annotations

from datetime import datetime

from ... import state
from ...app.shapes import iso, records
from ...app.workspace import Workspace, now
from ...project.schedule import to_local, zone
from .shared import from_state, notes, reading


def alerts_page(ws: Workspace) -> dict:
    """Alerts with their delivery, incidents open and closed, jobs with their next tick and
    deadline, and the latest ticks (missed deadlines among them)."""

    def read(con) -> dict:
        return {
            "alerts": records(state.recent_alerts(con)),
            "incidents": records(state.recent_incidents(con)),
            "ticks": records(state.recent_ticks(con)),
        }

    with reading() as policy:
        found = from_state(ws, read, {})
    said = notes(policy)
    at = now()
    return {
        "notes": said,
        "alerts": found.get("alerts", []),
        "incidents": found.get("incidents", []),
        "jobs": [_job(job, at) for job in ws.project.ops.jobs.values()],
        "ticks": found.get("ticks", []),
    }


def _job(job, at: datetime) -> dict:
    """One job as the page lists it: what it selects, when it ticks next (in UTC and in its
    own time zone), whose it is and its deadline."""
    upcoming = None
    if job.cron is not None:
        upcoming = job.cron.next_after(at, zone(job.timezone))
    return {
        "job": job.name,
        "select": list(job.select),
        "cron": job.cron.text if job.cron else None,
        "on": job.on,
        "timezone": job.timezone,
        "owner": job.owner,
        "deadline": job.deadline.strftime("%H:%M") if job.deadline else None,
        "next_tick": iso(upcoming),
        "next_tick_local": str(to_local(upcoming, zone(job.timezone)))[:16] if upcoming else None,
    }
