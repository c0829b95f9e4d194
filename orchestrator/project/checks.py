"""Data checks as values: parsing them from model headers and `checks/*.sql`, their results,
and the one-line summary of what failed. The SQL that judges them is in `check_sql`, column
types in `column_types`; `execution.audit` runs them.

>>> c = parse("not_null(order_id, amount)", "block", "m.sql", 3)
>>> c.kind, c.columns
('not_null', ('order_id', 'amount'))
>>> parse("row_count(min=1)", "warn", "m.sql", 4).name
'row_count(min=1)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ..core.column_types import TYPE_NAME, type_error
from ..core.errors import suggest
from ..sql.syntax import validate_expression

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CALL = re.compile(r"^(?P<kind>[a-z_]+)\s*\((?P<args>.*)\)$", re.S)
_LITERAL = re.compile(r"^('([^']|'')*'|-?\d+(\.\d+)?|true|false)$", re.I)


class Severity(StrEnum):
    BLOCK = "block"  # a failure keeps the data from being published
    WARN = "warn"  # a failure is recorded; the data publishes


@dataclass(frozen=True)
class Check:
    name: str
    kind: str
    severity: Severity
    path: str
    line: int | None = None
    columns: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # accepted_values literals, as SQL
    expression: str = ""
    reference: str = ""  # relationships: the table it points to, as written
    reference_column: str = ""
    limits: Mapping[str, float] = field(default_factory=dict)
    types: tuple[tuple[str, str], ...] = ()  # columns(...): (name, type)
    template: str = ""  # custom checks: their SQL
    tables: tuple[str, ...] = ()  # custom checks: the other relations they read
    vars: tuple[str, ...] = ()  # custom checks: the run parameters they use

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCK


@dataclass(frozen=True)
class Result:
    check: Check
    key: str
    status: str  # pass | fail | warn | error
    failing: int = 0
    sample: tuple = ()
    message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")


# -- parsing --------------------------------------------------------------------------------------


def _split_args(text: str) -> list[str]:
    """Split at top-level commas, respecting parentheses and quotes."""
    parts, depth, quote, current = [], 0, None, []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    tail = "".join(current).strip()
    if tail or parts:
        parts.append(tail)
    return parts


def _identifiers(args: list[str], what: str) -> tuple[str, ...]:
    if not args or not all(_IDENT.match(a) for a in args):
        raise ValueError(f"{what} expects column names, e.g. {what}(id, amount)")
    return tuple(a.lower() for a in args)


def _keywords(args: list[str], allowed: dict[str, type], what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise ValueError(f"{what} takes {', '.join(f'{k}=N' for k in allowed)}, got {arg!r}")
        try:
            number = allowed[key](value.strip())
        except ValueError:
            raise ValueError(f"{what}: {key} must be a number, got {value.strip()!r}") from None
        if number < 0:
            raise ValueError(f"{what}: {key} must not be negative")
        out[key] = number
    return out


BUILTINS = (
    "not_null",
    "unique",
    "accepted_values",
    "relationships",
    "row_count",
    "expression",
    "row_count_change",
    "columns",
)


def parse(text: str, severity: str, path: str, line: int | None) -> Check:
    """A header check such as `unique(order_id)`; raises ValueError saying what is accepted."""
    match = _CALL.match(text.strip())
    if not match:
        raise ValueError(
            f"expected a check like not_null(col), got {text.strip()!r}; "
            f"checks: {', '.join(BUILTINS)}"
        )
    kind, raw = match["kind"], match["args"].strip()
    if kind not in BUILTINS:
        raise ValueError(
            f"unknown check '{kind}'{suggest(kind, BUILTINS)}; checks: {', '.join(BUILTINS)}"
        )
    args = _split_args(raw)
    name = f"{kind}({', '.join(args)})"
    base = {"name": name, "kind": kind, "severity": Severity(severity), "path": path, "line": line}
    if kind in ("not_null", "unique"):
        return Check(**base, columns=_identifiers(args, kind))
    if kind == "accepted_values":
        if len(args) < 2 or not _IDENT.match(args[0]):
            raise ValueError(
                "accepted_values expects a column then values: "
                "accepted_values(status, 'paid', 'refunded')"
            )
        bad = [a for a in args[1:] if not _LITERAL.match(a)]
        if bad:
            raise ValueError(f"accepted_values: {bad[0]} is not a literal ('text' or a number)")
        return Check(**base, columns=(args[0].lower(),), values=tuple(args[1:]))
    if kind == "relationships":
        if len(args) != 2 or not _IDENT.match(args[0]) or "." not in args[1]:
            raise ValueError(
                "relationships expects a column and model.column: "
                "relationships(customer_id, dim.customers.id)"
            )
        target, _, column = args[1].rpartition(".")
        if not all(_IDENT.match(p) for p in target.split(".")) or not _IDENT.match(column):
            raise ValueError(f"relationships: {args[1]!r} is not model.column")
        return Check(
            **base,
            columns=(args[0].lower(),),
            reference=target.lower(),
            reference_column=column.lower(),
        )
    if kind == "row_count":
        limits = _keywords(args, {"min": int, "max": int}, kind)
        if not limits:
            raise ValueError("row_count expects min=N and/or max=N")
        if "min" in limits and "max" in limits and limits["max"] < limits["min"]:
            raise ValueError("row_count: max is below min")
        return Check(**base, limits=limits)
    if kind == "row_count_change":
        limits = _keywords(args, {"max_pct": float, "partitions": int}, kind)
        if "max_pct" not in limits:
            raise ValueError("row_count_change expects max_pct=N (and optionally partitions=N)")
        limits.setdefault("partitions", 7)
        if limits["partitions"] < 1:
            raise ValueError("row_count_change: partitions must be at least 1")
        return Check(**base, limits=limits)
    if kind == "expression":
        if not raw:
            raise ValueError("expression expects a condition every row meets: expression(x >= 0)")
        validate_expression(raw)
        return Check(**base | {"name": f"expression({raw})"}, expression=raw)
    # columns(id INTEGER, amount DECIMAL(18,2))
    types = []
    for arg in args:
        name_, _, type_ = arg.strip().partition(" ")
        if not _IDENT.match(name_) or not TYPE_NAME.match(type_.strip()):
            raise ValueError(f"columns expects 'name TYPE' pairs, got {arg!r}")
        problem = type_error(type_.strip())
        if problem:
            raise ValueError(f"columns: {name_} {type_.strip()}: {problem}")
        types.append((name_.lower(), type_.strip().upper()))
    if not types:
        raise ValueError("columns expects 'name TYPE' pairs: columns(id BIGINT, amount DOUBLE)")
    return Check(**base, types=tuple(types))


def summarize(results: Sequence[Result]) -> str:
    """One line naming what failed: `unique(order_id) failed on 2024-01-05: 2 failing rows`."""
    parts = []
    for r in results:
        if r.status == "error":
            parts.append(f"{r.check.name} on {r.key}: {r.message}")
        elif r.status in ("fail", "warn"):
            what = r.message or f"{r.failing} failing row{'s' if r.failing != 1 else ''}"
            parts.append(f"{r.check.name} failed on {r.key}: {what}")
    return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
