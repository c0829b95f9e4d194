"""Rows a query returned against the rows it should have returned, and the difference as a
small aligned table: `-` a row expected and not returned, `+` a row returned and not expected.

Rows are compared as multisets (a row expected twice must come twice), or as sequences when
order matters. Values are compared as the same type already (the caller casts the expected
values to the returned types); floating-point values agree to 12 significant digits, so a sum
computed in another order is not a difference.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MISSING, UNEXPECTED, SAME = "-", "+", " "


@dataclass(frozen=True)
class RowDiff:
    """`lines`: (sign, row) in the order to show them; `matched`: rows found on both sides."""

    columns: tuple[str, ...]
    lines: tuple[tuple[str, tuple], ...]
    matched: int

    @property
    def passed(self) -> bool:
        return all(sign == SAME for sign, _ in self.lines)

    def count(self, sign: str) -> int:
        return sum(1 for s, _ in self.lines if s == sign)


def key(value: Any) -> Any:
    """What a value is compared by: floats rounded to 12 significant digits.

    >>> key(0.1 + 0.2) == key(0.3), key(1) == key(1.0)
    (True, True)
    """
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list):
        return tuple(key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, key(v)) for k, v in value.items()))
    return value


def compare(
    columns: Sequence[str],
    returned: Sequence[tuple],
    expected: Sequence[tuple],
    ordered: bool = False,
) -> RowDiff:
    """The difference between `returned` and `expected` rows (tuples over `columns`).

    >>> d = compare(["id"], [(1,), (2,)], [(1,), (3,)])
    >>> d.passed, d.lines, d.matched
    (False, (('+', (2,)), ('-', (3,))), 1)
    """
    ours = [tuple(key(v) for v in row) for row in returned]
    theirs = [tuple(key(v) for v in row) for row in expected]
    if ordered:
        return _in_order(tuple(columns), returned, expected, ours, theirs)
    missing = Counter(theirs) - Counter(ours)
    unexpected = Counter(ours) - Counter(theirs)
    lines = _take(expected, theirs, missing, MISSING) + _take(
        returned, ours, unexpected, UNEXPECTED
    )
    # by the first column, the expected row before the returned one: a row whose other values
    # changed reads as a pair (a first column is most often the row's key)
    lines.sort(key=lambda line: (_sortable(line[1][0]) if line[1] else (), line[0] != MISSING))
    return RowDiff(tuple(columns), tuple(lines), len(expected) - sum(missing.values()))


def _take(rows, keys, wanted: Counter, sign: str) -> list[tuple[str, tuple]]:
    """The rows whose keys `wanted` counts, as many times as it counts them."""
    left = Counter(wanted)
    found = []
    for row, k in zip(rows, keys, strict=True):
        if left[k] > 0:
            left[k] -= 1
            found.append((sign, tuple(row)))
    return found


def _in_order(columns, returned, expected, ours, theirs) -> RowDiff:
    """Rows that must come in order: the expected sequence edited into the returned one, with
    the rows both share in place (a row out of place is missing here and extra there)."""
    lines: list[tuple[str, tuple]] = []
    matcher = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
    matched = 0
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            lines += [(SAME, tuple(r)) for r in expected[a1:a2]]
            matched += a2 - a1
            continue
        lines += [(MISSING, tuple(r)) for r in expected[a1:a2]]
        lines += [(UNEXPECTED, tuple(r)) for r in returned[b1:b2]]
    if all(sign == SAME for sign, _ in lines):
        lines = []
    return RowDiff(columns, tuple(lines), matched)


def _sortable(value: Any) -> tuple:
    """Values of any type in one order: NULLs first, then by type name, then by value."""
    if value is None:
        return (0, "", "")
    try:
        value < value  # noqa: B015 - is it orderable at all
    except TypeError:
        return (1, type(value).__name__, str(value))
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return (1, "number" if number else type(value).__name__, value)


def shown(value: Any) -> str:
    """A value as the table shows it: NULL, dates in ISO form, text as it is.

    >>> shown(None), shown(date(2026, 10, 3)), shown(True), shown(7.5)
    ('NULL', '2026-10-03', 'true', '7.5')
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table(diff: RowDiff, narrow: bool = True) -> list[str]:
    """The difference as aligned lines: a header, then each row with its sign. `narrow`
    leaves out the columns (but the first) that hold one value in every row shown, and says
    which: in a wide row the one value that differs is then easy to see.

    >>> print("\\n".join(table(compare(["id", "n", "k"], [(1, 2, 0)], [(1, 3, 0)]))))
      id  n
    - 1   3
    + 1   2
    (the same in every row above: k = 0)
    """
    shown_rows = [[shown(v) for v in row] for _, row in diff.lines]
    keep = list(range(len(diff.columns)))
    same: list[str] = []
    if narrow and len(shown_rows) > 1:
        alike = [i for i in keep[1:] if len({r[i] for r in shown_rows}) == 1]
        same = [f"{diff.columns[i]} = {shown_rows[0][i]}" for i in alike]
        keep = [i for i in keep if i not in alike]
    columns = [diff.columns[i] for i in keep]
    cells = [[r[i] for i in keep] for r in shown_rows]
    widths = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(columns)]

    def line(sign: str, values: Sequence[str]) -> str:
        text = f"{sign} " + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))
        return text.rstrip()

    lines = [line(" ", columns)]
    lines += [line(sign, row) for (sign, _), row in zip(diff.lines, cells, strict=True)]
    if same:
        lines.append(f"(the same in every row above: {', '.join(same)})")
    return lines
