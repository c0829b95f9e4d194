"""Column types as a check compares them: which declared types a column's actual type
satisfies (families such as integers or text), DuckDB's own names for types, and whether a
declared type exists at all. Type names are asked of a private in-memory DuckDB, so a bad name
never aborts a caller's transaction."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

from .errors import first_line, suggest

TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")
"""What a column type may look like: a name, optional (precision[, scale]), optional []."""


TYPE_FAMILIES = {
    "numeric": (
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
        "REAL",
    ),
    "text": ("VARCHAR",),
    "temporal": (
        "DATE",
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP_NS",
        "TIMESTAMP_MS",
        "TIMESTAMP_S",
        "TIME",
    ),
    "boolean": ("BOOLEAN",),
}


def column_differences(
    expected: Sequence[tuple[str, str]],
    actual: Sequence[tuple[str, str]],
    *,
    exact_types: bool = True,
    extra_allowed: bool = True,
) -> list[str]:
    """What differs between declared and actual columns, in words; [] when they agree."""
    have = {name.lower(): kind.upper() for name, kind in actual}
    problems = []
    missing = [n for n, _ in expected if n.lower() not in have]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    for name, kind in expected:
        got = have.get(name.lower())
        if got is not None and not _same_type(kind, got, exact_types):
            problems.append(f"{name} is {got}, expected {kind}")
    if not extra_allowed:
        declared = {n.lower() for n, _ in expected}
        extra = [n for n, _ in actual if n.lower() not in declared]
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
    return problems


def _base(kind: str) -> str:
    return re.sub(r"\(.*\)$", "", kind.upper()).strip()


def _same_type(expected: str, actual: str, exact: bool) -> bool:
    aliases = {
        "INT": "INTEGER",
        "INT4": "INTEGER",
        "INT8": "BIGINT",
        "LONG": "BIGINT",
        "STRING": "VARCHAR",
        "TEXT": "VARCHAR",
        "BOOL": "BOOLEAN",
        "FLOAT8": "DOUBLE",
        "NUMERIC": "DECIMAL",
        "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
        "DATETIME": "TIMESTAMP",
        "INT2": "SMALLINT",
        "FLOAT4": "FLOAT",
        "STR": "VARCHAR",
    }
    e = re.sub(r"\s+", " ", expected.upper().replace(" ", "", 0))
    a = actual.upper()
    e_base, a_base = aliases.get(_base(e), _base(e)), aliases.get(_base(a), _base(a))
    if exact:
        if e_base != a_base:
            return False
        e_args = e[len(_base(e)) :].replace(" ", "")
        a_args = a[len(_base(a)) :].replace(" ", "")
        return not e_args or e_args == a_args
    return any(e_base in family and a_base in family for family in TYPE_FAMILIES.values()) or (
        e_base == a_base
    )


def canonical_types(types: Sequence[str]) -> list[str]:
    """Types as DuckDB names them (REAL -> FLOAT, INT64 -> BIGINT, VARCHAR(10) -> VARCHAR):
    asking DuckDB is the only alias table that is always right."""
    return [_canonical(t) for t in types]


def type_error(kind: str) -> str | None:
    """Why `kind` is not a column type DuckDB knows, or None when it is one.

    >>> type_error("DECIMAL(18,2)") is None, type_error("NOTATYPE")
    (True, 'Catalog Error: Type with name NOTATYPE does not exist!')
    """
    if not TYPE_NAME.match(kind):
        return f"{kind!r} is not a type name"
    if _plainly_known(kind):
        return None
    import duckdb

    try:
        _type_name(kind)
    except duckdb.Error as exc:  # its own "did you mean" is poor at this: ours knows types
        return first_line(exc).partition(": ")[2] + suggest(kind.upper(), KNOWN_TYPES)
    return None


# Type names every DuckDB knows: loading a project checks these without starting a database
# (importing and connecting cost more than the rest of loading); anything else is asked of it.
KNOWN_TYPES = frozenset(
    {
        *(t for family in TYPE_FAMILIES.values() for t in family),
        *("INT", "INT2", "INT4", "INT8", "INT64", "BOOL", "NUMERIC", "TEXT", "STRING"),
        *("TIMESTAMPTZ", "DATETIME", "FLOAT4", "FLOAT8", "BLOB", "INTERVAL", "UUID", "JSON"),
    }
)
_TYPE_PARTS = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9_ ]*?)\s*(\((?P<args>[^)]*)\))?(\[\])?$")


def _plainly_known(kind: str) -> bool:
    parts = _TYPE_PARTS.match(kind)
    if not parts or " ".join(parts["base"].upper().split()) not in KNOWN_TYPES:
        return False
    if parts["args"] is None:
        return True
    if _base(parts["base"]) in ("DECIMAL", "NUMERIC"):
        width, _, scale = parts["args"].partition(",")
        return 1 <= int(width) <= 38 and 0 <= int(scale or 0) <= int(width)
    return False  # other arguments: DuckDB decides


def _canonical(kind: str) -> str:
    import duckdb

    if not TYPE_NAME.match(kind):
        return kind.upper()
    try:
        return _type_name(kind)
    except duckdb.Error:  # an unknown name: compared as written, the mismatch will show it
        return kind.upper()


_types_lock = threading.Lock()
_types_con: list = []  # one private in-memory connection per process, made when first needed


@lru_cache(maxsize=512)
def _type_name(kind: str) -> str:
    """DuckDB's name for a type (duckdb.Error for an unknown one). It is asked on a private
    in-memory connection, so a bad name never aborts a caller's transaction; connecting costs
    tens of milliseconds, so there is one, shared under a lock by the worker threads."""
    import duckdb

    with _types_lock:
        if not _types_con:
            _types_con.append(duckdb.connect())
        return _types_con[0].execute(f"SELECT typeof(CAST(NULL AS {kind}))").fetchone()[0]
