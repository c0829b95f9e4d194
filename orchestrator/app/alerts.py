"""Alerts: what deserves one, who gets it, and getting it there. No SQL here.

An alert is for something a person must act on: a task that failed after its last retry, a
blocking check that failed, a source that is stale or drifted, a job that missed its deadline,
and the recovery. Not every retry, not every success: an incident is one subject (a model, a
source, a job), one cause (`failed`, `check NAME`, `blocked`, `deadline`, `refused`) and the
partitions it is about; its alert is sent once, a new partition failing is news, and it closes
with a recovery when the state is healthy again. One command sends each owner one message (a
digest when there are several).

Routing is by owner: the model's, the source's or the job's `[owners.NAME]`, else
`[owners.default]`. Sinks: a webhook (JSON POST with a Slack-compatible `text` plus structured
fields), a command (the payload as JSON on stdin) and a log file (JSON lines). A sink that is down
is retried and its failure recorded (later commands try again, `notify.redeliver`); it never
fails the run.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..core.partitions import WHOLE, describe
from ..core.status import SOURCE_HEALTHY
from ..core.tasks import BROKEN
from ..plan import remedies
from ..project.model import Operations, Owner
from ..state.operations import OpenIncident

KINDS = {  # event -> the incident it opens or belongs to
    "task_failed": "model",
    "check_failed": "model",
    "source_blocked": "source",
    "deadline_missed": "job",
    "job_failed": "job",
    "model_broken": "broken",  # its file does not load: healed when it loads again
    "step_failed": "step",  # a step's command failed: healed when a run sees it succeed
    "export_failed": "export",  # healed when its every partition's latest export succeeded
}
ICONS = {
    "task_failed": ":red_circle:",
    "check_failed": ":warning:",
    "source_blocked": ":no_entry:",
    "deadline_missed": ":alarm_clock:",
    "job_failed": ":red_circle:",
    "model_broken": ":construction:",
    "step_failed": ":red_circle:",
    "export_failed": ":outbox_tray:",
    "project_broken": ":construction:",
    "recovered": ":large_green_circle:",
}


@dataclass(frozen=True)
class Event:
    event: str  # task_failed | check_failed | source_blocked | deadline_missed | recovered
    subject: str
    owner: str | None
    summary: str
    detail: str = ""
    run_id: int | None = None
    job: str | None = None
    partitions: tuple[str, ...] = ()
    sample: tuple = ()
    retry: str | None = None  # the command that fixes it (see remedies): a retry, or a fix first
    kind: str = ""  # the incident kind (for recoveries: the one that closes)
    cause: str = ""  # failed | check NAME | blocked | deadline

    @property
    def incident(self) -> str:
        return self.kind or KINDS.get(self.event, self.event)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.incident, self.subject, self.cause)


Told = Mapping[tuple[str, str, str], set[str]]
"""(kind, subject, cause) -> the partitions open incidents already told about."""


def told_by(incidents: Iterable[OpenIncident]) -> dict[tuple[str, str, str], set[str]]:
    told: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for i in incidents:
        told[(i.kind, i.subject, i.cause)].update(i.partitions)
    return told


def _folded(outcomes) -> str:
    windows = sorted(o.window for o in outcomes if o.window)
    if windows:
        return describe(windows, limit=4)
    return ", ".join(sorted({o.key for o in outcomes}))


def _news(outcomes: list, key: tuple[str, str, str], told: Told, partition) -> list:
    """The outcomes no open incident of this subject and cause has told about yet: a new
    partition failing is news, the same one failing again is not."""
    if key not in told:
        return outcomes
    if not told[key]:
        return []  # an incident about the subject as a whole covers every partition
    return [o for o in outcomes if partition(o) not in told[key]]


def _cause(outcome) -> tuple[str, str]:
    if outcome.model.startswith("step:"):
        return "step_failed", "failed"
    if outcome.status == "check_failed":
        names = sorted({r.check.name for r in outcome.checks if r.failed and r.check.blocking})
        return "check_failed", "check " + ", ".join(names) if names else "check"
    return "task_failed", "failed"


def from_run(
    result, dag, sources: Mapping, job: str | None = None, told: Told | None = None
) -> list[Event]:
    """The news a finished run has for people: per failing model and cause, and per blocking
    source, the partitions no open incident has told about yet."""
    told = told or {}
    events: list[Event] = []
    by_model: dict[tuple[str, str, str], list] = defaultdict(list)
    for outcome in result.outcomes:
        if outcome.status in ("failed", "timed_out", "check_failed"):
            event, cause = _cause(outcome)
            by_model[(event, outcome.model, cause)].append(outcome)
    for (event, model, cause), everything in by_model.items():
        outcomes = _news(everything, (KINDS[event], model, cause), told, lambda o: o.key)
        if not outcomes:
            continue
        first = outcomes[0]
        owner = dag.models[model].owner if model in dag.models else getattr(first, "owner", None)
        sample: tuple = ()
        if event == "check_failed":
            failing = [r for o in outcomes for r in o.checks if r.failed]
            sample = failing[0].sample[:3] if failing and failing[0].sample else ()
            summary = f"{model} failed a blocking check ({cause[6:]}) on {_folded(outcomes)}"
        else:
            how = "timed out" if first.status == "timed_out" else "failed"
            tries = f" after {first.attempts} attempts" if first.attempts > 1 else ""
            summary = f"{model} {how}{tries} on {_folded(outcomes)}"
        events.append(
            Event(
                event,
                model,
                owner,
                summary,
                first.error or first.reason,
                result.run_id,
                job,
                tuple(sorted(o.key for o in outcomes)),
                sample,
                first.remedy or remedies.remedy(model, first.status, first.error, result.run_id),
                cause=cause,
            )
        )
    events += _broken(result, dag, job, told)
    blocked: dict[str, list] = defaultdict(list)
    for outcome in result.outcomes:
        if outcome.status == "blocked" and outcome.reason.startswith("source "):
            blocked[_blocking_source(outcome)].append(outcome)
    for source, everything in blocked.items():
        outcomes = _news(everything, ("source", source, "blocked"), told, lambda o: o.key)
        if not outcomes:
            continue
        owner = sources[source].owner if source in sources else None
        readers = sorted({o.model for o in outcomes})
        events.append(
            Event(
                "source_blocked",
                source,
                owner,
                f"source {source} blocks {', '.join(readers)} ({len(outcomes)} tasks held back)",
                outcomes[0].reason,
                result.run_id,
                job,
                tuple(sorted({o.key for o in outcomes})),
                (),
                "fix the source, then: orchestrator run " + " ".join(readers),
                cause="blocked",
            )
        )
    return events


def _broken(result, dag, job: str | None, told: Told) -> list[Event]:
    """A model whose file does not load, once per incident: with what it holds back."""
    events = []
    for outcome in result.outcomes:
        if not (outcome.status == "blocked" and outcome.reason.startswith(BROKEN)):
            continue
        model = outcome.model
        if ("broken", model, "broken") in told:
            continue
        error = outcome.reason.removeprefix(BROKEN)
        readers = sorted(
            {o.model for o in result.outcomes if o.reason.startswith(f"waits for {model}: ")}
        )
        held = f"; {len(readers)} model(s) reading it held back" if readers else ""
        events.append(
            Event(
                "model_broken",
                model,
                dag.models[model].owner if model in dag.models else None,
                f"{model} does not load, so it is not built{held}",
                error,
                result.run_id,
                job,
                (),
                (),
                remedies.broken(model, error),
                cause="broken",
            )
        )
    return events


def healthy_models(dag) -> set[tuple[str, str]]:
    """("broken", model) for every model whose file loads: a broken one that loads again
    closes its incident (whether anything was rebuilt or not)."""
    return {("broken", name) for name, model in dag.models.items() if not model.broken}


def _blocking_source(outcome) -> str:
    return outcome.reason.split()[1].split("[")[0]


def healthy_sources(result) -> set[tuple[str, str]]:
    """(kind, subject) pairs of sources this run showed to be fine again: evaluated healthy,
    and no reader held back by them."""
    blocked = {
        _blocking_source(o)
        for o in result.outcomes
        if o.status == "blocked" and o.reason.startswith("source ")
    }
    return {
        ("source", status.source)
        for status in result.sources
        if status.status in SOURCE_HEALTHY and status.source not in blocked
    }


@dataclass
class Decision:
    send: list[Event] = field(default_factory=list)
    opened: list[Event] = field(default_factory=list)
    closed: list[OpenIncident] = field(default_factory=list)


def healed(
    incident: OpenIncident,
    healthy: set[tuple[str, str]],
    statuses: Mapping[tuple[str, str], str],
) -> bool:
    """Is the state healthy for this incident, whichever command made it so? A model's: each
    of its partitions' latest attempt succeeded (or the partition is gone); a source's or a
    job's: this command saw it healthy."""
    if incident.kind != "model":
        return (incident.kind, incident.subject) in healthy
    keys = incident.partitions or [k for m, k in statuses if m == incident.subject]
    return all(statuses.get((incident.subject, k), "success") == "success" for k in keys)


def decide(
    events: Iterable[Event],
    healthy: set[tuple[str, str]],
    open_incidents: Iterable[OpenIncident],
    statuses: Mapping[tuple[str, str], str],
    run_id: int | None,
) -> Decision:
    """Each event (news, see `from_run`) opens an incident; each open incident the state shows
    healed closes, with a recovery."""
    decision = Decision()
    seen: set[tuple[str, str, str]] = set()
    for event in events:
        if not event.partitions and event.key in seen:
            continue
        seen.add(event.key)
        decision.send.append(event)
        decision.opened.append(event)
    for incident in open_incidents:
        if not healed(incident, healthy, statuses):
            continue
        decision.closed.append(incident)
        shown = [p for p in incident.partitions if p != WHOLE]
        where = f" on {', '.join(shown[:4])}" if shown else ""
        more = f" and {len(shown) - 4} more" if len(shown) > 4 else ""
        since = f"{incident.opened_at:%Y-%m-%d %H:%M} UTC" + (
            f", run {incident.opened_run}" if incident.opened_run is not None else ""
        )
        what = {
            "failed": "failing",
            "blocked": "blocking",
            "deadline": "late",
            "refused": "not starting",
            "broken": "not loading",
            "": "failing",
        }
        how = what.get(incident.cause, f"failing {incident.cause}")
        decision.send.append(
            Event(
                "recovered",
                incident.subject,
                incident.owner,
                f"{incident.subject} recovered{where}{more} ({how} since {since})",
                "",
                run_id,
                None,
                incident.partitions,
                (),
                None,
                incident.kind,
                incident.cause,
            )
        )
    return decision


def route(event: Event, ops: Operations) -> Owner | None:
    if event.owner and event.owner in ops.owners:
        return ops.owners[event.owner]
    return ops.owners.get("default")


def payload(event: Event, owner: Owner | None) -> dict:
    lines = [f"{ICONS.get(event.event, '')} {event.summary}".strip()]
    if event.run_id is not None:
        lines[0] += f" (run {event.run_id})"
    if event.detail:
        lines.append(f"error: {event.detail}")
    if event.sample:
        lines.append(f"failing rows, e.g.: {json.dumps(list(event.sample), default=str)}")
    tail = []
    if event.owner:
        tail.append(f"owner: {event.owner}")
    if event.job:
        tail.append(f"job: {event.job}")
    if event.retry:
        tail.append(f"to fix: {event.retry}")
    if tail:
        lines.append(" · ".join(tail))
    return {
        "text": "\n".join(lines),
        "event": event.event,
        "subject": event.subject,
        "owner": event.owner,
        "routed_to": owner.name if owner else None,
        "run_id": event.run_id,
        "job": event.job,
        "partitions": list(event.partitions),
        "error": event.detail or None,
        "sample": list(event.sample),
        "remedy": event.retry,
        # the remedy when running one command fixes it (a retry, a rebuild, the job again)
        "retry_command": event.retry if (event.retry or "").startswith("orchestrator ") else None,
    }


@dataclass(frozen=True)
class Delivery:
    sinks: tuple[str, ...]
    delivered: bool
    attempts: int
    error: str | None


def deliver(
    owner: Owner | None,
    body: dict,
    root: Path,
    *,
    attempts: int = 3,
    timeout: float = 5.0,
    backoff: float = 0.5,
) -> Delivery:
    """Send to every sink of `owner`, retrying each a few times. Never raises."""
    if owner is None:
        return Delivery((), False, 0, "no owner to route to (add [owners.default])")
    sinks: list[tuple[str, object]] = []
    if owner.webhook:
        sinks.append(("webhook", lambda: _post(owner.webhook, body, timeout)))
    if owner.command:
        sinks.append(("command", lambda: _command(owner.command, body, root, timeout)))
    if owner.log:
        sinks.append(("log", lambda: _append(root / owner.log, body)))
    if not sinks:
        return Delivery((), False, 0, f"owner {owner.name} has no sink (webhook, command, log)")
    errors: list[str] = []
    tries = 0
    delivered = True
    for name, send in sinks:
        for attempt in range(1, attempts + 1):
            tries += 1
            try:
                send()
                break
            except Exception as exc:  # a sink that is down must never fail the run
                if attempt == attempts:
                    delivered = False
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                else:
                    time.sleep(backoff * 2 ** (attempt - 1))
    return Delivery(
        tuple(n for n, _ in sinks), delivered, tries, "; ".join(errors) if errors else None
    )


def _post(url: str, body: dict, timeout: float) -> None:
    data = json.dumps(body, default=str).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "orchestrator-alerts"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status >= 300:
            raise urllib.error.HTTPError(url, response.status, "unexpected status", None, None)


def _command(command: str, body: dict, root: Path, timeout: float) -> None:
    done = subprocess.run(
        shlex.split(command),
        input=json.dumps(body, default=str),
        text=True,
        capture_output=True,
        timeout=timeout,
        cwd=root,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[:200]}")


def _append(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(body, default=str) + "\n")


def digest(events: list[Event], owner: Owner | None) -> dict:
    """What one owner gets from one command: the alert itself, or one message listing several
    (a run that blocks three sources sends one message, not three)."""
    if len(events) == 1:
        return payload(events[0], owner)
    parts = [payload(e, owner) for e in events]
    run_ids = sorted({e.run_id for e in events if e.run_id is not None})
    head = f":bell: {len(events)} alerts" + (f" (run {run_ids[0]})" if len(run_ids) == 1 else "")
    return {
        "text": "\n\n".join([head] + [p["text"] for p in parts]),
        "event": "digest",
        "subject": ", ".join(dict.fromkeys(e.subject for e in events)),
        "owner": owner.name if owner else None,
        "routed_to": owner.name if owner else None,
        "run_id": run_ids[0] if len(run_ids) == 1 else None,
        "job": next((e.job for e in events if e.job), None),
        "partitions": sorted({p for e in events for p in e.partitions}),
        "error": None,
        "sample": [],
        "retry_command": None,
        "events": parts,
    }


def unrouted(models: Iterable, sources: Iterable, ops: Operations) -> str | None:
    """One line saying whose alerts would reach nobody, or None when every alert has a route."""
    if "default" in ops.owners:
        return None
    lost_models = [m for m in models if not (m.owner and m.owner in ops.owners)]
    lost_sources = [s for s in sources if not (s.owner and s.owner in ops.owners)]
    if not lost_models and not lost_sources:
        return None
    counted = [
        f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"
        for items, noun in ((lost_models, "model"), (lost_sources, "source"))
        if items
    ]
    return (
        f"note: alerts about {' and '.join(counted)} have no route: add [owners.default] "
        "(or [owners.NAME] for their owner) to orchestrator.toml"
    )


def next_try(attempts: int, now: datetime) -> datetime:
    """When to try an undelivered alert again: a minute after the first round of tries,
    doubling, at most an hour (each round is `deliver`'s few tries)."""
    rounds = max(attempts // 3, 1)
    return now + timedelta(minutes=min(2 ** (rounds - 1), 60))
