"""The SQL that judges checks, and the judging of what it returns.

Row-level checks return the violating rows, counted and sampled per partition in one query;
`row_count`, `row_count_change` and `columns` compare aggregates. Nothing here executes SQL:
`execution.audit` runs these statements on the cursor of the task (inside its transaction,
before COMMIT) or, for `orchestrator check`, on what is published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..core.column_types import column_differences
from ..core.partitions import WHOLE, Grain, Window
from ..core.quoting import quote
from ..project.checks import Check, Result

SAMPLE_ROWS = 5
_KEY_FORMATS = {
    Grain.HOUR: "%Y-%m-%dT%H",
    Grain.DAY: "%Y-%m-%d",
    Grain.MONTH: "%Y-%m",
    Grain.YEAR: "%Y",
}


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


def columns_sql(scope: Scope) -> str:
    """A query whose output columns are the relation's (to describe, never to run)."""
    return f"SELECT * FROM {scope.relation}"


def counts_sql(scope: Scope) -> str:
    """Rows per partition key in scope (keys with no rows are absent)."""
    key = scope.key_expr("s")
    return f"SELECT {key} AS k, count(*) FROM ({scope.rows()}) s GROUP BY k"


def partition_counts_sql(relation: str, partition_by: str, grain: Grain) -> str:
    """Rows per partition key of a whole partitioned relation (keys with no rows are absent)."""
    key = f"strftime(CAST({quote(partition_by)} AS TIMESTAMP), '{_KEY_FORMATS[grain]}')"
    return f"SELECT {key} AS k, count(*) FROM {relation} GROUP BY k"


def judge_failures(check: Check, scope: Scope, rows: Sequence[tuple]) -> list[Result]:
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


def with_reference(check: Check, relation: str) -> Check:
    return replace(check, reference=relation)
