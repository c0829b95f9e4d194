"""Raising and delivering alerts, and the incidents they open and close. The decisions (what to
send, to whom, when an incident opens) are alerts.py's; this module does the I/O around them."""

from __future__ import annotations

import sys

from . import alerts, state
from .execution import utcnow
from .workspace import Workspace


def raise_alerts(ws: Workspace, con, result, job: str | None = None, extra=()) -> list:
    """Alert owners about what this run showed (failures, blocked sources, recoveries), once
    per incident. Alerting never fails the run: a problem here is reported, not raised."""
    try:
        events = alerts.from_run(result, ws.dag, ws.project.sources, job) + list(extra)
        healthy = alerts.healthy_subjects(result, state.failing_models(con))
        return deliver_alerts(ws, con, events, healthy, result.run_id)
    except Exception as exc:  # the run's own outcome must stand
        print(f"warning: alerting failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []


def deliver_alerts(ws: Workspace, con, events, healthy, run_id: int | None) -> list:
    decision = alerts.decide(events, healthy, state.open_incidents(con), run_id)
    opened = {id(e) for e in decision.opened}
    for event in decision.send:
        at = utcnow()
        alert_id = _send(ws, con, event, at)
        if id(event) in opened:
            state.open_incident(
                con, event.incident, event.subject, event.owner, at, run_id, alert_id
            )
    for kind, subject in decision.closed:
        state.close_incident(con, kind, subject, utcnow(), run_id)
    return decision.send


def _send(ws: Workspace, con, event, at) -> int:
    """Deliver one alert to its owner's sinks and record it (delivered or not)."""
    owner = alerts.route(event, ws.project.ops)
    body = alerts.payload(event, owner)
    delivery = alerts.deliver(owner, body, ws.project.root)
    return state.add_alert(
        con,
        {
            "created_at": at,
            "event": event.event,
            "subject": event.subject,
            "owner": event.owner,
            "run_id": event.run_id,
            "job": event.job,
            "partitions": event.partitions,
            "message": body["text"],
            "payload": body,
            "sinks": delivery.sinks,
            "delivered": delivery.delivered,
            "attempts": delivery.attempts,
            "error": delivery.error,
        },
    )
