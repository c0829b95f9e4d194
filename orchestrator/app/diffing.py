"""`diff --env NAME`: what an environment's change does, per changed model, as a reviewer reads
it in a pull request: the SQL diff against what production built, the columns added, removed
or retyped, the change's category, what it rebuilds downstream, and a data diff of the
environment's relation against production's (rows only on one side, rows changed by key, per
partition, with samples)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import state
from ..core.errors import UsageError, WarehouseBusy
from ..engines import engine, readers
from ..project import selectors
from ..project.model import Kind, Model
from ..statements import data_diff as dd
from .workspace import Workspace

SAMPLE = 5


class ColumnChange(NamedTuple):
    column: str
    change: str  # added | removed | retyped
    before: str | None  # its type in production
    after: str | None  # its type in the environment


@dataclass(frozen=True)
class PartitionDiff:
    partition: str
    env_rows: int
    prod_rows: int
    only_env: int
    only_prod: int
    changed: int

    @property
    def differs(self) -> bool:
        return bool(self.only_env or self.only_prod or self.changed)


@dataclass(frozen=True)
class DataDiff:
    """The rows of the two relations compared, by `key` (empty: whole rows)."""

    key: tuple[str, ...]
    compared: tuple[str, ...]
    partitions: tuple[PartitionDiff, ...]
    samples: dict[str, tuple[tuple[str, ...], list[tuple]]] = field(default_factory=dict)

    def total(self, what: str) -> int:
        return sum(getattr(p, what) for p in self.partitions)

    @property
    def identical(self) -> bool:
        return not any(p.differs for p in self.partitions)


@dataclass(frozen=True)
class ModelDiff:
    model: str  # production's name
    copy: str  # the environment's relation
    reason: str  # why the environment builds it
    category: str  # new | breaking | non-breaking | forward-only | rebuilt (reads a change)
    sql_diff: str | None  # unified diff against production's recorded SQL (None: the same)
    production_sql: bool  # production's SQL is recorded (else only the columns tell)
    columns: tuple[ColumnChange, ...]
    downstream: tuple[tuple[str, int], ...]  # (production name, partitions built there)
    data: DataDiff | None  # None: one side has no relation yet
    built: int = 0  # partitions (or 1: a table, a view) the environment built of it
    failed: int = 0  # partitions of it whose latest attempt there was rejected
    env_rows: int | None = None  # rows of the copy, when production has none to compare


def diff(ws: Workspace, selected: Sequence[str] = (), sample: int = SAMPLE) -> list[ModelDiff]:
    """The diff of each model the environment builds (or of the `selected` ones)."""
    env = ws.env
    if env is None:
        raise UsageError("diff compares an environment with production: give --env NAME")
    names = [n for n in ws.dag.order if n in env.copies or n in env.left]
    if selected:
        wanted = selectors.select(ws.dag, selected)
        names = [n for n in names if n in wanted or env.copies.get(n) in wanted]
        if not names:
            raise UsageError(
                f"environment {env.name!r} builds none of {' '.join(selected)} "
                f"(it builds: {', '.join(sorted(env.copies)) or 'nothing'})"
            )
    if not ws.warehouse.exists():
        raise UsageError(f"no warehouse at {ws.warehouse}: nothing was built yet")
    con, copy = readers.connect(ws.warehouse)
    try:
        if copy:
            raise WarehouseBusy(
                f"the warehouse {ws.warehouse} is being written and a diff reads the data: "
                "run it when the run finishes (--wait)"
            )
        with engine.reading(ws.warehouse):
            snapshot = state.snapshot(con)
            ran = env.name in {r.name for r in state.environments(con)}
            built = any(snapshot.built.get(c) for c in env.copies.values())
            if env.copies and not ran and not built:
                raise UsageError(
                    f"environment {env.name!r} has not run: `orchestrator run --env {env.name}` "
                    "builds it, then diff compares it with production"
                )
            return [_model_diff(ws, con, snapshot, name, sample) for name in names]
    finally:
        con.close()


def _model_diff(ws: Workspace, con, snapshot, name: str, sample: int) -> ModelDiff:
    env = ws.env
    prod = ws.dag.models[name]
    copy = ws.dag.models[env.copies[name]] if name in env.copies else prod
    versions = {b.version for b in (snapshot.built.get(name) or {}).values()}
    before = next((state.version_template(con, name, v) for v in sorted(versions)), None)
    sql_diff = None
    if before is not None and before != copy.template:
        sql_diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                copy.template.splitlines(keepends=True),
                fromfile=f"production/{prod.relpath}",
                tofile=f"{env.name}/{copy.relpath}",
            )
        )
    if name in env.left:  # forward-only: production applies it to new partitions, no copy
        return ModelDiff(
            name, "", env.left[name], "forward-only", sql_diff, before is not None, (), (), None
        )
    built = len(snapshot.built.get(copy.name) or {})
    failed = len(snapshot.failed.get(copy.name) or {})
    env_columns = _columns(con, copy) if built else []
    prod_columns = _columns(con, prod)
    changes = _column_changes(prod_columns, env_columns) if env_columns else ()
    downstream = tuple(
        (ws.dag.models[d].home or d, len(snapshot.built.get(d) or {}))
        for d in ws.dag.ordered(ws.dag.descendants([copy.name]))
    )
    data, env_rows = None, None
    if env_columns and prod_columns:
        data = _data_diff(con, copy, prod, env_columns, prod_columns, sample)
    elif env_columns:
        env_rows = con.execute(f"SELECT count(*) FROM {copy.relation}").fetchone()[0]
    reason = env.reasons.get(name, "")
    return ModelDiff(
        name,
        copy.name,
        reason,
        env.categories.get(name) or _category(reason, prod_columns),
        sql_diff,
        before is not None or not versions,
        changes,
        downstream,
        data,
        built,
        failed,
        env_rows,
    )


def _category(reason: str, prod_columns) -> str:
    if not prod_columns or reason.startswith("new"):
        return "new"
    if reason.startswith("reads "):
        return "rebuilt"
    return "breaking"


def _columns(con, model: Model) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [model.schema, model.table],
    ).fetchall()


def _column_changes(prod, env) -> tuple[ColumnChange, ...]:
    before, after = dict(prod), dict(env)
    found = [ColumnChange(c, "added", None, t) for c, t in env if c not in before]
    found += [ColumnChange(c, "removed", t, None) for c, t in prod if c not in after]
    found += [
        ColumnChange(c, "retyped", before[c], t) for c, t in env if c in before and before[c] != t
    ]
    return tuple(found)


def _readable(side: str, names, rows, key) -> tuple[tuple[str, ...], list[tuple]]:
    """A keyed sample as people read it: a row only on one side with that side's columns; a
    changed row as its key and, per column that differs, production's value and the new one."""
    if side in ("env", "prod"):
        prefix = f"{side}."
        picked = [i for i, n in enumerate(names) if n.startswith(prefix)]
        columns = tuple(names[i][len(prefix) :] for i in picked)
        return columns, [tuple(row[i] for i in picked) for row in rows]
    at = {n: i for i, n in enumerate(names)}
    columns = (*key, "column", "production", "environment")
    found = []
    for row in rows:
        keys = tuple(row[at[f"env.{k}"]] for k in key)
        for name in names:
            if not name.startswith("env.") or name[4:] in key:
                continue
            column = name[4:]
            before, after = row[at[f"prod.{column}"]], row[at[name]]
            if before != after:
                found.append((*keys, column, before, after))
    return columns, found


def _data_diff(con, copy: Model, prod: Model, env_columns, prod_columns, sample: int) -> DataDiff:
    shared = dd.shared_columns(env_columns, prod_columns)
    key = next(
        (
            k
            for k in (copy.unique_key, *(c.columns for c in copy.checks if c.kind == "unique"))
            if k and all(c in dict(shared) for c in k)
        ),
        (),
    )
    partitioned = copy.kind is Kind.INCREMENTAL and copy.partition_by in dict(shared)
    sides = dd.Sides(
        copy.relation,
        prod.relation,
        shared,
        tuple(key),
        copy.partition_by if partitioned else None,
        copy.grain,
    )
    table = "orchestrator_diff"
    env_counts = dict(con.execute(dd.counts(copy.relation, sides)).fetchall())
    prod_counts = dict(con.execute(dd.counts(prod.relation, sides)).fetchall())
    samples: dict[str, tuple[tuple[str, ...], list[tuple]]] = {}
    if key:
        con.execute(dd.keyed_rows(sides, table))
        summary = con.execute(dd.keyed_summary(table)).fetchall()
        for side in ("env", "prod", "changed"):
            cursor = con.execute(dd.keyed_sample(table, side, sample))
            rows = cursor.fetchall()
            if rows:
                names = tuple(d[0] for d in cursor.description)
                samples[side] = _readable(side, names, rows, key)
    else:
        con.execute(dd.whole_rows(sides, table))
        summary = con.execute(dd.whole_rows_summary(sides, table)).fetchall()
        for side, env_side in (("env", True), ("prod", False)):
            cursor = con.execute(dd.whole_rows_sample(sides, table, env_side, sample))
            rows = cursor.fetchall()
            if rows:
                samples[side] = (tuple(d[0] for d in cursor.description), rows)
    con.execute(f"DROP TABLE IF EXISTS {table}")
    found = {part: (int(e), int(p), int(c)) for part, e, p, c in summary}
    partitions = tuple(
        PartitionDiff(
            part,
            env_counts.get(part, 0),
            prod_counts.get(part, 0),
            *found.get(part, (0, 0, 0)),
        )
        for part in sorted(set(env_counts) | set(prod_counts) | set(found), key=str)
    )
    return DataDiff(tuple(key), tuple(c for c, _ in shared), partitions, samples)
