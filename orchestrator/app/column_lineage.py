"""Column lineage across a project: each model's columns and where each comes from, read from
the models' SQL (`sql.column_lineage`) in DAG order, and the other way round, which columns of
which models each column feeds. `orchestrator lineage` and the model page show it.

What a model reads has the columns the warehouse gives it now (information_schema, read-only),
else a declared source's `columns`, else what the upstream model's own SQL outputs (a model
never built yet): so a model's lineage needs the lineage of the models it reads only when they
are not in the warehouse, and a page asks for a handful of models, not the whole project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..core.errors import OrchestratorError, UsageError, suggest
from ..core.partitions import Window
from ..engines import engine, readers
from ..project.model import Kind, Model
from ..sql.column_lineage import ColumnLineage, Upstream, column_lineage
from ..sql.model_sql import render_model
from .workspace import Workspace

SNAPSHOT_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
"""The columns a snapshot adds to its query's (see `statements.materialize`)."""

_WAREHOUSE_COLUMNS = (
    "SELECT table_schema, table_name, column_name FROM information_schema.columns "
    "WHERE table_catalog = current_database() AND table_schema <> 'orchestrator' "
    "ORDER BY table_schema, table_name, ordinal_position"
)


@dataclass(frozen=True)
class ProjectLineage:
    """The lineage of some models of a project. `models`: each one's lineage from its SQL;
    `columns`: the columns of every relation that was looked at (what the warehouse or a
    declaration says, else what the model's SQL outputs); `downstream`: for a column, the model
    columns computed from it directly."""

    models: Mapping[str, ColumnLineage]
    columns: Mapping[str, tuple[str, ...]]
    downstream: Mapping[Upstream, tuple[Upstream, ...]] = field(default_factory=dict)

    def fed_by(self, relation: str, column: str) -> tuple[Upstream, ...]:
        """The columns `relation.column` is computed from directly (none for a source)."""
        found = self.models.get(relation)
        ups = found.upstream.get(column, ()) if found else ()
        return tuple(sorted(u for u in ups if u[0] != relation))

    def feeds(self, relation: str, column: str) -> tuple[Upstream, ...]:
        """The model columns computed from `relation.column` directly."""
        return self.downstream.get((relation, column), ())


def known_columns(ws: Workspace, con=None) -> dict[str, tuple[str, ...]]:
    """Each relation's columns as the warehouse holds them (read-only; nothing while a run
    holds it and only its state copy can be read; `con`: a connection the caller holds), then
    the declared sources' `columns` for the sources it does not hold. Names are lower-case, as
    the SQL resolves them."""
    found: dict[str, list[str]] = {}
    if con is not None and ws.project.settings.engine.kind != "spark":
        for schema, table, column in con.execute(_WAREHOUSE_COLUMNS).fetchall():
            found.setdefault(f"{schema}.{table}".lower(), []).append(column.lower())
    elif ws.warehouse.exists() and ws.project.settings.engine.kind != "spark":
        opened = readers.connect(ws.warehouse)
        try:
            with engine.reading(ws.warehouse):
                rows = [] if opened.copy else opened.con.execute(_WAREHOUSE_COLUMNS).fetchall()
        finally:
            opened.con.close()
        for schema, table, column in rows:
            found.setdefault(f"{schema}.{table}".lower(), []).append(column.lower())
    for name, source in ws.project.sources.items():
        if name not in found and source.columns:
            found[name] = [c.lower() for c, _ in source.columns]
    return {name: tuple(columns) for name, columns in found.items()}


def project_lineage(
    ws: Workspace,
    wanted: Iterable[str] | None = None,
    known: Mapping[str, tuple[str, ...]] | None = None,
) -> ProjectLineage:
    """The lineage of the models `wanted` (every model by default), and of the models upstream
    of them whose columns `known` (default: `known_columns`) does not give. One qualify per
    model: 1,000 models take a few seconds."""
    known = known_columns(ws) if known is None else known
    needed = _needed(ws, set(ws.dag.models) if wanted is None else set(wanted), known)
    models: dict[str, ColumnLineage] = {}
    columns: dict[str, tuple[str, ...]] = dict(known)
    for name in ws.dag.ordered(needed):
        model = ws.dag.models[name]
        schema = {r: columns[r] for r in _reads(ws, name) if r in columns}
        models[name] = _model_lineage(ws, model, schema, known.get(name))
        columns.setdefault(name, models[name].columns)
    return ProjectLineage(models, columns, _downstream(models))


def _needed(ws: Workspace, wanted: set[str], known: Mapping) -> set[str]:
    """`wanted`, with every model upstream whose columns only its own lineage can say."""
    needed: set[str] = set()
    stack = [w for w in wanted if w in ws.dag.models]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(up for up in ws.dag.upstream[name] if up not in known)
    return needed


def _reads(ws: Workspace, name: str) -> tuple[str, ...]:
    return (*ws.dag.upstream.get(name, ()), *ws.dag.sources.get(name, ()))


def _model_lineage(
    ws: Workspace, model: Model, schema: Mapping, built: tuple[str, ...] | None
) -> ColumnLineage:
    """One model's lineage from its SQL rendered for a window (its first: any window will do,
    the columns do not depend on it). A model that cannot be rendered or read has a lineage of
    no columns and a problem that says why (what reads it reads its built columns, if any); a
    seed has the columns it was loaded with, from no relation."""
    if model.seed:  # a CSV loaded as it is: its columns come from no relation
        columns = built or model.columns or ()
        return ColumnLineage(columns, dict.fromkeys(columns, frozenset()), {})
    try:
        if model.broken:
            raise model.broken
        window = None
        if model.partitioned:
            window = Window.containing(model.start or datetime(2000, 1, 1), model.grain)
        rendered = render_model(model, model.window_literals(window), ws.project.settings.vars)
        search_path = (model.schema, ws.project.settings.default_schema)
        found = column_lineage(rendered, schema, search_path, model.dialect)
    except OrchestratorError as exc:
        return ColumnLineage((), {}, {}, (str(exc),))
    if model.kind is Kind.SNAPSHOT:
        added = {c: frozenset() for c in SNAPSHOT_COLUMNS if c not in found.upstream}
        found = ColumnLineage(
            (*found.columns, *added), {**found.upstream, **added}, found.reads, found.problems
        )
    return found


def _downstream(models: Mapping[str, ColumnLineage]) -> dict[Upstream, tuple[Upstream, ...]]:
    found: dict[Upstream, list[Upstream]] = {}
    for name, lineage in models.items():
        for column in lineage.columns:
            for up in lineage.upstream.get(column, ()):
                if up[0] != name:  # a model reading its own table ({{ this }})
                    found.setdefault(up, []).append((name, column))
    return {up: tuple(sorted(down)) for up, down in found.items()}


@dataclass(frozen=True)
class Node:
    """A column in a tree of lineage: `children` are the columns it is computed from (in the
    "fed by" tree) or computed from it (in the "feeds" tree). A column met again is shown
    `repeated`, without its children (they are shown where it was met first); one deeper than
    the depth asked is `truncated` when it has children."""

    relation: str
    column: str
    kind: str  # model, seed, source (declared), relation (read, neither)
    children: tuple[Node, ...] = ()
    repeated: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class ColumnTrace:
    """What `orchestrator lineage` answers for one column: the trees of what feeds it and of
    what it feeds, and the problems of the models on the way (lineage there is partial)."""

    relation: str
    column: str
    kind: str
    fed_by: tuple[Node, ...]
    feeds: tuple[Node, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (model, problem)


def lineage(ws: Workspace, target: str, depth: int | None = None) -> ColumnTrace:
    """The column `target` (`schema.model.column`, `model.column` when the model's name is
    unique, or a source's `schema.table.column`): what feeds it, down to the sources, and
    what it feeds, to the last model; `depth` levels each way at most. An unknown model or
    column is a UsageError naming it, with close names."""
    relation, column = split_target(ws, target)
    if relation in ws.dag.models:
        wanted = {relation, *ws.dag.ancestors([relation]), *ws.dag.descendants([relation])}
    else:  # a source: what reads it, and what reads those
        readers = [m for m in ws.dag.models if relation in ws.dag.sources.get(m, ())]
        wanted = {*readers, *ws.dag.descendants(readers)}
    found = project_lineage(ws, wanted)
    own = found.models.get(relation)  # its SQL's columns: the warehouse may not have them yet
    columns = own.columns if own is not None and own.columns else found.columns.get(relation, ())
    if column not in columns:
        raise UsageError(_no_column(relation, column, columns))
    up = _tree(ws, (relation, column), found.fed_by, depth, {(relation, column)})
    down = _tree(ws, (relation, column), found.feeds, depth, {(relation, column)})
    shown = {relation, *_relations(up), *_relations(down)}
    problems = tuple(
        (name, problem) for name in ws.dag.ordered(shown) for problem in found.models[name].problems
    )
    return ColumnTrace(relation, column, kind_of(ws, relation), up, down, problems)


def split_target(ws: Workspace, target: str) -> tuple[str, str]:
    """(relation, column) of `MODEL.COLUMN`; a model by its full name, or its table name when
    only one model has it; a source (declared, or read by a model) by its full name."""
    text = target.strip().lower()
    whole = _named(ws, text)
    if whole:
        return whole, ""  # a model without a column: `lineage` lists its columns
    relation, _, column = text.rpartition(".")
    if not relation or not column:
        raise UsageError(
            f"'{target}' names no column: write MODEL.COLUMN (e.g. marts.revenue_daily.net_revenue)"
        )
    found = _named(ws, relation)
    if found:
        return found, column
    names = [*ws.dag.models, *ws.project.sources, *ws.dag.external]
    names += [m.table for m in ws.dag.models.values()]
    raise UsageError(f"no model or source named '{relation}'{suggest(relation, names)}")


def _named(ws: Workspace, name: str) -> str | None:
    """The model or source `name` names: its full name, or a table name only one model has
    (several is a UsageError naming them)."""
    if name in ws.dag.models or name in ws.project.sources or name in ws.dag.external:
        return name
    same = sorted(n for n, m in ws.dag.models.items() if m.table == name)
    if len(same) > 1:
        raise UsageError(f"'{name}' names several models ({', '.join(same)}): write which")
    return same[0] if same else None


def kind_of(ws: Workspace, relation: str) -> str:
    """model, seed, source (declared in orchestrator.toml), or relation (read, not declared)."""
    model = ws.dag.models.get(relation)
    if model is not None:
        return "seed" if model.seed else "model"
    return "source" if relation in ws.project.sources else "relation"


def _no_column(relation: str, column: str, columns: tuple[str, ...]) -> str:
    """Why `relation.column` is no column, and the names that are (the closest, or the first)."""
    if not columns:
        return f"the columns of {relation} are unknown (not built, not declared, not derivable)"
    shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
    if not column:
        return f"'{relation}' names no column: write {relation}.COLUMN (its columns: {shown})"
    close = suggest(column, columns)
    return f"{relation} has no column '{column}'{close or f' (its columns: {shown})'}"


def _tree(
    ws: Workspace, start: Upstream, step, depth: int | None, seen: set[Upstream]
) -> tuple[Node, ...]:
    """The columns `step` leads to from `start`, and theirs, each column's own tree shown once
    (`seen` is shared by the whole tree), `depth` levels at most."""
    nodes = []
    for key in step(*start):
        relation, column = key
        node = Node(relation, column, kind_of(ws, relation))
        if depth is not None and depth <= 1:
            node = replace(node, truncated=bool(step(*key)))
        elif key in seen:
            node = replace(node, repeated=bool(step(*key)))
        else:
            seen.add(key)
            more = None if depth is None else depth - 1
            node = replace(node, children=_tree(ws, key, step, more, seen))
        nodes.append(node)
    return tuple(nodes)


def _relations(nodes: Iterable[Node]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        found.add(node.relation)
        found |= _relations(node.children)
    return found
