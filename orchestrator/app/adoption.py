"""Adopting what another tool (dbt) already built: a team that switches has a warehouse full
of the relations its models describe. `orchestrator adopt` records each relation that is
already right as built by us, so the first `run` rebuilds nothing that is: per partition for
a partitioned model (the partitions that hold rows), after the model's blocking checks pass
on the data there, with its version, inputs and source fingerprints, exactly as a build would
record it. A relation of another kind, or whose columns or types differ from what the model
builds, is not adopted: it is listed, and the next run rebuilds it (and what reads it).

`facts_of` reads the facts (what exists, its columns, which partitions hold rows, what each
model's SQL would return); `choose` is pure: which tasks of the run's plan become adoptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..core.tasks import Action, Plan, Reason, Task
from ..plan.staleness import used_vars
from ..project.dag import DAG
from ..project.model import SNAPSHOT_COLUMNS
from ..sql.model_sql import cursor_query, render_model
from ..statements import check_sql, materialize


@dataclass(frozen=True)
class Facts:
    """What the warehouse holds for the plan's models."""

    relations: Mapping[str, str]  # model -> 'table' or 'view' (what exists)
    columns: Mapping[str, list[tuple[str, str]]]  # model -> (name, type) as it exists
    expected: Mapping[str, list[tuple[str, str]] | str]  # model -> what its SQL returns, or why not
    filled: frozenset[tuple[str, str]] = frozenset()  # (model, key) partitions holding rows


@dataclass(frozen=True)
class Adoption:
    plan: Plan  # the adoptions, as tasks of Action.ADOPT
    differing: tuple[tuple[str, str], ...] = ()  # (model, why it is rebuilt instead)
    empty: tuple[tuple[str, str], ...] = field(default=())  # (model, key) with no rows there


def _kind(model) -> str:
    return "view" if model.kind == "view" else "table"


def choose(plan: Plan, dag: DAG, facts: Facts) -> Adoption:
    """The plan's partition tasks whose data is already right, as adoptions: the relation is
    of the model's kind, has the columns and types its SQL returns, holds rows in the
    partition, and everything the task reads is adopted too (or was built already)."""
    planned = {u.id for t in plan.tasks for u in t.units}
    adopted: dict[int, Task] = {}
    differing: dict[str, str] = {}
    empty: list[tuple[str, str]] = []
    for unit in (u for t in plan.tasks for u in t.units):
        model = dag.models[unit.model]
        why = differing.get(unit.model) or _difference(model, facts)
        if why:
            differing[unit.model] = why
            continue
        if model.partitioned and (unit.model, unit.key) not in facts.filled:
            empty.append((unit.model, unit.key))
            continue
        missing = [d for d in unit.deps if d in planned and d not in adopted]
        if missing:
            continue  # it reads what the next run rebuilds: so is it then
        adopted[unit.id] = replace(unit, action=Action.ADOPT, reason=Reason.ADOPTED)
    tasks = tuple(adopted.values())
    models = tuple(dict.fromkeys(t.model for t in tasks))
    return Adoption(
        replace(plan, tasks=tasks, held=(), models=models, settled=()),
        tuple(sorted(differing.items())),
        tuple(empty),
    )


def _difference(model, facts: Facts) -> str | None:
    """Why the relation there is not what the model builds, or None."""
    there = facts.relations.get(model.name)
    if there is None:
        return "not in the warehouse"
    if there != _kind(model):
        return f"a {there} there, a {_kind(model)} in this project"
    expected = facts.expected.get(model.name)
    if isinstance(expected, str):
        return f"its SQL does not bind on the warehouse: {expected}"
    actual = facts.columns.get(model.name, [])
    if model.history is not None:  # a snapshot keeps dbt's version columns after the query's
        actual = [c for c in actual if c[0] not in SNAPSHOT_COLUMNS]
    if [(n.lower(), t) for n, t in actual] != [(n.lower(), t) for n, t in expected or []]:
        return _columns_differ(actual, expected or [])
    return None


def _columns_differ(actual: list[tuple[str, str]], expected: list[tuple[str, str]]) -> str:
    there = {n.lower(): t for n, t in actual}
    ours = {n.lower(): t for n, t in expected}
    parts = [
        f"{n} {there[n]} there, {t} here" for n, t in ours.items() if n in there and there[n] != t
    ]
    parts += [f"{n} missing there" for n in ours if n not in there]
    parts += [f"{n} only there" for n in there if n not in ours]
    if not parts:
        parts = ["the same columns in another order"]
    return "columns differ: " + "; ".join(parts)


def facts_of(con, dag: DAG, plan: Plan, variables: Mapping[str, str], default_schema: str) -> Facts:
    """The facts `choose` needs, read on `con` (the warehouse, its source views made): one
    DESCRIBE of each model's SQL (binding it, running nothing), its relation's columns, and
    for partitioned models the partitions holding rows."""
    relations, columns, expected = {}, {}, {}
    filled: set[tuple[str, str]] = set()
    first: dict[str, Task] = {}
    for unit in (u for t in plan.tasks for u in t.units):
        first.setdefault(unit.model, unit)
    existing = {
        f"{s}.{t}": "view" if kind == "VIEW" else "table"
        for s, t, kind in con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables"
        ).fetchall()
    }
    for name, unit in first.items():
        model = dag.models[name]
        if name not in existing:
            continue
        relations[name] = existing[name]
        columns[name] = materialize.existing_columns(con, model)
        try:
            rendered = render_model(
                model,
                model.window_literals(unit.window, incremental=model.merges_whole),
                used_vars(model, variables),
                cursor_query(con),
            )
            con.execute(materialize.search_path(model.lookup_schema, default_schema))
            expected[name] = con.describe(rendered)
        except Exception as exc:  # noqa: BLE001 - any reason it cannot bind is the reason
            expected[name] = str(exc).splitlines()[0]
        if model.partitioned:
            counted = con.execute(
                check_sql.partition_counts_sql(model.relation, model.partition_by, model.grain)
            ).fetchall()
            filled |= {(name, key) for key, rows in counted if key is not None and rows}
    return Facts(relations, columns, expected, frozenset(filled))
