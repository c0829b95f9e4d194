"""Why each window a plan looks at runs, and how: in place, or, when a partitioned table's
layout or SQL changed or a full refresh asks it, every partition into a shadow table swapped in
when complete. Every task carries its reason: `missing`, `stale: model changed`, `stale: vars
changed`, `stale: upstream rebuilt`, `stale: source changed` (with the files, in the task's
detail), `requested` (backfill), `retry` or `full refresh`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ..core.partitions import WHOLE, Window, window_for_key
from ..core.snapshot import Snapshot
from ..core.tasks import Reason
from ..project.model import Model
from .context import Context
from .staleness import since_failure, staleness


@dataclass(frozen=True)
class Rebuild:
    """How the tasks of one model rebuild it."""

    relayout: bool  # its table's layout changed (or is not a table it built): rebuilt whole
    rewrite: bool  # its SQL changed: every partition is rebuilt, not only the stale ones
    shadow: bool  # written into a shadow table, swapped in when every partition is built
    full_refresh: bool
    downstream_only: bool  # in the plan only because it reads what a backfill rebuilds
    keeps_readers: bool = False  # rewritten by a non-breaking change alone (see `keeps_readers`)

    @property
    def whole(self) -> bool:
        """Every partition is rebuilt: window by window would leave readers a mix of old and
        new (and a changed column type cannot be mixed at all)."""
        return self.relayout or self.rewrite


def rebuild(ctx: Context, model: Model, built: Mapping, downstream_only: bool) -> Rebuild:
    """How the request and the model's built partitions (`built`) say to rebuild it."""
    request = ctx.request
    exists = model.name in ctx.snapshot.relations
    full_refresh = request.full_refresh or model.name in request.retry_whole
    relayout = model.partitioned and exists and layout_changed(ctx.snapshot, model, built)
    rewrite = (
        model.partitioned
        and exists
        and not relayout
        and not downstream_only
        and not model.forward_only  # its history stays as it was built
        and request.backfill is None
        and request.retry is None  # a retry reruns exactly what failed, nothing else
        and any(b.version != model.version for b in built.values())
    )
    shadow = (
        model.partitioned
        and exists
        and (
            relayout
            or rewrite
            or (full_refresh and request.backfill is None and not downstream_only)
        )
    )
    keeps = (
        rewrite
        and not full_refresh
        and all(
            keeps_readers(ctx, model, window_for_key(key, model.grain), b)
            for key, b in built.items()
        )
    )
    return Rebuild(relayout, rewrite, shadow, full_refresh, downstream_only, keeps)


def keeps_readers(ctx: Context, model: Model, window: Window | None, part) -> bool:
    """A build rewritten only because of a non-breaking change (nothing else about it is
    stale) leaves what its readers read as it was: they keep their data."""
    change = ctx.request.changes.get(model.name)
    if change is None or change.category != "non-breaking" or part is None:
        return False
    return staleness(ctx, model, window, part, versions=False)[0] is None


def layout_changed(snapshot: Snapshot, model: Model, built: Mapping) -> bool:
    if snapshot.relations.get(model.name) != "table" or not built:
        return True  # a view, or a table this tool has no record of building
    return any(b.layout != model.layout for b in built.values())


class Verdict(NamedTuple):
    """Why a window runs (None: it is current), the detail its reason carries, the past
    troubles of the window that its current build settles ("held", "failed"), and whether its
    readers keep their data (a non-breaking change alone)."""

    reason: Reason | None
    detail: str = ""
    settles: tuple[str, ...] = ()
    keeps_readers: bool = False


def window_reason(
    ctx: Context, model: Model, window: Window | None, built: Mapping, how: Rebuild
) -> Verdict:
    """Why (`model`, `window`) runs, given how the model is rebuilt and what is `built`."""
    key = window.key if window else WHOLE
    if how.whole:
        change = ctx.request.changes.get(model.name) if how.rewrite else None
        return Verdict(Reason.MODEL_CHANGED, change.text if change else "", (), how.keeps_readers)
    if how.downstream_only:
        return Verdict(Reason.UPSTREAM_REBUILT if key in built else Reason.MISSING)
    if ctx.request.retry is not None:
        return Verdict(Reason.RETRY)
    if ctx.request.backfill is not None:
        return Verdict(Reason.REQUESTED)
    if how.full_refresh:
        return Verdict(Reason.FULL_REFRESH)
    return _run_reason(ctx, model, window, built.get(key))


def _run_reason(ctx: Context, model: Model, window: Window | None, part) -> Verdict:
    """Why `run` builds a window: it is stale or missing. A failed one is tried again only when
    what made it fail has changed; one held back or failed before whose build is current
    again settles that."""
    key = window.key if window else WHOLE
    reason, detail = staleness(ctx, model, window, part)
    failure = ctx.snapshot.failed.get(model.name, {}).get(key)
    settles: list[str] = []
    if reason is None and key in ctx.snapshot.held.get(model.name, ()):
        settles.append("held")  # held back once, current again
    if failure is not None and reason is None:
        if since_failure(ctx, model, window, failure)[0] is not None:
            settles.append("failed")  # built and current, and what made it fail has changed
    elif failure is not None and reason is Reason.MISSING and not ctx.expects(model, window):
        # never built and outside what `run` keeps: only a change may fix it
        reason, detail = since_failure(ctx, model, window, failure)
    keeps = reason is Reason.MODEL_CHANGED and keeps_readers(ctx, model, window, part)
    return Verdict(reason, detail, tuple(settles), keeps)
