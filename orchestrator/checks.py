"""Data checks: parsing them from model headers and `checks/*.sql`, and the SQL that judges them.

A check looks at the data a task is about to publish (inside its transaction, before COMMIT) or,
for `orchestrator check`, at what is published. Row-level checks return the violating rows, counted
and sampled per partition in one query; `row_count`, `row_count_change` and `columns` compare
aggregates. Nothing here executes SQL on the warehouse: `evaluate` runs it on the cursor it is
given (type names are asked of a private in-memory DuckDB).

>>> c = parse("not_null(order_id, amount)", "block", "m.sql", 3)
>>> c.kind, c.columns
('not_null', ('order_id', 'amount'))
>>> parse("row_count(min=1)", "warn", "m.sql", 4).name
'row_count(min=1)'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from .errors import OrchestratorError, first_line, suggest
from .partitions import WHOLE, Grain, Window
from .quoting import quote

SAMPLE_ROWS = 5
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CALL = re.compile(r"^(?P<kind>[a-z_]+)\s*\((?P<args>.*)\)$", re.S)
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")
_LITERAL = re.compile(r"^('([^']|'')*'|-?\d+(\.\d+)?|true|false)$", re.I)
_KEY_FORMATS = {
    Grain.HOUR: "%Y-%m-%dT%H",
    Grain.DAY: "%Y-%m-%d",
    Grain.MONTH: "%Y-%m",
    Grain.YEAR: "%Y",
}


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


def _validate_expression(text: str) -> None:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        sqlglot.parse_one(f"SELECT 1 WHERE {text}", read="duckdb")
    except (ParseError, TokenError) as exc:
        raise ValueError(f"not a SQL expression: {str(exc).splitlines()[0]}") from None


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
        _validate_expression(raw)
        return Check(**base | {"name": f"expression({raw})"}, expression=raw)
    # columns(id INTEGER, amount DECIMAL(18,2))
    types = []
    for arg in args:
        name_, _, type_ = arg.strip().partition(" ")
        if not _IDENT.match(name_) or not _TYPE.match(type_.strip()):
            raise ValueError(f"columns expects 'name TYPE' pairs, got {arg!r}")
        problem = type_error(type_.strip())
        if problem:
            raise ValueError(f"columns: {name_} {type_.strip()}: {problem}")
        types.append((name_.lower(), type_.strip().upper()))
    if not types:
        raise ValueError("columns expects 'name TYPE' pairs: columns(id BIGINT, amount DOUBLE)")
    return Check(**base, types=tuple(types))


# -- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a check looks at: `relation` (quoted), restricted to `windows` of `partition_by`
    when the model is partitioned (None: the whole relation)."""

    relation: str
    partition_by: str | None = None
    grain: Grain | None = None
    windows: tuple[Window, ...] | None = None

    @property
    def keys(self) -> list[str]:
        return [w.key for w in self.windows] if self.windows else [WHOLE]

    def where(self) -> str:
        # the span from the first window to the last: a table holds no rows between its built
        # partitions, so this is exact and stays one range however many windows there are
        if not self.windows or not self.partition_by:
            return "true"
        col = quote(self.partition_by)
        first, last = self.windows[0], self.windows[-1]
        return f"{col} >= {first.literal(first.start)} AND {col} < {last.literal(last.end)}"

    @property
    def outer(self) -> Window | None:
        """One window spanning the scope, for `{{ start }}`/`{{ end }}` of custom checks."""
        if not self.windows:
            return None
        return Window(self.windows[0].start, self.windows[-1].end, self.windows[0].grain)

    def key_expr(self, alias: str) -> str:
        if not self.windows or not self.partition_by or self.grain is None:
            return f"'{WHOLE}'"
        if len(self.windows) == 1:
            return f"'{self.windows[0].key}'"
        col = f"{alias}.{quote(self.partition_by)}"
        return f"strftime(CAST({col} AS TIMESTAMP), '{_KEY_FORMATS[self.grain]}')"

    def rows(self) -> str:
        return f"SELECT * FROM {self.relation} WHERE {self.where()}"


def failing_rows_sql(check: Check, scope: Scope, rendered_custom: str | None = None) -> str:
    """The rows of `scope` that violate a row-level check."""
    rows = scope.rows()
    if check.kind == "not_null":
        nulls = " OR ".join(f"{quote(c)} IS NULL" for c in check.columns)
        return f"SELECT * FROM ({rows}) s WHERE {nulls}"
    if check.kind == "accepted_values":
        return (
            f"SELECT * FROM ({rows}) s WHERE {quote(check.columns[0])} NOT IN "
            f"({', '.join(check.values)})"
        )
    if check.kind == "expression":
        return f"SELECT * FROM ({rows}) s WHERE NOT ({check.expression})"
    if check.kind == "unique":
        cols = ", ".join(quote(c) for c in check.columns)
        # duplicates across the whole table, reported on the rows in scope that take part
        return (
            f"SELECT s.* FROM ({rows}) s JOIN (SELECT {cols} FROM {scope.relation} "
            f"GROUP BY {cols} HAVING count(*) > 1) d USING ({cols})"
        )
    if check.kind == "relationships":
        col = quote(check.columns[0])
        return (
            f"SELECT * FROM ({rows}) s WHERE s.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {check.reference} r WHERE r.{quote(check.reference_column)} "
            f"= s.{col})"
        )
    if check.kind == "custom":
        assert rendered_custom is not None
        return rendered_custom.strip().rstrip(";")
    raise ValueError(f"{check.kind} is not a row-level check")


ROW_LEVEL = {"not_null", "accepted_values", "expression", "unique", "relationships", "custom"}


def grouped_failures_sql(failing: str, scope: Scope, group: bool = True) -> str:
    """Per partition key: how many rows fail, and a sample of them as JSON."""
    key = scope.key_expr("f") if group else f"'{scope.keys[0] if len(scope.keys) == 1 else WHOLE}'"
    return (
        "SELECT k, max(n), list(j ORDER BY rn) FROM ("
        f"SELECT {key} AS k, count(*) OVER (PARTITION BY {key}) AS n, "
        f"row_number() OVER (PARTITION BY {key}) AS rn, CAST(to_json(f) AS VARCHAR) AS j "
        f"FROM (\n{failing}\n) f) WHERE rn <= {SAMPLE_ROWS} GROUP BY k"
    )


def counts_sql(scope: Scope) -> str:
    """Rows per partition key in scope (keys with no rows are absent)."""
    key = scope.key_expr("s")
    return f"SELECT {key} AS k, count(*) FROM ({scope.rows()}) s GROUP BY k"


def judge_failures(check: Check, scope: Scope, rows: Sequence[tuple]) -> list[Result]:
    import json

    found = {k: (n, tuple(json.loads(j) for j in sample)) for k, n, sample in rows}
    return [_result(check, key, *found.get(key, (0, ()))) for key in scope.keys]


def _result(
    check: Check, key: str, failing: int, sample: tuple = (), message: str | None = None
) -> Result:
    if not failing:
        return Result(check, key, "pass", 0, (), message)
    return Result(check, key, "fail" if check.blocking else "warn", failing, sample, message)


def judge_row_count(check: Check, scope: Scope, counts: Mapping[str, int]) -> list[Result]:
    low, high = check.limits.get("min"), check.limits.get("max")
    results = []
    for key in scope.keys:
        n = counts.get(key, 0)
        bad = (low is not None and n < low) or (high is not None and n > high)
        bounds = " and ".join(
            part
            for part in (
                f">= {low:g}" if low is not None else "",
                f"<= {high:g}" if high is not None else "",
            )
            if part
        )
        results.append(
            _result(
                check,
                key,
                1 if bad else 0,
                (),
                f"{n} rows, expected {bounds}" if bad else f"{n} rows",
            )
        )
    return results


def judge_row_count_change(
    check: Check, scope: Scope, counts: Mapping[str, int], history: Sequence[tuple[str, int]]
) -> list[Result]:
    """Each partition's row count against the average of the previous N partitions (those built
    before, and earlier ones in scope). No baseline yet: it passes."""
    window_n = int(check.limits["partitions"])
    limit = check.limits["max_pct"]
    past = sorted(history)
    results = []
    for key in scope.keys:
        n = counts.get(key, 0)
        previous = [rows for k, rows in past if k < key][-window_n:]
        if not previous:
            results.append(_result(check, key, 0, (), f"{n} rows, no earlier partitions"))
        else:
            average = sum(previous) / len(previous)
            change = abs(n - average) / average * 100 if average else (0 if n == 0 else 100.0)
            bad = change > limit
            message = (
                f"{n} rows vs {average:.1f} on average over the previous "
                f"{len(previous)}: {change:.1f}% change (max {limit:g}%)"
            )
            results.append(_result(check, key, 1 if bad else 0, (), message))
        past = [(k, r) for k, r in past if k != key] + [(key, n)]
        past.sort()
    return results


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
    if not _TYPE.match(kind):
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

    if not _TYPE.match(kind):
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


def judge_columns(
    check: Check,
    scope: Scope,
    actual: Sequence[tuple[str, str]],
    declared: Sequence[str] | None = None,
) -> list[Result]:
    expected = (
        check.types
        if declared is None
        else tuple(zip([n for n, _ in check.types], declared, strict=True))
    )
    problems = column_differences(expected, actual)
    message = "; ".join(problems) if problems else None
    return [_result(check, key, len(problems), (), message) for key in scope.keys]


# -- running them ---------------------------------------------------------------------------------


def evaluate(
    cur,
    checks: Sequence[Check],
    scope: Scope,
    *,
    relation_for,
    render,
    history: Sequence[tuple[str, int]] = (),
    stop_on_error: bool = False,
) -> list[Result]:
    """Run `checks` over `scope` on cursor `cur`; one Result per check and partition key.

    `relation_for(reference)` quotes a relationships target; `render(check)` gives a custom
    check's SQL. A check whose query fails yields `error` results; with `stop_on_error` (inside a
    transaction, which the failure aborts) the remaining checks are not run."""
    import duckdb

    results: list[Result] = []
    counts: dict[str, int] | None = None
    for check in checks:
        try:
            if check.kind in ROW_LEVEL:
                custom = render(check) if check.kind == "custom" else None
                if check.kind == "relationships":
                    check = _with_reference(check, relation_for(check.reference))
                failing = failing_rows_sql(check, scope, custom)
                group = check.kind != "custom" or len(scope.keys) == 1
                rows = cur.execute(grouped_failures_sql(failing, scope, group)).fetchall()
                # a custom check's rows need not carry the partition column: over several
                # windows its verdict is for the scope as a whole
                judged = scope if group else Scope(scope.relation)
                results.extend(judge_failures(check, judged, rows))
            elif check.kind in ("row_count", "row_count_change"):
                if counts is None:
                    counts = dict(cur.execute(counts_sql(scope)).fetchall())
                if check.kind == "row_count":
                    results.extend(judge_row_count(check, scope, counts))
                else:
                    results.extend(judge_row_count_change(check, scope, counts, history))
            else:
                described = cur.execute(f"DESCRIBE SELECT * FROM {scope.relation}").fetchall()
                declared = canonical_types([t for _, t in check.types])
                results.extend(
                    judge_columns(check, scope, [(r[0], r[1]) for r in described], declared)
                )
        except (duckdb.Error, OrchestratorError) as exc:
            message = f"the check could not run: {first_line(exc)}"
            results.extend(Result(check, key, "error", 0, (), message) for key in scope.keys)
            if stop_on_error:
                break
    return results


def _with_reference(check: Check, relation: str) -> Check:
    from dataclasses import replace

    return replace(check, reference=relation)


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
