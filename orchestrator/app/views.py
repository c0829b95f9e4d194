"""Read-only views of the state for people: the status of models (or partitions) and the runs,
as typed rows. A row is a NamedTuple, so a table printer takes it as it takes any tuple and its
field names are the column headers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .. import state
from ..core.errors import UsageError, suggest
from ..core.partitions import WHOLE, window_for_key
from ..core.snapshot import Snapshot
from ..core.status import ATTEMPT_PROBLEMS, REJECTED, URGENCY, rank
from ..core.tasks import Action, Plan
from ..engines import engine, readers
from ..plan import remedies
from ..project.selectors import select as select_models
from ..sources.survey import Survey
from ..state.runs import PartitionState
from .gating import gated_plan
from .workspace import Selection, Workspace, in_scope, reading, request_for


class ModelRow(NamedTuple):
    """One model as `status` sees it, typed (numbers, times); `shown` is its table row."""

    model: str
    kind: str
    owner: str | None
    partitioned: bool
    built: int  # partitions built (a whole model: 1 or 0)
    rows: int | None
    last_built: datetime | None  # when its latest build was published
    last_run: int | None  # by which run
    state: str
    remedy: str | None = None  # the command that fixes what is red (see remedies)

    def shown(self) -> tuple:
        """The row of `status`'s table (MODEL_COLUMNS)."""
        built = str(self.built) if self.partitioned else ("yes" if self.built else "no")
        last = (
            f"{self.last_built:%Y-%m-%d %H:%M} (run {self.last_run})" if self.last_built else None
        )
        return (self.model, self.kind, self.owner, built, self.rows, last, self.state)


MODEL_COLUMNS = ("model", "kind", "owner", "built", "rows", "last_built", "state")


class PartitionRow(NamedTuple):
    model: str
    partition: str
    last_attempt: str | None
    built_run: int | None
    rows: int | None
    built_at: object
    pending: str
    error: str | None


class RunRow(NamedTuple):
    run_id: int
    command: str
    status: str
    started: object
    seconds: float | None
    tasks: int | None
    ok: int | None
    failed: int | None
    skipped: int | None
    waiting: int | None
    blocked: int | None
    who: str
    env: str | None = None  # the environment it built (None: production)


class TaskRow(NamedTuple):
    model: str
    partition: str
    attempt: int
    status: str
    reason: str | None
    rows: int | None
    seconds: float | None
    error: str | None


Attempts = Mapping[str, Mapping[str, PartitionState]]  # model -> partition key -> its row
Pending = Mapping[str, Mapping[str, str]]  # model -> partition key -> why it is pending


def status(
    ws: Workspace, selectors: Sequence[str] = (), *, partitions: bool = False, owner=None
) -> list[ModelRow] | list[PartitionRow]:
    """Per model (or per partition): what is built, and what `run` would still do or hold back
    (evaluating sources as `run` would), with failed attempts since the last good build."""
    names = selected_names(ws, selectors, owner)
    snapshot, attempts, todo, planned = _assess(ws)
    if partitions:
        return partition_rows(names, attempts, todo)
    return [model_row(ws, name, snapshot, attempts, todo, planned) for name in names]


def _assess(ws: Workspace, surveyed: Survey | None = None) -> tuple[Snapshot, dict, dict, Plan]:
    """What is built, the last attempts, and what `run` would do now: what every view of the
    status is made from (one read of the state, one plan of the whole project)."""
    with reading(ws, surveyed) as (con, snapshot, surveyed):
        attempts = last_attempts(ws, con)
        request = replace(request_for(ws, Selection(), everything=True), strict_vars=False)
        planned, _ = gated_plan(ws, con, snapshot, surveyed, request)
    for model, key in planned.settled:  # as the next run records it: current, not failed
        attempts[model][key] = attempts[model][key]._replace(status="success", error=None)
    return snapshot, attempts, pending(planned), planned


class ProjectStatus(NamedTuple):
    """The whole project's status at once, per model and per partition, with the snapshot it
    was judged against: for a reader that asks many questions of one state (the UI)."""

    models: dict[str, ModelRow]
    partitions: dict[str, list[PartitionRow]]
    snapshot: Snapshot


def project_status(ws: Workspace, surveyed: Survey | None = None) -> ProjectStatus:
    """The status of every model and partition; over `surveyed` when the caller listed the
    sources already (the UI, whose pages share one survey per state of the world)."""
    snapshot, attempts, todo, planned = _assess(ws, surveyed)
    names = ws.dag.order
    by_model: dict[str, list[PartitionRow]] = {n: [] for n in names}
    for row in partition_rows(names, attempts, todo):
        by_model[row.model].append(row)
    models = {n: model_row(ws, n, snapshot, attempts, todo, planned) for n in names}
    return ProjectStatus(models, by_model, snapshot)


def selected_names(ws: Workspace, selectors: Sequence[str], owner: str | None) -> list[str]:
    names = ws.dag.ordered(select_models(ws.dag, selectors))
    if ws.env is not None:  # an environment's status is that of its copies
        names = ws.dag.ordered(in_scope(ws, set(names)))
    if owner is None:
        return names
    owners = {m.owner for m in ws.dag.models.values() if m.owner}
    if owner not in owners:
        raise UsageError(f"no model has owner '{owner}'{suggest(owner, owners)}")
    return [n for n in names if ws.dag.models[n].owner == owner]


def last_attempts(ws: Workspace, con) -> dict[str, dict[str, PartitionState]]:
    attempts: dict[str, dict[str, PartitionState]] = defaultdict(dict)
    if ws.warehouse.exists():
        with engine.reading(ws.warehouse):
            if state.has_state(con):
                for row in state.partition_rows(con):
                    attempts[row.model][row.partition_key] = row
    return attempts


def pending(plan: Plan) -> dict[str, dict[str, str]]:
    """What the plan would build (with its reason) or holds back (with its status)."""
    todo: dict[str, dict[str, str]] = defaultdict(dict)
    for t in plan.units:
        if t.action is not Action.SWAP:  # the last step of a rebuild, not a partition
            todo[t.model][t.key] = t.why
    for h in plan.held:
        todo[h.model][h.key] = f"{h.status}: {h.reason}"
    return todo


def partition_rows(names: Sequence[str], attempts: Attempts, todo: Pending) -> list[PartitionRow]:
    out = []
    for name in names:
        for key in sorted(set(attempts.get(name, {})) | set(todo.get(name, {}))):
            row = attempts.get(name, {}).get(key)
            waiting = todo.get(name, {}).get(key, "")
            if row is None:
                out.append(PartitionRow(name, key, None, None, None, None, waiting, None))
                continue
            out.append(
                PartitionRow(
                    name, key, row.status, row.built_run, row.rows, row.built_at, waiting, row.error
                )
            )
    return out


def model_row(
    ws: Workspace, name: str, snapshot: Snapshot, attempts: Attempts, todo: Pending, plan: Plan
) -> ModelRow:
    model = ws.dag.models[name]
    built = snapshot.built.get(name, {}) if name in snapshot.relations else {}
    text = state_text(built, attempts.get(name, {}), todo.get(name, {}))
    held_rebuild = next(
        (w for w in todo.get(name, {}).values() if f": rebuild of {name} held by " in w), None
    )
    fix = None
    if held_rebuild:  # one late input holds a whole new version: say which, not "N waiting"
        status, _, why = held_rebuild.partition(": ")
        whole_only = why.endswith("(its layout changed: it is rebuilt whole)")
        why = why.split("; the table keeps")[0].replace(f"rebuild of {name}", "rebuild")
        text = f"{len(todo[name])} {status}, {why}"
        if not whole_only:
            held = [window_for_key(k, model.grain) for k in todo[name] if k != WHOLE]
            fix = remedies.held_rebuild(name, held) if held else None
    if name in plan.backfill_only:
        text = "not built: no start, only backfill builds it"
    if model.broken:  # its file does not load: that is its state, whatever it last built
        text = f"broken: {model.broken}"
    latest = max(
        (p for p in attempts.get(name, {}).values() if p.built_run is not None and p.built_at),
        key=lambda p: (p.built_at, p.built_run),
        default=None,
    )
    rows_total = (
        sum(b.rows or 0 for b in built.values()) if built and model.kind != "view" else None
    )
    return ModelRow(
        name,
        str(model.kind),
        model.owner,
        model.partitioned,
        len(built) if model.partitioned else int(bool(built)),
        rows_total,
        latest.built_at if latest else None,
        latest.built_run if latest else None,
        text,
        _in_env(
            ws,
            model,
            remedies.broken(name, str(model.broken))
            if model.broken
            else fix or _remedy(name, attempts.get(name, {}), todo.get(name, {})),
        ),
    )


def _in_env(ws: Workspace, model, command: str | None) -> str | None:
    """A copy's remedy as its environment runs it: production's name, and `--env NAME`."""
    if not command or not model.home or ws.env is None:
        return command
    command = command.replace(model.name, model.home)
    if "orchestrator " in command:  # a remedy ends with the command it names
        return f"{command} --env {ws.env.name}"
    return command


def _remedy(name: str, attempts: Mapping[str, PartitionState], todo: Mapping[str, str]):
    """The remedy of the model's most urgent red partition (see remedies)."""
    found = []
    for key in sorted(set(attempts) | set(todo)):
        last = attempts.get(key)
        status = last.status if last else None
        if status == "success" and key not in todo:
            continue
        fix = remedies.of_partition(name, status, last.error if last else None, todo.get(key))
        if fix:
            found.append(fix)
    retries = [f for f in found if not remedies.is_retry(f)]
    return (retries or found or [None])[0]  # a fix before a retry: a retry alone would not do


def state_text(
    built: Mapping, attempts: Mapping[str, PartitionState], todo: Mapping[str, str]
) -> str:
    """One model's partitions grouped by label, most urgent first: '2 failed (a, b); 1 stale'."""
    parts = []
    for (label, kept), keys in sorted(
        _labels(built, attempts, todo).items(), key=lambda kv: rank(kv[0][0], URGENCY)
    ):
        where = ""
        if keys != [WHOLE]:  # which partitions, for every label (a whole model has one)
            shown = ", ".join(sorted(keys)[:3]) + (" ..." if len(keys) > 3 else "")
            where = f" ({shown})"
        parts.append(f"{len(keys)} {label}{where}" + (", last good data kept" if kept else ""))
    return "; ".join(parts) if parts else ("up to date" if built else "not built")


def _labels(
    built: Mapping, attempts: Mapping[str, PartitionState], todo: Mapping[str, str]
) -> dict[tuple[str, bool], list[str]]:
    """(label, last good data kept) -> partition keys. A pending partition whose last attempt
    went wrong is shown by how it went wrong (failed, check_failed, skipped...), the rest by why
    it is pending. A built partition whose last attempt failed is not pending (nothing changed
    since), yet it is not up to date either: it still holds the build before that."""
    labels: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for key, why in todo.items():
        last = attempts.get(key)
        label = last.status if last and last.status in ATTEMPT_PROBLEMS else why.split(":")[0]
        labels[(label, label in REJECTED and key in built and not _on_published(last))].append(key)
    for key, last in attempts.items():
        if key not in todo and last.status in REJECTED and key in built:
            # a rejected build kept the last good data; published data that fails a check did not
            labels[(last.status, not _on_published(last))].append(key)
    return labels


def _on_published(last: PartitionState | None) -> bool:
    return bool(last and last.error and last.error.startswith(state.PUBLISHED_FAILS))


def runs(path: Path, limit: int) -> list[RunRow]:
    """The latest runs; none (not an error) before the first run created the warehouse."""
    if not path.exists():
        return []
    con = readers.connect(path).con
    try:
        with engine.reading(path):
            if not state.has_state(con):
                return []
            rows = state.runs(con, limit)
    finally:
        con.close()
    return [
        RunRow(
            r.run_id,
            r.command,
            r.status,
            r.started,
            round((r.finished - r.started).total_seconds(), 2) if r.finished else None,
            r.tasks,
            r.succeeded,
            r.failed,
            r.skipped,
            r.waiting,
            r.blocked,
            r.who,
            r.env,
        )
        for r in rows
    ]


def run_detail(path: Path, run_id: int) -> tuple[state.RunRecord, list[TaskRow]]:
    """One run: its record (command, who, when, vars, error) and its task attempts."""
    con = readers.connect(path).con
    try:
        with engine.reading(path):
            row = state.run_row(con, run_id) if state.has_state(con) else None
            if row is None:
                raise UsageError(f"no run with id {run_id} in {path}")
            tasks = state.run_tasks(con, run_id)
    finally:
        con.close()
    rows = [
        TaskRow(
            t.model,
            t.partition_key,
            t.attempt,
            t.status,
            t.reason,
            t.rows_written,
            round(t.seconds, 3) if t.seconds is not None else None,
            t.error,
        )
        for t in tasks
    ]
    return row, rows
