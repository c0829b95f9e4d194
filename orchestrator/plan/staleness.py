"""Why a built partition must be built again: its model changed, the vars it used did, an
upstream was rebuilt since, or a source file it read changed; and whether the cause of a
failed attempt has changed since (only then is it tried again without `retry`).

Staleness is computed, not guessed: each published partition records, per upstream model, how
many upstream partitions it read and the latest run that built any of them (`Marker`). When that
marker differs from the upstream's current one, the upstream was rebuilt since. Likewise each
records the fingerprints of what it read from sources; the snapshot's `holdings` say what they
hold now."""

from __future__ import annotations

from collections.abc import Mapping

from ..core import fingerprints
from ..core.partitions import Window
from ..core.tasks import Marker, Reason
from ..project.dag import DAG
from ..project.model import Kind, Model
from .context import Context
from .windows import overlapping_keys


def marker(dag: DAG, built: Mapping[str, Mapping], name: str, window: Window | None) -> Marker:
    """The current marker of upstream `name` as read by a downstream `window`. A view is
    transparent: its marker folds in those of its own upstreams, since it stores no data."""
    model = dag.models[name]
    parts = built.get(name, {})
    count, latest = 0, 0
    for key in overlapping_keys(model, window, parts):
        b = parts.get(key)
        if b is not None:
            count += 1
            latest = max(latest, b.read_run)
    if model.kind is Kind.VIEW:
        for up in dag.upstream[name]:
            n, r = marker(dag, built, up, window)
            count += n
            latest = max(latest, r)
    return count, latest


def input_markers(
    dag: DAG, built: Mapping[str, Mapping], name: str, window: Window | None
) -> dict[str, Marker]:
    """What a build of (`name`, `window`) reads now: recorded with the build."""
    return {up: marker(dag, built, up, window) for up in dag.upstream[name]}


def used_vars(model: Model, variables: Mapping[str, str]) -> dict[str, str]:
    return {v: variables[v] for v in model.vars if v in variables}


def staleness(
    ctx: Context, model: Model, window: Window | None, built, *, versions: bool = True
) -> tuple[Reason | None, str]:
    """Why a built partition must be built again (None: it is current), with the detail
    a reason may carry (which source files changed, how the model changed). A forward-only
    model's partitions keep their build whatever its version (`versions=False`: nor does
    anyone's; the rest still counts)."""
    if built is None:
        return Reason.MISSING, ""
    if versions and built.version != model.version and not model.forward_only:
        change = ctx.request.changes.get(model.name)
        return Reason.MODEL_CHANGED, change.text if change else ""
    known = {v: built.vars.get(v) for v in model.vars if v in ctx.request.vars}
    if known != used_vars(model, ctx.request.vars):
        return Reason.VARS_CHANGED, ""
    if model.kind is Kind.VIEW:
        return None, ""  # views store no data: what they read is always current
    for up in ctx.dag.upstream[model.name]:
        if ctx.touched(up, window):
            return Reason.UPSTREAM_REBUILT, ""
        if built.inputs.get(up) != marker(ctx.dag, ctx.snapshot.built, up, window):
            return Reason.UPSTREAM_REBUILT, ""
    changed = _changed_sources(ctx, built.sources, window)
    return (None, "") if changed is None else (Reason.SOURCE_CHANGED, changed)


def since_failure(
    ctx: Context, model: Model, window: Window | None, failure
) -> tuple[Reason | None, str]:
    """A failed partition is tried again when its cause may have changed: its SQL, a
    source file it read, an upstream build. Otherwise it waits for `retry` (no loops)."""
    if failure.version and failure.version != model.version:
        return Reason.RETRY, "model changed since it failed"
    changed = _changed_sources(ctx, failure.sources, window)
    if changed is not None:
        return Reason.RETRY, f"source changed since it failed: {changed}"
    for up in ctx.dag.upstream[model.name]:
        if marker(ctx.dag, ctx.snapshot.built, up, window)[1] > failure.run:
            return Reason.RETRY, "upstream rebuilt since it failed"
    return None, ""


def _changed_sources(ctx: Context, recorded_sources: Mapping, window: Window | None) -> str | None:
    """The files of the first source (by name) whose recorded fingerprints differ from what it
    holds now, described; None when none did. A source not looked at now (immutable, or no
    longer read) has not changed."""
    for source, recorded in sorted(recorded_sources.items()):
        holding = ctx.snapshot.holdings.get(source)
        if holding is None:
            continue
        differ = fingerprints.changed(recorded, fingerprints.held_in(holding, window))
        if differ:
            return fingerprints.describe(differ)
    return None
