"""Deciding what runs and why: a pure function of the DAG, a state snapshot and a request.

Every task carries its reason: `missing`, `stale: model changed`, `stale: vars changed`,
`stale: upstream rebuilt`, `stale: source changed` (with the files, in the task's detail),
`requested` (backfill) or `full refresh`. A task that cannot run because
an input it needs is not built (and nothing in the plan builds it) is *held*, with the reason, and
so is everything downstream of it: the planner never lets a model read an incomplete input.

Staleness is computed, not guessed: each published partition records, per upstream model, how many
upstream partitions it read and the latest run that built any of them (`Marker`). When that marker
differs from the upstream's current one, the upstream was rebuilt since. Likewise each records
the fingerprints of what it read from sources; the snapshot's `holdings` say what they hold now.

One concept, one module: the rules of what runs and why (windows, staleness, holds, batching)
read as one story, so it stays whole a little past 500 lines; its values are in `tasks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from . import fingerprints
from .dag import DAG
from .errors import UsageError
from .model import Kind, Model
from .partitions import WHOLE, Grain, Window, floor, window_for_key, windows
from .snapshot import Snapshot
from .tasks import (
    BROKEN,
    Action,
    Gate,
    Held,
    Marker,
    Plan,
    Reason,
    Request,
    Task,
    broken_gate,
    worst,
)

# -- windows and markers --------------------------------------------------------------------------


def expected_windows(model: Model, now: datetime) -> list[Window]:
    """The partitions `run` keeps built: from `start` up to the last complete period (or `end`)."""
    if model.start is None:
        return []
    stop = floor(now, model.grain)
    if model.end is not None:
        stop = min(stop, model.end)
    return list(windows(model.start, stop, model.grain)) if model.start < stop else []


def in_bounds(model: Model, window: Window) -> bool:
    if model.start is not None and window.start < model.start:
        return False
    return not (model.end is not None and window.end > model.end)


def overlapping_keys(
    upstream: Model, window: Window | None, built: Mapping[str, object]
) -> list[str]:
    """Keys of the upstream's partitions that a downstream window reads (all, for the whole)."""
    if not upstream.partitioned:
        return [WHOLE]
    if window is None:
        return sorted(built)
    if window.grain == upstream.grain:
        return [window.key]
    return [w.key for w in windows(window.start, window.end, upstream.grain)]


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
            latest = max(latest, b.run)
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


# -- planning -------------------------------------------------------------------------------------


def check_vars(dag: DAG, names: list[str], variables: Mapping[str, str]) -> None:
    for name in names:
        model = dag.models[name]
        used = list(model.vars) + [v for c in model.checks for v in c.vars]
        for var in used:
            if var not in variables:
                raise UsageError(
                    f"{name} uses var('{var}'): pass --var {var}=VALUE "
                    "(or set it under [vars] in orchestrator.toml)"
                )


def _scope(dag: DAG, request: Request) -> tuple[list[str], set[str]]:
    """(models the request may touch in order, those only because they are downstream)."""
    if request.backfill is not None:
        affected = dag.descendants(request.selected) - request.selected - request.excluded
        return dag.ordered(request.selected | affected), affected
    return dag.ordered(request.selected), set()


def validate(dag: DAG, request: Request) -> None:
    """Errors in the request itself, found before anything is opened or written."""
    if request.backfill is not None:
        check_backfill_points(dag, request.selected, *request.backfill, now=request.now)
        check_backfill_range(dag, request.selected, *request.backfill)
    if request.strict_vars:
        check_vars(dag, _scope(dag, request)[0], request.vars)


_FINEST_FIRST = (Grain.HOUR, Grain.DAY, Grain.MONTH, Grain.YEAR)


def check_backfill_points(
    dag: DAG, selected: frozenset[str], start: datetime, end: datetime, *, now: datetime
) -> None:
    """A backfill names whole partitions: `--start 2026-11-05T10:00` on daily models would
    rebuild the whole day, which is not what it says. A time of day must fall on an hour of
    hourly models, and daily or coarser ones take dates only (a day inside a month rebuilds
    that month, as a range of days touches it). An end at or past now stops at now. A range
    wholly in the future has nothing to build yet."""
    grains = {dag.models[n].grain for n in selected if dag.models[n].partitioned}
    if grains:
        finest = min(grains, key=_FINEST_FIRST.index)
        finest = finest if finest is Grain.HOUR else Grain.DAY
        for flag, point in (("--start", start), ("--end", end)):
            if flag == "--end" and point >= now:
                continue
            if floor(point, finest) != point:
                raise UsageError(
                    f"backfill: {flag} {_point(point)} is not at the start of "
                    f"{'an hour' if finest is Grain.HOUR else 'a day'}, where the selected "
                    f"models' partitions begin: use {_point(floor(point, finest))}"
                )
    if start >= now:
        raise UsageError(
            f"backfill: [{_point(start)}, {_point(end)}) is in the future (now is "
            f"{_point(now)}): there is nothing to build yet"
        )


def check_backfill_range(dag: DAG, selected: frozenset[str], start: datetime, end: datetime):
    """A backfill whose range lies wholly before the `start` or from the `end` of every selected
    model would rebuild nothing: a mistyped year, most likely. Say so instead of recording an
    empty run. (When some selected model has partitions there, the rest are simply skipped.)"""
    models = [dag.models[name] for name in dag.ordered(selected)]
    outside = [
        m
        for m in models
        if m.partitioned
        and ((m.start is not None and end <= m.start) or (m.end is not None and start >= m.end))
    ]
    if not outside or len(outside) < len(models):
        return
    bounds = "; ".join(
        f"{m.name} has start {_point(m.start)}"
        + (f", end {_point(m.end)} (exclusive)" if m.end else "")
        for m in outside[:3]
    ) + (f"; and {len(outside) - 3} more" if len(outside) > 3 else "")
    raise UsageError(
        f"backfill: [{_point(start)}, {_point(end)}) is outside the partitions of the selected "
        f"models, nothing would be rebuilt: {bounds}"
    )


def _point(ts: datetime | None) -> str:
    if ts is None:
        return "(none)"
    return f"{ts:%Y-%m-%d}" if ts.hour == ts.minute == 0 else f"{ts:%Y-%m-%d %H:%M}"


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
    builder = _Builder(dag, snapshot, request, gates or {})
    names, affected = _scope(dag, request)
    for name in names:
        builder.plan_model(name, downstream_only=name in affected)
    tasks = batched(builder.tasks, lambda m: request.batch_size or dag.models[m].batch_size or 1)
    return Plan(
        tuple(tasks),
        tuple(builder.held),
        tuple(names),
        request,
        tuple(builder.backfill_only),
        tuple(builder.settled),
    )


def batched(tasks: list[Task], size_of) -> list[Task]:
    """Runs of consecutive windows of one model, built the same way, become one task of at most
    `size_of(model)` partitions: one statement and one transaction instead of one per window.
    A batch takes the id of its first part and depends on what its parts depend on; every
    dependency still names a partition task, so a reader can tell which partition it waits for.

    >>> from datetime import datetime as at
    >>> from orchestrator.partitions import Grain
    >>> days = [Window.containing(at(2024, 1, d), Grain.DAY) for d in (1, 2, 3, 5)]
    >>> tasks = [Task(i, "m", w, Reason.MISSING) for i, w in enumerate(days)]
    >>> [t.key for t in batched(tasks, lambda m: 2)]  # 01-04 is not planned: 01-05 stands alone
    ['2024-01-01..2024-01-02', '2024-01-03', '2024-01-05']
    """
    groups: list[list[Task]] = []
    for task in tasks:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and task.window is not None
            and last.window is not None
            and task.action in (Action.BUILD, Action.SHADOW)
            and (last.model, last.action) == (task.model, task.action)
            and last.window.end == task.window.start
            and len(groups[-1]) < size_of(task.model)
        ):
            groups[-1].append(task)
        else:
            groups.append([task])
    if len(groups) == len(tasks):
        return tasks
    result = []
    for group in groups:
        first = group[0]
        if len(group) == 1:
            result.append(first)
            continue
        deps = tuple(sorted({d for t in group for d in t.deps}))
        outer = Window(first.window.start, group[-1].window.end, first.window.grain)
        result.append(
            Task(first.id, first.model, outer, first.reason, first.action, deps, tuple(group))
        )
    return result


class _Builder:
    def __init__(
        self, dag: DAG, snapshot: Snapshot, request: Request, gates: Mapping[tuple[str, str], Gate]
    ):
        self.dag = dag
        self.snapshot = snapshot
        self.request = request
        self.gates = gates
        self.tasks: list[Task] = []
        self.held: list[Held] = []
        # per model: window key -> the task whose completion publishes that key's data
        self.publishers: dict[str, dict[str, Task]] = {}
        self.holds: dict[str, dict[str, Held]] = {}
        self.backfill_only: list[str] = []
        self.settled: list[tuple[str, str]] = []
        self._expected_cache: dict[str, list[Window]] = {}
        self._expected_key_cache: dict[str, dict[str, Window]] = {}

    def _built(self, name: str) -> Mapping:
        return self.snapshot.built.get(name, {}) if name in self.snapshot.relations else {}

    # which windows to consider, and why each one runs
    def plan_model(self, name: str, downstream_only: bool) -> None:
        model = self.dag.models[name]
        request = self.request
        if model.broken:  # its file does not load: nothing to build, its data stays as it is
            self._hold(name, None, Gate("blocked", f"{BROKEN}{model.broken}"))
            return
        exists = name in self.snapshot.relations
        built = self._built(name)
        full_refresh = request.full_refresh or name in request.retry_whole
        if downstream_only:
            candidates = self._affected_windows(model, built)
        elif request.backfill is not None:
            candidates = self._backfill_windows(model)
        elif request.retry is not None and name not in request.retry_whole:
            candidates = [
                None if k == WHOLE else window_for_key(k, model.grain)
                for k in sorted(request.retry.get(name, ()))
            ]
        else:
            candidates = self._run_windows(model, built)
            candidates += self._failed_windows(model, candidates)
            if model.partitioned and model.start is None and not built and not candidates:
                self.backfill_only.append(name)  # `run` never creates its partitions
                return
        relayout = model.partitioned and exists and self._layout_changed(model, built)
        rewrite = (
            model.partitioned
            and exists
            and not relayout
            and not downstream_only
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
        if relayout or rewrite:
            # the table's shape or its SQL changed: rebuilding window by window would leave
            # readers a mix of old and new (and a changed column type cannot be mixed at all),
            # so rebuild every partition into a new table and swap it in when complete
            candidates = self._run_windows(model, built)
            if not candidates:
                self._hold(
                    name,
                    None,
                    Gate(
                        "skipped",
                        "it must be rebuilt whole (its SQL or layout "
                        "changed) and has nothing to rebuild from: "
                        "backfill its range",
                    ),
                )
                return
        decided: list[tuple[Window | None, Reason, Gate | None, str]] = []
        for window in candidates:
            key = window.key if window else WHOLE
            detail = ""
            if relayout or rewrite:
                reason: Reason | None = Reason.MODEL_CHANGED
            elif downstream_only:
                reason = Reason.UPSTREAM_REBUILT if key in built else Reason.MISSING
            elif request.retry is not None:
                reason = Reason.RETRY
            elif request.backfill is not None:
                reason = Reason.REQUESTED
            elif full_refresh:
                reason = Reason.FULL_REFRESH
            else:
                reason, detail = self._staleness(model, window, built.get(key))
                failure = self.snapshot.failed.get(name, {}).get(key)
                if reason is None and key in self.snapshot.held.get(name, ()):
                    self.settled.append((name, key))  # held back once, current again
                if failure is not None and reason is None:
                    if self._since_failure(model, window, failure)[0] is not None:
                        # built and current, and what made it fail has changed since
                        self.settled.append((name, key))
                elif (
                    failure is not None
                    and reason is Reason.MISSING
                    and not self._expects(model, window)
                ):
                    # never built and outside what `run` keeps: only a change may fix it
                    reason, detail = self._since_failure(model, window, failure)
            if reason is not None:
                decided.append((window, reason, self._blocked(model, window), detail))
        if shadow:
            self._plan_shadow(model, decided, whole_only=relayout)
            return
        for window, reason, hold, detail in decided:
            if hold is not None:
                self._hold(name, window, hold)
                continue
            task = self._add(name, window, reason, Action.BUILD, self._deps(model, window), detail)
            self.publishers.setdefault(name, {})[task.key] = task

    def _plan_shadow(self, model: Model, decided: list, whole_only: bool = False) -> None:
        """Rebuild the whole table into a shadow and swap it in: all windows or none, so readers
        keep the old table until the new one is complete. Held by some windows, it says how
        the ready ones could be published now (a backfill), unless the table's layout changed
        (`whole_only`: old and new partitions cannot live in one table)."""
        holds = [(w, hold) for w, _, hold, _ in decided if hold is not None]
        if holds:
            window0, first = holds[0]
            keys = [w.key if w else WHOLE for w, _ in holds]
            by = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            held_by = (
                f"rebuild of {model.name} held by {by} ({first.status}: {first.reason}); "
                "the table keeps its last build until every partition can be rebuilt"
                + ("" if not whole_only else " (its layout changed: it is rebuilt whole)")
            )
            for window, _, hold, _ in decided:
                self._hold(model.name, window, hold or Gate(first.status, held_by))
            return
        tasks = [
            self._add(model.name, window, reason, Action.SHADOW, self._deps(model, window), detail)
            for window, reason, _, detail in decided
        ]
        if tasks:
            swap = self._add(
                model.name, None, tasks[0].reason, Action.SWAP, tuple(t.id for t in tasks)
            )
            self.publishers[model.name] = {t.key: swap for t in tasks}

    def _failed_windows(self, model: Model, candidates: list) -> list[Window]:
        """Partitions whose latest attempt failed that `run` would not look at otherwise
        (outside `start`..now, or of a model only backfill builds)."""
        if not model.partitioned:
            return []
        known = {w.key for w in candidates if w is not None}
        return [
            window_for_key(k, model.grain)
            for k in sorted(self.snapshot.failed.get(model.name, {}))
            if k != WHOLE and k not in known and in_bounds(model, window_for_key(k, model.grain))
        ]

    def _expects(self, model: Model, window: Window | None) -> bool:
        return window is None or window.key in self._expected_keys(model)

    def _since_failure(
        self, model: Model, window: Window | None, failure
    ) -> tuple[Reason | None, str]:
        """A failed partition is tried again when its cause may have changed: its SQL, a
        source file it read, an upstream build. Otherwise it waits for `retry` (no loops)."""
        if failure.version and failure.version != model.version:
            return Reason.RETRY, "model changed since it failed"
        for source, recorded in sorted(failure.sources.items()):
            holding = self.snapshot.holdings.get(source)
            if holding is None:
                continue
            differ = fingerprints.changed(recorded, fingerprints.held_in(holding, window))
            if differ:
                files = fingerprints.describe(differ)
                return Reason.RETRY, f"source changed since it failed: {files}"
        for up in self.dag.upstream[model.name]:
            if marker(self.dag, self.snapshot.built, up, window)[1] > failure.run:
                return Reason.RETRY, "upstream rebuilt since it failed"
        return None, ""

    def _layout_changed(self, model: Model, built: Mapping) -> bool:
        if self.snapshot.relations.get(model.name) != "table" or not built:
            return True  # a view, or a table this tool has no record of building
        return any(b.layout != model.layout for b in built.values())

    def _run_windows(self, model: Model, built: Mapping) -> list[Window | None]:
        if not model.partitioned:
            return [None]
        if model.start is None:
            # only backfill creates partitions of such a model; run keeps the existing ones fresh
            return [window_for_key(k, model.grain) for k in sorted(built) if k != WHOLE]
        return self._expected(model)

    def _backfill_windows(self, model: Model) -> list[Window | None]:
        if not model.partitioned:
            return [None]
        start, end = self.request.backfill  # type: ignore[misc]
        # a period still in progress is never built: it would count as built once complete
        # (so a far-off --end costs nothing: the range stops at now)
        return [
            w
            for w in windows(start, min(end, self.request.now), model.grain)
            if in_bounds(model, w) and w.end <= self.request.now
        ]

    def _affected_windows(self, model: Model, built: Mapping) -> list[Window | None]:
        """Windows of a model downstream of a backfill that read something the plan rebuilds."""
        rebuilt = [up for up in self.dag.upstream[model.name] if self._touched(up, None)]
        if not rebuilt or model.kind is Kind.VIEW:
            return []  # a view reads its inputs when queried: nothing to rebuild
        if not model.partitioned:
            return [None]
        start, end = self.request.backfill  # type: ignore[misc]
        candidates = {w.key: w for w in self._expected(model)}
        candidates.update((k, window_for_key(k, model.grain)) for k in built if k != WHOLE)
        candidates.update(
            (w.key, w)
            for w in windows(start, min(end, self.request.now), model.grain)
            if w.end <= self.request.now
        )
        return [
            w
            for _, w in sorted(candidates.items())
            if in_bounds(model, w) and any(self._touched(up, w) for up in rebuilt)
        ]

    def _touched(self, name: str, window: Window | None) -> bool:
        """Does the plan rebuild data that (`name`, `window`) exposes? Views pass it through."""
        model = self.dag.models[name]
        planned = self.publishers.get(name, {})
        if planned:
            if window is None or not model.partitioned:
                return True
            if any(k in planned for k in overlapping_keys(model, window, planned)):
                return True
        if model.kind is Kind.VIEW:
            return any(self._touched(up, window) for up in self.dag.upstream[name])
        return False

    def _staleness(self, model: Model, window: Window | None, built) -> tuple[Reason | None, str]:
        """Why a built partition must be built again (None: it is current), with the detail
        a reason may carry (which source files changed)."""
        if built is None:
            return Reason.MISSING, ""
        if built.version != model.version:
            return Reason.MODEL_CHANGED, ""
        known = {v: built.vars.get(v) for v in model.vars if v in self.request.vars}
        if known != used_vars(model, self.request.vars):
            return Reason.VARS_CHANGED, ""
        if model.kind is Kind.VIEW:
            return None, ""  # views store no data: what they read is always current
        for up in self.dag.upstream[model.name]:
            if self._touched(up, window):
                return Reason.UPSTREAM_REBUILT, ""
            if built.inputs.get(up) != marker(self.dag, self.snapshot.built, up, window):
                return Reason.UPSTREAM_REBUILT, ""
        for source, recorded in sorted(built.sources.items()):
            holding = self.snapshot.holdings.get(source)
            if holding is None:
                continue  # not looked at now (immutable, or no longer read)
            differ = fingerprints.changed(recorded, fingerprints.held_in(holding, window))
            if differ:
                return Reason.SOURCE_CHANGED, fingerprints.describe(differ)
        return None, ""

    def _blocked(self, model: Model, window: Window | None) -> Gate | None:
        """Why (model, window) cannot run now, or None: a gate from outside (a source), an input
        that is held, or an input neither built nor built by this plan."""
        found = [self.gates.get((model.name, window.key if window else WHOLE))]
        found += [
            self._missing_input(up, window, model.name) for up in self.dag.upstream[model.name]
        ]
        holds = [g for g in found if g is not None]
        return worst(holds) if holds else None

    def _required_keys(self, model: Model, window: Window | None) -> list[str]:
        """The partitions of upstream `model` that a downstream window needs built: every
        overlapping one inside the upstream's bounds, finished or not (a day waits for its
        month); for a whole-table reader, all it should have."""
        if not model.partitioned:
            return [WHOLE]
        if window is None:
            # what it should have, has, and what this plan builds (a backfill of a model
            # without `start` creates partitions nobody expected)
            return sorted(
                set(self._expected_keys(model))
                | {k for k in self._built(model.name) if k != WHOLE}
                | set(self.publishers.get(model.name, {}))
            )
        if window.grain == model.grain:
            return [window.key] if in_bounds(model, window) else []
        return [
            w.key for w in windows(window.start, window.end, model.grain) if in_bounds(model, w)
        ]

    def _missing_input(self, name: str, window: Window | None, reader: str) -> Gate | None:
        model = self.dag.models[name]
        if model.broken:
            return broken_gate(name, str(model.broken))
        holds = self.holds.get(name, {})
        planned = self.publishers.get(name, {})
        built = self._built(name)
        keys = self._required_keys(model, window)
        if model.partitioned and window is None and not keys:
            return Gate("skipped", f"upstream {name} has no partitions built yet")
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
            elif key not in planned and self._fails_published(name, key):
                cause = "its published data fails a blocking check"
                found.append(
                    Gate("blocked", f"upstream {name}[{key}]: {cause}", f"{name}[{key}]", cause)
                )
            if found and found[-1].status == "blocked":
                break  # nothing is more urgent
        if not keys and name not in self.snapshot.relations and not planned:
            found.append(Gate("skipped", f"upstream {name} is not built"))
        if model.kind is Kind.VIEW:
            for up in self.dag.upstream[name]:
                hold = self._missing_input(up, window, reader)
                if hold:
                    found.append(hold)
        return worst(found) if found else None

    def _fails_published(self, name: str, key: str) -> bool:
        failure = self.snapshot.failed.get(name, {}).get(key)
        return failure is not None and failure.on_published

    def _expected(self, model: Model) -> list[Window]:
        if model.name not in self._expected_cache:
            self._expected_cache[model.name] = expected_windows(model, self.request.now)
        return self._expected_cache[model.name]

    def _expected_keys(self, model: Model) -> dict[str, Window]:
        if model.name not in self._expected_key_cache:
            self._expected_key_cache[model.name] = {w.key: w for w in self._expected(model)}
        return self._expected_key_cache[model.name]

    def _deps(self, model: Model, window: Window | None) -> tuple[int, ...]:
        deps: dict[int, None] = {}
        for up in self.dag.upstream[model.name]:
            self._collect_deps(up, window, deps)
        for checked in self.dag.after.get(model.name, ()):
            self._collect_deps(checked, None, deps)  # a check reads the whole of it
        return tuple(deps)

    def _collect_deps(self, name: str, window: Window | None, into: dict[int, None]) -> None:
        planned = self.publishers.get(name, {})
        if planned:
            found = [
                planned[k]
                for k in overlapping_keys(self.dag.models[name], window, planned)
                if k in planned
            ]
            if not found and name not in self.snapshot.relations:
                # nothing it reads is built by the plan, but the upstream's table does not exist
                # yet: whichever upstream task runs first creates it, so wait for them all
                found = list(planned.values())
            into.update((t.id, None) for t in found)
        if self.dag.models[name].kind is Kind.VIEW:
            for up in self.dag.upstream[name]:
                self._collect_deps(up, window, into)

    def _add(
        self,
        name: str,
        window: Window | None,
        reason: Reason,
        action: Action,
        deps: tuple[int, ...],
        detail: str = "",
    ) -> Task:
        task = Task(len(self.tasks), name, window, reason, action, deps, detail=detail)
        self.tasks.append(task)
        return task

    def _hold(self, name: str, window: Window | None, gate: Gate) -> None:
        held = Held(name, window, gate.status, gate.reason, gate.origin, gate.cause)
        self.held.append(held)
        self.holds.setdefault(name, {})[held.key] = held
