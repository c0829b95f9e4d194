"""Alerts: what deserves one, who gets it, and getting it there. No SQL here.

An alert is for something a person must act on: a task that failed after its last retry, a
blocking check that failed, a source that is stale or drifted, a job that missed its deadline,
and the recovery (the first success after an alerted failure). Not every retry, not every
success: one alert opens an incident for its subject (a model, a source, a job), and nothing
more is sent about that subject until it recovers.

Routing is by owner: the model's, the source's or the job's `[owners.NAME]`, else
`[owners.default]`. Sinks: a webhook (JSON POST with a Slack-compatible `text` plus structured
fields), a command (the payload as JSON on stdin) and a log file (JSON lines). A sink that is down
is retried and its failure recorded; it never fails the run.
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
from pathlib import Path

from .model import Operations, Owner
from .partitions import describe
from .state.operations import OpenIncident
from .status import SOURCE_HEALTHY

KINDS = {  # event -> the incident it opens or belongs to
    "task_failed": "model",
    "check_failed": "model",
    "source_blocked": "source",
    "deadline_missed": "job",
}
ICONS = {
    "task_failed": ":red_circle:",
    "check_failed": ":warning:",
    "source_blocked": ":no_entry:",
    "deadline_missed": ":alarm_clock:",
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
    retry: str | None = None  # the command that retries it
    kind: str = ""  # the incident kind (for recoveries: the one that closes)

    @property
    def incident(self) -> str:
        return self.kind or KINDS.get(self.event, self.event)


def _folded(outcomes) -> str:
    windows = sorted(o.window for o in outcomes if o.window)
    if windows:
        return describe(windows, limit=4)
    return ", ".join(sorted({o.key for o in outcomes}))


def from_run(result, dag, sources: Mapping, job: str | None = None) -> list[Event]:
    """The events a finished run raises: one per failing model and per blocking source."""
    events: list[Event] = []
    by_model: dict[tuple[str, str], list] = defaultdict(list)
    for outcome in result.outcomes:
        if outcome.status in ("failed", "timed_out"):
            by_model[("task_failed", outcome.model)].append(outcome)
        elif outcome.status == "check_failed":
            by_model[("check_failed", outcome.model)].append(outcome)
    retry = f"orchestrator retry --run {result.run_id}"
    for (event, model), outcomes in by_model.items():
        first = outcomes[0]
        owner = dag.models[model].owner if model in dag.models else None
        sample: tuple = ()
        if event == "check_failed":
            failing = [r for o in outcomes for r in o.checks if r.failed]
            sample = failing[0].sample[:3] if failing and failing[0].sample else ()
            summary = f"{model} failed a blocking check on {_folded(outcomes)}"
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
                first.remedy or retry,
            )
        )
    blocked: dict[str, list] = defaultdict(list)
    for outcome in result.outcomes:
        if outcome.status == "blocked" and outcome.reason.startswith("source "):
            blocked[outcome.reason.split()[1].split("[")[0]].append(outcome)
    for source, outcomes in blocked.items():
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
            )
        )
    return events


def healthy_subjects(result, still_failing: set[str]) -> set[tuple[str, str]]:
    """(incident kind, subject) pairs this run showed to be fine again: models whose tasks all
    succeeded and that have no failing partition left, sources their readers read successfully."""
    fine: set[tuple[str, str]] = set()
    by_model: dict[str, set[str]] = defaultdict(set)
    for outcome in result.outcomes:
        by_model[outcome.model].add(outcome.status)
    for model, statuses in by_model.items():
        if statuses == {"success"} and model not in still_failing:
            fine.add(("model", model))
    blocked_sources = {
        o.reason.split()[1].split("[")[0]
        for o in result.outcomes
        if o.status == "blocked" and o.reason.startswith("source ")
    }
    for status in result.sources:
        if status.status in SOURCE_HEALTHY and status.source not in blocked_sources:
            fine.add(("source", status.source))
    return fine


@dataclass
class Decision:
    send: list[Event] = field(default_factory=list)
    opened: list[Event] = field(default_factory=list)
    closed: list[tuple[str, str]] = field(default_factory=list)


def decide(
    events: Iterable[Event],
    healthy: set[tuple[str, str]],
    open_incidents: Mapping[tuple[str, str], OpenIncident],
    run_id: int | None,
) -> Decision:
    """Deduplicate against open incidents, and turn healed incidents into recoveries."""
    decision = Decision()
    seen: set[tuple[str, str]] = set()
    for event in events:
        key = (event.incident, event.subject)
        told = key in open_incidents or key in seen  # one alert per incident until it recovers
        seen.add(key)  # failing again now: not healed either
        if told:
            continue
        decision.send.append(event)
        decision.opened.append(event)
    for key, (owner, opened_at, opened_run, _alert) in open_incidents.items():
        if key in healthy and key not in seen:
            kind, subject = key
            decision.closed.append(key)
            decision.send.append(
                Event(
                    "recovered",
                    subject,
                    owner,
                    f"{subject} recovered (failing since {opened_at:%Y-%m-%d %H:%M} UTC"
                    + (f", run {opened_run})" if opened_run is not None else ")"),
                    "",
                    run_id,
                    None,
                    (),
                    (),
                    None,
                    kind,
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
        tail.append(f"to retry: {event.retry}")
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
        "retry_command": event.retry,
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
