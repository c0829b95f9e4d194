"""The `[sources."schema.table"]` tables of `orchestrator.toml`, as a table of per-key validators.

Each key has one function that checks the value written and converts it to the `Source` field of
the same name. The validators run in the order of `VALIDATORS` and each sees the values read
before it, so a rule between keys (options need a path, error_after needs loaded_at) lives with
the later key, and a source with several mistakes reports the first in that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..core.column_types import type_error
from ..core.errors import ProjectError, suggest
from ..core.partitions import Grain
from ..sql.syntax import validate_expression
from .config import config_line, parse_duration
from .model import IDENTIFIER, PLACEHOLDERS, Source

FORMATS = {"csv", "parquet", "json"}
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")

Validator = Callable[[Any, dict[str, Any]], Any]
"""(the value written, or None when the key is absent; the values of the keys before it) -> the
value of the Source field. A ValueError's message is the error, shown at the key's line, or at
the line of the key named by its second argument when the mistake shows best there."""


def parse_sources(raw: dict, config_path: Path, text: str) -> dict[str, Source]:
    """The declared sources by lower-case name; the first mistake names its file and line."""
    tables = raw.get("sources", {})
    if not isinstance(tables, dict):
        raise ProjectError('[sources] must be tables like [sources."raw.orders"]', config_path)
    sources: dict[str, Source] = {}
    for name, spec in tables.items():

        def fail(message: str, key: str | None = None, name=name) -> ProjectError:
            at = config_line(text, ("sources", name), key)
            return ProjectError(f"source '{name}': {message}", config_path, at)

        parts = name.lower().split(".")
        if len(parts) != 2 or not all(IDENTIFIER.match(p) for p in parts):
            raise fail('the name must be schema.table, e.g. [sources."raw.orders"]')
        if not isinstance(spec, dict):
            raise fail("must be a table of settings")
        unknown = sorted(set(spec) - set(VALIDATORS))
        if unknown:
            raise fail(
                f"unknown setting '{unknown[0]}'{suggest(unknown[0], VALIDATORS)}; "
                f"accepted: {', '.join(sorted(VALIDATORS))}",
                unknown[0],
            )
        values: dict[str, Any] = {}
        for key, validate in VALIDATORS.items():
            try:
                values[key] = validate(spec.get(key), values)
            except ValueError as exc:
                message, *shown_at = exc.args
                raise fail(message, shown_at[0] if shown_at else key) from None
        sources[name.lower()] = Source(name=name.lower(), **values)
    return sources


def _path(value: Any, read: dict[str, Any]) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("path must be a file path or glob")
    problem = _placeholder_problem(value) if value is not None else None
    if problem:
        raise ValueError(problem)
    return value


def _format(value: Any, read: dict[str, Any]) -> str | None:
    path = read["path"]
    if path is not None and value is None:
        value = _format_from_path(path)
        if value is None:
            raise ValueError(
                f"cannot tell the format of {path!r}; set format = one of "
                f"{', '.join(sorted(FORMATS))}",
                "path",
            )
    if value is not None and value not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(sorted(FORMATS))}, got {value!r}")
    return value


def _options(value: Any, read: dict[str, Any]) -> MappingProxyType:
    options = {} if value is None else value
    if not isinstance(options, dict) or not all(
        IDENTIFIER.match(k) and isinstance(v, str | int | float | bool) for k, v in options.items()
    ):
        raise ValueError(
            "options must be a table of reader options, e.g. "
            "options = { union_by_name = true, delim = ';' }"
        )
    if options and read["path"] is None:
        raise ValueError("options apply to file sources (set path)")
    return MappingProxyType(dict(options))


def _warn_after(value: Any, read: dict[str, Any]) -> timedelta | None:
    return _duration("warn_after", value)


def _error_after(value: Any, read: dict[str, Any]) -> timedelta | None:
    error_after = _duration("error_after", value)
    warn_after = read["warn_after"]
    if warn_after is not None and error_after is not None and error_after < warn_after:
        raise ValueError("error_after must not be shorter than warn_after")
    return error_after


def _duration(key: str, value: Any) -> timedelta | None:
    try:
        return parse_duration(value) if value is not None else None
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _loaded_at(value: Any, read: dict[str, Any]) -> str | None:
    """A column, or an expression over the source's columns (`cast(snapshot_date as
    timestamp)`), saying when a row was loaded."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"loaded_at must be a column or an expression, got {value!r}")
    if value is not None and not IDENTIFIER.match(value):
        try:
            validate_expression(value)
        except ValueError as exc:
            raise ValueError(f"loaded_at {value!r}: {exc}") from None
        return " ".join(value.split())
    judged = [k for k in ("warn_after", "error_after") if read[k] is not None]
    if judged and value is None and read["path"] is None:
        key = judged[-1]  # error_after when both are set
        raise ValueError(
            f"{key} needs loaded_at (the column saying when rows were loaded); "
            "file sources use the files' modification times",
            key,
        )
    return value.lower() if value else None


def _partition_by(value: Any, read: dict[str, Any]) -> str | None:
    if value is not None and (not isinstance(value, str) or not IDENTIFIER.match(value)):
        raise ValueError(f"partition_by must be a column name, got {value!r}")
    return value.lower() if value else None


def _grain(value: Any, read: dict[str, Any]) -> Grain:
    path = read["path"]
    implied = _placeholder_grain(path) if path else None
    text = (implied or "day") if value is None else value
    if implied and text != implied:
        raise ValueError(
            f"grain is {text!r} but the path's finest placeholder makes each "
            f'file one {implied}: use grain = "{implied}" (or leave it out)'
        )
    if text not in [g.value for g in Grain]:
        raise ValueError(f"grain must be one of: {', '.join(g.value for g in Grain)}, got {text!r}")
    if value is not None and read["partition_by"] is None and not (path and _has_placeholder(path)):
        raise ValueError("grain needs partition_by (or a path with {date}-style placeholders)")
    return Grain(text)


def _columns(value: Any, read: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    columns = {} if value is None else value
    if not isinstance(columns, dict) or not all(
        IDENTIFIER.match(k) and isinstance(v, str) and _TYPE.match(v) for k, v in columns.items()
    ):
        raise ValueError(
            "columns must map column names to types, e.g. "
            'columns = { id = "BIGINT", amount = "DECIMAL(18,2)" }'
        )
    for column, kind in columns.items():
        problem = type_error(kind)
        if problem:
            raise ValueError(f"columns: {column} = {kind!r}: {problem}")
    return tuple((k.lower(), v.upper()) for k, v in columns.items())


def _text(key: str) -> Validator:
    def validate(value: Any, read: dict[str, Any]) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be text")
        return value

    return validate


def _read_by_partition(value: Any, read: dict[str, Any]) -> bool:
    flag = False if value is None else value
    if not isinstance(flag, bool):
        raise ValueError("read_by_partition must be true or false")
    path = read["path"]
    if flag and not (path and _has_placeholder(path)):
        raise ValueError("read_by_partition needs a path with {date}-style placeholders")
    return flag


def _immutable(value: Any, read: dict[str, Any]) -> bool:
    if value is not None and not isinstance(value, bool):
        raise ValueError("immutable must be true or false")
    return bool(value)


def _column_descriptions(value: Any, read: dict[str, Any]) -> MappingProxyType:
    docs = {} if value is None else value
    if not isinstance(docs, dict) or not all(isinstance(v, str) for v in docs.values()):
        raise ValueError(
            'column_descriptions must map columns to texts: { amount = "in EUR, with tax" }'
        )
    return MappingProxyType({str(k).lower(): v for k, v in docs.items()})


VALIDATORS: dict[str, Validator] = {
    "path": _path,
    "format": _format,
    "options": _options,
    "warn_after": _warn_after,
    "error_after": _error_after,
    "loaded_at": _loaded_at,
    "partition_by": _partition_by,
    "grain": _grain,
    "columns": _columns,
    "owner": _text("owner"),
    "description": _text("description"),
    "column_descriptions": _column_descriptions,
    "read_by_partition": _read_by_partition,
    "immutable": _immutable,
}


def _placeholder_grain(path: str) -> str | None:
    """The period one file holds, from the finest placeholder in its path."""
    for placeholder, grain in (
        ("hour", "hour"),
        ("date", "day"),
        ("month", "month"),
        ("year", "year"),
    ):
        if f"{{{placeholder}}}" in path:
            return grain
    return None


def _has_placeholder(path: str) -> bool:
    return any(f"{{{p}}}" in path for p in PLACEHOLDERS)


def _placeholder_problem(path: str) -> str | None:
    """What is wrong with a path's `{...}` placeholders, if anything. An unknown one would never
    match a file (its readers would wait forever), and `{hour}` alone would make one file count
    for the same hour of every day."""
    accepted = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    for name in re.findall(r"\{([^{}]*)\}", path):
        if name not in PLACEHOLDERS:
            return (
                f"unknown placeholder {{{name}}} in path {path!r}{suggest(name, PLACEHOLDERS)}; "
                f"placeholders: {accepted}"
            )
    if "{hour}" in path and "{date}" not in path:
        return f"path {path!r} has {{hour}} but no {{date}}: an hour's file must name its day too"
    return None


def _format_from_path(path: str) -> str | None:
    for fmt in FORMATS:
        if path.endswith(f".{fmt}") or path.endswith(f".{fmt}.gz"):
            return fmt
    if path.endswith(".jsonl") or path.endswith(".ndjson"):
        return "json"
    return None
