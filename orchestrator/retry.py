"""What `orchestrator retry` reruns, decided from a previous run's rows (pure: the caller reads
them through state)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .errors import NothingToRetry
from .status import RETRYABLE
from .tasks import Request


@dataclass(frozen=True)
class PreviousRun:
    """The rows of the run to retry, as state reads them."""

    run_id: int
    planned: Iterable[tuple[str, str, str]]  # (model, partition key, action)
    final: Mapping[tuple[str, str], str]  # (model, partition key) -> final status
    held: Iterable[tuple[str, str, str]]  # (model, partition key, status)
    vars: Mapping[str, str]


def retry_request(models: Mapping[str, object], previous: PreviousRun, request: Request) -> Request:
    """The tasks of the previous run that did not end in success (including those a dead
    process never got to), as a request to build exactly those again."""
    todo: dict[str, set[str]] = {}
    whole: set[str] = set()
    for model, key, action in previous.planned:
        status = previous.final.get((model, key))  # None: a dead process never got to it
        if model not in models or status == "success":
            continue
        if status is None or status in RETRYABLE:
            if action in ("shadow", "swap"):
                whole.add(model)  # a rebuild aside is all or nothing: redo it whole
            else:
                todo.setdefault(model, set()).add(key)
    for model, key, status in previous.held:
        if status == "skipped" and model in models:
            todo.setdefault(model, set()).add(key)
    if not todo and not whole:
        raise NothingToRetry(
            f"run {previous.run_id} left nothing to retry: every task it ran "
            "succeeded (waiting or blocked ones are picked up by "
            "`orchestrator run`)"
        )
    return replace(
        request,
        selected=frozenset(todo) | frozenset(whole),
        retry={m: frozenset(k) for m, k in todo.items()},
        retry_whole=frozenset(whole),
        vars={**previous.vars, **dict(request.vars)},
    )
