"""The project on disk: `orchestrator.toml`, model files and their headers, as frozen values.

A model is `models/<schema>/<name>.sql` (deeper folders allowed, the first folder is the schema)
named `<schema>.<name>`. Its optional header is the leading `-- key: value` comment lines. Nothing
here touches the warehouse; parsing the SQL itself is `sql.analyze`'s job.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from . import checks as checks_mod
from . import jobs
from .cache import AnalysisCache
from .checks import Check
from .errors import ProjectError, suggest
from .jobs import Operations
from .partitions import Grain, Window, parse_boundary

CONFIG_FILE = "orchestrator.toml"
STATE_SCHEMA = "orchestrator"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_LINE = re.compile(r"^--\s*(?P<key>[A-Za-z][A-Za-z_-]*(?: [A-Za-z]+)?)\s*:(?P<value>.*)$")
# `-- check unique(id)` or `-- check warn ...` without the colon: a check, not free text
_CHECK_LIKE = re.compile(r"^--\s*check(?:\s+(?:warn|block)\b|\s*\w+\s*\()", re.IGNORECASE)


class Kind(StrEnum):
    VIEW = "view"
    TABLE = "table"
    INCREMENTAL = "incremental"


@dataclass(frozen=True)
class Source:
    """An external relation models read. With `path` it is a set of files the orchestrator
    exposes as a view named `name`; without, a table something else loads into the warehouse."""

    name: str
    path: str | None = None
    format: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    owner: str | None = None
    description: str | None = None
    loaded_at: str | None = None  # column holding when a row was loaded (freshness)
    warn_after: timedelta | None = None
    error_after: timedelta | None = None
    partition_by: str | None = None  # arrival is judged per window of this column
    grain: Grain = Grain.DAY
    columns: tuple[tuple[str, str], ...] = ()  # declared schema: drift blocks readers
    read_by_partition: bool = False  # a partition task reads only its window's files

    @property
    def partitioned(self) -> bool:
        return self.partition_by is not None or bool(
            self.path and any(f"{{{p}}}" in self.path for p in PLACEHOLDERS)
        )


@dataclass(frozen=True)
class Settings:
    root: Path
    warehouse: Path
    default_schema: str = "main"
    threads: int | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    retries: int = 2  # extra attempts after a transient error (models may override)
    retry_delay: timedelta = timedelta(seconds=5)  # before the first retry; doubles each time
    retry_max_delay: timedelta = timedelta(minutes=5)
    timeout: timedelta | None = None  # per task (models may override)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE


@dataclass(frozen=True)
class Model:
    """One model file: its header settings and what parsing its SQL found."""

    name: str
    schema: str
    table: str
    path: Path
    relpath: str
    template: str
    kind: Kind = Kind.TABLE
    partition_by: str | None = None
    grain: Grain = Grain.DAY
    start: datetime | None = None
    end: datetime | None = None
    unique_key: tuple[str, ...] = ()
    owner: str | None = None
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    header_lines: Mapping[str, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    protected: bool = False  # only admins may write it (when [access] is configured)
    retries: int | None = None  # None: the project's default
    retry_delay: timedelta | None = None
    timeout: timedelta | None = None
    batch_size: int | None = None  # partitions one task writes at once (None: one)
    tables: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()
    version: str = ""

    @property
    def partitioned(self) -> bool:
        return self.kind is Kind.INCREMENTAL

    @property
    def layout(self) -> str:
        """The settings that fix the table's physical shape; a change means rebuilding it whole."""
        return "|".join(
            [
                self.kind,
                self.partition_by or "",
                self.grain if self.partitioned else "",
                ",".join(self.unique_key),
            ]
        )

    @property
    def relation(self) -> str:
        """The quoted relation name to use in SQL."""
        return f'"{self.schema}"."{self.table}"'

    def window_literals(self, window: Window | None, this: str | None = None) -> dict[str, str]:
        """What `{{ start }}`, `{{ end }}` and `{{ this }}` (the relation written) render to."""
        literals = {"start": "NULL", "end": "NULL", "this": this or self.relation}
        if window is not None:
            literals["start"] = window.literal(window.start)
            literals["end"] = window.literal(window.end)
        return literals


@dataclass(frozen=True)
class Project:
    settings: Settings
    models: Mapping[str, Model]
    sources: Mapping[str, Source]
    ops: Operations = field(default_factory=Operations)

    @property
    def root(self) -> Path:
        return self.settings.root


# -- settings -------------------------------------------------------------------------------------

_SETTINGS_KEYS = {
    "warehouse",
    "default_schema",
    "threads",
    "vars",
    "sources",
    "retries",
    "retry_delay",
    "retry_max_delay",
    "timeout",
    "jobs",
    "owners",
    "access",
}
_SOURCE_KEYS = {
    "path",
    "format",
    "options",
    "owner",
    "description",
    "loaded_at",
    "warn_after",
    "error_after",
    "partition_by",
    "grain",
    "columns",
    "read_by_partition",
}
PLACEHOLDERS = ("date", "month", "year", "hour")  # in a source path: the period a file holds
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")
_SOURCE_FORMATS = {"csv", "parquet", "json"}


def load_settings(root: Path, warehouse: Path | str | None = None) -> tuple[Settings, dict]:
    """Read `orchestrator.toml` (optional) into Settings; return the raw table too."""
    root = root.resolve()
    config_path = root / CONFIG_FILE
    raw: dict = {}
    text = ""
    if config_path.exists():
        try:
            text = config_path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"invalid TOML: {exc}", config_path) from None
        except UnicodeDecodeError:
            raise ProjectError("not UTF-8 text", config_path) from None

    def fail(message: str, key: str | None = None) -> ProjectError:
        return ProjectError(message, config_path, config_line(text, (), key) if key else None)

    unknown = sorted(set(raw) - _SETTINGS_KEYS)
    if unknown:
        raise fail(
            f"unknown setting '{unknown[0]}'{suggest(unknown[0], _SETTINGS_KEYS)}; "
            f"accepted: {', '.join(sorted(_SETTINGS_KEYS))}",
            unknown[0],
        )
    schema = raw.get("default_schema", "main")
    if not isinstance(schema, str) or not _IDENT.match(schema):
        raise fail(f"default_schema must be an identifier, got {schema!r}", "default_schema")
    threads = raw.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise fail(f"threads must be a positive integer, got {threads!r}", "threads")
    retries = raw.get("retries", 2)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 20:
        raise fail(f"retries must be a whole number from 0 to 20, got {retries!r}", "retries")
    durations = {}
    for key, default in (("retry_delay", "5s"), ("retry_max_delay", "5m"), ("timeout", None)):
        value = raw.get(key, default)
        try:
            durations[key] = parse_duration(value) if value is not None else None
        except ValueError as exc:
            raise fail(f"{key}: {exc}", key) from None
        if durations[key] is not None and not durations[key]:
            # a zero timeout would time out every task at once, a zero delay hammer a fault
            raise fail(f"{key}: {value!r} must be longer than zero", key)
    variables = raw.get("vars", {})
    if not isinstance(variables, dict):
        raise fail("[vars] must be a table of name = value", "vars")
    location = (
        warehouse
        or os.environ.get("ORCHESTRATOR_WAREHOUSE")
        or raw.get("warehouse", "warehouse.duckdb")
    )
    if not isinstance(location, str | Path) or not str(location):
        raise fail(f"warehouse must be a file path, got {location!r}", "warehouse")
    path = Path(location)
    settings = Settings(
        root=root,
        warehouse=path if path.is_absolute() else root / path,
        default_schema=schema.lower(),
        threads=threads,
        vars=MappingProxyType({str(k): str(v) for k, v in variables.items()}),
        retries=retries,
        retry_delay=durations["retry_delay"],
        retry_max_delay=durations["retry_max_delay"],
        timeout=durations["timeout"],
    )
    return settings, raw


_TABLE_LINE = re.compile(r"^\s*\[(?!\[)(?P<path>.*)\]\s*(#.*)?$")


def _table_path(line: str) -> tuple[str, ...] | None:
    """The key path a `[table.header]` line opens (TOML itself unquotes it), else None."""
    match = _TABLE_LINE.match(line)
    if not match:
        return None
    try:
        node = tomllib.loads(f"[{match['path']}]")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
    return tuple(path)


def config_line(text: str, table: tuple[str, ...], key: str | None = None) -> int | None:
    """The line of `key = ...` inside the TOML table `table` (without key: the table's header),
    so an error points at the setting, not at the first mention of its name (a comment, another
    table). A table written inline (`"raw.x" = { ... }` under its parent) is its key's line.

    >>> toml = '# [jobs.a] cron = ?\\n[jobs.b]\\ncron = 1\\n[jobs.a]  # a\\n cron = 2'
    >>> config_line(toml, ("jobs", "a"), "cron"), config_line(toml, ("jobs", "a"))
    (5, 4)
    """
    lines = text.splitlines()
    headers = [(n, path) for n, line in enumerate(lines) if (path := _table_path(line)) is not None]
    if key is not None:  # [table.key] as a table of its own
        own = [n for n, path in headers if path == (*table, key)]
        if own:
            return own[0] + 1
    start = 0
    if table:
        opened = [n for n, path in headers if path == table]
        if not opened:
            return config_line(text, table[:-1], table[-1])
        start = opened[0] + 1  # the first line of the table's body; 1-based, its header
    if key is None:
        return start or None
    end = next((n for n, _ in headers if n >= start), len(lines))
    written = "|".join(re.escape(k) for k in (key, f'"{key}"', f"'{key}'"))
    setting = re.compile(rf"^\s*({written})\s*[.=]")
    for number in range(start, end):
        if setting.match(lines[number]):
            return number + 1
    return start or None


MAX_DURATION = timedelta(days=3650)
"""The longest duration a setting may hold: longer ones are typos, and some (a timer of 300 years)
overflow the clock they are handed to."""

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> timedelta:
    """'90s', '30m', '6h', '2d', '1h30m' -> timedelta, at most MAX_DURATION.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration like '30m', '6h' or '2d'")
    parts = re.findall(r"(\d+)\s*([smhd])", text.strip().lower())
    if not parts or re.sub(r"(\d+)\s*([smhd])", "", text.strip().lower()).strip():
        raise ValueError(f"{text!r} is not a duration like '30m', '6h' or '2d'")
    limit = int(MAX_DURATION.total_seconds())
    # digits are counted first: a number of thousands of digits is no duration either
    if any(len(amount.lstrip("0")) > 12 for amount, _ in parts) or (
        sum(int(amount) * _UNIT_SECONDS[u] for amount, u in parts) > limit
    ):
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise ValueError(f"{shown!r} is too long: at most {MAX_DURATION.days}d")
    return timedelta(seconds=sum(int(amount) * _UNIT_SECONDS[u] for amount, u in parts))


def _load_sources(raw: dict, config_path: Path, text: str) -> dict[str, Source]:
    tables = raw.get("sources", {})
    if not isinstance(tables, dict):
        raise ProjectError('[sources] must be tables like [sources."raw.orders"]', config_path)
    sources: dict[str, Source] = {}
    for name, spec in tables.items():

        def fail(message: str, key: str | None = None, name=name) -> ProjectError:
            at = config_line(text, ("sources", name), key)
            return ProjectError(f"source '{name}': {message}", config_path, at)

        parts = name.lower().split(".")
        if len(parts) != 2 or not all(_IDENT.match(p) for p in parts):
            raise fail('the name must be schema.table, e.g. [sources."raw.orders"]')
        if not isinstance(spec, dict):
            raise fail("must be a table of settings")
        unknown = sorted(set(spec) - _SOURCE_KEYS)
        if unknown:
            raise fail(
                f"unknown setting '{unknown[0]}'{suggest(unknown[0], _SOURCE_KEYS)}; "
                f"accepted: {', '.join(sorted(_SOURCE_KEYS))}",
                unknown[0],
            )
        fmt = spec.get("format")
        path = spec.get("path")
        if path is not None and not isinstance(path, str):
            raise fail("path must be a file path or glob", "path")
        if path is not None:
            problem = _placeholder_problem(path)
            if problem:
                raise fail(problem, "path")
        if path is not None and fmt is None:
            fmt = _format_from_path(path)
            if fmt is None:
                raise fail(
                    f"cannot tell the format of {path!r}; set format = one of "
                    f"{', '.join(sorted(_SOURCE_FORMATS))}",
                    "path",
                )
        if fmt is not None and fmt not in _SOURCE_FORMATS:
            raise fail(
                f"format must be one of {', '.join(sorted(_SOURCE_FORMATS))}, got {fmt!r}", "format"
            )
        options = spec.get("options", {})
        if not isinstance(options, dict) or not all(
            _IDENT.match(k) and isinstance(v, str | int | float | bool) for k, v in options.items()
        ):
            raise fail(
                "options must be a table of reader options, e.g. "
                "options = { union_by_name = true, delim = ';' }",
                "options",
            )
        if options and path is None:
            raise fail("options apply to file sources (set path)", "options")
        durations = {}
        for key in ("warn_after", "error_after"):
            if key in spec:
                try:
                    durations[key] = parse_duration(spec[key])
                except ValueError as exc:
                    raise fail(f"{key}: {exc}", key) from None
        if (
            "warn_after" in durations
            and "error_after" in durations
            and (durations["error_after"] < durations["warn_after"])
        ):
            raise fail("error_after must not be shorter than warn_after", "error_after")
        loaded_at = spec.get("loaded_at")
        if loaded_at is not None and (
            not isinstance(loaded_at, str) or not _IDENT.match(loaded_at)
        ):
            raise fail(f"loaded_at must be a column name, got {loaded_at!r}", "loaded_at")
        if durations and loaded_at is None and path is None:
            key = "error_after" if "error_after" in durations else "warn_after"
            raise fail(
                f"{key} needs loaded_at (the column saying when rows were loaded); "
                "file sources use the files' modification times",
                key,
            )
        partition_by = spec.get("partition_by")
        if partition_by is not None and (
            not isinstance(partition_by, str) or not _IDENT.match(partition_by)
        ):
            raise fail(f"partition_by must be a column name, got {partition_by!r}", "partition_by")
        implied = _placeholder_grain(path) if path else None
        grain_text = spec.get("grain", implied or "day")
        if implied and grain_text != implied:
            raise fail(
                f"grain is {grain_text!r} but the path's finest placeholder makes each "
                f'file one {implied}: use grain = "{implied}" (or leave it out)',
                "grain",
            )
        if grain_text not in [g.value for g in Grain]:
            raise fail(
                f"grain must be one of: {', '.join(g.value for g in Grain)}, got {grain_text!r}",
                "grain",
            )
        if "grain" in spec and partition_by is None and not (path and _has_placeholder(path)):
            raise fail(
                "grain needs partition_by (or a path with {date}-style placeholders)", "grain"
            )
        columns = spec.get("columns", {})
        if not isinstance(columns, dict) or not all(
            _IDENT.match(k) and isinstance(v, str) and _TYPE.match(v) for k, v in columns.items()
        ):
            raise fail(
                "columns must map column names to types, e.g. "
                'columns = { id = "BIGINT", amount = "DECIMAL(18,2)" }',
                "columns",
            )
        for column, kind in columns.items():
            problem = checks_mod.type_error(kind)
            if problem:
                raise fail(f"columns: {column} = {kind!r}: {problem}", "columns")
        for key in ("owner", "description"):
            if key in spec and not isinstance(spec[key], str):
                raise fail(f"{key} must be text", key)
        read_by_partition = spec.get("read_by_partition", False)
        if not isinstance(read_by_partition, bool):
            raise fail("read_by_partition must be true or false", "read_by_partition")
        if read_by_partition and not (path and _has_placeholder(path)):
            raise fail(
                "read_by_partition needs a path with {date}-style placeholders", "read_by_partition"
            )
        sources[name.lower()] = Source(
            name=name.lower(),
            path=path,
            format=fmt,
            options=MappingProxyType(dict(options)),
            owner=spec.get("owner"),
            description=spec.get("description"),
            loaded_at=loaded_at.lower() if loaded_at else None,
            warn_after=durations.get("warn_after"),
            error_after=durations.get("error_after"),
            partition_by=partition_by.lower() if partition_by else None,
            grain=Grain(grain_text),
            columns=tuple((k.lower(), v.upper()) for k, v in columns.items()),
            read_by_partition=read_by_partition,
        )
    return sources


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
    for fmt in _SOURCE_FORMATS:
        if path.endswith(f".{fmt}") or path.endswith(f".{fmt}.gz"):
            return fmt
    if path.endswith(".jsonl") or path.endswith(".ndjson"):
        return "json"
    return None


# -- models ---------------------------------------------------------------------------------------


def load_operations(
    root: Path | str, warehouse: Path | str | None = None
) -> tuple[Settings, Operations]:
    """Settings, jobs, owners and access without reading any model (for light commands)."""
    settings, raw = load_settings(Path(root), warehouse)
    text = settings.config_path.read_text(encoding="utf-8") if settings.config_path.exists() else ""
    sources = _load_sources(raw, settings.config_path, text)
    return settings, jobs.parse(raw, settings.config_path, text, sources)


def load(root: Path | str, warehouse: Path | str | None = None) -> Project:
    """Read the whole project: settings, sources and every model (headers parsed, SQL analysed)."""
    settings, raw = load_settings(Path(root), warehouse)
    config_text = (
        settings.config_path.read_text(encoding="utf-8") if settings.config_path.exists() else ""
    )
    sources = _load_sources(raw, settings.config_path, config_text)
    models: dict[str, Model] = {}
    models_dir = settings.root / "models"
    paths = sorted(models_dir.rglob("*.sql")) if models_dir.is_dir() else []
    cache = AnalysisCache(settings.root)
    for path in paths:
        rel = _relative(path, settings.root)
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        model = load_model(path, settings, cache)
        if model.name in models:
            raise ProjectError(
                f"model {model.name} is defined twice: {models[model.name].relpath} and {rel}",
                rel,
            )
        if model.name in sources:
            raise ProjectError(
                f"model {model.name} has the name of a declared source in {CONFIG_FILE}", rel
            )
        models[model.name] = model
    _attach_custom_checks(settings, models, cache)
    cache.save()
    for name, model in models.items():
        read = _sources_read(model, models, sources, settings.default_schema)
        if read:
            models[name] = _replace(model, version=_with_sources(model.version, read))
    ops = jobs.parse(raw, settings.config_path, config_text, sources)
    for name, model in models.items():
        if model.owner is None:
            folder_owner = ops.owner_of_folder(model.relpath)
            if folder_owner:
                models[name] = _replace(model, owner=folder_owner)
    return Project(settings, MappingProxyType(models), MappingProxyType(sources), ops)


def _sources_read(
    model: Model, models: Mapping[str, Model], sources: Mapping[str, Source], default_schema: str
) -> list[Source]:
    """The declared sources a model's SQL reads. An unqualified name that is no model may be
    found in the model's schema or the default one (the search path), so both count."""
    found: dict[str, None] = {}
    for ref in model.tables:
        parts = ref.split(".")[-2:]
        if len(parts) == 2:
            candidates = [".".join(parts)]
        else:
            candidates = [f"{model.schema}.{ref}", f"{default_schema}.{ref}"]
            if any(c in models for c in candidates):
                continue
        found.update((c, None) for c in candidates if c in sources)
    return [sources[name] for name in sorted(found)]


def _with_sources(version: str, read: list[Source]) -> str:
    """A model's version with the settings of the sources it reads folded in: pointing a source
    at other files (or reading them with other options or types) changes the model's data."""
    settings = [[s.name, s.path, s.format, dict(s.options), s.columns] for s in read]
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(f"{version}|{text}".encode()).hexdigest()[:12]


def _attach_custom_checks(
    settings: Settings, models: dict[str, Model], cache: AnalysisCache
) -> None:
    """`checks/**/*.sql`: each names the model it checks and returns the rows that violate it."""
    from dataclasses import replace

    folder = settings.root / "checks"
    for path in sorted(folder.rglob("*.sql")) if folder.is_dir() else []:
        relpath = str(path.relative_to(settings.root))
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ProjectError("file is not UTF-8 text", relpath) from None
        target, check = checks_mod.parse_custom(text, relpath)
        if "." not in target:
            target = f"{settings.default_schema}.{target}"
        if target not in models:
            raise ProjectError(
                f"model: no model named '{target}'{suggest(target, models)}", relpath, 1
            )
        model = models[target]
        probe = Window.containing(datetime(2000, 1, 1), model.grain)
        analysis = cache.analyze(text, relpath, model.window_literals(probe))
        tables = tuple(t for t in analysis.tables if t not in (model.name, model.table))
        models[target] = replace(
            model, checks=(*model.checks, replace(check, tables=tables, vars=analysis.vars))
        )


def model_name(path: Path, settings: Settings) -> tuple[str, str]:
    """(schema, table) for a model file: the first folder under models/ is the schema."""
    rel = _relative(path, settings.root / "models").split("/")
    schema = rel[0] if len(rel) > 1 else settings.default_schema
    return schema.lower(), path.stem.lower()


def _relative(path: Path, root: Path) -> str:
    """`path` under `root`, as a '/'-separated string (Path.relative_to costs more than the
    rest of a cached model load)."""
    text, prefix = path.as_posix(), root.as_posix().rstrip("/") + "/"
    return text[len(prefix) :] if text.startswith(prefix) else path.relative_to(root).as_posix()


def load_model(path: Path, settings: Settings, cache: AnalysisCache | None = None) -> Model:
    relpath = _relative(path, settings.root)
    schema, table = model_name(path, settings)
    for part, what in ((schema, "folder"), (table, "file name")):
        if not _IDENT.match(part):
            raise ProjectError(
                f"{what} '{part}' is not a SQL identifier (letters, digits, _): rename it", relpath
            )
    if schema == STATE_SCHEMA:
        raise ProjectError(
            f"the schema '{STATE_SCHEMA}' is reserved for run state; use another folder", relpath
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ProjectError("file is not UTF-8 text", relpath, line) from None
    text = text.removeprefix("\ufeff")  # a byte order mark is not part of the header
    header, lines = parse_header(text, relpath)
    model = Model(
        name=f"{schema}.{table}",
        schema=schema,
        table=table,
        path=path,
        relpath=relpath,
        template=text,
        header_lines=MappingProxyType(lines),
        **header,
    )
    probe = Window.containing(datetime(2000, 1, 1), model.grain)
    literals = model.window_literals(probe)
    analysis = (cache or AnalysisCache(None)).analyze(text, relpath, literals)
    if analysis.window_use and not model.partitioned:
        name, line = analysis.window_use
        raise ProjectError(
            f"{{{{ {name} }}}} is the partition window of an incremental model, but this one is "
            f"kind: {model.kind} (built whole), so it would be NULL: add 'kind: incremental' "
            "and 'partition_by', or leave the window out",
            relpath,
            line,
        )
    version = hashlib.sha256(f"{analysis.sql_hash}|{model.layout}".encode()).hexdigest()[:12]
    return _replace(
        model,
        tables=analysis.tables,
        files=analysis.files,
        vars=analysis.vars,
        version=version,
    )


def _replace(model: Model, **changes) -> Model:
    from dataclasses import replace

    return replace(model, **changes)


# -- the header -----------------------------------------------------------------------------------


def _one_of(choices: list[str]):
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(
                f"'{value}' is not one of: {', '.join(choices)}{suggest(value, choices)}"
            )
        return value

    return parse


def _identifier(value: str) -> str:
    if not _IDENT.match(value):
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
    "retries": _count,
    "retry_delay": _duration,
    "timeout": _duration,
    "batch_size": batch_size,
}


def parse_header(text: str, relpath: str) -> tuple[dict, dict[str, int]]:
    """Parse the leading `-- key: value` lines into Model fields, and the line of each key."""
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    found: list[Check] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
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
        if key in ("check", "check warn", "check block"):
            severity = "warn" if key == "check warn" else "block"
            try:
                found.append(checks_mod.parse(value, severity, relpath, number))
            except ValueError as exc:
                raise ProjectError(f"bad check: {exc}", relpath, number) from None
            continue
        if key not in HEADER_KEYS and _free_text(written, key):
            continue  # free text such as "-- Note: ..." or "-- TODO: ..."
        if key not in HEADER_KEYS:
            raise ProjectError(
                f"unknown header key '{key}'{suggest(key, [*HEADER_KEYS, 'check'])}; "
                f"accepted keys: {', '.join(HEADER_KEYS)}, check, check warn",
                relpath,
                number,
            )
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
    return fields, lines


def _free_text(written: str, key: str) -> bool:
    """Is an unknown `-- Word: ...` line a comment? Capitalised words are, unless they look like
    a mistyped key (`Partiton_by`, `Started`): a key that is silently ignored changes the data.
    A closer match is asked of capitalised words than of lower-case ones, so that `-- Created:`
    or `-- Status:` stay comments."""
    if not written[0].isupper() or "_" in written or "-" in written:
        return False
    return not suggest(key, [*HEADER_KEYS, "check"], cutoff=0.8)


def _validate_header(values: dict, lines: dict[str, int], relpath: str) -> dict:
    fields: dict[str, object] = {}
    kind = Kind(values.get("kind", Kind.TABLE))
    fields["kind"] = kind
    grain = Grain(values.get("grain", Grain.DAY))
    fields["grain"] = grain
    partition_only = ["partition_by", "grain", "start", "end", "unique_key", "batch_size"]
    if kind is not Kind.INCREMENTAL:
        for key in partition_only:
            if key in values:
                raise ProjectError(
                    f"'{key}' only applies to incremental models (this one is kind: {kind}); "
                    "add 'kind: incremental'",
                    relpath,
                    lines[key],
                )
    elif "partition_by" not in values:
        raise ProjectError(
            "an incremental model needs 'partition_by: <column>' (the column its windows cover)",
            relpath,
            lines.get("kind"),
        )
    for key in ("start", "end"):
        if key in values:
            try:
                fields[key] = parse_boundary(str(values[key]), grain)
            except ValueError as exc:
                raise ProjectError(f"bad value for '{key}': {exc}", relpath, lines[key]) from None
    if "start" in fields and "end" in fields and fields["end"] <= fields["start"]:  # type: ignore[operator]
        raise ProjectError("'end' must be after 'start'", relpath, lines["end"])
    for key in (
        "partition_by",
        "unique_key",
        "owner",
        "tags",
        "depends_on",
        "retries",
        "retry_delay",
        "timeout",
        "protected",
        "batch_size",
    ):
        if key in values:
            fields[key] = values[key]
    return fields
