"""A dbt model as ours: the SQL dbt would compile for it (ephemeral models it reads inlined
as CTEs, a microbatch model's inputs filtered to its window) under our header."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...sql.dbt.errors import MissingMacro, MissingPackage, NeedsDatabase, QueriesAtRun
from ...sql.dbt.nodes import Rendering
from ...sql.dbt.yamlfile import ImportProblem, as_list
from . import checks, docs, hooks, seeds, snapshots
from .values import EXACT, HAND, IDENT, NOTES, DbtModel, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion

_GRAINS = {"hour": "hour", "day": "day", "month": "month", "year": "year"}

# dbt's microbatch configs: the first batch's start, how many batches back each run redoes
_FIRST_BATCH, _LOOKBACK = "begin lookback".split()

_AFTER_RELATION = re.compile(r"\s+(?:as\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)

_NOT_ALIASES = frozenset(
    """where join left right inner outer full cross natural on using group order limit having
    union except intersect window qualify offset fetch lateral pivot unpivot select from and or
    sample tablesample when then else end returning""".split()
)


def render_model(
    conv: Conversion, name: str, model: DbtModel, incremental: bool = False
) -> tuple[str, set[str], Rendering]:
    microbatch = model.config.get("incremental_strategy") == "microbatch"
    inline: set[str] = set()
    conv.bind(inline, "event_time" if microbatch else None)
    rendering = Rendering(
        name,
        model.node.relpath,
        model.node.fqn,
        settled={k: v for k, v in model.config.items()},
        this=model.relation,
        incremental=incremental,
    )
    sql = conv.renderer.render(model.node.template(), rendering)
    sql = _unfilter_aliases(sql)
    event_time = model.config.get("event_time")
    if microbatch and event_time and IDENT.match(str(event_time)):
        if "{{ start }}" not in sql:
            rendering.used.add("unfiltered")
        sql = (
            f"select * from (\n{sql.strip()}\n) as batch\n"
            f"where {event_time} >= {{{{ start }}}} and {event_time} < {{{{ end }}}}"
        )
    return sql, inline, rendering


def ephemeral(conv: Conversion, name: str, model: DbtModel) -> None:
    try:
        sql, inline, rendering = render_model(conv, name, model)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        model.problem = str(exc)
        return
    model.ephemeral_sql = sql
    model.config["_inline"] = inline
    model.config["_reads"] = {str(args[-1]) for args, _ in rendering.refs if args}


def convert_model(conv: Conversion, name: str, model: DbtModel) -> None:
    node = model.node
    materialized = str(model.config.get("materialized"))
    kind = "snapshot" if materialized == "snapshot" else "model"
    uid = f"{kind}.{node.package or conv.project.name}.{name}"
    if materialized == "seed":
        seeds.convert_seed(conv, name, model)
        return
    if materialized == "ephemeral":
        status = HAND if model.problem else EXACT
        notes = (
            [model.problem]
            if model.problem
            else ["ephemeral: inlined as a CTE into the models that read it"]
        )
        conv.out.outcomes.append(Outcome(uid, node.relpath, status, notes=notes))
        if model.problem:
            conv.out.problems.append(model.problem)
        return
    if model.problem and "both build" in model.problem:
        conv.out.problems.append(model.problem)
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[model.problem]))
        return
    try:
        sql, inline, rendering = render_model(conv, name, model)
        sql = with_ephemerals(conv, sql, inline)
        if _merge_keys(model.config) and "is_incremental" in rendering.used:
            # both branches, chosen by our is_incremental() when the model runs
            again, inline, _ = render_model(conv, name, model, incremental=True)
            again = with_ephemerals(conv, again, inline)
            if again.strip() != sql.strip():
                sql = (
                    "{% if is_incremental() %}{% raw %}\n"
                    + again.strip()
                    + "\n{% endraw %}{% else %}{% raw %}\n"
                    + sql.strip()
                    + "\n{% endraw %}{% endif %}"
                )
        lines, notes = model_header(conv, name, model, rendering)
    except QueriesAtRun as exc:
        at_run(conv, name, model, uid, str(exc))
        return
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        text = str(exc)
        if isinstance(exc, ImportProblem) and not exc.path:
            text = f"{node.relpath}: {exc.detail}"  # a config, not a line of the template
        if isinstance(exc, MissingPackage):
            conv.out.packages.setdefault(exc.package, []).append(uid)
        elif isinstance(exc, MissingMacro):
            text = f"{text}: the macro is not defined in the project or its installed packages"
        conv.out.problems.append(text)
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[text]))
        return
    conv.reads[name] = {str(args[-1]) for args, _ in rendering.refs if args}
    for inner in inline:  # what inlined ephemeral models read, it reads
        conv.reads[name] |= conv.models[inner].config.get("_reads", set())
    depends = re.findall(r"^\s*--\s*depends_on:\s*(.+?)\s*$", sql, re.MULTILINE)
    unreadable = _unreadable(model, sql)
    if unreadable:  # a file our loader refuses would stop the whole project: not written
        text = f"{node.relpath}: renders SQL that does not parse ({unreadable})"
        conv.out.problems.append(text)
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[text]))
        return
    _write(conv, name, model, uid, lines, notes, depends, sql)


def _unreadable(model: DbtModel, sql: str) -> str | None:
    """Why our loader would refuse the SQL a model renders to, or None (dbt's star over a
    relation whose every column is excluded renders nothing, ours a star expression)."""
    from ...core.errors import ProjectError
    from ...sql.parse import analyze

    try:
        analyze(sql, model.path)
    except ProjectError as exc:
        return str(exc).removeprefix(f"{model.path}:").strip()
    return None


def _write(
    conv: Conversion,
    name: str,
    model: DbtModel,
    uid: str,
    lines: list[str],
    notes: list[str],
    depends: list[str],
    sql: str,
) -> None:
    """The model file: docs, header, checks, what it depends on beyond its SQL, the SQL."""
    node = model.node
    found, check_files, test_outcomes = checks.model_tests(conv, name, model)
    lines = docs.header(conv, name, node.relpath) + lines + found
    if depends:
        lines.append(f"-- depends_on: {', '.join(d for d in depends)}")
    relation = str(model.relation)
    text = "\n".join([*lines, f"/* {node.relpath}, imported from dbt */", sql.strip(), ""])
    conv.out.files[model.path] = text
    conv.out.files.update(check_files)
    conv.out.relations.append((f"{model.dbt_relation} ({node.relpath})", relation))
    conv.out.outcomes.append(Outcome(uid, node.relpath, NOTES if notes else EXACT, relation, notes))
    conv.out.outcomes.extend(test_outcomes)


def at_run(conv: Conversion, name: str, model: DbtModel, uid: str, why: str) -> None:
    """A model that queries the warehouse while compiling: its dbt source kept, rendered by
    dbt's renderer when it runs (`runtime`), after what it refs and sources are built (read
    here from a render as dbt's parse makes it: no rows, `execute` false)."""
    from ...sql.dbt import runtime

    node = model.node
    if model.config.get("incremental_strategy") == "microbatch":
        hand = f"{node.relpath}: {why.split(': ', 1)[-1]}, and a microbatch model: not converted"
        conv.out.problems.append(hand)
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[hand]))
        return
    runtime.bind_queries(conv.renderer, None)
    try:
        _, inline, rendering = render_model(conv, name, model)
        lines, notes = model_header(conv, name, model, rendering)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        conv.out.problems.append(str(exc))
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
        return
    finally:
        runtime.detect_queries(conv.renderer)
    if inline:
        hand = f"{why}, and reads the ephemeral model(s) {', '.join(sorted(inline))}: not converted"
        conv.out.problems.append(hand)
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[hand]))
        return
    reads = [str(conv.models[str(a[-1])].relation) for a, _ in rendering.refs if a]
    reads += [str(conv.source_relations[s][0]) for s in rendering.sources]
    conv.reads[name] = {str(args[-1]) for args, _ in rendering.refs if args}
    lines.append("-- renderer: dbt")
    notes = [
        *notes,
        f"rendered by dbt's Jinja when it runs ({why.split(': ', 1)[-1]}): "
        "the values come from the warehouse then",
    ]
    conv.out.rendered_at_run.append(name)
    _write(conv, name, model, uid, lines, notes, list(dict.fromkeys(reads)), node.template())


def key_audit(
    conv: Conversion, name: str, keys: list[str], check: str | None, notes: list[str]
) -> list[str]:
    """Our merge models and snapshots refuse NULL or repeated keys; dbt writes them. Unless a
    dbt test on the key makes it blocking anyway, the import writes what dbt writes
    (`key_audit: warn`) and, for a merge model, a warning check that says when it happens."""
    if _key_tested(conv, name, keys):
        return []
    lines = ["-- key_audit: warn"] + ([f"-- check warn: {check}"] if check else [])
    notes.append(
        f"NULL or repeated {', '.join(keys)} are written as dbt writes them (key_audit: warn"
        + (f", and a warning check {check}" if check else "")
        + "); to refuse them, remove the key_audit line"
    )
    return lines


def _key_tested(conv: Conversion, name: str, keys: list[str]) -> bool:
    """Whether a dbt test (error severity) already holds the key unique: `unique` on the one
    key column, or dbt_utils' unique_combination_of_columns on all of them."""
    props = conv.project.properties.get(name) or {}
    tests: list[tuple[str | None, object]] = [
        (str(column.get("name")), test)
        for column in props.get("columns") or []
        if isinstance(column, dict)
        for test in (column.get("data_tests") or []) + (column.get("tests") or [])
    ]
    tests += [(None, t) for t in (props.get("data_tests") or []) + (props.get("tests") or [])]
    for column, test in tests:
        kind, args = (test, {}) if isinstance(test, str) else next(iter(test.items()), ("", {}))
        args = args if isinstance(args, dict) else {}
        config = {**args, **(args.get("config") or {})}
        if str(config.get("severity", "error")).lower() == "warn" or config.get("where"):
            continue
        if kind == "unique" and [column] == keys:
            return True
        combined = args.get("combination_of_columns") or (args.get("arguments") or {}).get(
            "combination_of_columns"
        )
        if str(kind).endswith("unique_combination_of_columns") and sorted(
            str(c) for c in as_list(combined)
        ) == sorted(keys):
            return True
    return False


def with_ephemerals(conv: Conversion, sql: str, inline: set[str]) -> str:
    """The CTEs of the ephemeral models `sql` reads (and of those they read), in order, put
    in front of its own WITH (or of its SELECT)."""
    order: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in trail:
            raise ImportProblem(
                f"ephemeral models read each other in a cycle: {' -> '.join(trail + (name,))}"
            )
        model = conv.models[name]
        if model.ephemeral_sql is None:
            raise ImportProblem(f"ephemeral model '{name}' does not render: {model.problem}")
        for inner in sorted(model.config.get("_inline", ())):
            visit(inner, (*trail, name))
        order.append(name)

    for name in sorted(inline):
        visit(name, ())
    if not order:
        return sql
    ctes = ",\n".join(
        f"__dbt__cte__{name} as (\n{conv.models[name].ephemeral_sql.strip()}\n)" for name in order
    )
    match = re.match(
        r"(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)with(\s+recursive)?\b",
        sql,
        re.IGNORECASE | re.DOTALL,
    )
    if match:
        return sql[: match.end()] + "\n" + ctes + ",\n" + sql[match.end() :].lstrip()
    return f"with {ctes}\n{sql.strip()}"


def model_header(
    conv: Conversion, name: str, model: DbtModel, rendering: Rendering
) -> tuple[list[str], list[str]]:
    """A model's header lines (its kind, owner, tags, hooks) and notes on the configs that
    are not converted exactly."""
    config = model.config
    materialized = str(config.get("materialized"))
    header: list[str] = []
    notes: list[str] = []
    if materialized == "view":
        header.append("-- kind: view")
    elif materialized == "incremental":
        header += _incremental_header(conv, name, config, rendering, notes)
    elif materialized == "snapshot":
        header += snapshots.header(config, notes)
        keys = [str(k).strip() for k in as_list(config.get("unique_key"))]
        header += key_audit(conv, name, keys, None, notes)
    elif materialized not in ("table",):
        notes.append(f"materialized '{materialized}' is not ours: built as a table")
    meta = config.get("meta") or {}
    owner = meta.get("owner") if isinstance(meta, dict) else None
    owner = owner or config.get("group")
    if owner:
        header.append(f"-- owner: {owner}")
    tags = [t for t in as_list(config.get("tags")) if isinstance(t, str)]
    if tags:
        header.append(f"-- tags: {', '.join(dict.fromkeys(tags))}")
    for hook in ("pre_hook", "post_hook"):
        for spec in as_list(config.get(hook)):
            line, note = hooks.model_hook(conv, name, model, hook, spec)
            if line:
                header.append(f"-- {hook}: {line}")
            if note:
                notes.append(note)
    notes += _unconverted_notes(config, rendering)
    return header, notes


def _incremental_header(
    conv: Conversion, name: str, config: dict, rendering: Rendering, notes: list[str]
) -> list[str]:
    """An incremental model's header: partitioned by event_time (microbatch), merged by its
    unique_key, or else none (built as a table)."""
    strategy = config.get("incremental_strategy")
    if strategy == "microbatch":
        return _microbatch_header(config, rendering, notes)
    keys = _merge_keys(config)
    if keys:
        header = ["-- kind: incremental", f"-- unique_key: {', '.join(keys)}"]
        header += key_audit(conv, name, keys, f"unique({', '.join(keys)})", notes)
        strategy = strategy or "merge"
        if strategy not in ("merge", "delete+insert"):
            notes.append(f"incremental_strategy {strategy}: merged by unique_key instead")
        change = config.get("on_schema_change")
        if change and change != "ignore":
            notes.append(f"on_schema_change {change}: a changed query rebuilds the table")
        return header
    key = config.get("unique_key")
    why = (
        f"incremental with unique_key {key!r} (not plain column names): built as a "
        "table, rebuilt whole when its inputs change (same rows as dbt's full refresh)"
        if key
        else "incremental without unique_key or event_time: built as a table, rebuilt "
        "whole when its inputs change (same rows as dbt's full refresh)"
    )
    notes.append(why)
    if "is_incremental" in rendering.used:
        notes.append("its is_incremental() branch is not used: the full SELECT runs")
    return []


def _microbatch_header(config: dict, rendering: Rendering, notes: list[str]) -> list[str]:
    """A microbatch model as one of our partitioned incremental models: a partition per
    batch of its event_time, the first one starting where `begin` says."""
    grain = _GRAINS.get(str(config.get("batch_size", "")).lower())
    event_time = config.get("event_time")
    if not grain or not event_time or not IDENT.match(str(event_time)):
        notes.append("microbatch without a usable event_time and batch_size: built as a table")
        return []
    header = ["-- kind: incremental", f"-- partition_by: {event_time}", f"-- grain: {grain}"]
    first = config.get(_FIRST_BATCH)
    if first:
        header.append(f"-- start: {_boundary(first, grain)}")
    else:
        notes.append(f"no {_FIRST_BATCH}: only `orchestrator backfill` builds its partitions")
    if "unfiltered" in rendering.used:
        notes.append(
            "its inputs have no event_time: each partition reads them whole "
            "and keeps the rows of its window"
        )
    if config.get(_LOOKBACK):
        notes.append(
            f"{_LOOKBACK} {config[_LOOKBACK]}: not converted (rebuild late windows with backfill)"
        )
    return header


def _unconverted_notes(config: dict, rendering: Rendering) -> list[str]:
    """Notes on configs with no equivalent here, and on what rendering the model noticed
    (notes its macros left, env_var() values fixed at import)."""
    notes = []
    if config.get("database"):
        notes.append(f"database '{config['database']}' ignored: everything is in one warehouse")
    contract = config.get("contract")
    if contract and isinstance(contract, dict) and contract.get("enforced"):
        notes.append("contract not enforced here: add a columns(...) check")
    for used in sorted(rendering.used):
        if used.startswith("note:"):
            notes.append(used[5:])
        if used.startswith("env_var:"):
            notes.append(f"env_var('{used[8:]}') rendered as its value at import time")
    return notes


def _unfilter_aliases(sql: str) -> str:
    """A filtered input gets its relation's name as alias, unless the SQL gives it one."""

    def alias(match: re.Match) -> str:
        name = match[1]
        after = _AFTER_RELATION.match(sql, match.end())
        if after and after[1].lower() not in _NOT_ALIASES:
            return ""
        return f" as {name}"

    return re.sub(r" /\*@([A-Za-z0-9_]+)@\*/", alias, sql)


def _merge_keys(config: dict) -> list[str]:
    """The unique_key of a (non-microbatch) incremental model as column names, or []."""
    if config.get("materialized") != "incremental":
        return []
    if config.get("incremental_strategy") == "microbatch":
        return []
    key = config.get("unique_key")
    keys = [key] if isinstance(key, str) else list(key or [])
    keys = [str(k).strip() for k in keys]
    return keys if keys and all(IDENT.match(k) for k in keys) else []


def _boundary(value: Any, grain: str) -> str:
    text = str(value).strip().replace(" ", "T")
    if grain == "hour":
        return text[:13]
    return text[:10]
