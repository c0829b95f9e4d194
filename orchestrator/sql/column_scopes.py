"""The walk behind `column_lineage`: over the scopes of a query sqlglot has qualified (every
`*` expanded, every column given its source), twice.

Up, innermost scope first: each scope's output columns with the upstream columns each is
computed from, made of the outputs of the scopes it reads (a CTE is walked once, whoever reads
it). Then down, outermost first: which columns each scope needs, to find the columns the query
reads. A column written in the SQL is read wherever it stands (without it the query does not
bind); a column a `*` expanded to is read only when something needs it (`select *` in a CTE of
which the query uses one column reads that one), as the query's own output needs all of its.

Marks the caller leaves on the tree before qualifying (sqlglot keeps them): `written` on the
columns of the SQL as written, `excluded` on a SELECT with the names its `* EXCLUDE` names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType

Upstream = tuple[str, str]
Outputs = list[tuple[str, frozenset[Upstream]]]
ALL = None
"""A scope's every output is needed (its demand): the query's own, a subquery's, a DISTINCT's."""


def is_relation(source) -> bool:
    """A table or view by name (not a table function, not a scope of the query)."""
    return isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier)


def relation(table) -> str:
    """A table's name as the schema knows it: `schema.table`, lower-case."""
    return ".".join(p for p in (table.catalog, table.db, table.name) if p).lower()


class Walk:
    """Both passes over one query's scopes: `outputs` (per scope), `reads` and `problems`."""

    def __init__(self, known: Mapping[str, Sequence[str]]):
        self.known = known
        self.outputs: dict[int, Outputs] = {}
        self.by_expression: dict[int, Scope] = {}
        self.reads: dict[str, set[str]] = {}
        self.problems: dict[str, None] = {}

    def run(self, root: Scope) -> Outputs:
        """The root's outputs; `reads` and `problems` filled in."""
        scopes = list(root.traverse())  # every scope after the scopes it reads
        self.by_expression = {id(s.expression): s for s in scopes}
        for scope in scopes:
            self.outputs[id(scope)] = self._outputs(scope)
        demand: dict[int, set[str] | None] = {id(root): ALL}
        for scope in reversed(scopes):
            self._demand(scope, demand.get(id(scope), _default_demand(scope)), demand)
        return self.outputs[id(root)]

    # -- up: what each output column is computed from ----------------------------------------

    def _outputs(self, scope: Scope) -> Outputs:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self._set_operation(scope)
        if isinstance(expression, exp.Select):
            return [
                (p.alias_or_name, self._feeding(p, scope))
                for p in expression.selects
                if not self._unresolved_star(p, scope)
            ]
        return self._table_function(scope)

    def _feeding(self, projection, scope: Scope) -> frozenset[Upstream]:
        """The upstream columns one projection's value is computed from: its columns, the
        outputs of the subqueries in it, and the columns of a named window it uses."""
        found: set[Upstream] = set()
        windows = {w.name: w for w in scope.expression.args.get("windows") or ()}
        for node in projection.walk(prune=lambda n: isinstance(n, exp.Query)):
            if isinstance(node, exp.Column):
                found |= self._origin(node, scope)
            elif isinstance(node, exp.Query):
                child = self.by_expression.get(id(node)) or self.by_expression.get(
                    id(node.unnest())
                )
                for _, up in self.outputs.get(id(child), ()):
                    found |= up
            elif isinstance(node, exp.Window) and node.alias in windows:
                for column in windows[node.alias].find_all(exp.Column):
                    found |= self._origin(column, scope)
        return frozenset(found)

    def _origin(self, column, scope: Scope) -> frozenset[Upstream]:
        source = self._source(column, scope)
        if is_relation(source):
            return frozenset({(relation(source), column.name)})
        if not isinstance(source, Scope):
            return frozenset()
        return frozenset(u for n, up in self.outputs[id(source)] if n == column.name for u in up)

    def _set_operation(self, scope: Scope) -> Outputs:
        """UNION, INTERSECT, EXCEPT: column i from column i of each side, or by name for
        `UNION BY NAME` (the right side's other columns after the left's)."""
        left, right = (self.outputs[id(s)] for s in scope.set_operation_scopes)
        if not scope.expression.args.get("by_name"):
            return [(n, up | r) for (n, up), (_, r) in zip(left, right, strict=False)]
        by_name = dict(left)
        for name, up in right:
            by_name[name] = by_name.get(name, frozenset()) | up
        return list(by_name.items())

    def _table_function(self, scope: Scope) -> Outputs:
        """A LATERAL subquery's outputs are its query's; those of UNNEST or another table
        function come from every column of its arguments. Named as its alias names them."""
        inner = [s for s in scope.sources.values() if id(s) in self.outputs]
        if inner:
            outs = self.outputs[id(inner[0])]
        else:
            found = (self._origin(c, scope) for c in scope.expression.find_all(exp.Column))
            outs = [(scope.expression.alias_or_name, frozenset().union(*found))]
        alias = scope.expression.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
        if len(outs) == 1 and len(names) > 1:
            outs = outs * len(names)
        return [(names[i] if i < len(names) else n, up) for i, (n, up) in enumerate(outs)]

    def _unresolved_star(self, projection, scope: Scope) -> bool:
        """A `*` sqlglot could not expand (what it selects has unknown columns): the query
        reads all of them, and its own output columns are not all known."""
        table = projection.table if isinstance(projection, exp.Column) else ""
        if not isinstance(projection, exp.Star) and not (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            return False
        sources = [scope.sources[table]] if table in scope.sources else _selected(scope)
        for source in sources:
            if is_relation(source):
                name = relation(source)
                self.reads.setdefault(name, set()).add("*")
                self.problems[f"the columns of {name} are unknown: its * is unresolved"] = None
            elif isinstance(source, exp.Table):
                self.problems[f"the columns of {source.this.sql('duckdb')} are unknown"] = None
        return True

    # -- where a column comes from -----------------------------------------------------------

    def _source(self, column, scope: Scope):
        """The source (a Table or a Scope) a column of `scope` names; a correlated subquery
        looks in the scopes around it."""
        while scope is not None:
            if column.table:
                source = scope.sources.get(column.table)
            else:
                source = self._only_source(column, scope)
            if source is not None or not scope.can_be_correlated:
                return source
            scope = scope.parent
        return None

    def _only_source(self, column, scope: Scope):
        """Where an unqualified column comes from, when sqlglot could not tell: the only
        source, or the only one whose columns are unknown."""
        sources = _selected(scope)
        unknown = [s for s in sources if is_relation(s) and relation(s) not in self.known]
        if len(sources) == 1 or len(unknown) == 1:
            return (sources if len(sources) == 1 else unknown)[0]
        if sources:
            names = " or ".join(
                sorted(
                    relation(s) if is_relation(s) else alias
                    for alias, (_, s) in scope.selected_sources.items()
                )
            )
            self.problems[f"column '{column.name}' could come from {names}: qualify it"] = None
        return None

    # -- down: what each scope needs, and so what the query reads ----------------------------

    def _demand(self, scope: Scope, wanted: set[str] | None, demand: dict) -> None:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            self._demand_sides(scope, wanted, demand)
            return
        if isinstance(expression, exp.Select) and (
            expression.args.get("distinct") or _groups_by_all(expression)
        ):
            wanted = ALL  # every column decides which rows there are
        for column in scope.columns:
            if wanted is ALL or _needed(column, expression, wanted):
                source = self._source(column, scope)
                if is_relation(source):
                    self.reads.setdefault(relation(source), set()).add(column.name)
                elif isinstance(source, Scope):
                    _add(demand, source, {column.name})
        for name in expression.meta.get("excluded", ()):
            for source in scope.sources.values():
                if is_relation(source) and name in self.known.get(relation(source), ()):
                    self.reads.setdefault(relation(source), set()).add(name)

    def _demand_sides(self, scope: Scope, wanted: set[str] | None, demand: dict) -> None:
        """A set operation needs the same positions of each side (the same names, by name);
        one that removes duplicates needs every column of both."""
        expression = scope.expression
        mine = [n for n, _ in self.outputs[id(scope)]]
        for side in scope.set_operation_scopes:
            theirs = [n for n, _ in self.outputs[id(side)]]
            if wanted is ALL or expression.args.get("distinct"):
                _add(demand, side, ALL)
            elif expression.args.get("by_name"):
                _add(demand, side, wanted & set(theirs))
            else:
                at = [i for i, n in enumerate(mine) if n in wanted and i < len(theirs)]
                _add(demand, side, {theirs[i] for i in at})


def _selected(scope: Scope) -> list:
    """The sources a scope's FROM and JOINs name (not every CTE in sight)."""
    return [source for _, source in scope.selected_sources.values()]


def _default_demand(scope: Scope) -> set[str] | None:
    """What a scope nobody named needs: a subquery or table function all of its outputs (an
    EXISTS none); a CTE or derived table what its readers asked for, so nothing."""
    if scope.scope_type in (ScopeType.SUBQUERY, ScopeType.UDTF, ScopeType.ROOT):
        return set() if isinstance(scope.expression.parent, exp.Exists) else ALL
    return set()


def _groups_by_all(select) -> bool:
    group = select.args.get("group")
    return bool(group is not None and group.args.get("all"))


def _needed(column, select, wanted: set[str]) -> bool:
    """Is this column of `select` read when only the outputs `wanted` are needed: written in
    the SQL, anywhere but a projection (a USING key is in the join's condition), or in a
    projection wanted."""
    if column.meta.get("written"):
        return True
    node = column
    while node.parent is not None and node.parent is not select:
        node = node.parent
    return node.arg_key != "expressions" or node.alias_or_name in wanted


def _add(demand: dict, scope: Scope, names: Iterable[str] | None) -> None:
    key = id(scope)
    if names is ALL or (key in demand and demand[key] is ALL):
        demand[key] = ALL
    else:
        demand.setdefault(key, set()).update(names)


def numbered(names: Iterable[str]) -> list[str]:
    """Output names as DuckDB stores them: a repeated name gets `_1`, `_2`, ...

    >>> numbered(["x", "x", "x_1", "x"])
    ['x', 'x_1', 'x_1_1', 'x_2']
    """
    seen: set[str] = set()
    out = []
    for name in names:
        unique, n = name, 0
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        out.append(unique)
    return out
