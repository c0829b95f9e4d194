"""Reading `orchestrator.toml`: the project-wide settings, durations, and the line of a setting.

Every table of the file (`[sources]`, `[jobs]`, `[owners]`, `[access]`) is checked by its own
module; they share `config_line`, so that every error points at the setting that holds the
mistake, and `parse_duration`, so that '30m' means the same everywhere.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from ..core.errors import ProjectError, suggest
from ..core.partitions import parse_point
from .model import CONFIG_FILE, IDENTIFIER, EngineSettings, Settings

SETTINGS_KEYS = {
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
    "steps",
    "owners",
    "access",
    "defaults",
    "serve",
    "seeds",
    "hooks",
    "engine",
    "exports",
}
DEFAULTS_KEYS = ("start",)


def read_config(root: Path) -> tuple[dict, str]:
    """The parsed TOML table of `root/orchestrator.toml` and its text (both empty without one)."""
    config_path = root / CONFIG_FILE
    if not config_path.exists():
        return {}, ""
    try:
        text = config_path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"invalid TOML: {exc}", config_path) from None
    except UnicodeDecodeError:
        raise ProjectError("not UTF-8 text", config_path) from None


def load_settings(root: Path, warehouse: Path | str | None = None) -> tuple[Settings, dict]:
    """Read `orchestrator.toml` (optional) into Settings; return the raw table too."""
    root = root.resolve()
    config_path = root / CONFIG_FILE
    raw, text = read_config(root)

    def fail(message: str, key: str | None = None, table: tuple[str, ...] = ()) -> ProjectError:
        line = config_line(text, table, key) if key or table else None
        return ProjectError(message, config_path, line)

    unknown = sorted(set(raw) - SETTINGS_KEYS)
    if unknown:
        raise fail(
            f"unknown setting '{unknown[0]}'{suggest(unknown[0], SETTINGS_KEYS)}; "
            f"accepted: {', '.join(sorted(SETTINGS_KEYS))}",
            unknown[0],
        )
    schema = raw.get("default_schema", "main")
    if not isinstance(schema, str) or not IDENTIFIER.match(schema):
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
    default_start = _default_start(raw.get("defaults", {}), fail)
    serve_copy, serve_schemas = _serve(raw.get("serve", {}), root, fail)
    on_run_start, on_run_end = _hooks(raw.get("hooks", {}), fail)
    engine = _engine(raw.get("engine", {}), fail)
    location = (
        warehouse
        or os.environ.get("ORCHESTRATOR_WAREHOUSE")
        or raw.get("warehouse", "warehouse.duckdb")
    )
    if not isinstance(location, str | Path) or not str(location):
        raise fail(f"warehouse must be a file path, got {location!r}", "warehouse")
    path = Path(location)
    path = path if path.is_absolute() else root / path
    if engine.kind == "spark":
        # the data lives in warehouse_dir, and so does the state: its journal, and the DuckDB
        # file the tool queries it through (the `warehouse` key names DuckDB's warehouse)
        directory = Path(engine.warehouse_dir or "spark-warehouse")
        directory = directory if directory.is_absolute() else root / directory
        engine = replace(engine, warehouse_dir=str(directory))
        if not (warehouse or os.environ.get("ORCHESTRATOR_WAREHOUSE")):
            path = directory / "_orchestrator" / "state.duckdb"
    settings = Settings(
        root=root,
        warehouse=path,
        default_schema=schema.lower(),
        threads=threads,
        vars=MappingProxyType({str(k): str(v) for k, v in variables.items()}),
        retries=retries,
        retry_delay=durations["retry_delay"],
        retry_max_delay=durations["retry_max_delay"],
        timeout=durations["timeout"],
        default_start=default_start,
        serve_copy=serve_copy,
        serve_schemas=serve_schemas,
        on_run_start=on_run_start,
        on_run_end=on_run_end,
        engine=engine,
    )
    return settings, raw


ENGINE_KEYS = ("kind", "master", "remote", "warehouse_dir", "conf")


def _table(value: object, name: str, keys: Sequence[str], example: str, fail) -> dict:
    """A `[name]` table of orchestrator.toml with only `keys` in it (a mistake names its line)."""
    if not isinstance(value, dict):
        raise fail(f"[{name}] must be a table, e.g. [{name}] {example}", name)
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise fail(
            f"[{name}]: unknown setting '{unknown[0]}'{suggest(unknown[0], keys)}; "
            f"accepted: {', '.join(keys)}",
            unknown[0],
            (name,),
        )
    return value


def _engine(spec: object, fail) -> EngineSettings:
    """`[engine]`, with ORCHESTRATOR_ENGINE (what `--engine` sets) overriding its kind."""
    spec = _table(spec, "engine", ENGINE_KEYS, 'kind = "spark"', fail)
    kind = os.environ.get("ORCHESTRATOR_ENGINE") or spec.get("kind", "duckdb")
    if kind not in ("duckdb", "spark"):
        raise fail(f"[engine] kind must be duckdb or spark, got {kind!r}", "kind", ("engine",))
    texts = {}
    for key in ("master", "remote", "warehouse_dir"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(f"[engine] {key} must be text", key, ("engine",))
        texts[key] = value
    if texts["master"] and texts["remote"]:
        raise fail("[engine]: give master or remote, not both", "remote", ("engine",))
    remote = texts["remote"]
    if remote and not remote.startswith("sc://"):
        raise fail(
            f"[engine] remote must be a Spark Connect URL (sc://host:15002), got {remote!r}",
            "remote",
            ("engine",),
        )
    master = texts["master"]
    if master and not (master.startswith(("local", "spark://", "yarn", "k8s://"))):
        raise fail(
            "[engine] master must be local[N], spark://host:port, yarn or k8s://..., "
            f"got {master!r}",
            "master",
            ("engine",),
        )
    conf = spec.get("conf", {})
    if not isinstance(conf, dict):
        raise fail(
            '[engine] conf must be a table, e.g. conf = { "spark.sql.shuffle.partitions" = "4" }',
            "conf",
            ("engine",),
        )
    return EngineSettings(
        kind=kind,
        master=master,
        remote=remote,
        warehouse_dir=texts["warehouse_dir"],
        conf=MappingProxyType({str(k): str(v) for k, v in conf.items()}),
    )


def _hooks(hooks: object, fail) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`[hooks] on_run_start = ["..."]`, `on_run_end = [...]`: SQL statements a run executes
    before its first task and after its last."""
    hooks = _table(hooks, "hooks", ("on_run_start", "on_run_end"), 'on_run_end = ["..."]', fail)
    found = []
    for key in ("on_run_start", "on_run_end"):
        value = hooks.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise fail(f"[hooks] {key} must be a list of SQL statements", key, ("hooks",))
        found.append(tuple(v.strip() for v in value))
    return found[0], found[1]


def _serve(serve: object, root: Path, fail) -> tuple[Path | None, tuple[str, ...]]:
    """`[serve] copy = "serving.duckdb"` (and optionally `schemas = [...]`): the read-only copy
    a successful run leaves for dashboards."""
    serve = _table(serve, "serve", ("copy", "schemas"), 'copy = "serving.duckdb"', fail)
    copy = serve.get("copy")
    if copy is None:
        if "schemas" in serve:
            raise fail('[serve] schemas needs copy = "FILE" too', "schemas", ("serve",))
        return None, ()
    if not isinstance(copy, str) or not copy.endswith(".duckdb"):
        raise fail(f"[serve] copy must be a .duckdb file name, got {copy!r}", "copy", ("serve",))
    schemas = serve.get("schemas", [])
    if not isinstance(schemas, list) or not all(
        isinstance(s, str) and IDENTIFIER.match(s) for s in schemas
    ):
        raise fail(
            '[serve] schemas must be a list of schema names, e.g. ["marts"]', "schemas", ("serve",)
        )
    path = Path(copy)
    return (path if path.is_absolute() else root / path), tuple(s.lower() for s in schemas)


def _default_start(defaults: object, fail) -> str | None:
    """`[defaults] start`: the first partition of incremental models whose header has none."""
    defaults = _table(defaults, "defaults", DEFAULTS_KEYS, 'start = "2026-01-01"', fail)
    start = defaults.get("start")
    if start is None:
        return None
    text = start.isoformat() if hasattr(start, "isoformat") else start
    if not isinstance(text, str):
        raise fail(
            f'[defaults] start must be a date such as "2026-01-01", got {start!r}',
            "start",
            ("defaults",),
        )
    try:
        parse_point(text)
    except ValueError as exc:
        raise fail(f"[defaults] start: {exc}", "start", ("defaults",)) from None
    return text


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
