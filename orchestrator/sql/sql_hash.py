"""The hash that versions a model: of its normalised SQL, so comments, whitespace and the case
of keywords and names DuckDB binds case-insensitively do not change it (a change of it marks the
model's partitions stale)."""

from __future__ import annotations

import hashlib
from functools import lru_cache


def sql_hash(tokens, statement) -> str:
    """A hash of the query's tokens (as `parse` returns them). Keywords and unquoted names are
    folded to lower case (DuckDB binds them case-insensitively), but strings, quoted names and
    aliases keep theirs: an alias names an output column as written (`1 AS Foo` makes a column
    `Foo`). A trailing `;` is not part of the query."""
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
