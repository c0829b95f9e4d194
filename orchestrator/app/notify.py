"""Raising and delivering alerts, and the incidents they open and close. The decisions (what is
news, when an incident heals, what a message says) are alerts.py's; this module does the I/O
around them: reading open incidents and partition states, sending, recording.

Every writing command that alerts (run, backfill, retry, a scheduler tick) first tries again the
undelivered alerts of open incidents whose next try is due, then sends its own news: one message
per owner (a digest when there are several), each recorded in orchestrator.alerts with whether it
arrived."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass

from .. import state
from ..core.clock import now
from . import alerts, exporting
from .alerts import Event
from .steps import healthy_steps
from .workspace import Workspace


@dataclass(frozen=True)
class Sent:
    """One message to one owner, and whether it arrived (`error` says why not)."""

    summary: str
    routed_to: str | None
    delivered: bool
    error: str | None = None
    again: bool = False  # an undelivered alert of an open incident, tried again


def raise_alerts(ws: Workspace, con, result, job: str | None = None, extra=()) -> list[Sent]:
    """Alert owners about what this run showed (new failures, blocked sources, recoveries).
    Alerting never fails the run: a problem here is reported, not raised."""
    try:
        incidents = state.open_incidents(con)
        told = alerts.told_by(incidents)
        events = alerts.from_run(result, ws.dag, ws.project.sources, job, told) + list(extra)
        events += exporting.news(result, told)
        healthy = alerts.healthy_sources(result) | alerts.healthy_models(ws.dag)
        healthy |= healthy_steps(result)
        healthy |= exporting.healthy(con, ws)
        return deliver_alerts(ws, con, events, healthy, result.run_id, incidents)
    except Exception as exc:  # the run's own outcome must stand
        print(f"warning: alerting failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []


def deliver_alerts(
    ws: Workspace, con, events, healthy, run_id: int | None, incidents=None
) -> list[Sent]:
    """Try undelivered alerts again, open an incident per piece of news, close the incidents
    the state shows healed, and send each owner one message about all of it."""
    at = now()
    sent = redeliver(ws, con, at)
    incidents = state.open_incidents(con) if incidents is None else incidents
    models = sorted({i.subject for i in incidents if i.kind == "model"})
    decision = alerts.decide(
        events, healthy, incidents, state.partition_statuses(con, models), run_id
    )
    opened = {id(e) for e in decision.opened}
    by_owner: dict[str | None, list[Event]] = defaultdict(list)
    for event in decision.send:
        owner = alerts.route(event, ws.project.ops)
        by_owner[owner.name if owner else None].append(event)
    for name, group in by_owner.items():
        owner = ws.project.ops.owners.get(name) if name else None
        body = alerts.digest(group, owner)
        delivery = alerts.deliver(owner, body, ws.project.root)
        alert_id = state.add_alert(
            con,
            {
                "created_at": at,
                "event": body["event"],
                "subject": body["subject"],
                "owner": group[0].owner if len(group) == 1 else name,
                "run_id": run_id,
                "job": body["job"],
                "partitions": body["partitions"],
                "message": body["text"],
                "payload": body,
                "sinks": delivery.sinks,
                "delivered": delivery.delivered,
                "attempts": delivery.attempts,
                "error": delivery.error,
                "next_try_at": None
                if delivery.delivered
                else alerts.next_try(delivery.attempts, at),
            },
        )
        for event in group:
            if id(event) in opened:
                state.open_incident(
                    con,
                    event.incident,
                    event.subject,
                    event.cause,
                    event.partitions,
                    event.owner,
                    at,
                    run_id,
                    alert_id,
                )
        summary = group[0].summary if len(group) == 1 else body["text"].splitlines()[0]
        sent.append(Sent(summary, name, delivery.delivered, delivery.error))
    for incident in decision.closed:
        state.close_incident(con, incident, at, run_id)
    return sent


def redeliver(ws: Workspace, con, at) -> list[Sent]:
    """Undelivered alerts of incidents still open, due for another try (with backoff): until
    they arrive or their incident closes."""
    sent = []
    owners = ws.project.ops.owners
    for alert in state.undelivered_alerts(con, at):
        owner = owners.get(alert.owner or "") or owners.get("default")
        body = json.loads(alert.payload)
        delivery = alerts.deliver(owner, body, ws.project.root)
        attempts = alert.attempts + delivery.attempts
        state.update_delivery(
            con,
            alert.alert_id,
            delivery.delivered,
            attempts,
            delivery.error,
            None if delivery.delivered else alerts.next_try(attempts, at),
        )
        first = (body.get("text") or "").splitlines()[:1] or [""]
        summary = re.sub(r"^:[a-z_]+: ", "", first[0])  # the message's line, without its icon
        sent.append(
            Sent(summary, owner.name if owner else None, delivery.delivered, delivery.error, True)
        )
    return sent
