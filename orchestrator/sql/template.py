"""Rendering a model's template: the window bounds (`{{ start }}`, `{{ end }}`) and run
parameters (`{{ var('name') }}`) written into its SQL. Every `{{ ... }}` writes a SQL literal, so
a value can never change the shape of the query. Templates that use only those simple forms skip
Jinja entirely (compiling a template costs about as much as parsing the SQL); the rest run in
Jinja's sandbox. Also what a template says before it is rendered: where it first reads the
window, and a window or var written inside a SQL string (which cannot work).

>>> render("select * from t where d >= {{ start }} and r = {{ var('r') }}",
...        {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}, {"r": "o'k"})
"select * from t where d >= DATE '2024-01-01' and r = 'o''k'"
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from ..core.errors import MissingVar, ProjectError, UsageError, first_line
from ..core.quoting import literal

_SIMPLE_EXPR = re.compile(
    r"\{\{-?\s*(?:(?P<name>start|end|this)|var\(\s*(?P<q>['\"])(?P<var>[^'\"]*)(?P=q)\s*\))\s*-?\}\}"
)
_JINJA_MARKERS = ("{{", "{%", "{#")


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


def refuse_jinja_in_strings(text: str, path: str) -> None:
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
