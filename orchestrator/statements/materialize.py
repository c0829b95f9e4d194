"""The SQL each kind of model emits: view, table, partition overwrite, merge, shadow swap.

Nothing here executes anything. A `Write` is one publish, run inside one transaction by the
executor: `statements`, then the `audit` query, whose row `judge` turns into an error message
when the write must not be published (rows outside the window, NULL or duplicate merge keys),
then `finish`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.partitions import Window
from ..core.quoting import literal as string_literal
from ..core.quoting import quote, quote_relation
from ..project.model import Kind, Model, Source

STAGE = "__orchestrator_stage"


@dataclass(frozen=True)
class Guard:
    """A window guard inside the writing statement itself: a row outside the window raises
    `GUARD` in DuckDB and aborts the write; then `count` (run after the rollback) says how many
    rows were outside, for `message`."""

    count: str
    message: Callable[[int], str]


GUARD = "orchestrator: a row outside the partition window"


@dataclass(frozen=True)
class Write:
    statements: tuple[str, ...]
    # a statement whose one row the judge reads, or a function of the engine giving that row
    audit: str | Callable[[Any], tuple] | None = None
    # (audit row, count returned by the last statement) -> why not to publish, or None
    judge: Callable[[tuple, int], str | None] | None = None
    finish: tuple[str, ...] = ()
    # index into statements + finish of the statement whose count is the number of rows written
    count_statement: int | None = None
    guard: Guard | None = None
    # where the new data waits when blocking checks judge it before `finish` publishes it
    # (Spark: no transaction could undo a publish); None: they judge the target, inside the
    # transaction (DuckDB)
    stage: str | None = None
    # the audit row's last value is the number of rows written (no statement counts them)
    counted_by_audit: bool = False


def shadow_relation(model: Model) -> str:
    return f"{quote(model.schema)}.{quote(model.table + '__refresh')}"


def _wrap(sql: str) -> str:
    # the newline before ')' keeps a trailing `-- comment` in the model from swallowing it
    return f"(\n{sql.strip().rstrip(';').rstrip()}\n)"


def _drop_other_kind(model: Model, existing: str | None, wanted: str) -> tuple[str, ...]:
    if existing is None or existing == wanted:
        return ()
    return (drop_relation(model, existing),)


def search_path(schema: str, default_schema: str) -> str:
    """Unqualified names resolve as the DAG resolved them: the model's schema, then the default."""
    path = ",".join(quote(s) for s in dict.fromkeys([schema, default_schema]))
    return "SET search_path = " + string_literal(path)


def create_schema(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}"


def target_of(model: Model, into_shadow: bool) -> str:
    return shadow_relation(model) if into_shadow else model.relation


def build(
    model: Model,
    sql: str,
    window: Window | None,
    existing: str | None,
    *,
    into_shadow: bool = False,
    shadow_exists: bool = False,
    merging: bool = False,
) -> Write:
    """The write that publishes `sql` as (part of) `model`. `existing` is the relation type now in
    the warehouse under the model's name ('table', 'view' or None)."""
    if model.kind is Kind.VIEW:
        return Write(
            _drop_other_kind(model, existing, "view")
            + (f"CREATE OR REPLACE VIEW {model.relation} AS {_wrap(sql)}",)
        )
    if model.kind is Kind.TABLE:
        return Write(
            _drop_other_kind(model, existing, "table")
            + (f"CREATE OR REPLACE TABLE {model.relation} AS SELECT * FROM {_wrap(sql)}",),
            count_statement=-1,
        )
    if model.merges_whole:
        return _merge_whole(model, sql, existing, merging)
    assert window is not None, "an incremental model is written one window at a time"
    target = target_of(model, into_shadow)
    target_exists = shadow_exists if into_shadow else existing == "table"
    if model.unique_key:
        return _merge(model, sql, window, target, target_exists)
    return _overwrite(model, sql, window, target, target_exists)


def _merge_whole(model: Model, sql: str, existing: str | None, merging: bool) -> Write:
    """An incremental model without partitions: the query's rows are staged and audited (no
    NULL or duplicate keys), then merged into the table by `unique_key` (rows are never
    deleted), or, when it is built new or again, become the table."""
    stage = quote(STAGE)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in model.unique_key)
    if merging:
        write: tuple[str, ...] = merge_by_key(model, model.relation, stage, on)
    else:
        write = _drop_other_kind(model, existing, "table") + (
            f"CREATE OR REPLACE TABLE {model.relation} AS SELECT * FROM {stage}",
        )
    return Write(
        (f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {_wrap(sql)}",),
        count_statement=0,  # the rows staged are the rows written
        audit=_key_audit(model, stage),
        judge=key_judge(model, None),
        finish=(*write, f"DROP TABLE {stage}"),
    )


def snapshot(
    model: Model,
    sql: str,
    at: datetime,
    existing: str | None,
    *,
    keeps: bool,
    columns: tuple[str, ...] = (),
    added: bool = False,
) -> Write:
    """A snapshot's write: the query's rows staged and audited (no NULL or duplicate keys),
    then, when `keeps` its table, a new version of each row that is new or changed and the
    current version of a changed row (or of a vanished key, with `hard_deletes: invalidate`)
    closed; built new, every row is a first version. `at` is the snapshot's time (the check
    strategy's updated_at, a deletion's end); `columns` are the query's, which `check_cols:
    all` compares, and `added` says the query has columns the table does not yet (the check
    strategy then takes every row as changed, as dbt does).

    Rows are kept as dbt keeps them, in the columns dbt names: `dbt_scd_id` (md5 of the key
    and the updated_at, '|'-separated), `dbt_updated_at`, `dbt_valid_from`, `dbt_valid_to`
    (NULL while current)."""
    assert model.history is not None, "a snapshot has its history settings"
    stage = quote(STAGE)
    staged = (f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {_wrap(sql)}",)
    audit, judge = _key_audit(model, stage), key_judge(model, None)
    if not keeps:
        first = (
            *_drop_other_kind(model, existing, "table"),
            f"CREATE OR REPLACE TABLE {model.relation} AS SELECT {_versioned(model, 's', at)} "
            f"FROM {stage} AS s",
            f"DROP TABLE {stage}",
        )
        return Write(staged, audit=audit, judge=judge, finish=first, count_statement=-2)
    finish = _new_versions(model, at, _changed(model, at, columns, added))
    return Write(staged, audit=audit, judge=judge, finish=finish, count_statement=-4)


def _updated(model: Model, alias: str, at: datetime) -> str:
    """When the row under `alias` was updated: its updated_at column (timestamp strategy), else
    the snapshot's time."""
    updated_at = model.history.updated_at
    return f"{alias}.{quote(updated_at)}" if updated_at else _moment(at)


def _moment(at: datetime) -> str:
    """The snapshot's time as a SQL literal."""
    return f"TIMESTAMP '{at:%Y-%m-%d %H:%M:%S.%f}'"


def _versioned(model: Model, alias: str, at: datetime) -> str:
    """The query's row under `alias` with its version columns, as first written."""
    parts = [f"coalesce(CAST({alias}.{quote(k)} AS VARCHAR), '')" for k in model.unique_key]
    parts.append(f"coalesce(CAST({_updated(model, alias, at)} AS VARCHAR), '')")
    scd = "md5(" + " || '|' || ".join(parts) + ")"
    when = _updated(model, alias, at)
    return (
        f"{alias}.*, {scd} AS dbt_scd_id, {when} AS dbt_updated_at, "
        f"{when} AS dbt_valid_from, nullif({when}, {when}) AS dbt_valid_to"
    )


def _changed(model: Model, at: datetime, columns: tuple[str, ...], added: bool) -> str:
    """When the current version `t` of a key is out of date against the query's row `s`: a later
    updated_at (timestamp strategy), or a checked column that differs (check strategy)."""
    if model.history.strategy == "timestamp":
        return f"t.dbt_valid_from < {_updated(model, 's', at)}"
    if added:
        return "true"
    checked = model.history.check_cols or columns
    return " OR ".join(f"t.{quote(c)} IS DISTINCT FROM s.{quote(c)}" for c in checked)


def _new_versions(model: Model, at: datetime, changed: str) -> tuple[str, ...]:
    """Into a kept snapshot table: the current versions that end (a changed row's, and with
    `hard_deletes: invalidate` a vanished key's) closed, then the new versions inserted."""
    stage, closes, news = quote(STAGE), quote(STAGE + "_closes"), quote(STAGE + "_new")
    same_key = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in model.unique_key)
    current = f"{model.relation} AS t WHERE t.dbt_valid_to IS NULL"
    closing = (
        f"SELECT t.dbt_scd_id, {_updated(model, 's', at)} AS dbt_valid_to "
        f"FROM {model.relation} AS t JOIN {stage} AS s ON {same_key} "
        f"WHERE t.dbt_valid_to IS NULL AND ({changed})"
    )
    if model.history.hard_deletes == "invalidate":
        closing += (
            f" UNION ALL SELECT t.dbt_scd_id, {_moment(at)} FROM {current} AND NOT EXISTS "
            f"(SELECT 1 FROM {stage} AS s WHERE {same_key})"
        )
    return (
        f"CREATE OR REPLACE TEMP TABLE {closes} AS {closing}",
        f"CREATE OR REPLACE TEMP TABLE {news} AS SELECT {_versioned(model, 's', at)} "
        f"FROM {stage} AS s WHERE NOT EXISTS (SELECT 1 FROM {current} AND {same_key}) "
        f"OR EXISTS (SELECT 1 FROM {current} AND {same_key} AND ({changed}))",
        f"UPDATE {model.relation} AS t SET dbt_valid_to = c.dbt_valid_to FROM {closes} AS c "
        "WHERE t.dbt_scd_id = c.dbt_scd_id AND t.dbt_valid_to IS NULL",
        f"INSERT INTO {model.relation} BY NAME SELECT * FROM {news}",
        f"DROP TABLE {stage}",
        f"DROP TABLE {closes}",
        f"DROP TABLE {news}",
    )


def merge_by_key(model: Model, target: str, stage: str, on: str) -> tuple[str, ...]:
    """The staged rows merged into `target` by key: an upsert; with `key_audit: warn`, whose
    keys may repeat, every row of a key the stage holds is replaced by the stage's (a delete
    and an insert, as dbt merges on DuckDB)."""
    if model.key_audit == "warn":
        return (
            f"DELETE FROM {target} AS t WHERE EXISTS (SELECT 1 FROM {stage} AS s WHERE {on})",
            f"INSERT INTO {target} BY NAME SELECT * FROM {stage}",
        )
    return (
        f"MERGE INTO {target} AS t USING {stage} AS s ON {on} "
        "WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME",
    )


def key_judge(model: Model, window: Window | None) -> Callable[[tuple, int], str | None]:
    """Why staged rows must not be merged by key, or None. The audit row holds, in order:
    the rows outside the window (only when there is one), the rows with a NULL key, the
    duplicate keys; a value after those (a count) is not judged."""
    named = ", ".join(model.unique_key)

    def judge(row: tuple, written: int) -> str | None:
        values = list(row)
        if window is not None:
            outside = values.pop(0)
            if outside:
                return outside_message(model, window, outside)
        if model.key_audit == "warn":
            return None  # written as they are; a warning check says when it happens
        nulls, duplicates = values[0], values[1]
        where = f" in partition {window.key}" if window is not None else ""
        if nulls:
            return f"{nulls} row(s){where} have a NULL in unique_key ({named}). Nothing was written"
        if duplicates:
            return (
                f"{duplicates} duplicate unique_key ({named}) value(s){where}; a MERGE would "
                "pick one at random. Nothing was written"
            )
        return None

    return judge


def _in_window(model: Model, window: Window) -> str:
    column = quote(model.partition_by or "")
    return f"{column} >= {window.literal(window.start)} AND {column} < {window.literal(window.end)}"


def outside_message(model: Model, window: Window, outside: int) -> str:
    """Why a write whose `outside` rows fall outside its partition window is refused, and what
    to do about it (the same words on every engine)."""
    return (
        f"{outside} row(s) with {model.partition_by} outside partition {window.key} "
        f"[{window.start:%Y-%m-%d %H:%M}, {window.end:%Y-%m-%d %H:%M}); filter the query on "
        f"{{{{ start }}}} and {{{{ end }}}}. Nothing was written"
    )


def _overwrite(model: Model, sql: str, window: Window, target: str, exists: bool) -> Write:
    """Replace exactly the window: delete it and insert the query's rows, each of which must lie
    inside the window (NULL included): the insert itself raises on the first one that does not,
    so the guard costs no statement of its own."""
    inside = _in_window(model, window)
    rows = (
        f"SELECT * FROM {_wrap(sql)} WHERE CASE WHEN {inside} THEN true ELSE error('{GUARD}') END"
    )
    if exists:
        statements: tuple[str, ...] = (
            f"DELETE FROM {target} WHERE {inside}",
            f"INSERT INTO {target} BY NAME {rows}",
        )
    else:
        statements = (f"CREATE TABLE {target} AS {rows}",)
    return Write(
        statements,
        count_statement=-1,
        guard=Guard(
            f"SELECT count(*) FROM {_wrap(sql)} WHERE NOT coalesce({inside}, false)",
            lambda outside: outside_message(model, window, outside),
        ),
    )


def _merge(model: Model, sql: str, window: Window, target: str, exists: bool) -> Write:
    """Upsert the window's rows by `unique_key`. The query is staged first so it can be audited
    (window, NULL keys, duplicate keys) before it touches the target."""
    stage = quote(STAGE)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in model.unique_key)
    if exists:
        write = merge_by_key(model, target, stage, on)
    else:
        write = (f"CREATE TABLE {target} AS SELECT * FROM {stage}",)
    return Write(
        (f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {_wrap(sql)}",),
        count_statement=0,  # the rows staged are the rows written
        audit=_key_audit(model, stage, window),
        judge=key_judge(model, window),
        finish=(*write, f"DROP TABLE {stage}"),
    )


def _key_audit(model: Model, stage: str, window: Window | None = None) -> str:
    """The audit of rows staged to be merged by key, in the order `key_judge` reads it: the
    rows outside the window (when there is one, NULL included), the rows with a NULL key, the
    duplicate keys."""
    keys = [quote(k) for k in model.unique_key]
    key_tuple = f"({', '.join(keys)})" if len(keys) > 1 else keys[0]
    null_keys = " OR ".join(f"{k} IS NULL" for k in keys)
    outside = ""
    if window is not None:
        column = quote(model.partition_by or "")
        outside = f"count(*) FILTER (WHERE NOT ({_in_window(model, window)}) OR {column} IS NULL), "
    return (
        f"SELECT {outside}count(*) FILTER (WHERE {null_keys}), "
        f"count(*) - count(DISTINCT {key_tuple}) FROM {stage}"
    )


def describe_relation(schema: str, table: str) -> tuple[str, list]:
    return (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    )


def existing_columns(engine, model: Model) -> list[tuple[str, str]]:
    """The (name, type) of the model's table's columns as the warehouse holds them."""
    query, params = describe_relation(model.schema, model.table)
    return [(r[0], r[1]) for r in engine.execute(query, params).fetchall()]


def evolve(
    model: Model, target: str, new: list[tuple[str, str]], old: list[tuple[str, str]]
) -> tuple[list[str], str | None]:
    """How an existing incremental table follows its query's columns: added columns are added
    (NULL in older partitions); a changed type is refused, since older partitions hold the old
    type. Returns (ALTER statements, refusal or None)."""
    existing = {name.lower(): kind for name, kind in old}
    changed = [
        f"{name} {existing[name.lower()]} -> {kind}"
        for name, kind in new
        if name.lower() in existing and existing[name.lower()] != kind
    ]
    if changed and model.kind is Kind.SNAPSHOT:
        return [], (
            f"column type changed ({'; '.join(changed)}): the snapshot's history holds the old "
            "type, and a full refresh keeps that history. Cast the column to its old type in "
            f"the query, or drop {model.name} to start its history again"
        )
    if changed:
        return [], (
            f"column type changed ({'; '.join(changed)}): older partitions hold the old type. "
            f"Rebuild the table: orchestrator run --full-refresh {model.name}"
        )
    added = [(n, k) for n, k in new if n.lower() not in existing]
    return [f"ALTER TABLE {target} ADD COLUMN {quote(n)} {k}" for n, k in added], None


def drop_relation(model: Model, kind: str) -> str:
    """Drop what stands under the model's name (`kind`: table or view)."""
    return f"DROP {kind.upper()} IF EXISTS {model.relation}"


def drop_named(name: str, kind: str) -> str:
    """Drop a relation this tool built for a model the project no longer has."""
    return f"DROP {'VIEW' if kind == 'view' else 'TABLE'} IF EXISTS {quote_relation(name)}"


def drop_shadow(model: Model) -> str:
    return f"DROP TABLE IF EXISTS {shadow_relation(model)}"


def swap(model: Model, existing: str | None) -> Write:
    """Publish the shadow table under the model's name. Views bind names late, so a view over the
    model sees the new table as soon as this commits."""
    drop = (drop_relation(model, existing),) if existing else ()
    return Write(drop + (f"ALTER TABLE {shadow_relation(model)} RENAME TO {quote(model.table)}",))


READERS = {"csv": "read_csv", "parquet": "read_parquet", "json": "read_json"}
"""The table function that reads each file format."""


def file_reader(fmt: str, files: str) -> str:
    """The files (SQL for a path, glob or list) read with no options."""
    return f"{READERS[fmt]}({files})"


def files_variable(name: str) -> str:
    """The session variable a partition task sets to the files of its window."""
    return "orchestrator_files_" + re.sub(r"\W", "_", name)


def set_clock(at: datetime) -> str:
    """The time the readiness view takes for now (ORCHESTRATOR_NOW pins it)."""
    return f"SET VARIABLE orchestrator_now = TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}'"


def set_files(name: str, files: list[str] | None) -> str:
    if files is None:
        return f"RESET VARIABLE {files_variable(name)}"
    listed = ", ".join(literal(f) for f in files)
    return f"SET VARIABLE {files_variable(name)} = [{listed}]::VARCHAR[]"


def source_reader(source: Source, files: str, typed: bool = True) -> str:
    """The table function that reads a file source; `files` is SQL for a path, glob or list.

    CSV and JSON files are matched by column name, not position, so one file with other
    columns (held back by its drift check) does not make every other file unreadable; declared
    CSV columns get their declared types instead of types sniffed from each file's data."""
    options = dict(source.options)
    fmt = source.format or "csv"
    if fmt in ("csv", "json") and "union_by_name" not in options:
        options["union_by_name"] = True
    args = [files] + [f"{key} = {literal(value)}" for key, value in options.items()]
    if (
        typed
        and fmt == "csv"
        and source.columns
        and "types" not in options
        and "columns" not in options
    ):
        types = ", ".join(f"{literal(n)}: {literal(t)}" for n, t in source.columns)
        args.append(f"types = {{{types}}}")
    return f"{READERS[fmt]}({', '.join(args)})"


def source_views(source: Source, pattern: str) -> list[str]:
    """The view, then a plainer one (types sniffed) to fall back on when declared types cannot
    apply (every file lacks a declared column: the drift check holds its readers back)."""
    return [source_view(source, pattern), source_view(source, pattern, typed=False)]


def source_view(source: Source, pattern: str, typed: bool = True) -> str:
    """A declared file source as a view, so models read it by name like any table. `pattern` is
    absolute: the view must work whatever the reader's working directory. A read-by-partition
    source reads the files a session variable lists when a task set it, else every file."""
    files = literal(pattern)
    if source.read_by_partition:
        files = f"coalesce(getvariable('{files_variable(source.name)}'), [{literal(pattern)}])"
    schema, table = source.name.split(".")
    return (
        f"CREATE OR REPLACE VIEW {quote(schema)}.{quote(table)} AS "
        f"SELECT * FROM {source_reader(source, files, typed)}"
    )


def literal(value: object) -> str:
    """A Python scalar as a DuckDB literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return string_literal(value)
