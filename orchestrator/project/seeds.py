"""Seeds: small CSV files kept with the project (`seeds/<schema>/<name>.csv`, or `seeds/<name>.csv`
for the default schema), each loaded as the table `<schema>.<name>`.

A seed is a node of the DAG like a model: it is a table model whose SQL reads its file, so
models that read `<schema>.<name>` depend on it, and its builds are recorded in the state. Its
version carries the file's SHA-256, so a changed file rebuilds the seed and what reads it, and
an unchanged one never does. Settings per seed, all optional, in orchestrator.toml:

    [seeds."main.country_codes"]
    column_types = { code = "VARCHAR", population = "BIGINT" }   # the rest: DuckDB's sniffer
    delimiter = ";"
    quote = "'"
    nulls = ["", "null"]          # the texts read as NULL (default: the empty field)
    owner = "data-team"
    tags = ["reference"]

The file is read relative to the project root (the run sets DuckDB's file_search_path there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ProjectError, suggest
from .model import IDENTIFIER

SETTINGS = (
    "column_types",
    "delimiter",
    "quote",
    "nulls",
    "owner",
    "tags",
    "description",
    "column_descriptions",
)


@dataclass(frozen=True)
class SeedSettings:
    column_types: Mapping[str, str] = field(default_factory=dict)
    delimiter: str = ","
    quote: str = '"'
    nulls: tuple[str, ...] = ("",)
    owner: str | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)


def parse_settings(raw: dict, config_path: Path, text: str) -> dict[str, SeedSettings]:
    """`[seeds."schema.name"]` tables by lower-case name; a mistake names its line."""
    from ..core.column_types import type_error
    from .config import config_line

    tables = raw.get("seeds", {})
    if not isinstance(tables, dict):
        raise ProjectError('[seeds] must be tables like [seeds."main.country_codes"]', config_path)
    found: dict[str, SeedSettings] = {}
    for name, spec in tables.items():

        def fail(message: str, key: str | None = None, name=name) -> ProjectError:
            return ProjectError(
                f"seed '{name}': {message}", config_path, config_line(text, ("seeds", name), key)
            )

        parts = name.lower().split(".")
        if len(parts) != 2 or not all(IDENTIFIER.match(p) for p in parts):
            raise fail('the name must be schema.table, e.g. [seeds."main.country_codes"]')
        if not isinstance(spec, dict):
            raise fail("must be a table of settings")
        unknown = sorted(set(spec) - set(SETTINGS))
        if unknown:
            raise fail(
                f"unknown setting '{unknown[0]}'{suggest(unknown[0], SETTINGS)}; "
                f"accepted: {', '.join(SETTINGS)}",
                unknown[0],
            )
        types = spec.get("column_types", {})
        if not isinstance(types, dict) or not all(isinstance(v, str) for v in types.values()):
            raise fail('column_types must map columns to types: { id = "INTEGER" }', "column_types")
        for column, kind in types.items():
            problem = type_error(kind)
            if problem:
                raise fail(f"column_types.{column}: {problem}", "column_types")
        values: dict[str, Any] = {"column_types": dict(types)}
        for key in ("delimiter", "quote"):
            if key in spec:
                if not isinstance(spec[key], str) or len(spec[key]) != 1:
                    raise fail(f"{key} must be one character", key)
                values[key] = spec[key]
        if "nulls" in spec:
            nulls = spec["nulls"]
            if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
                raise fail('nulls must be a list of texts, e.g. ["", "null"]', "nulls")
            values["nulls"] = tuple(nulls)
        if "owner" in spec:
            if not isinstance(spec["owner"], str):
                raise fail("owner must be a name", "owner")
            values["owner"] = spec["owner"]
        if "tags" in spec:
            tags = spec["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise fail('tags must be a list of names, e.g. ["reference"]', "tags")
            values["tags"] = tuple(tags)
        if "description" in spec:
            if not isinstance(spec["description"], str):
                raise fail("description must be a text", "description")
            values["description"] = spec["description"]
        if "column_descriptions" in spec:
            docs = spec["column_descriptions"]
            if not isinstance(docs, dict) or not all(isinstance(v, str) for v in docs.values()):
                raise fail(
                    'column_descriptions must map columns to texts: { code = "ISO 3166" }',
                    "column_descriptions",
                )
            values["column_descriptions"] = {k.lower(): v for k, v in docs.items()}
        found[name.lower()] = SeedSettings(**values)
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def seed_sql(relpath: str, digest: str, settings: SeedSettings) -> str:
    """The SELECT that loads a seed (its file's digest in a comment: the version follows it)."""
    options = [
        "header = true",
        f"delim = {_literal(settings.delimiter)}",
        f"quote = {_literal(settings.quote)}",
        f"nullstr = [{', '.join(_literal(n) for n in settings.nulls)}]",
    ]
    if settings.column_types:
        pairs = ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in settings.column_types.items())
        options.append(f"types = {{{pairs}}}")
    return (
        f"-- seed: {relpath} (sha256 {digest})\n"
        f"select * from read_csv({_literal(relpath)}, {', '.join(options)})\n"
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
