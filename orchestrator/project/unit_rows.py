"""The rows a unit test gives or expects, as written in its YAML: mappings (`format: dict`, the
default), CSV text (`format: csv`) or a query (`format: sql`), as dbt's unit tests write them;
and the small checks every part of a unit test file shares (its keys, its names).

Pure: values stay as YAML gives them (numbers, strings, dates, booleans, None); their SQL
types are decided when the test runs (`statements.unit_sql`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..core.column_types import type_error
from ..core.errors import ProjectError, suggest
from .yaml_lines import Lined, LinedList

FORMATS = ("dict", "csv", "sql")
SCALARS = (str, int, float, bool, date, datetime, type(None))


@dataclass(frozen=True)
class Rows:
    """Rows as a test writes them. `rows` holds mappings (CSV values are texts, an empty field
    None); `sql` the query of `format: sql`; `columns` the names the rows give, in the order
    first seen; `types` column types the test declares (`columns:`)."""

    format: str = "dict"
    rows: tuple[Mapping[str, Any], ...] = ()
    sql: str | None = None
    columns: tuple[str, ...] = ()
    types: Mapping[str, str] = field(default_factory=dict)
    lines: tuple[int, ...] = ()  # each row's line in the file
    line: int = 0  # where the input or expectation starts

    @property
    def texts(self) -> bool:
        """Whether every value is text to be read (CSV), not a typed YAML value."""
        return self.format == "csv"


def parse(item: Lined, relpath: str, what: str) -> Rows:
    """An input's or the expectation's rows (`what` names it in messages)."""
    fmt = item.get("format", "dict")
    if fmt not in FORMATS:
        raise ProjectError(
            f"format: {fmt!r} is not one of {', '.join(FORMATS)}", relpath, item.line_of("format")
        )
    if "rows" not in item:
        raise ProjectError(
            f"{what}: rows: missing (rows: [] for none)", relpath, item.line_of(what)
        )
    value, line = item["rows"], item.line_of("rows")
    types = _types(item, relpath)
    if fmt == "sql":
        if not isinstance(value, str) or not value.strip():
            raise ProjectError("rows: format: sql takes a query as text", relpath, line)
        return Rows("sql", sql=value.strip().rstrip(";"), types=types, line=item.line)
    if fmt == "csv":
        if not isinstance(value, str):
            raise ProjectError("rows: format: csv takes CSV text (rows: |)", relpath, line)
        rows, columns, lines = _csv(value, relpath, line)
        return Rows("csv", rows, columns=columns, types=types, lines=lines, line=item.line)
    if not isinstance(value, LinedList):
        raise ProjectError(
            "rows: a list of mappings, one per row (or CSV text with format: csv)", relpath, line
        )
    return _mappings(value, relpath, types, item.line)


def _mappings(value: LinedList, relpath: str, types: Mapping[str, str], start: int) -> Rows:
    rows, lines = [], []
    columns: dict[str, None] = {}
    for i, row in enumerate(value):
        line = value.line_of(i)
        if not isinstance(row, Mapping):
            raise ProjectError(
                f"a row is a mapping of columns to values, not {row!r}", relpath, line
            )
        clean = {}
        for key, cell in row.items():
            if not isinstance(cell, SCALARS):
                cell = json.dumps(cell, default=str)  # a list or struct: its text, cast later
            clean[str(key)] = cell
        columns.update(dict.fromkeys(clean))
        rows.append(clean)
        lines.append(line)
    return Rows(
        "dict", tuple(rows), columns=tuple(columns), types=types, lines=tuple(lines), line=start
    )


def _csv(text: str, relpath: str, line: int) -> tuple[tuple, tuple[str, ...], tuple[int, ...]]:
    """CSV text as mappings of texts (an empty field is None); its first line names the
    columns. `line` is where `rows:` stands: the text starts on the next line."""
    found = [(n, r) for n, r in enumerate(csv.reader(text.splitlines()), start=line + 1) if r]
    if not found:
        raise ProjectError("rows: the CSV text has no header line", relpath, line)
    header = [h.strip() for h in found[0][1]]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated or not all(header):
        what = f"names {', '.join(repeated)} twice" if repeated else "has an empty column name"
        raise ProjectError(f"rows: the CSV header {what}", relpath, found[0][0])
    rows, lines = [], []
    for number, record in found[1:]:
        if len(record) != len(header):
            raise ProjectError(
                f"rows: a CSV line has {len(record)} fields, the header {len(header)}",
                relpath,
                number,
            )
        rows.append({h: (v.strip() or None) for h, v in zip(header, record, strict=True)})
        lines.append(number)
    return tuple(rows), tuple(header), tuple(lines)


def _types(item: Lined, relpath: str) -> dict[str, str]:
    """`columns: {name: TYPE}`: types the test declares for its rows' columns."""
    value = item.get("columns")
    if value is None:
        return {}
    line = item.line_of("columns")
    if not isinstance(value, Mapping):
        raise ProjectError("columns: a mapping of column names to types", relpath, line)
    types = {}
    for name, kind in value.items():
        problem = type_error(str(kind)) if isinstance(kind, str) else f"{kind!r} is no type"
        if problem:
            raise ProjectError(f"columns: {name}: {problem}", relpath, value.line_of(str(name)))
        types[str(name)] = kind
    return types


def check_keys(item: Lined, allowed: Sequence[str], relpath: str, what: str) -> None:
    """A key the format does not know is an error (a typo would be silently ignored)."""
    for key in item:
        if key not in allowed:
            raise ProjectError(
                f"{what}: unknown key '{key}'{suggest(str(key), allowed)}; the keys are: "
                f"{', '.join(allowed)}",
                relpath,
                item.line_of(str(key)),
            )


def text_of(value: Any) -> str:
    """A YAML scalar as the text a user meant (a date as YYYY-MM-DD, true as `true`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def resolve(
    text: str,
    names: Iterable[str],
    unknown: str,
    relpath: str,
    line: int,
    prefer: Iterable[str] = (),
) -> str:
    """A relation named by `schema.table` or by its table name alone when that is unique
    (among `prefer` first: what the model reads); `unknown` starts the message otherwise."""
    name = text.strip().lower()
    known = list(names)
    if "." in name:
        qualified = ".".join(name.split(".")[-2:])  # a catalog before it is the warehouse's
        if qualified in known:
            return qualified
    else:
        matches = [n for n in known if n.split(".")[-1] == name]
        if len(matches) > 1:
            wanted = set(prefer)
            matches = [m for m in matches if m in wanted] or matches
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ProjectError(
                f"'{text}' names {' and '.join(sorted(matches))}: write the full name",
                relpath,
                line,
            )
    close = suggest(name, dict.fromkeys([*known, *(n.split(".")[-1] for n in known)]))
    raise ProjectError(f"{unknown}{close}", relpath, line)
