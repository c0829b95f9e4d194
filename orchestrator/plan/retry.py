"""What `orchestrator retry` reruns, decided from a previous run's rows (pure: the caller reads
them through state)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..core.errors import NothingToRetry
from ..core.status import RETRYABLE
from ..core.tasks import Request


@dataclass(frozen=True)
class PreviousRun:
    """The rows of the run to retry, as state reads them."""

    run_id: int
    planned: Iterable[tuple[str, str, str]]  # (model, partition key, action)
    final: Mapping[tuple[str, str], str]  # (model, partition key) -> final status
    held: Iterable[tuple[str, str, str]]  # (model, partition key, status)
    vars: Mapping[str, str]


def retry_request(
    models: Mapping[str, object],
    previous: PreviousRun,
    request: Request,
    now: Mapping[tuple[str, str], tuple[str, int | None]] | None = None,
) -> Request:
    """The tasks of the previous run that did not end in success (including those a dead
    process never got to) and were not built since by a later run (`now`: each partition's
    status and the run that built it), as a request to build exactly those again.
    NothingToRetry when there are none."""
    todo, whole = undone(models, previous, now or {})
    if not todo and not whole:
        raise NothingToRetry(
            f"run {previous.run_id} left nothing to retry: every task it ran succeeded or was "
            "built since (waiting or blocked ones are picked up by `orchestrator run`)"
        )
    return replace(
        request,
        selected=frozenset(todo) | frozenset(whole),
        retry={m: frozenset(k) for m, k in todo.items()},
        retry_whole=frozenset(whole),
        retry_of=previous.run_id,
        vars={**previous.vars, **dict(request.vars)},
    )


def undone(
    models: Mapping[str, object],
    previous: PreviousRun,
    now: Mapping[tuple[str, str], tuple[str, int | None]],
) -> tuple[dict[str, set[str]], set[str]]:
    """(model -> partition keys, models to rebuild whole) the previous run left undone and
    that are still undone now. A task that ended badly is done once its partition is a
    success now (rebuilt since, or its published build current again); a task the run never
    got to (its process died) only once a later run built it: the partition it would have
    rebuilt (a backfill's old day) is a success from before. A rebuild aside is done when
    every partition of its model is."""
    since = previous.run_id

    def good(entry: tuple[str, int | None], reached: bool) -> bool:
        status, built = entry
        return status == "success" and (reached or (built is not None and built > since))

    def done_now(model: str, key: str, reached: bool) -> bool:
        if (model, key) in now:
            return good(now[(model, key)], reached)
        found = [good(e, reached) for (m, _), e in now.items() if m == model]
        return bool(found) and all(found)  # a key no partition has: built whole aside

    todo: dict[str, set[str]] = {}
    whole: set[str] = set()
    for model, key, action in previous.planned:
        status = previous.final.get((model, key))  # None: a dead process never got to it
        if model not in models or status == "success":
            continue
        if done_now(model, key, reached=status is not None):
            continue
        if status is None or status in RETRYABLE:
            if action in ("shadow", "swap"):
                whole.add(model)  # a rebuild aside is all or nothing: redo it whole
            else:
                todo.setdefault(model, set()).add(key)
    for model, key, status in previous.held:
        if status == "skipped" and model in models and not done_now(model, key, reached=True):
            todo.setdefault(model, set()).add(key)
    return todo, whole
