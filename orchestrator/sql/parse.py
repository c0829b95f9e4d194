"""Parsing a model: its template rendered with placeholders and its SQL read by sqlglot, as
exactly one query, into what the project needs to know (`Analysis`): the relations and files it
reads, the vars it uses, the hash that versions it, its output columns. Errors name the file
and the line, in the SQL's own words. Also a query retargeted to read another relation.

>>> analyze("with a as (select * from raw.orders) select * from a, stg.x", "m.sql").tables
('raw.orders', 'stg.x')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ProjectError
from .references import output_columns, references
from .sql_hash import sql_hash
from .syntax import syntax_problem
from .template import refuse_jinja_in_strings, render, window_use

THIS = "__this__"
"""What `{{ this }}` (the relation being written) renders to while parsing."""


def source_files() -> tuple[Path, ...]:
    """The modules whose code decides an `Analysis` (errors are not cached): a cache of
    analyses holds while they are unchanged."""
    here = Path(__file__)
    return tuple(here.with_name(f"{m}.py") for m in ("parse", "template", "references", "sql_hash"))


@dataclass(frozen=True)
class Analysis:
    """What parsing a model tells us: the relations and files it reads, the vars it uses, a
    hash of its normalised SQL (comments, whitespace and keyword case do not change it), and
    where it first reads the partition window (`{{ start }}`/`{{ end }}`), if it does."""

    tables: tuple[str, ...]
    files: tuple[str, ...]
    vars: tuple[str, ...]
    sql_hash: str
    window_use: tuple[str, int] | None = None  # ("start" or "end", line)
    columns: tuple[str, ...] | None = None  # the SELECT's output names (None: not known here)


def analyze(
    text: str,
    path: str,
    window_literals: Mapping[str, str] | None = None,
    dialect: str = "duckdb",
) -> Analysis:
    """Parse a model template and extract what it reads. Raises ProjectError naming the file and
    line for template errors, syntax errors, and anything that is not exactly one SELECT."""
    refuse_jinja_in_strings(text, path)
    literals = dict(window_literals or {"start": "DATE '0001-01-01'", "end": "DATE '0001-01-02'"})
    literals["this"] = THIS
    used: list[str] = []

    def placeholder(name: str) -> str:
        used.append(name)
        return f"<var:{name}>"

    rendered = render(text, literals, placeholder, path=path)
    try:
        statement, tokens = parse(rendered, path, dialect)
        tables, files = references(statement)
        digest = sql_hash(tokens, statement)
    except RecursionError:
        raise ProjectError(
            "the SQL is nested too deeply to read (hundreds of parentheses or subqueries): "
            "flatten it with CTEs",
            path,
        ) from None
    tables = tuple(t for t in tables if t != THIS)
    return Analysis(
        tables,
        files,
        tuple(dict.fromkeys(used)),
        digest,
        window_use(text),
        output_columns(statement),
    )


def _dialect(name: str = "duckdb"):
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(name)


def parse(sql: str, path: str, dialect_name: str = "duckdb"):
    """Parse exactly one query (DuckDB SQL, or `dialect_name`); return (expression, tokens)."""
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    dialect = _dialect(dialect_name)
    # sqlglot warns on stderr when it falls back to a raw command: we report that ourselves
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        tokens = dialect.tokenize(sql)
        # a comment after the last `;` comes back as a Semicolon statement: it is no statement
        statements = [
            s
            for s in dialect.parser().parse(tokens, sql)
            if s is not None and not isinstance(s, exp.Semicolon)
        ]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        near = first.get("highlight") or ""
        detail = syntax_problem(first.get("description") or str(exc))
        col = first.get("col")
        where = f" (column {col}, near '{near}')" if near else ""
        raise ProjectError(f"SQL syntax error: {detail}{where}", path, first.get("line")) from None
    except TokenError as exc:
        line = sql[: _token_error_offset(sql, str(exc))].count("\n") + 1
        raise ProjectError(
            "SQL syntax error: cannot read the SQL from here on (an unterminated "
            "string or quoted name?)",
            path,
            line,
        ) from None
    if not statements:
        raise ProjectError("no SQL: a model must be one SELECT query", path)
    if len(statements) > 1:
        raise ProjectError(
            f"found {len(statements)} statements: a model must be exactly one SELECT query", path
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper()
        if isinstance(statement, exp.Command):
            kind = str(statement.this).upper()
        raise ProjectError(
            f"a model must be one SELECT query, not a {kind} statement "
            "(the orchestrator writes the table itself)",
            path,
            _first_line(tokens),
        )
    return statement, tokens


def _token_error_offset(sql: str, message: str) -> int:
    # sqlglot says "Error tokenizing '<text up to the problem>'": find where that text ends
    match = re.search(r"Error tokenizing '(.*)'$", message, re.S)
    if match:
        tail = match[1][-20:]
        found = sql.find(tail)
        if found >= 0:
            return found + len(tail)
    return 0


def _first_line(tokens) -> int | None:
    return tokens[0].line if tokens else None


def retarget(sql: str, names: set[str], relation: str) -> str:
    """`sql` with every table reference in `names` (lowercase, as written: `s.t` or `t`) read
    from `relation` instead: a check on a table being rebuilt aside must judge the new one."""
    return remap(sql, dict.fromkeys(names, relation))


def remap(sql: str, relations: dict[str, str], path: str = "<check>") -> str:
    """`sql` with each table reference written as a key of `relations` (lowercase: `s.t` or
    `t`) read from the relation it maps to (`schema.table`, quoted or not), keeping the name
    its columns are qualified by: a copy of a model in an environment reads the environment's
    copies of what changed and production's relations for the rest.

    >>> remap("select o.id from staging.orders o", {"staging.orders": "s__dev.orders"})
    'SELECT o.id FROM s__dev.orders AS o'
    """
    from sqlglot import exp

    statement, _ = parse(sql, path)
    targets = {k: exp.to_table(v.replace('"', ""), dialect="duckdb") for k, v in relations.items()}

    def swap(node):
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            written = ".".join(p for p in (node.catalog, node.db, node.name) if p).lower()
            target = targets.get(written)
            if target is not None:
                new = target.copy()
                if node.alias:
                    new.set("alias", node.args.get("alias"))
                else:
                    new.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                return new
        return node

    return statement.transform(swap).sql(dialect="duckdb")
