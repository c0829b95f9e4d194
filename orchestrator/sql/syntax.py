"""sqlglot's parse errors in the words of the SQL: what is incomplete, where the SQL ends,
never its class names, token objects or end-of-input marker (`sql` and `checks` report them)."""

from __future__ import annotations

import re

from ..core.errors import first_line

_MISSING_PART = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")
_CONSTRUCTS = {
    "Paren": "parentheses",
    "Limit": "LIMIT",
    "Offset": "OFFSET",
    "If": "CASE WHEN ... THEN",
    "Case": "CASE",
    "Where": "WHERE",
    "Having": "HAVING",
    "Cast": "CAST",
    "In": "IN",
    "Between": "BETWEEN",
    "Not": "NOT",
    "Alias": "alias",
}


def syntax_problem(description: str) -> str:
    """sqlglot's description of a parse error in the words of the SQL, never its internals
    (class names, token objects, its end-of-input marker).

    >>> syntax_problem("Required keyword: 'this' missing for <class 'sqlglot.exp.Paren'>")
    'incomplete parentheses: a value, a column or a query is missing'
    >>> syntax_problem("Required keyword: 'expression' missing for <class 'sqlglot.exp.Add'>")
    'incomplete operator: a value, a column or a query is missing'
    >>> syntax_problem("Expected table name but got 'SENTINEL'")
    'Expected table name but the SQL ends there'
    """
    missing = _MISSING_PART.search(description)
    if missing:
        name = missing[1]
        construct = _CONSTRUCTS.get(name) or (
            "operator" if name in _OPERATORS else re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
        )
        return f"incomplete {construct}: a value, a column or a query is missing"
    token = r"<Token token_type: [\w.]+, text: (.*?), line: .*?>"
    description = re.sub(token, r"'\1'", description)
    description = description.replace("but got 'SENTINEL'", "but the SQL ends there")
    return re.sub(r"<class '[\w.]*?(\w+)'>", r"\1", description)


_OPERATORS = {
    "Add", "Sub", "Mul", "Div", "Mod", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "And", "Or",
    "DPipe", "Like", "ILike", "Is", "IntDiv", "Pow", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
}  # fmt: skip


def validate_expression(text: str) -> None:
    """ValueError in the words of the SQL when `text` is not one SQL expression."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        sqlglot.parse_one(f"SELECT 1 WHERE {text}", read="duckdb")
    except RecursionError:
        raise ValueError("not a SQL expression: it is nested too deeply to read") from None
    except (ParseError, TokenError) as exc:
        problem = exc.errors[0].get("description") if getattr(exc, "errors", None) else None
        detail = syntax_problem(problem or first_line(exc, named=False))
        raise ValueError(f"not a SQL expression: {detail}") from None
