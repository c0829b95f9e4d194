"""The quoting rules of the SQL the tool writes: one place for identifiers, one for literals.

Doubling the quote character is all DuckDB needs: its standard strings have no backslash escapes,
so nothing inside the quotes can end the identifier or the literal.
"""

from __future__ import annotations


def quote(identifier: str) -> str:
    """`identifier` as a quoted identifier.

    >>> print(quote('my "col"'))
    "my ""col\"\""
    """
    return '"' + identifier.replace('"', '""') + '"'


def quote_relation(name: str) -> str:
    """A dotted relation name with each part quoted.

    >>> print(quote_relation("marts.fct_orders"))
    "marts"."fct_orders"
    """
    return ".".join(quote(part) for part in name.split("."))


def literal(value: object) -> str:
    """`value` as a string literal.

    >>> print(literal("it's"))
    'it''s'
    """
    return "'" + str(value).replace("'", "''") + "'"
