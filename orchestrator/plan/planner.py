"""Deciding what runs and why: a pure function of the DAG, a state snapshot and a request.

Each decision has its module: the request's scope and errors (`request`), which windows of a
model to look at (`windows`), why one is stale (`staleness`), the reason each task carries and
whether a model is rebuilt whole (`reasons`), what holds a task back (`holds`), what a task
waits for (`deps`) and batches of windows (`batching`). Here they are composed, model by model
in DAG order, into a `Plan`: a task that cannot run because an input it needs is not built (and
nothing in the plan builds it) is *held*, with the reason, and so is everything downstream of
it: the planner never lets a model read an incomplete input.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core.partitions import WHOLE, Window
from ..core.snapshot import Snapshot
from ..core.tasks import BROKEN, Action, Gate, Held, Plan, Reason, Request, Task
from ..project.dag import DAG
from ..project.model import Model
from .batching import batched
from .context import Context
from .deps import task_deps
from .holds import blocked, shadow_held
from .reasons import Rebuild, rebuild, window_reason
from .request import scope, validate
from .windows import (
    affected_windows,
    backfill_windows,
    failed_windows,
    retry_windows,
    run_windows,
)

# a window to build, why, what holds it (None: nothing), its reason's detail, and whether its
# readers keep their data (a non-breaking change alone)
Decided = tuple[Window | None, Reason, Gate | None, str, bool]


def plan(
    dag: DAG,
    snapshot: Snapshot,
    request: Request,
    gates: Mapping[tuple[str, str], Gate] | None = None,
) -> Plan:
    """The tasks that bring the selected models up to date (or carry out a backfill / refresh).

    `gates` holds what the caller found about inputs outside the warehouse's models (sources not
    arrived, stale or drifted), per (model, partition key): those tasks are held with that status,
    and so is everything downstream of them."""
    validate(dag, request)
    builder = _Builder(Context(dag, snapshot, request, gates or {}))
    names, affected = scope(dag, request)
    for name in names:
        builder.plan_model(name, downstream_only=name in affected)
        if dag.models[name].forward_only:
            builder.keeps_older(name)
    tasks = batched(builder.tasks, lambda m: request.batch_size or dag.models[m].batch_size or 1)
    return Plan(
        tuple(tasks),
        tuple(builder.held),
        tuple(names),
        request,
        tuple(builder.backfill_only),
        tuple(builder.settled),
        forward_only=tuple(builder.forward_only),
    )


class _Builder:
    """Plans model after model, adding each one's tasks and holds to what later ones read."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.tasks: list[Task] = []
        self.held: list[Held] = []
        self.backfill_only: list[str] = []
        self.settled: list[tuple[str, str]] = []
        self.forward_only: list[tuple[str, int]] = []

    def plan_model(self, name: str, downstream_only: bool) -> None:
        """The tasks or holds of one model: which windows, why each runs, and how."""
        model = self.ctx.dag.models[name]
        if model.broken:  # its file does not load: nothing to build, its data stays as it is
            self._hold(name, None, Gate("blocked", f"{BROKEN}{model.broken}"))
            return
        built = self.ctx.built(name)
        candidates = self._candidates(model, built, downstream_only)
        if candidates is None:
            self.backfill_only.append(name)  # `run` never creates its partitions
            return
        how = rebuild(self.ctx, model, built, downstream_only)
        if how.whole:
            # the table's shape or its SQL changed: rebuild every partition into a new table
            # and swap it in when complete
            candidates = run_windows(model, built, self.ctx.expected(model))
            if not candidates:
                cause = (
                    "it must be rebuilt whole (its SQL or layout changed) and has nothing to "
                    "rebuild from: backfill its range"
                )
                self._hold(name, None, Gate("skipped", cause))
                return
        decided = self._decide(model, candidates, built, how)
        if how.shadow:
            self._plan_shadow(model, decided, whole_only=how.relayout)
            return
        for window, reason, hold, detail, keeps in decided:
            if hold is not None:
                self._hold(name, window, hold)
                continue
            deps = task_deps(self.ctx, model, window)
            task = self._add(name, window, reason, Action.BUILD, deps, detail, keeps)
            self.ctx.publishers.setdefault(name, {})[task.key] = task

    def keeps_older(self, name: str) -> None:
        """A forward-only model's built partitions of an older version that this plan does
        not rebuild (for another reason): they keep their data, and the plan says so."""
        model = self.ctx.dag.models[name]
        planned = self.ctx.publishers.get(name, {})
        older = [
            k
            for k, b in self.ctx.built(name).items()
            if b.version != model.version and k not in planned
        ]
        if older:
            self.forward_only.append((name, len(older)))

    def _candidates(
        self, model: Model, built: Mapping, downstream_only: bool
    ) -> list[Window | None] | None:
        """The windows the request looks at (None: a model only backfill builds, unbuilt)."""
        request = self.ctx.request
        if downstream_only:
            upstream = self.ctx.dag.upstream[model.name]
            expected = self.ctx.expected(model)
            return affected_windows(
                model, built, expected, upstream, self.ctx.touched, request.backfill, request.now
            )
        if request.backfill is not None:
            return backfill_windows(model, *request.backfill, request.now)
        if request.retry is not None and model.name not in request.retry_whole:
            return retry_windows(model, request.retry.get(model.name, ()))
        candidates = run_windows(model, built, self.ctx.expected(model))
        failed = failed_windows(model, self.ctx.snapshot.failed.get(model.name, {}), candidates)
        if model.partitioned and model.start is not None:
            self.ctx.expect_also(model, failed)
        candidates += failed
        if model.partitioned and model.start is None and not built and not candidates:
            return None
        return candidates

    def _decide(
        self, model: Model, candidates: list[Window | None], built: Mapping, how: Rebuild
    ) -> list[Decided]:
        """The windows that run, each with its reason, what holds it and its detail."""
        decided: list[Decided] = []
        for window in candidates:
            verdict = window_reason(self.ctx, model, window, built, how)
            key = window.key if window else WHOLE
            self.settled.extend((model.name, key) for _ in verdict.settles)
            if verdict.reason is not None:
                hold = blocked(self.ctx, model, window)
                decided.append(
                    (window, verdict.reason, hold, verdict.detail, verdict.keeps_readers)
                )
        return decided

    def _plan_shadow(self, model: Model, decided: list[Decided], whole_only: bool) -> None:
        """Rebuild the whole table into a shadow and swap it in: all windows or none, so readers
        keep the old table until the new one is complete (see `holds.shadow_held`)."""
        holds = [(w, hold) for w, _, hold, _, _ in decided if hold is not None]
        if holds:
            held_by = shadow_held(model, holds, whole_only)
            for window, _, hold, _, _ in decided:
                self._hold(model.name, window, hold or held_by)
            return
        tasks = [
            self._add(
                model.name,
                window,
                reason,
                Action.SHADOW,
                task_deps(self.ctx, model, window),
                detail,
                keeps,
            )
            for window, reason, _, detail, keeps in decided
        ]
        if tasks:
            keeps = all(t.keeps_readers for t in tasks)
            swap = self._add(
                model.name,
                None,
                tasks[0].reason,
                Action.SWAP,
                tuple(t.id for t in tasks),
                tasks[0].detail,
                keeps,
            )
            self.ctx.publishers[model.name] = {t.key: swap for t in tasks}

    def _add(
        self,
        name: str,
        window: Window | None,
        reason: Reason,
        action: Action,
        deps: tuple[int, ...],
        detail: str = "",
        keeps_readers: bool = False,
    ) -> Task:
        task = Task(
            len(self.tasks),
            name,
            window,
            reason,
            action,
            deps,
            detail=detail,
            keeps_readers=keeps_readers,
        )
        self.tasks.append(task)
        return task

    def _hold(self, name: str, window: Window | None, gate: Gate) -> None:
        held = Held(name, window, gate.status, gate.reason, gate.origin, gate.cause)
        self.held.append(held)
        self.ctx.holds.setdefault(name, {})[held.key] = held
