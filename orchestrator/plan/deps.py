"""Which tasks a task waits for: those of the plan that publish what it reads (through a view,
what the view reads), and those of the models its checks read after it."""

from __future__ import annotations

from ..core.partitions import Window
from ..project.model import Kind, Model
from .context import Context
from .windows import overlapping_keys


def task_deps(ctx: Context, model: Model, window: Window | None) -> tuple[int, ...]:
    """The ids of the planned tasks a build of (`model`, `window`) waits for, in order."""
    deps: dict[int, None] = {}
    for up in ctx.dag.upstream[model.name]:
        _collect(ctx, up, window, deps)
    for checked in ctx.dag.after.get(model.name, ()):
        _collect(ctx, checked, None, deps)  # a check reads the whole of it
    return tuple(deps)


def _collect(ctx: Context, name: str, window: Window | None, into: dict[int, None]) -> None:
    planned = ctx.publishers.get(name, {})
    if planned:
        found = [
            planned[k]
            for k in overlapping_keys(ctx.dag.models[name], window, planned)
            if k in planned
        ]
        if not found and name not in ctx.snapshot.relations:
            # nothing it reads is built by the plan, but the upstream's table does not exist
            # yet: whichever upstream task runs first creates it, so wait for them all
            found = list(planned.values())
        into.update((t.id, None) for t in found)
    if ctx.dag.models[name].kind is Kind.VIEW:
        for up in ctx.dag.upstream[name]:
            _collect(ctx, up, window, into)
