"""Jinja rendering, sqlglot parsing, dependency extraction and normalised-SQL hashing.

A model body is a Jinja template of one DuckDB SELECT. It is rendered with the partition window
(`{{ start }}`, `{{ end }}`) and run parameters (`{{ var('name') }}`). Every `{{ ... }}` writes a
SQL literal, so a value can never change the shape of the query. Templates that use only those
simple forms skip Jinja entirely (compiling a template costs about as much as parsing the SQL);
the rest run in Jinja's sandbox.

>>> render("select * from t where d >= {{ start }} and r = {{ var('r') }}",
...        {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}, {"r": "o'k"})
"select * from t where d >= DATE '2024-01-01' and r = 'o''k'"
>>> analyze("with a as (select * from raw.orders) select * from a, stg.x", "m.sql").tables
('raw.orders', 'stg.x')
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .errors import MissingVar, ProjectError, UsageError, first_line
from .quoting import literal
from .syntax import syntax_problem

_SIMPLE_EXPR = re.compile(
    r"\{\{-?\s*(?:(?P<name>start|end|this)|var\(\s*(?P<q>['\"])(?P<var>[^'\"]*)(?P=q)\s*\))\s*-?\}\}"
)
_JINJA_MARKERS = ("{{", "{%", "{#")
THIS = "__this__"
"""What `{{ this }}` (the relation being written) renders to while parsing."""


def quote_literal(value: str) -> str:
    """`value` as a DuckDB string literal. Doubling quotes is all DuckDB needs: standard strings
    have no backslash escapes, so nothing inside the quotes can end the literal."""
    if "\x00" in value:
        raise UsageError("a --var value may not contain a NUL character")
    return literal(value)


class Literal(str):
    """SQL text that is already a safe literal or a name (the window bounds, `{{ this }}`):
    written out as it is. Anything a template derives from it is a plain string again."""


def sql_value(value: object) -> str:
    """What one `{{ ... }}` writes into the SQL: a Literal as it is, a number as a number, and
    anything else (a var, a concatenation, a filter's result) as a quoted string literal, so no
    value can add SQL of its own."""
    if isinstance(value, Literal):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    return quote_literal(str(value))


def render(
    text: str,
    window_literals: Mapping[str, str],
    variables: Mapping[str, str] | Callable[[str], str],
    *,
    path: str = "<model>",
) -> str:
    """Render a model template. `window_literals` holds SQL literals for `start` and `end`;
    `variables` maps var names to raw values, or is a function giving a var's raw value. In
    Jinja logic `var('x')` is that value (`{% if var('r') == 'eu' %}`); written out by
    `{{ ... }}` it becomes a quoted literal (see `sql_value`)."""

    def var(*args: object) -> str:
        if len(args) != 1 or not isinstance(args[0], str):
            raise TypeError("var() takes one name, e.g. var('region')")
        name = args[0]
        if callable(variables):
            return variables(name)
        if name not in variables:
            raise MissingVar(name)
        return str(variables[name])

    if "{" not in text:
        return text

    def simple(match: re.Match[str]) -> str:
        if match["name"]:
            return window_literals.get(match["name"], "NULL")
        return quote_literal(var(match["var"]))

    fast = _SIMPLE_EXPR.sub(simple, text)
    if not any(marker in _SIMPLE_EXPR.sub("", text) for marker in _JINJA_MARKERS):
        return fast
    return _render_jinja(text, window_literals, var, path)


def _render_jinja(text: str, window_literals: Mapping[str, str], var, path: str) -> str:
    import jinja2  # imported lazily: most models never need it

    try:
        template = _compile(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ProjectError(f"template error: {exc.message}", path, exc.lineno) from None
    except Exception as exc:
        raise ProjectError(f"template error: {_one_line(exc)}", path) from None
    try:
        return template.render(
            start=Literal(window_literals["start"]),
            end=Literal(window_literals["end"]),
            this=Literal(window_literals.get("this", "NULL")),
            var=var,
            is_incremental=lambda: window_literals.get("incremental") == "true",
        )
    except UsageError:
        raise  # a missing var says so itself
    except Exception as exc:
        # anything a template can do wrong (1/0, var(), an undefined name, what the sandbox
        # refuses, a recursion) is the model's error, never a crash
        raise ProjectError(f"template error: {_one_line(exc)}", path, _template_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    """Jinja's own message, without the location it may add (the error names the line)."""
    import jinja2

    if isinstance(exc, jinja2.TemplateError):
        if exc.message:
            return first_line(Exception(exc.message), named=False)
        return first_line(exc, named=False)
    return first_line(exc)


def _template_line(exc: BaseException) -> int | None:
    """The template line an error was raised on: Jinja puts frames named `<template>` with
    template line numbers into the traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_MAX_POWER = 10_000
"""Largest integer exponent a template may use: `10 ** 10 ** 9` would compute for hours."""


@lru_cache(maxsize=1)
def _environment():
    """A sandbox: a template cannot reach Python internals, and ranges are capped (MAX_RANGE),
    so `range(10**9)|list` fails at once instead of hanging the run."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"**"})

        def call_binop(self, context, operator, left, right):
            if (
                operator == "**"
                and isinstance(left, int)
                and isinstance(right, int)
                and abs(left) > 1
                and right > _MAX_POWER
            ):
                raise SecurityError(f"the power {left} ** {right} is too large")
            return super().call_binop(context, operator, left, right)

    return Sandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=sql_value,
    )


@lru_cache(maxsize=4096)
def _compile(text: str):
    return _environment().from_string(text)


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
    _refuse_jinja_in_strings(text, path)
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
        digest = _hash_tokens(tokens, statement)
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


def window_use(text: str) -> tuple[str, int] | None:
    """("start" or "end", line) of the first place a template reads the partition window."""
    if "{" not in text:
        return None
    if not any(marker in _SIMPLE_EXPR.sub("", text) for marker in _JINJA_MARKERS):
        for match in _SIMPLE_EXPR.finditer(text):
            if match["name"] in ("start", "end"):
                return match["name"], text.count("\n", 0, match.start()) + 1
        return None
    from jinja2 import meta, nodes

    tree = _environment().parse(text)
    free = meta.find_undeclared_variables(tree) & {"start", "end"}
    found = [
        (node.lineno, node.name)
        for node in tree.find_all(nodes.Name)
        if node.name in free and node.ctx == "load"
    ]
    if not found:
        return None
    line, name = min(found)
    return name, line


_JINJA_CLOSE = {"{{": "}}", "{%": "%}", "{#": "#}"}
_RENDERS_LITERAL = re.compile(r"\bvar\s*\(|\b(?:start|end)\b")


def _refuse_jinja_in_strings(text: str, path: str) -> None:
    """A `{{ var(...) }}`, `{{ start }}` or `{{ end }}` written inside a SQL string literal
    renders a whole literal inside another one, which only the parser would notice, with a
    message about a stray token. Say what happened instead."""
    if "{{" not in text:
        return
    i, n, quote = 0, len(text), ""
    while i < n:
        two = text[i : i + 2]
        if two in _JINJA_CLOSE:
            close = text.find(_JINJA_CLOSE[two], i + 2)
            if close < 0:
                return  # an unclosed tag: rendering reports it
            expression = text[i : close + 2]
            if quote == "'" and two == "{{" and _RENDERS_LITERAL.search(expression):
                line = text.count("\n", 0, i) + 1
                if "var" in expression:
                    hint = (
                        f"a var renders as a whole quoted value, so it cannot be part of a "
                        f"string: concatenate instead, e.g. '%' || {expression} || '%'"
                    )
                else:
                    hint = "the window renders as a whole literal: write it outside the quotes"
                raise ProjectError(f"{expression} is inside a SQL string: {hint}", path, line)
            i = close + 2
            continue
        char = text[i]
        if quote:
            if char == quote:
                if text.startswith(quote, i + 1):
                    i += 2  # a doubled quote stays inside
                    continue
                quote = ""
        elif two == "--":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif two == "/*":
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif char in "'\"":
            quote = char
        i += 1


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


def retarget(sql: str, names: set[str], relation: str) -> str:
    """`sql` with every table reference in `names` (lowercase, as written: `s.t` or `t`) read
    from `relation` instead: a check on a table being rebuilt aside must judge the new one."""
    from sqlglot import exp

    statement, _ = parse(sql, "<check>")
    replacement = exp.to_table(relation.replace('"', ""), dialect="duckdb")

    def swap(node):
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            written = ".".join(p for p in (node.db, node.name) if p).lower()
            if written in names:
                new = replacement.copy()
                if node.alias:
                    new.set("alias", node.args.get("alias"))
                else:
                    new.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                return new
        return node

    return statement.transform(swap).sql(dialect="duckdb")


def _hash_tokens(tokens, statement) -> str:
    """A hash of the query's tokens. Keywords and unquoted names are folded to lower case (DuckDB
    binds them case-insensitively), but strings, quoted names and aliases keep theirs: an alias
    names an output column as written (`1 AS Foo` makes a column `Foo`). A trailing `;` is not
    part of the query."""
    from sqlglot import exp
    from sqlglot.tokens import TokenType

    aliases = {
        node.meta.get("start")
        for node in statement.find_all(exp.Identifier)
        if isinstance(node.parent, exp.Alias | exp.TableAlias)
    }
    tokens = list(tokens)
    while tokens and tokens[-1].token_type is TokenType.SEMICOLON:
        tokens.pop()
    names, keep = _token_names()
    text = "".join(
        f"{names[t.token_type]}\x1f"
        f"{t.text if t.token_type in keep or t.start in aliases else t.text.lower()}\x1e"
        for t in tokens
    )
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def _token_names():
    """Token type -> its name, and the types whose text keeps its case; looked up once, since
    an enum's `.name` costs a descriptor call per token (a quarter of a cold load)."""
    from sqlglot.tokens import TokenType

    names = {t: t.name for t in TokenType}
    keep = frozenset(t for t in TokenType if t is TokenType.IDENTIFIER or t.name.endswith("STRING"))
    return names, keep


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
