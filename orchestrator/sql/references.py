"""What a parsed query reads and names: the relations and files it reads (for the DAG and the
sources), the names of its output columns when the SQL alone says them, and whether a query
reads one schema only."""

from __future__ import annotations


def _looks_like_path(name: str) -> bool:
    return any(ch in name for ch in "/\\*") or "." in name


def references(statement) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(relations read, files read) by a query. CTE names, table functions and write targets are
    not relations; `FROM 'file.csv'` and `read_csv('f')` are files."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    tables: dict[str, None] = {}
    files: dict[str, None] = {}
    for scope in traverse_scope(statement):
        for table in scope.tables:
            ident = table.this
            if not isinstance(ident, exp.Identifier):
                # a table function: its first argument names the file(s), the rest are options
                first = next(iter(ident.iter_expressions()), None)
                for literal in first.find_all(exp.Literal) if first is not None else ():
                    if literal.is_string:
                        files[literal.this] = None
                continue
            if not table.db and table.name in scope.cte_sources:
                continue
            if ident.quoted and not table.db and _looks_like_path(table.name):
                files[table.name] = None
                continue
            parts = [p for p in (table.catalog, table.db, table.name) if p]
            tables[".".join(parts).lower()] = None
    return tuple(tables), tuple(files)


def output_columns(statement) -> tuple[str, ...] | None:
    """The names a query's rows have, when the SQL alone says them: not with `*` (which the
    tables decide) nor with an unnamed expression (which DuckDB names itself).

    >>> import sqlglot
    >>> output_columns(sqlglot.parse_one("select a, b as c, t.d from t"))
    ('a', 'c', 'd')
    >>> output_columns(sqlglot.parse_one("select *, 1 as x from t")) is None
    True
    """
    names = list(statement.named_selects)
    if not names or any(n in ("", "*") for n in names):
        return None
    return tuple(n.lower() for n in names)


def reads_only_schema(text: str, schema: str) -> bool:
    """Does a query read relations of `schema` only (the state copy can answer it)? A query
    that cannot be parsed is assumed to read anything.

    >>> reads_only_schema("select * from orchestrator.runs, orchestrator.alerts", "orchestrator")
    True
    >>> reads_only_schema("with x as (select 1) select * from x, marts.f", "orchestrator")
    False
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError:
        return False
    for statement in statements:
        ctes = {c.alias_or_name.lower() for c in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if table.name.lower() in ctes and not table.db:
                continue
            if (table.db or "").lower() != schema:
                return False
    return True
