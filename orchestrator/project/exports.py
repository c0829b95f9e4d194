"""`[exports.NAME]` of `orchestrator.toml`: what a run writes out of the warehouse once a model's
partitions are published and passed their blocking checks. Parsing only, into `model.Export`
values; the first mistake is one error naming its line.

```toml
[exports.finance_revenue]
model = "marts.revenue_daily"             # a model, as selectors name it
path = "exports/revenue/{date}.parquet"   # a file per partition ({date} {month} {year} {hour})
format = "parquet"                        # parquet | csv | json (default: from the extension)
query = "select day, revenue from {{ this }}"   # optional; {{ start }}, {{ end }} too
owner = "finance"                         # alerted when it fails

[exports.to_reporting]
model = "marts.revenue_daily"
database = "reporting.duckdb"             # another DuckDB (or SQLite) file
table = "finance.revenue"
per = "whole"                             # partition | whole
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..core.errors import ProjectError, suggest
from .config import config_line
from .model import IDENTIFIER, PLACEHOLDERS, Export, Model

FORMATS = ("parquet", "csv", "json")
EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json"}
KEYS = ("model", "query", "path", "format", "database", "table", "per", "owner")
PER = ("partition", "whole")
COVERS = {  # a partition's grain -> placeholder sets that name each of its windows apart
    "hour": ({"date", "hour"},),
    "day": ({"date"},),
    "month": ({"month"}, {"date"}),
    "year": ({"year"}, {"month"}, {"date"}),
}


def parse(
    raw: dict, config_path: Path, text: str, models: Mapping[str, Model], engine: str = "duckdb"
) -> Mapping[str, Export]:
    """The [exports] tables, each checked against the project's models."""
    table = raw.get("exports", {})
    if not isinstance(table, dict):
        line = config_line(text, (), "exports")
        raise ProjectError("[exports] must be tables like [exports.name]", config_path, line)
    found = {}
    for name, spec in table.items():

        def fail(message: str, key: str | None = None, name: str = name) -> ProjectError:
            where = config_line(text, ("exports", name), key)
            return ProjectError(f"export '{name}': {message}", config_path, where)

        if engine == "spark":
            raise fail("exports run on DuckDB only: on Spark, export with a step for now")
        export = _export(name, spec, models, fail)
        found[name] = Export(**export, line=config_line(text, ("exports", name)))
    return MappingProxyType(found)


def _export(name: str, spec, models: Mapping[str, Model], fail) -> dict:
    if not isinstance(spec, dict):
        raise fail('must be a table of settings, e.g. model = "..." and path = "..."')
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise fail(
            f"unknown setting '{unknown[0]}'{suggest(unknown[0], KEYS)}; "
            f"accepted: {', '.join(KEYS)}",
            unknown[0],
        )
    for key in KEYS:
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            raise fail(f"{key} must be text, got {spec[key]!r}", key)
    model = _model(spec.get("model"), models, fail)
    path, database, table = spec.get("path"), spec.get("database"), spec.get("table")
    if path is not None and database is not None:
        raise fail("give path (a file) or database and table, not both", "database")
    if path is None and database is None:
        raise fail('needs path = "FILE" or database = "FILE" with table = "NAME"')
    per = spec.get("per") or _default_per(model, path)
    if per not in PER:
        raise fail(f"per must be partition or whole, got {per!r}", "per")
    if per == "partition" and not model.partitioned:
        raise fail(
            f"per = partition, but {model.name} is not partitioned (partition_by): export it whole",
            "per",
        )
    fmt = None
    if path is not None:
        fmt = _format(path, spec.get("format"), fail)
        _placeholders(path, per, model, fail)
        if table is not None:
            raise fail("table is for a database; a file export has path only", "table")
    else:
        if "format" in spec:
            raise fail("format is for files (path): a table's format is its database's", "format")
        table = _table_name(table, fail)
    return {
        "name": name,
        "model": model.name,
        "path": path,
        "format": fmt,
        "database": database,
        "table": table,
        "query": spec.get("query"),
        "per": per,
        "owner": spec.get("owner") or model.owner,
    }


def _model(value, models: Mapping[str, Model], fail) -> Model:
    """The model `value` names, as a selector names one (`schema.name`, or `name` alone)."""
    if value is None:
        raise fail('needs model = "schema.name"')
    name = value.strip().lower()
    matches = [name] if name in models else [n for n, m in models.items() if m.table == name]
    if len(matches) != 1:
        why = "names no model" if not matches else f"is ambiguous ({', '.join(sorted(matches))})"
        candidates = list(models) + [m.table for m in models.values()]
        raise fail(f"model {value!r} {why}{suggest(name, candidates)}", "model")
    return models[matches[0]]


def _default_per(model: Model, path: str | None) -> str:
    """Per partition where the model has partitions and the destination can tell them apart
    (a table always can; a file path by its placeholders); whole otherwise."""
    if not model.partitioned:
        return "whole"
    return "partition" if path is None or _named(path) else "whole"


def _named(path: str) -> set[str]:
    return set(re.findall(r"\{([^{}]*)\}", path))


def _format(path: str, fmt: str | None, fail) -> str:
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise fail(
                f"unknown format {fmt!r}{suggest(fmt.lower(), FORMATS)}; formats: "
                f"{', '.join(FORMATS)}",
                "format",
            )
        return fmt.lower()
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise fail(
            f"cannot tell the format of {path!r} from its extension: add format = "
            f'"parquet", "csv" or "json" (extensions: {", ".join(EXTENSIONS)})',
            "path",
        )
    return EXTENSIONS[suffix]


def _placeholders(path: str, per: str, model: Model, fail) -> None:
    """A per-partition path names each partition apart; a whole export's names none."""
    named = _named(path)
    unknown = sorted(named - set(PLACEHOLDERS))
    accepted = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    if unknown:
        raise fail(
            f"unknown placeholder {{{unknown[0]}}} in path {path!r}"
            f"{suggest(unknown[0], PLACEHOLDERS)}; placeholders: {accepted}",
            "path",
        )
    if per == "whole":
        if named:
            raise fail(
                f"path {path!r} has placeholders but the export is whole (one file): drop "
                "them, or export per = partition",
                "path",
            )
        return
    if not any(need <= named for need in COVERS[str(model.grain)]):
        needed = " and ".join(f"{{{p}}}" for p in sorted(COVERS[str(model.grain)][0]))
        raise fail(
            f"path {path!r} must name each partition of {model.name} (grain {model.grain}): "
            f"put {needed} in it",
            "path",
        )


def _table_name(table: str | None, fail) -> str:
    if table is None:
        raise fail('database needs table = "schema.table" (or "table")', "database")
    parts = table.split(".")
    if len(parts) > 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise fail(f"table must be schema.table or table, got {table!r}", "table")
    return table.lower()
