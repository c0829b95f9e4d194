"""What holds a task back, and why: a gate found outside the warehouse's models (a source not
arrived, stale or drifted), an upstream whose file does not load, an input held itself, or an
input neither built nor built by this plan. The planner never lets a model read an incomplete
input: a held task holds everything downstream of it."""

from __future__ import annotations

from ..core.partitions import WHOLE, Window, windows
from ..core.tasks import BROKEN, Gate, broken_gate, worst
from ..project.model import Kind, Model
from .context import Context
from .windows import in_bounds


def blocked(ctx: Context, model: Model, window: Window | None) -> Gate | None:
    """Why (model, window) cannot run now, or None: a gate from outside (a source), an input
    that is held, or an input neither built nor built by this plan."""
    found = [ctx.gates.get((model.name, window.key if window else WHOLE))]
    found += [missing_input(ctx, up, window, model.name) for up in ctx.dag.upstream[model.name]]
    holds = [g for g in found if g is not None]
    return worst(holds) if holds else None


def required_keys(ctx: Context, model: Model, window: Window | None) -> list[str]:
    """The partitions of upstream `model` that a downstream window needs built: every
    overlapping one inside the upstream's bounds, finished or not (a day waits for its
    month); for a whole-table reader, all it should have."""
    if not model.partitioned:
        return [WHOLE]
    if window is None:
        # what it should have, has, and what this plan builds (a backfill of a model
        # without `start` creates partitions nobody expected)
        return sorted(
            set(ctx.expected_keys(model))
            | {k for k in ctx.built(model.name) if k != WHOLE}
            | set(ctx.publishers.get(model.name, {}))
        )
    if window.grain == model.grain:
        return [window.key] if in_bounds(model, window) else []
    return [w.key for w in windows(window.start, window.end, model.grain) if in_bounds(model, w)]


def missing_input(ctx: Context, name: str, window: Window | None, reader: str) -> Gate | None:
    """Why upstream `name` cannot be read by `reader`'s `window` yet, or None: the worst of
    what holds the partitions it needs (and, through a view, the view's own inputs)."""
    model = ctx.dag.models[name]
    if model.broken:
        return broken_gate(name, str(model.broken))
    planned = ctx.publishers.get(name, {})
    keys = required_keys(ctx, model, window)
    if model.partitioned and window is None and not keys:
        return Gate("skipped", f"upstream {name} has no partitions built yet")
    found = _partition_gates(ctx, name, keys, reader)
    if not keys and name not in ctx.snapshot.relations and not planned:
        found.append(Gate("skipped", f"upstream {name} is not built"))
    if model.kind is Kind.VIEW:
        for up in ctx.dag.upstream[name]:
            hold = missing_input(ctx, up, window, reader)
            if hold:
                found.append(hold)
    return worst(found) if found else None


def _partition_gates(ctx: Context, name: str, keys: list[str], reader: str) -> list[Gate]:
    """What holds the partitions `keys` of upstream `name`, in order, up to the first that
    blocks (nothing is more urgent)."""
    holds = ctx.holds.get(name, {})
    planned = ctx.publishers.get(name, {})
    built = ctx.built(name)
    found: list[Gate] = []
    for key in keys:
        if key in holds:
            # name the task where the hold began and its reason, not the whole chain
            held = holds[key]
            origin = held.origin or f"{name}[{key}]"
            cause = held.cause or held.reason
            if cause.startswith(BROKEN):
                found.append(broken_gate(held.origin or name, cause.removeprefix(BROKEN)))
            else:
                found.append(Gate(held.status, f"waits for {origin}: {cause}", origin, cause))
        elif key not in planned and key not in built:
            found.append(
                Gate(
                    "skipped",
                    f"upstream {name}[{key}] is not built (select +{reader} to build it too)",
                )
            )
        elif key not in planned and fails_published(ctx, name, key):
            cause = "its published data fails a blocking check"
            found.append(
                Gate("blocked", f"upstream {name}[{key}]: {cause}", f"{name}[{key}]", cause)
            )
        if found and found[-1].status == "blocked":
            break  # nothing is more urgent
    return found


def fails_published(ctx: Context, name: str, key: str) -> bool:
    """Does the published data of (`name`, `key`) fail a blocking check?"""
    failure = ctx.snapshot.failed.get(name, {}).get(key)
    return failure is not None and failure.on_published


def shadow_held(model: Model, holds: list[tuple[Window | None, Gate]], whole_only: bool) -> Gate:
    """What holds the ready windows of a rebuild into a shadow table when some windows are held
    (`holds`, in order): all windows or none are swapped in, so the table keeps its last build.
    It names the first few holding windows and the first one's cause (and, `whole_only`, that
    the layout changed: old and new partitions cannot live in one table)."""
    first = holds[0][1]
    keys = [w.key if w else WHOLE for w, _ in holds]
    by = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    return Gate(
        first.status,
        f"rebuild of {model.name} held by {by} ({first.status}: {first.reason}); "
        "the table keeps its last build until every partition can be rebuilt"
        + ("" if not whole_only else " (its layout changed: it is rebuilt whole)"),
    )
