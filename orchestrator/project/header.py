"""The `-- key: value` header: the leading comment lines of a model or a `checks/*.sql` file.

Both kinds of file share one shape (`header_lines`: blank lines allowed, the first line that is
no comment ends it) and each has its own keys: a model's become `Model` fields and checks
(`parse_header`), a check file's name the model it checks (`parse_custom`).

>>> fields, lines = parse_header("-- kind: view\\n-- Note: free text\\nselect 1", "m.sql")
>>> fields["kind"], lines
(<Kind.VIEW: 'view'>, {'kind': 1})
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import PurePath
from types import MappingProxyType

from ..core.errors import ProjectError, suggest
from ..core.partitions import Grain, parse_boundary
from . import checks
from .checks import Check, Severity
from .config import parse_duration
from .model import IDENTIFIER, History, Kind

_HEADER_LINE = re.compile(r"^--\s*(?P<key>[A-Za-z][A-Za-z_-]*(?: [A-Za-z]+)?)\s*:(?P<value>.*)$")
# `-- check unique(id)` or `-- check warn ...` without the colon: a check, not free text
_CHECK_LIKE = re.compile(r"^--\s*check(?:\s+(?:warn|block)\b|\s*\w+\s*\()", re.IGNORECASE)
_CUSTOM_LINE = re.compile(r"^--\s*([a-z_]+)\s*:(.*)$")
# `-- column order_id: what it holds`: a column's description
_COLUMN_DOC = re.compile(r"^--\s*column\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:(?P<value>.*)$")
_CUSTOM_KEYS = ("model", "severity", "description")


def header_lines(text: str) -> Iterator[tuple[int, str]]:
    """The header's comment lines, stripped, with their 1-based line numbers."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            return
        yield number, stripped


# -- a model's header -----------------------------------------------------------------------------


def _one_of(choices: list[str]):
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(
                f"'{value}' is not one of: {', '.join(choices)}{suggest(value, choices)}"
            )
        return value

    return parse


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"'{value}' is not a column name (letters, digits, _)")
    return value.lower()


def _identifiers(value: str) -> tuple[str, ...]:
    items = tuple(_identifier(v.strip()) for v in value.split(",") if v.strip())
    if not items:
        raise ValueError("expected one or more column names separated by commas")
    return items


def _names(value: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [v for v in items if not re.match(r"^[\w.:-]+$", v)]
    if bad or not items:
        raise ValueError(f"'{value}' is not a comma-separated list of names")
    return items


def _text(value: str) -> str:
    if not value:
        raise ValueError("expected a value")
    return value


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false", "yes", "no"):
        raise ValueError(f"'{value}' is not one of: true, false")
    return value.lower() in ("true", "yes")


def _count(value: str) -> int:
    if not value.isdigit() or int(value) > 20:
        raise ValueError(f"'{value}' is not a whole number from 0 to 20")
    return int(value)


def batch_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 100_000:
        raise ValueError(f"'{value}' is not a whole number from 1 to 100000")
    return int(value)


def _duration(value: str) -> timedelta:
    duration = parse_duration(value)
    if not duration:
        raise ValueError(f"'{value}' must be longer than zero")
    return duration


HEADER_KEYS: dict[str, object] = {
    "kind": _one_of([k.value for k in Kind]),
    "partition_by": _identifier,
    "grain": _one_of([g.value for g in Grain]),
    "start": _text,
    "end": _text,
    "unique_key": _identifiers,
    "owner": _text,
    "tags": _names,
    "depends_on": _names,
    "protected": _boolean,
    "forward_only": _boolean,
    "retries": _count,
    "retry_delay": _duration,
    "timeout": _duration,
    "batch_size": batch_size,
    "pre_hook": _text,
    "post_hook": _text,
    "dialect": _one_of(["duckdb", "spark"]),
    "strategy": _one_of(["timestamp", "check"]),
    "updated_at": _identifier,
    "check_cols": _identifiers,
    "hard_deletes": _one_of(["ignore", "invalidate"]),
    "key_audit": _one_of(["block", "warn"]),
    "renderer": _one_of(["ours", "dbt"]),
    "description": _text,
}


def parse_header(text: str, relpath: str) -> tuple[dict, dict[str, int]]:
    """Parse the leading `-- key: value` lines into Model fields, and the line of each key."""
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    found: list[Check] = []
    hooks: dict[str, list[str]] = {}
    described: list[str] = []  # the description, line by line
    columns: dict[str, list[str]] = {}  # each column's description, line by line
    for number, stripped in header_lines(text):
        column = _COLUMN_DOC.match(stripped)
        if column:  # repeatable: the lines of one description
            columns.setdefault(column["name"].lower(), []).append(column["value"].strip())
            continue
        match = _HEADER_LINE.match(stripped)
        if not match:
            if _CHECK_LIKE.match(stripped):
                raise ProjectError(
                    "a check line needs a colon after check or check warn, e.g. "
                    "'-- check: unique(order_id)' or '-- check warn: not_null(amount)'",
                    relpath,
                    number,
                )
            continue
        written, value = match["key"], match["value"].strip()
        key = written.lower().replace("-", "_")
        if not _configuration(written, key, value, relpath, number):
            continue  # prose: "-- GRAIN: One row per contact.", "-- note: ..."
        if key in _CHECK_KEYS:
            severity = "warn" if key == "check warn" else "block"
            try:
                found.append(checks.parse(value, severity, relpath, number))
            except ValueError as exc:
                raise ProjectError(f"bad check: {exc}", relpath, number) from None
            continue
        if key in _HOOK_KEYS:
            hooks.setdefault(key, []).append(value)  # one statement per line, in order
            lines.setdefault(key, number)
            continue
        if key == "description":  # repeatable: its lines
            described.append(value)
            lines.setdefault(key, number)
            continue
        if key in values:
            raise ProjectError(
                f"header key '{key}' given twice (first on line {lines[key]})", relpath, number
            )
        try:
            values[key] = HEADER_KEYS[key](value)  # type: ignore[operator]
        except ValueError as exc:
            raise ProjectError(f"bad value for '{key}': {exc}", relpath, number) from None
        lines[key] = number
    fields = _validate_header(values, lines, relpath)
    fields["checks"] = tuple(found)
    fields["pre_hooks"] = tuple(hooks.get("pre_hook", ()))
    fields["post_hooks"] = tuple(hooks.get("post_hook", ()))
    if described:
        fields["description"] = "\n".join(described).strip()
    if columns:
        fields["column_descriptions"] = MappingProxyType(
            {name: "\n".join(text).strip() for name, text in columns.items()}
        )
    return fields, lines


_CHECK_KEYS = ("check", "check warn", "check block")
_HOOK_KEYS = ("pre_hook", "post_hook")  # repeatable, like checks
# keys whose value is any text: a capitalised `-- Owner: growth team` is prose, whatever it says
_FREE_VALUES = (
    "owner",
    "tags",
    "depends_on",
    "start",
    "end",
    "pre_hook",
    "post_hook",
    "description",
)


def _configuration(written: str, key: str, value: str, relpath: str, number: int) -> bool:
    """Is a `-- word: ...` line of the header configuration (True) or prose (False)?

    Configuration is one of our keys written in lower case. A word with a capital letter
    (`-- GRAIN: One row per contact.`, `-- Note: ...`) is prose, so documentation blocks
    at the top of real models never trip the loader, unless it is plainly a key in the wrong
    case (`-- Kind: incremental`: one of our keys with a value of its kind) or a mistyped key
    (`-- Partiton_by: day`, `-- Started: ...`: a name with `_`, or close to a key). A
    lower-case word that is no key is prose too (`-- note: ...`, `-- see: https://...`),
    unless it is close to one (`-- partiton_by:`, `-- grian:`): a key silently ignored would
    change the data."""
    keys = [*HEADER_KEYS, *_CHECK_KEYS]
    if written != written.lower():
        if key in keys and key not in _FREE_VALUES and _valid(key, value, relpath, number):
            raise ProjectError(
                f"header keys are written in lower case: '-- {key}: {value}' "
                "(a capitalised word starts prose, which the loader ignores)",
                relpath,
                number,
            )
        if key not in keys and ("_" in written or suggest(key, keys, cutoff=0.8)):
            raise ProjectError(_unknown(key, keys), relpath, number)
        return False
    if key in keys:
        return True
    if suggest(key, keys, cutoff=0.8):
        raise ProjectError(_unknown(key, keys), relpath, number)
    return False


def _valid(key: str, value: str, relpath: str, number: int) -> bool:
    try:
        if key in _CHECK_KEYS:
            checks.parse(value, "block", relpath, number)
        else:
            HEADER_KEYS[key](value)  # type: ignore[operator]
    except (ValueError, ProjectError):
        return False
    return True


def _unknown(key: str, keys: list[str]) -> str:
    return (
        f"unknown header key '{key}'{suggest(key, keys, cutoff=0.8)}; accepted keys: "
        f"{', '.join(HEADER_KEYS)}, check, check warn (other words are prose: capitalise them, "
        "or write them after a blank comment line)"
    )


_PARTITION_ONLY = (
    "partition_by",
    "grain",
    "start",
    "end",
    "unique_key",
    "batch_size",
    "forward_only",
)
_HISTORY_KEYS = ("strategy", "updated_at", "check_cols", "hard_deletes")


def _validate_history(
    values: dict, lines: dict[str, int], relpath: str, kind: Kind, fields: dict
) -> None:
    """A snapshot's settings: a unique_key, a strategy and what it needs; nothing else takes
    them, and a snapshot takes no partition settings."""
    if kind is not Kind.SNAPSHOT:
        for key in _HISTORY_KEYS:
            if key in values:
                raise ProjectError(
                    f"'{key}' only applies to snapshots (this model is kind: {kind})",
                    relpath,
                    lines[key],
                )
        return
    for key in _PARTITION_ONLY:
        if key in values and key != "unique_key":
            raise ProjectError(
                f"'{key}' does not apply to a snapshot: it keeps every version of every row "
                "in one table",
                relpath,
                lines[key],
            )
    for key, why in (
        ("unique_key", "the columns that identify a row across versions"),
        (
            "strategy",
            "timestamp (a row changed when its updated_at grew) or check (when one "
            "of check_cols differs)",
        ),
    ):
        if key not in values:
            raise ProjectError(f"a snapshot needs '{key}': {why}", relpath, lines.get("kind"))
    strategy = values["strategy"]
    if strategy == "timestamp" and "updated_at" not in values:
        raise ProjectError(
            "strategy: timestamp needs 'updated_at: <column>' (when each row last changed)",
            relpath,
            lines["strategy"],
        )
    if strategy == "timestamp" and "check_cols" in values:
        raise ProjectError(
            "check_cols applies to strategy: check, not timestamp", relpath, lines["check_cols"]
        )
    if strategy == "check" and "check_cols" not in values:
        raise ProjectError(
            "strategy: check needs 'check_cols: <column>, ...' (or 'check_cols: all')",
            relpath,
            lines["strategy"],
        )
    check_cols = tuple(values.get("check_cols", ()))
    fields["history"] = History(
        strategy,
        values.get("updated_at"),
        () if check_cols == ("all",) else check_cols,
        values.get("hard_deletes", "ignore"),
    )


_AS_WRITTEN = (
    "partition_by",
    "unique_key",
    "owner",
    "tags",
    "depends_on",
    "retries",
    "retry_delay",
    "timeout",
    "protected",
    "forward_only",
    "batch_size",
    "dialect",
    "key_audit",
    "renderer",
)


def _validate_header(values: dict, lines: dict[str, int], relpath: str) -> dict:
    """The rules between keys (what only incremental models take, start before end); each
    value alone was checked as it was read."""
    fields: dict[str, object] = {}
    kind = Kind(values.get("kind", Kind.TABLE))
    fields["kind"] = kind
    grain = Grain(values.get("grain", Grain.DAY))
    fields["grain"] = grain
    _validate_history(values, lines, relpath, kind, fields)  # a snapshot's own rules
    if "key_audit" in values and "unique_key" not in values:
        raise ProjectError(
            "'key_audit' applies to a model with unique_key (a merge model or a snapshot)",
            relpath,
            lines["key_audit"],
        )
    if kind is Kind.SNAPSHOT:
        pass
    elif kind is not Kind.INCREMENTAL:
        for key in _PARTITION_ONLY:
            if key in values:
                raise ProjectError(
                    f"'{key}' only applies to incremental models (this one is kind: {kind}); "
                    "add 'kind: incremental'",
                    relpath,
                    lines[key],
                )
    elif "partition_by" not in values and "unique_key" not in values:
        raise ProjectError(
            "an incremental model needs 'partition_by: <column>' (the column its windows "
            "cover), or 'unique_key' to merge its whole query by key",
            relpath,
            lines.get("kind"),
        )
    elif "partition_by" not in values:
        for key in ("grain", "start", "end", "batch_size", "forward_only"):
            if key in values:
                raise ProjectError(
                    f"'{key}' needs partition_by: without it, an incremental model with "
                    "unique_key merges its whole query (no partitions)",
                    relpath,
                    lines[key],
                )
    for key in ("start", "end"):
        if key in values:
            try:
                fields[key] = parse_boundary(str(values[key]), grain)
            except ValueError as exc:
                raise ProjectError(f"bad value for '{key}': {exc}", relpath, lines[key]) from None
    if "start" in fields and "end" in fields and fields["end"] <= fields["start"]:  # type: ignore[operator]
        raise ProjectError("'end' must be after 'start'", relpath, lines["end"])
    for key in _AS_WRITTEN:
        if key in values:
            fields[key] = values[key]
    return fields


# -- a check file's header ------------------------------------------------------------------------


def parse_custom(text: str, relpath: str) -> tuple[str, Check]:
    """A `checks/<name>.sql` file: (the model it checks, the check). Its header names the model
    (`-- model: marts.revenue_daily`) and may set `-- severity: warn`."""
    model = None
    severity = Severity.BLOCK
    for number, stripped in header_lines(text):
        match = _CUSTOM_LINE.match(stripped)
        if not match:
            continue
        key, value = match[1], match[2].strip()
        if key == "model":
            model = value.lower()
        elif key == "severity":
            if value not in (Severity.BLOCK, Severity.WARN):
                raise ProjectError(
                    f"bad value for 'severity': '{value}' is not one of: block, warn",
                    relpath,
                    number,
                )
            severity = Severity(value)
        elif key != "description" and suggest(key, _CUSTOM_KEYS, cutoff=0.8):
            # a near miss would drop the check's model or severity; other words are prose
            raise ProjectError(
                f"unknown header key '{key}'{suggest(key, _CUSTOM_KEYS, cutoff=0.8)}; "
                "accepted keys: model, severity, description",
                relpath,
                number,
            )
    if not model:
        raise ProjectError(
            "a check file needs '-- model: <schema.name>' naming the model it checks", relpath, 1
        )
    name = PurePath(relpath).stem
    return model, Check(name=name, kind="custom", severity=severity, path=relpath, template=text)
