"""What an edit of a model's query changes, column by column: the output columns it adds,
removes or computes differently, and whether it can change which rows there are.

Only the outermost SELECT's list of columns is compared column by column; any other difference
(a filter, a join, a CTE, grouping, DISTINCT, a set operation) may change every row, so it counts
as changing the rows. An added or changed column that aggregates or unnests (outside a window)
changes the rows too. This is deliberately conservative: a change it calls row-preserving keeps
every existing column's values, except the columns it names as changed.

>>> c = compare("select id, amount from t", "select id, amount * 2 as amount, 1 as one from t")
>>> c.added, c.removed, c.changed, c.rows
(('one',), (), ('amount',), False)
>>> compare("select id from t", "select id from t where id > 0").rows
True
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from .parse import parse


@dataclass(frozen=True)
class ColumnChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # computed differently
    rows: bool = False  # which rows there are may differ: every column may change

    @property
    def none(self) -> bool:
        return not (self.added or self.removed or self.changed or self.rows)


def compare(before: str, after: str, path: str = "<model>") -> ColumnChanges:
    """How the query `after` differs from `before` (both rendered SQL of one model)."""
    old, _ = parse(before, path)
    new, _ = parse(after, path)
    if old == new:
        return ColumnChanges()
    if not (isinstance(old, exp.Select) and isinstance(new, exp.Select)):
        return ColumnChanges(rows=True)
    if _rest(old) != _rest(new) or old.args.get("distinct") or new.args.get("distinct"):
        return ColumnChanges(rows=True)
    was, now = _projections(old), _projections(new)
    if was is None or now is None:
        return ColumnChanges(rows=True)
    added = tuple(c for c in now if c not in was)
    removed = tuple(c for c in was if c not in now)
    changed = tuple(c for c in now if c in was and now[c] != was[c])
    touched = [new.expressions[i] for i, c in enumerate(now) if c in added or c in changed]
    grouped = bool(old.args.get("group")) or any(_aggregates(e) for e in old.expressions)
    rows = any(_changes_rows(e, grouped, _group_by_all(new)) for e in touched)
    return ColumnChanges(added, removed, changed, rows)


def _rest(select: exp.Select) -> str:
    """The query without its list of columns: what decides the rows."""
    bare = select.copy()
    bare.set("expressions", [exp.Star()])
    return bare.sql(dialect="duckdb")


def _projections(select: exp.Select) -> dict[str, str] | None:
    """Output name -> its expression as SQL, in order; None when two share a name."""
    found: dict[str, str] = {}
    for projection in select.expressions:
        name = "*" if isinstance(projection, exp.Star) else projection.alias_or_name.lower()
        if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
            name = projection.sql(dialect="duckdb").lower()  # t.*
        if not name or name in found:
            return None
        body = projection.this if isinstance(projection, exp.Alias) else projection
        found[name] = body.sql(dialect="duckdb")
    return found


def _changes_rows(expression: exp.Expression, grouped: bool, by_all: bool) -> bool:
    """Whether a new or changed column can change the rows: an unnest always; an aggregate
    (outside a window) turns a query into a grouped one; in a query grouped by ALL, a column
    that does not aggregate is a new grouping key."""
    if any(True for _ in expression.find_all(exp.Unnest, exp.Explode)):
        return True
    if _aggregates(expression):
        return not grouped
    return by_all


def _aggregates(expression: exp.Expression) -> bool:
    return any(n.find_ancestor(exp.Window) is None for n in expression.find_all(exp.AggFunc))


def _group_by_all(select: exp.Select) -> bool:
    group = select.args.get("group")
    return bool(group and (group.args.get("all") or not group.expressions))
