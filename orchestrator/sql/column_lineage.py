"""Column lineage of one query: for each column it outputs, the columns of the relations it reads
that flow into that column's value (through CTEs, subqueries, joins, `*`, aggregates, CASE,
window functions and set operations), and every column it reads at all, in any clause.

The caller says which columns each relation has (`schema`); nothing here opens anything. The
query is qualified once by sqlglot with those columns (stars expanded, every column given its
source), then its scopes are walked, each once (`column_scopes`): a project of 1,000 models pays
one qualify per model, not one per column (about 3 ms a model).

>>> found = column_lineage(
...     "with o as (select id, amount from raw.orders where amount > 0) "
...     "select o.id, sum(o.amount) over (partition by c.region) as total "
...     "from o join raw.customers as c on c.id = o.id",
...     {"raw.orders": ["id", "amount"], "raw.customers": ["id", "region"]},
... )
>>> found.columns
('id', 'total')
>>> sorted(found.upstream["total"])
[('raw.customers', 'region'), ('raw.orders', 'amount')]
>>> {relation: sorted(columns) for relation, columns in sorted(found.reads.items())}
{'raw.customers': ['id', 'region'], 'raw.orders': ['amount', 'id']}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from .column_scopes import Upstream, Walk, is_relation, numbered, relation
from .parse import parse

__all__ = ["ColumnLineage", "Upstream", "column_lineage", "columns_read", "output_columns"]


@dataclass(frozen=True)
class ColumnLineage:
    """What one query does with columns. `columns`: its output columns in order (a `*` resolved,
    a repeated name numbered as DuckDB does: `x`, `x_1`); `upstream`: for each, the columns of
    the relations read that its value is computed from (not the ones that only filter, join or
    group: those are in `reads`); `reads`: for each relation read, every column the query uses
    anywhere (`"*"` when it selects every column of a relation whose columns are unknown);
    `problems`: what could not be resolved, in words (lineage is partial when there are any)."""

    columns: tuple[str, ...]
    upstream: Mapping[str, frozenset[Upstream]]
    reads: Mapping[str, frozenset[str]]
    problems: tuple[str, ...] = field(default=())


def column_lineage(
    sql: str,
    schema: Mapping[str, Sequence[str]],
    search_path: Sequence[str] = (),
    dialect: str = "duckdb",
) -> ColumnLineage:
    """The lineage of one SELECT. `schema` maps relations (`"schema.table"`) to their columns;
    only those the query reads are used. An unqualified table name is looked up in the schemas
    of `search_path` in order (as DuckDB's search path does). SQL that is not one query is a
    ProjectError (see `parse`); what cannot be resolved is a problem of the result, not an error.

    >>> lineage = column_lineage(
    ...     "select * exclude (note) from a union all select id, 0 from s.b",
    ...     {"s.a": ["id", "note", "v"], "s.b": ["id"]},
    ...     search_path=["s"],
    ... )
    >>> lineage.columns, sorted(lineage.upstream["id"]), lineage.upstream["v"]
    (('id', 'v'), [('s.a', 'id'), ('s.b', 'id')], frozenset({('s.a', 'v')}))
    """
    statement, _ = parse(sql, "<query>", dialect)
    known = {k.lower(): tuple(c.lower() for c in v) for k, v in schema.items()}
    nodes = _Nodes.of(statement)
    used = _resolve_tables(nodes, known, [s.lower() for s in search_path])
    _mark(nodes)
    unnamed = _unnamed(statement)
    try:
        qualify(
            statement,
            dialect=dialect,
            schema=_nested({**_guessed(nodes, used), **used}),
            validate_qualify_columns=False,
            allow_partial_qualification=True,
            quote_identifiers=False,
        )
        root = build_scope(statement)
        walk = Walk(used)
        final = walk.run(root) if root is not None else []
    except (SqlglotError, RecursionError) as exc:
        return ColumnLineage((), {}, {}, (f"cannot resolve the query's columns: {exc}",))
    names = numbered(n for n, _ in final)
    return ColumnLineage(
        tuple(names),
        {n: up for n, (_, up) in zip(names, final, strict=True)},
        {r: frozenset(c) for r, c in walk.reads.items()},
        (*unnamed, *walk.problems),
    )


def output_columns(
    sql: str, schema: Mapping[str, Sequence[str]], search_path: Sequence[str] = ()
) -> tuple[str, ...]:
    """The query's output columns in order, `*` resolved with `schema`.

    >>> output_columns("select *, 1 as one from t", {"main.t": ["a", "b"]}, ["main"])
    ('a', 'b', 'one')
    """
    return column_lineage(sql, schema, search_path).columns


def columns_read(
    sql: str, schema: Mapping[str, Sequence[str]], search_path: Sequence[str] = ()
) -> dict[str, frozenset[str]]:
    """For each relation the query reads, the columns it uses anywhere (selected, filtered,
    joined on, grouped by, excluded by `* EXCLUDE`): a change to columns of a relation outside
    this set cannot change the query's result. `"*"` stands for every column of a relation whose
    columns `schema` does not give.

    >>> columns_read(
    ...     "select o.id from raw.orders as o join raw.items as i using (id) where i.qty > 1",
    ...     {"raw.orders": ["id", "note"], "raw.items": ["id", "qty", "sku"]},
    ... ) == {"raw.orders": frozenset({"id"}), "raw.items": frozenset({"id", "qty"})}
    True
    """
    return dict(column_lineage(sql, schema, search_path).reads)


class _Nodes(NamedTuple):
    """The nodes of a parsed query the steps before qualifying look at, found in one walk."""

    tables: list
    columns: list
    stars: list
    selects: list
    ctes: set[str]

    @classmethod
    def of(cls, statement) -> _Nodes:
        found = cls([], [], [], [], set())
        kinds = {
            exp.Table: found.tables,
            exp.Column: found.columns,
            exp.Star: found.stars,
            exp.Select: found.selects,
        }
        for node in statement.walk():
            bucket = kinds.get(type(node))
            if bucket is not None:
                bucket.append(node)
            elif isinstance(node, exp.CTE):
                found.ctes.add(node.alias_or_name.lower())
        return found


def _resolve_tables(nodes: _Nodes, known: Mapping, search_path: Sequence[str]) -> dict:
    """Qualify each table reference in place with the first schema of `search_path` that has
    it, else the last (the default schema, where the DAG looks for what is not a model); a
    catalog the schema does not know is dropped. Return the schema of the relations it reads."""
    used = {}
    for table in nodes.tables:
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function
        name = table.name.lower()
        if not table.db and name in nodes.ctes:
            continue
        if not table.db and search_path:  # not found: where the DAG says it is, the last
            found = next((s for s in search_path if f"{s}.{name}" in known), search_path[-1])
            table.set("db", exp.to_identifier(found))
        elif table.catalog and relation(table) not in known:
            if f"{table.db}.{name}".lower() in known:
                table.set("catalog", None)
        key = relation(table)
        if key in known:
            used[key] = known[key]
    return used


def _nested(schema: Mapping[str, Sequence[str]]) -> dict:
    """sqlglot's schema shape ({db: {table: {column: type}}}); types play no part here."""
    nested: dict = {}
    for name, columns in schema.items():
        db, _, table = name.rpartition(".")
        if db and "." not in db and columns:
            nested.setdefault(db, {})[table] = dict.fromkeys(columns, "UNKNOWN")
    return nested


def _mark(nodes: _Nodes) -> None:
    """What qualifying loses, noted on the tree first (see `column_scopes`): which columns the
    SQL names itself (a star's are needed only where used), and the names a `* EXCLUDE`
    excludes (the query fails without them, yet the expanded star no longer names them)."""
    for column in nodes.columns:
        column.meta["written"] = True
    for star in nodes.stars:
        excluded = star.args.get("except_") or star.args.get("except")
        select = star.find_ancestor(exp.Select)
        if excluded and select is not None:
            names = select.meta.setdefault("excluded", set())
            names.update(e.name.lower() for e in excluded if e.name)


def _unnamed(statement) -> tuple[str, ...]:
    """The query's output columns the SQL gives no name: DuckDB names them after their text,
    in its own way, so their names here (`_col_1`) are not the table's."""
    first = statement
    while isinstance(first, exp.SetOperation):
        first = first.this
    if not isinstance(first, exp.Select):
        return ()
    return tuple(
        f"output column {i} has no name ({p.sql('duckdb')}): name it with AS"
        for i, p in enumerate(first.selects, start=1)
        if not isinstance(p, exp.Alias | exp.Column | exp.Star)
        and not (isinstance(p, exp.Literal) and p.is_number)
    )


def _guessed(nodes: _Nodes, known: Mapping) -> dict[str, tuple[str, ...]]:
    """The columns of the relations `known` does not give, as the query names them. Without
    them sqlglot cannot tell a column from an alias of the same name (`min(id) as id ... where
    id > 0`) and gives up on the whole query. A relation a `*` selects gets none: its columns
    stay unknown (a problem) rather than wrongly few."""
    if all(relation(t) in known for t in nodes.tables if is_relation(t)):
        return {}
    columns: dict[int, list] = {}
    for column in nodes.columns:
        columns.setdefault(id(column.find_ancestor(exp.Select)), []).append(column)
    guessed: dict[str, set[str]] = {}
    starred: set[str] = set()
    for select in nodes.selects:
        tables = [select.args.get("from_"), *(select.args.get("joins") or ())]
        tables = [t.this for t in tables if t is not None and is_relation(t.this)]
        unknown = {t.alias_or_name.lower(): relation(t) for t in tables if relation(t) not in known}
        only = next(iter(unknown.values())) if len(tables) == 1 and unknown else None
        for column in columns.get(id(select), ()) if unknown else ():
            owner = unknown.get(column.table.lower()) if column.table else only
            if owner is not None:
                guessed.setdefault(owner, set()).add(column.name.lower())
                if column.name == "*":
                    starred.add(owner)
        using = [
            i.name.lower()
            for j in select.args.get("joins") or ()
            for i in j.args.get("using") or ()
        ]
        for owner in unknown.values() if using else ():  # USING (k): both sides have k
            guessed.setdefault(owner, set()).update(using)
        if unknown and any(isinstance(p, exp.Star) for p in select.selects):
            starred.update(unknown.values())
    return {r: tuple(sorted(c)) for r, c in guessed.items() if c and r not in starred}
