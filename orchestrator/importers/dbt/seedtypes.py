"""The column types dbt gives a seed, so that the imported seed loads as the same table.

dbt infers them with agate, trying for each column, in order: numbers, dates (`%Y-%m-%d`),
date-times (`%Y-%m-%d %H:%M:%S`, or ISO 8601 with a `T`), booleans (`true`/`false` in any
case), and text; one type must take every value of the column; `null` and the empty field are
NULL. dbt-duckdb writes whole numbers (`1.0` and `1e3` too) as INTEGER, where DuckDB's own
sniffer would say BIGINT, other numbers as DOUBLE; dates it cannot parse stay VARCHAR. These
rules were checked against dbt-core 1.11 with dbt-duckdb 1.10 (`benchmarks/dbt_compat.py`).
Two departures, which the report names: whole numbers beyond INTEGER become BIGINT (dbt's load
would fail on them), and numbers written with thousands separators or currency signs (which
agate reads as numbers) stay text.
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
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _is(parse, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _date(value: str) -> bool:
    return _is(lambda v: datetime.strptime(v, "%Y-%m-%d"), value)


def _spaced(value: str) -> bool:
    return _is(lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S"), value)


def _whole(value: str) -> bool:
    return bool(_WHOLE.match(value)) or (bool(_NUMBER.match(value)) and float(value).is_integer())


def _kind(values: list[str]) -> tuple[str, str | None]:
    """A column's type from its non-null values, and a note when we depart from dbt. Each
    type must take every value: a column of dates in two formats is text, as in dbt."""
    if all(_whole(v) for v in values):
        if any(abs(float(v)) > _INT32 for v in values):
            return "BIGINT", "whole numbers beyond INTEGER: BIGINT (dbt's INTEGER would overflow)"
        return "INTEGER", None  # 1.0 and 1e3 too: dbt-duckdb makes whole numbers INTEGER
    if all(_NUMBER.match(v) for v in values):
        return "DOUBLE", None
    if all(_date(v) for v in values):
        return "DATE", None
    if all(_spaced(v) for v in values) or all(_ISO.match(v) for v in values):
        return "TIMESTAMP", None
    if all(v.lower() in ("true", "false") for v in values):
        return "BOOLEAN", None
    if values and all(_FORMATTED.match(v) or _NUMBER.match(v) for v in values):
        return (
            "VARCHAR",
            "numbers with separators or currency signs kept as text (dbt reads numbers)",
        )
    return "VARCHAR", None


def dbt_types(path: Path, delimiter: str = ",") -> tuple[dict[str, str], list[str], list[str]]:
    """({column: type} in the file's order, notes, the texts to read as NULL); ValueError when
    the file is no CSV. dbt reads `null` as NULL in typed columns but keeps it as text in text
    columns: when a text column holds `null`, only the empty field is NULL, and a typed column
    holding `null` too is loaded as text (noted)."""
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
    spelled_null: set[str] = set()
    for i, column in enumerate(header):
        raw = [r[i].strip() for r in rows[1:] if i < len(r)]
        if any(v.lower() == "null" for v in raw):
            spelled_null.add(column)
        values = [v for v in raw if v.lower() not in _NULLS]
        kind, note = _kind(values)
        types[column] = kind
        if note:
            notes.append(f"{column}: {note}")
    if any(types[c] == "VARCHAR" for c in spelled_null):
        for column in sorted(spelled_null):
            if types[column] != "VARCHAR":
                types[column] = "VARCHAR"
                notes.append(
                    f"{column}: holds 'null' beside a text column that does: loaded as text"
                )
        return types, notes, [""]
    return types, notes, ["", "null"]
