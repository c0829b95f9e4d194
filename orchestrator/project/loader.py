"""Reading the project on disk into one `Project` value: settings, sources, models, checks, jobs.

This is assembly only: `config` reads `orchestrator.toml`, `source_config` its `[sources]`,
`jobs` its jobs, owners and access, `header` each file's `-- key: value` lines, and the parse
cache (`sql.analyze` behind it) the SQL. Nothing here touches the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from ..core.errors import ProjectError, suggest
from ..core.partitions import Window, parse_boundary
from . import exports, jobs, seeds, steps
from .cache import AnalysisCache
from .config import config_line, load_settings
from .header import parse_custom, parse_header
from .model import (
    CONFIG_FILE,
    IDENTIFIER,
    STATE_SCHEMA,
    Kind,
    Model,
    Operations,
    Project,
    Settings,
    Source,
)
from .source_config import parse_sources


def _config_text(settings: Settings) -> str:
    path = settings.config_path
    return path.read_text(encoding="utf-8") if path.exists() else ""


def load_operations(
    root: Path | str, warehouse: Path | str | None = None
) -> tuple[Settings, Operations]:
    """Settings, jobs, owners and access without reading any model (for light commands)."""
    settings, raw = load_settings(Path(root), warehouse)
    text = _config_text(settings)
    sources = parse_sources(raw, settings.config_path, text)
    return settings, jobs.parse(raw, settings.config_path, text, sources)


def load(root: Path | str, warehouse: Path | str | None = None, *, strict: bool = False) -> Project:
    """Read the whole project: settings, sources and every model (headers parsed, SQL analysed).
    A model file that does not load is kept as broken (see `broken`), unless `strict`: then its
    error is raised, as an error in orchestrator.toml always is."""
    settings, raw = load_settings(Path(root), warehouse)
    config_text = _config_text(settings)
    sources = parse_sources(raw, settings.config_path, config_text)
    cache = AnalysisCache(settings.root)
    models = _load_models(settings, sources, cache)
    _add_seeds(settings, raw, config_text, models, sources, cache)
    _attach_custom_checks(settings, models, cache)
    cache.save()
    if settings.default_start:
        models = _with_default_start(models, settings, config_text)
    for name, model in models.items():
        read = _sources_read(model, models, sources, settings.default_schema)
        if read:
            models[name] = replace(model, version=_with_sources(model.version, read))
    ops = jobs.parse(raw, settings.config_path, config_text, sources)
    for name, model in models.items():
        if model.owner is None:
            folder_owner = ops.owner_of_folder(model.relpath)
            if folder_owner:
                models[name] = replace(model, owner=folder_owner)
    _check_owner_names(models, sources, ops, settings, config_text)
    found = exports.parse(raw, settings.config_path, config_text, models, settings.engine.kind)
    ops = replace(ops, exports=found)
    found = steps.parse(raw, settings.config_path, config_text, settings.root)
    if strict:
        for model in models.values():
            if model.broken:
                raise model.broken
    return Project(settings, MappingProxyType(models), MappingProxyType(sources), ops, found)


def _check_owner_names(models, sources, ops, settings: Settings, config_text: str) -> None:
    """An owner that is no [owners.NAME] but close to one is a misspelling: its alerts would go
    to `default` (or nowhere) silently. A name far from every owner is a label, as before. A
    model's misspelt owner breaks that model; a source's or a job's, the project."""
    if not ops.owners:
        return

    def check(owner: str | None, relpath: str, line: int | None) -> None:
        if owner and owner not in ops.owners:
            close = suggest(owner, ops.owners, cutoff=0.75)
            if close:
                raise ProjectError(
                    f"owner '{owner}' is not one of [owners]{close}: its alerts would reach "
                    "the default route instead",
                    relpath,
                    line,
                )

    config = str(settings.config_path)
    for name, model in models.items():
        try:
            check(model.owner, model.relpath, model.header_lines.get("owner"))
        except ProjectError as exc:
            models[name] = broken(model, exc)
    for name, source in sources.items():
        check(source.owner, config, config_line(config_text, ("sources", name), "owner"))
    for name, job in ops.jobs.items():
        check(job.owner, config, config_line(config_text, ("jobs", name), "owner"))


def _with_default_start(
    models: dict[str, Model], settings: Settings, config_text: str
) -> dict[str, Model]:
    """`[defaults] start` for the incremental models whose header names no start."""
    text = settings.default_start or ""
    line = config_line(config_text, ("defaults",), "start")
    out = dict(models)
    for name, model in models.items():
        if not model.partitioned or model.start is not None:
            continue
        try:
            start = parse_boundary(text, model.grain)
        except ValueError as exc:
            raise ProjectError(
                f"[defaults] start: {exc}, for {name} (grain: {model.grain}); give it "
                "'-- start:' in its header",
                settings.config_path,
                line,
            ) from None
        if model.end is not None and model.end <= start:
            continue  # a closed data set that ended before the default start: its own range
        out[name] = replace(model, start=start)
    return out


def _load_models(
    settings: Settings, sources: Mapping[str, Source], cache: AnalysisCache
) -> dict[str, Model]:
    """Every `models/**/*.sql` and `models/**/*.py` outside hidden folders (a `.py` whose name
    starts with `_` is a helper, not a model), by name; a name is one file's only."""
    models: dict[str, Model] = {}
    models_dir = settings.root / "models"
    paths = sorted(models_dir.rglob("*.sql")) if models_dir.is_dir() else []
    if models_dir.is_dir():
        paths += sorted(p for p in models_dir.rglob("*.py") if not p.name.startswith("_"))
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
    return models


def _add_seeds(
    settings: Settings,
    raw: dict,
    config_text: str,
    models: dict[str, Model],
    sources: Mapping[str, Source],
    cache: AnalysisCache,
) -> None:
    """`seeds/**/*.csv`, each a table model reading its file (see `seeds`)."""
    chosen = seeds.parse_settings(raw, settings.config_path, config_text)
    folder = settings.root / "seeds"
    found: set[str] = set()
    for path in sorted(folder.rglob("*.csv")) if folder.is_dir() else []:
        rel = _relative(path, settings.root)
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        parts = _relative(path, folder).split("/")
        schema = (parts[0] if len(parts) > 1 else settings.default_schema).lower()
        table = path.stem.lower()
        for part, what in ((schema, "folder"), (table, "file name")):
            if not IDENTIFIER.match(part):
                raise ProjectError(
                    f"seed {what} '{part}' is not a SQL identifier (letters, digits, _): rename it",
                    rel,
                )
        name = f"{schema}.{table}"
        if name in models:
            raise ProjectError(
                f"seed {rel} and model {models[name].relpath} would both build {name}", rel
            )
        if name in sources:
            raise ProjectError(f"seed {name} has the name of a declared source", rel)
        chosen_settings = chosen.get(name, seeds.SeedSettings())
        digest = seeds.digest(path)
        text = seeds.seed_sql(rel, digest, chosen_settings)
        model = Model(
            name=name,
            schema=schema,
            table=table,
            path=path,
            relpath=rel,
            template=text,
            owner=chosen_settings.owner,
            tags=("seed", *chosen_settings.tags),
            seed=True,
            description=chosen_settings.description,
            column_descriptions=MappingProxyType(dict(chosen_settings.column_descriptions)),
        )
        analysis = cache.analyze(text, rel, model.window_literals(None))
        # the file's content is part of the version: a changed file rebuilds the seed
        version = _version(analysis.sql_hash, model.layout, digest)
        models[name] = replace(model, files=analysis.files, version=version)
        found.add(name)
    unknown = sorted(set(chosen) - found)
    if unknown:
        raise ProjectError(
            f'[seeds."{unknown[0]}"] names no file seeds/.../{unknown[0].split(".")[1]}.csv',
            settings.config_path,
            config_line(config_text, ("seeds", unknown[0])),
        )


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


def _version(*parts: str) -> str:
    """A model's version: what its data depends on (its parsed SQL, layout, hooks, a seed's
    file), hashed."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def _with_sources(version: str, read: list[Source]) -> str:
    """A model's version with the settings of the sources it reads folded in: pointing a source
    at other files (or reading them with other options or types) changes the model's data."""
    settings = [[s.name, s.path, s.format, dict(s.options), s.columns] for s in read]
    text = json.dumps(settings, sort_keys=True)
    return _version(version, text)


def _attach_custom_checks(
    settings: Settings, models: dict[str, Model], cache: AnalysisCache
) -> None:
    """`checks/**/*.sql`: each names the model it checks and returns the rows that violate it."""
    folder = settings.root / "checks"
    for path in sorted(folder.rglob("*.sql")) if folder.is_dir() else []:
        relpath = str(path.relative_to(settings.root))
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ProjectError("file is not UTF-8 text", relpath) from None
        target, check = parse_custom(text, relpath)
        if "." not in target:
            target = f"{settings.default_schema}.{target}"
        if target not in models:
            raise ProjectError(
                f"model: no model named '{target}'{suggest(target, models)}", relpath, 1
            )
        model = models[target]
        if model.broken:
            continue  # held back already: its checks cannot run either
        probe = Window.containing(datetime(2000, 1, 1), model.grain)
        try:
            analysis = cache.analyze(text, relpath, model.window_literals(probe))
        except ProjectError as exc:  # a check that cannot run holds its model back
            models[target] = broken(model, exc)
            continue
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
    """One model file: its name checked, its header parsed, its SQL analysed and versioned."""
    relpath = _relative(path, settings.root)
    schema, table = model_name(path, settings)
    for part, what in ((schema, "folder"), (table, "file name")):
        if not IDENTIFIER.match(part):
            raise ProjectError(
                f"{what} '{part}' is not a SQL identifier (letters, digits, _): rename it", relpath
            )
    if schema == STATE_SCHEMA:
        raise ProjectError(
            f"the schema '{STATE_SCHEMA}' is reserved for run state; use another folder", relpath
        )
    name = f"{schema}.{table}"
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        error = ProjectError("file is not UTF-8 text", relpath, line)
        return Model(name, schema, table, path, relpath, "", broken=error)
    text = text.removeprefix("\ufeff")  # a byte order mark is not part of the header
    model = Model(name, schema, table, path, relpath, text)
    if path.suffix == ".py":
        try:
            return _python_model(model, settings)
        except ProjectError as exc:
            return broken(replace(model, language="python"), exc)
    try:
        header, lines = parse_header(text, relpath)
        model = replace(model, header_lines=MappingProxyType(lines), **header)
        return _analysed(model, settings, cache)
    except ProjectError as exc:
        # a broken model, not a broken project: it and what reads it are held back (with
        # this error), the rest plans and runs; what its header said is kept when it parsed
        return broken(model, exc)


def _python_model(model: Model, settings: Settings) -> Model:
    """A Python model: its `# key: value` header read as a SQL model's, what it reads, its
    version (its file and the project's modules it imports); run by `execution.python_run`."""
    from . import python_models

    source = python_models.read(model.template, model.relpath)
    header, lines = parse_header(source.header, model.relpath)
    model = replace(model, header_lines=MappingProxyType(lines), language="python", **header)
    if model.kind in (Kind.VIEW, Kind.SNAPSHOT):
        raise ProjectError(
            f"a Python model is a table or an incremental model, not a {model.kind}: its rows "
            "are written where it runs",
            model.relpath,
            lines.get("kind"),
        )
    if settings.engine.kind == "spark":
        raise ProjectError(
            "Python models run on DuckDB only for now: on Spark, write it as SQL or run the "
            "project on DuckDB",
            model.relpath,
        )
    local = python_models.local_modules(settings.root, source.imports)
    hooks = (
        (*model.pre_hooks, "-", *model.post_hooks) if model.pre_hooks or model.post_hooks else ()
    )
    columns = tuple(name for name, _ in source.declared) if source.declared else None
    return replace(
        model,
        tables=source.tables,
        vars=source.vars,
        declared=source.declared,
        columns=columns,
        version=python_models.version_of(model.template, local, "|".join((model.layout, *hooks))),
    )


def broken(model: Model, error: ProjectError) -> Model:
    """`model` held back for `error`: it reads nothing we can know and is never built."""
    return replace(model, broken=error, tables=(), depends_on=(), checks=(), version="")


def _analysed(model: Model, settings: Settings, cache: AnalysisCache | None) -> Model:
    """A model whose header parsed: its SQL analysed, checked and versioned."""
    relpath, text, lines = model.relpath, model.template, model.header_lines
    if model.renderer == "dbt":
        return _rendered_by_dbt(model, settings)
    probe = Window.containing(datetime(2000, 1, 1), model.grain)
    literals = model.window_literals(probe)
    analysis = (cache or AnalysisCache(None)).analyze(text, relpath, literals, model.dialect)
    if model.dialect == "spark" and settings.engine.kind != "spark":
        raise ProjectError(
            "written in Spark SQL (-- dialect: spark), so it runs on the Spark engine only: "
            'set [engine] kind = "spark" (or run with --engine spark), or write it in DuckDB SQL',
            relpath,
            lines.get("dialect"),
        )
    if analysis.window_use and not model.partitioned:
        name, line = analysis.window_use
        raise ProjectError(
            f"{{{{ {name} }}}} is the partition window of an incremental model, but this one is "
            f"kind: {model.kind} (built whole), so it would be NULL: add 'kind: incremental' "
            "and 'partition_by', or leave the window out",
            relpath,
            line,
        )
    hooks = (
        ()
        if not (model.pre_hooks or model.post_hooks)
        else (*model.pre_hooks, "-", *model.post_hooks)
    )
    kept = (model.history.text, ",".join(model.unique_key)) if model.history else ()
    version = _version(analysis.sql_hash, model.layout, *hooks, *kept)
    if analysis.columns is not None:
        _check_named_columns(model, analysis.columns)
    return replace(
        model,
        tables=analysis.tables,
        files=analysis.files,
        vars=analysis.vars,
        version=version,
        columns=analysis.columns,
    )


def _rendered_by_dbt(model: Model, settings: Settings) -> Model:
    """A model whose SQL dbt's renderer makes when it runs: what it reads is its depends_on
    (the import wrote what it refs), its version the text and the `dbt/` folder's files."""
    from ..sql.dbt.bundle import bundle_digest

    if not bundle_digest(settings.root):
        raise ProjectError(
            "renderer: dbt needs the project's dbt/ folder (written by `orchestrator import "
            "dbt`): import the dbt project again",
            model.relpath,
            model.header_lines.get("renderer"),
        )
    hooks = (
        (*model.pre_hooks, "-", *model.post_hooks) if model.pre_hooks or model.post_hooks else ()
    )
    version = _version(
        hashlib.sha256(model.template.encode()).hexdigest(),
        bundle_digest(settings.root),
        model.layout,
        *hooks,
    )
    # what it reads is what it declares: gated, ordered and checked as a SQL model's tables
    return replace(model, tables=model.depends_on, depends_on=(), version=version)


_COLUMN_CHECKS = ("not_null", "unique", "accepted_values", "relationships")


def _check_named_columns(model: Model, columns: tuple[str, ...]) -> None:
    """When the SELECT names its columns, every column the header names must be one of them:
    `unique(nope)` or `partition_by: dayy` would otherwise fail only at run time."""
    named = [
        (key, model.header_lines.get(key), value)
        for key, value in (
            ("partition_by", (model.partition_by,) if model.partition_by else ()),
            ("unique_key", model.unique_key),
            ("updated_at", (model.history.updated_at or "",) if model.history else ()),
            ("check_cols", model.history.check_cols if model.history else ()),
        )
    ]
    named += [
        (f"check {c.name}", c.line, c.columns) for c in model.checks if c.kind in _COLUMN_CHECKS
    ]
    for what, line, wanted in named:
        for column in wanted:
            if column and column.lower() not in columns:
                raise ProjectError(
                    f"{what}: the model has no column '{column}'{suggest(column, columns)}; "
                    f"its SELECT returns: {', '.join(columns)}",
                    model.relpath,
                    line,
                )
