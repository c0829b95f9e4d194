"""The column types dbt gives a seed, so that the imported seed loads as the same table.

dbt infers them with agate, trying for each column, in order: whole numbers, numbers, dates
(`%Y-%m-%d`), date-times (`%Y-%m-%d %H:%M:%S`, then ISO 8601), booleans (`true`/`false`), and
text; `null` and the empty field are NULL. dbt-duckdb writes whole numbers as INTEGER (where
DuckDB's own sniffer would say BIGINT), other numbers as DOUBLE, dates it cannot parse stay
VARCHAR. We follow that, with two departures the report names: whole numbers beyond INTEGER
become BIGINT (dbt's load would fail on them), and numbers written with thousands separators or
currency signs (which agate reads as numbers) stay text.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

_NULLS = ("", "null")
_WHOLE = re.compile(r"^[-+]?\d+$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_FORMATTED = re.compile(r"^[-+]?[$€£¥]?\s?\d{1,3}(,\d{3})+(\.\d+)?$|^[-+]?[$€£¥]\s?\d+(\.\d+)?$")
_INT32 = 2**31 - 1


def _is(parse, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _date(value: str) -> bool:
    return _is(lambda v: datetime.strptime(v, "%Y-%m-%d"), value)


def _datetime(value: str) -> bool:
    return _is(lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S"), value) or _is(
        datetime.fromisoformat, value
    )


def _kind(values: list[str]) -> tuple[str, str | None]:
    """A column's type from its non-null values, and a note when we depart from dbt."""
    if all(_WHOLE.match(v) for v in values):
        if any(abs(int(v)) > _INT32 for v in values):
            return "BIGINT", "whole numbers beyond INTEGER: BIGINT (dbt's INTEGER would overflow)"
        return "INTEGER", None
    if all(_NUMBER.match(v) for v in values):
        return "DOUBLE", None
    if all(_date(v) for v in values):
        return "DATE", None
    if all(_datetime(v) for v in values):
        return "TIMESTAMP", None
    if all(v.lower() in ("true", "false") for v in values):
        return "BOOLEAN", None
    if values and all(_FORMATTED.match(v) or _NUMBER.match(v) for v in values):
        return (
            "VARCHAR",
            "numbers with separators or currency signs kept as text (dbt reads numbers)",
        )
    return "VARCHAR", None


def dbt_types(path: Path, delimiter: str = ",") -> tuple[dict[str, str], list[str]]:
    """{column: type} in the file's order, and notes; ValueError when the file is no CSV."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"cannot read it as CSV: {exc}") from None
    if not rows or not rows[0]:
        raise ValueError("an empty file: a seed needs a header row")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError(f"repeated column names in the header: {header}")
    types: dict[str, str] = {}
    notes: list[str] = []
    for i, column in enumerate(header):
        values = [r[i].strip() for r in rows[1:] if i < len(r)]
        values = [v for v in values if v.lower() not in _NULLS]
        kind, note = _kind(values)
        types[column] = kind
        if note:
            notes.append(f"{column}: {note}")
    return types, notes
