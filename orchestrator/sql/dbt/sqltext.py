"""Small pieces of DuckDB SQL text the native macros (`cross_database`, `dbt_utils`, `star`,
`dbt_utils_tests`) build their queries from: a trimmed argument, a string literal, a quoted
name, and DuckDB's `COLUMNS` over a relation's columns but (or only) some names."""

from __future__ import annotations

from typing import Any


def trimmed(value: Any) -> str:
    """A macro argument as SQL text, without the whitespace around it."""
    return str(value).strip()


def literal(value: Any) -> str:
    """`value` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def quoted(name: Any) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def lowered_names(names: list) -> str:
    """`('a', 'b')`: names lowercased, for a test on `lower(c)` (dbt_utils compares column
    names case-insensitively)."""
    return "(" + ", ".join(literal(str(n).lower()) for n in names) + ")"


def columns_except(names: list, keep: bool = False) -> str:
    """The relation's columns without (or, `keep`, only) `names`: DuckDB's COLUMNS with a
    lambda, where a name the relation lacks is no error (unlike `* EXCLUDE`), as in dbt."""
    if not names:
        return "COLUMNS(*)"
    return f"COLUMNS(lambda c: lower(c) {'in' if keep else 'not in'} {lowered_names(names)})"
