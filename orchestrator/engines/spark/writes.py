"""The writes of each kind of model on Spark, where no transaction holds several statements.

Every write is staged, audited and checked before anything published changes (`Write.stage`
is the relation blocking checks judge), and each publishing step is idempotent, so that a write
cut short anywhere converges when it runs again:
- incremental: the stage replaces exactly the window's partitions (dynamic partition
  overwrite); partitions of the window the stage no longer has are dropped first.
- unique_key in a window: the stage is the window's new content (new rows plus the current
  rows whose key they do not carry), then it replaces the window as above.
- table, and merges of a whole table: the stage directory takes the table's place (the old
  one is moved aside, the new one moved in, the old one deleted).
- view: checked as a temporary view, then made, and remembered in the state so that the next
  session registers it again.

A step is a Spark SQL statement (`Native`) or a function of the cursor, for what SQL cannot
say (moving directories, reading the table's columns at the moment of the write).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from ...core.partitions import Window
from ...core.quoting import quote
from ...project.model import Kind, Model
from ...statements.materialize import Write, key_judge, outside_message
from .files import (
    STAGE_SCHEMA,
    move,
    parquet_rows,
    partition_dirs,
    read_layout,
    remove_tree,
    write_layout,
)
from .native import Native, ident, literal, spark_type


class SparkCursor(Protocol):
    """What a write's steps need of a Spark cursor (`engine.Spark`): to run Spark SQL, where
    a table's files live, the catalog's names, and the state connection."""

    @property
    def state(self) -> Any: ...

    def execute(self, statement: str, params: Any = None) -> Any: ...

    def describe(self, query: str) -> list[tuple[str, str]]: ...

    def spark_columns(self, query: str) -> list[tuple[str, str]]: ...

    def location(self, schema: str, table: str) -> Path: ...

    def relations(self) -> dict[str, str]: ...

    def known(self, name: str, kind: str | None) -> None: ...

    def register_table(self, schema: str, table: str) -> None: ...

    def data_relation(self, schema: str, table: str) -> str: ...

    def drop_table(self, schema: str, table: str) -> None: ...


def _names(model: Model, into_shadow: bool) -> tuple[str, str]:
    return model.schema, model.table + ("__refresh" if into_shadow else "")


def _spark_relation(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"


def stage_of(model: Model, suffix: str = "") -> tuple[str, str]:
    return STAGE_SCHEMA, f"{model.schema}__{model.table}{suffix}".lower()


def _in_window(model: Model, window: Window) -> str:
    column = ident(model.partition_by or "")
    return (
        f"{column} >= {_spark_literal(window, window.start)} "
        f"AND {column} < {_spark_literal(window, window.end)}"
    )


def _spark_literal(window: Window, value) -> str:
    import sqlglot

    return sqlglot.transpile(window.literal(value), read="duckdb", write="spark")[0]


def _wrap(sql: str) -> str:
    return f"(\n{sql.strip().rstrip(';').rstrip()}\n)"


def _fresh_table(cur: SparkCursor, schema: str, table: str) -> None:
    """No table and no files under the name: CREATE ... LOCATION needs an empty place."""
    cur.execute(Native(f"CREATE DATABASE IF NOT EXISTS {ident(schema)}"))
    cur.drop_table(schema, table)
    remove_tree(cur.location(schema, table))


def _create_as(schema: str, table: str, query: str, partition_by: str | None = None):
    """A table of `query`'s rows. Partitioned, its layout (the query's column order and
    types) is written beside its files; a model's table is then registered with it, so its
    name reads in that order and it exists even with no rows (`Catalog.register_table`)."""

    def step(cur: SparkCursor) -> None:
        columns = cur.spark_columns(query) if partition_by else []
        _fresh_table(cur, schema, table)
        partitioned = f"PARTITIONED BY ({ident(partition_by)}) " if partition_by else ""
        place = cur.location(schema, table)
        cur.execute(
            Native(
                f"CREATE TABLE {_spark_relation(schema, table)} USING parquet {partitioned}"
                f"LOCATION {literal(str(place))} AS {query}"
            )
        )
        if partition_by:
            write_layout(place, columns, partition_by)
            if schema != STAGE_SCHEMA and "__" not in table:
                cur.register_table(schema, table)

    return step


def _in_layout_order(cur: SparkCursor, stage: tuple[str, str]) -> str:
    """The staged rows in the order of the query that made them (its layout)."""
    layout = read_layout(cur.location(*stage))
    staged = _spark_relation(*stage)
    if not layout:
        return f"SELECT * FROM {staged}"
    return f"SELECT {', '.join(ident(n) for n, _ in layout['columns'])} FROM {staged}"


def _drop_stage(*stages: tuple[str, str]):
    def step(cur: SparkCursor) -> None:
        for schema, table in stages:
            cur.execute(Native(f"DROP TABLE IF EXISTS {_spark_relation(schema, table)}"))
            remove_tree(cur.location(schema, table))

    return step


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
    """The write that publishes `sql` (already Spark SQL) as (part of) `model`."""
    if model.kind is Kind.VIEW:
        return _view(model, sql, existing)
    if model.kind is Kind.TABLE:
        return _table(model, sql, existing)
    if model.merges_whole:
        return _merge_whole(model, sql, existing, merging)
    assert window is not None, "an incremental model is written one window at a time"
    schema, table = _names(model, into_shadow)
    exists = shadow_exists if into_shadow else existing == "table"
    if model.unique_key:
        return _merge(model, sql, window, schema, table, exists)
    return _window(model, sql, window, schema, table, exists)


def _stage_quoted(stage: tuple[str, str]) -> str:
    """The stage as the checks name it (DuckDB quoting: they are transpiled)."""
    return f"{quote(stage[0])}.{quote(stage[1])}"


def _view(model: Model, sql: str, existing: str | None) -> Write:
    temp = f"orchestrator_check_{model.schema}__{model.table}".lower()
    statement = (
        f"CREATE OR REPLACE VIEW {_spark_relation(model.schema, model.table)} AS {_wrap(sql)}"
    )

    def publish(cur: SparkCursor) -> None:
        if existing == "table":
            cur.drop_table(model.schema, model.table)
            remove_tree(cur.location(model.schema, model.table))
        cur.execute(Native(statement))
        cur.known(model.name, "view")
        from ... import state

        state.remember_spark_view(cur.state, model.name, statement)

    return Write(
        (Native(f"CREATE OR REPLACE TEMPORARY VIEW {ident(temp)} AS {_wrap(sql)}"),),
        finish=(publish, Native(f"DROP VIEW IF EXISTS {ident(temp)}")),
        stage=quote(temp),
    )


def _counted(stage: tuple[str, str]):
    """The audit of a staged table: its rows, counted from its Parquet files' footers."""

    def audit(cur: SparkCursor) -> tuple:
        return (parquet_rows(cur.location(*stage)),)

    return audit


def _table(model: Model, sql: str, existing: str | None) -> Write:
    stage = stage_of(model)
    return Write(
        (_create_as(*stage, f"SELECT * FROM {_wrap(sql)}"),),
        audit=_counted(stage),
        counted_by_audit=True,
        finish=(_move_in(model, stage, existing),),
        stage=_stage_quoted(stage),
    )


def _move_in(model: Model, stage: tuple[str, str], existing: str | None, target=None):
    """The stage's directory becomes the table's: the old one is moved aside first and
    deleted last, each step safe to repeat."""
    schema, table = target or (model.schema, model.table)

    def step(cur: SparkCursor) -> None:
        place, staged = cur.location(schema, table), cur.location(*stage)
        aside = place.with_name(place.name + "__old")
        cur.execute(Native(f"DROP TABLE IF EXISTS {_spark_relation(*stage)}"))
        if existing == "view":
            cur.execute(Native(f"DROP VIEW IF EXISTS {_spark_relation(schema, table)}"))
            cur.known(f"{schema}.{table}", None)
            from ... import state

            state.forget_spark_view(cur.state, f"{schema}.{table}")
        cur.drop_table(schema, table)
        remove_tree(aside)
        if place.exists():
            move(place, aside)
        place.parent.mkdir(parents=True, exist_ok=True)
        move(staged, place)
        remove_tree(aside)
        cur.execute(Native(f"CREATE DATABASE IF NOT EXISTS {ident(schema)}"))
        cur.register_table(schema, table)

    return step


def _window(model: Model, sql: str, window: Window, schema: str, table: str, exists: bool) -> Write:
    """Stage the window's rows, audit that each lies inside the window, then replace it."""
    stage = stage_of(model)
    inside = _in_window(model, window)

    def judge(row: tuple, written: int) -> str | None:
        return outside_message(model, window, row[0]) if row[0] else None

    exact = Native(
        f"SELECT count_if(NOT coalesce({inside}, false)), count(*) FROM {_spark_relation(*stage)}"
    )

    def audit(cur: SparkCursor) -> tuple:
        # the stage is partitioned like the table: its directories say which partitions the
        # rows fall in, and the footers how many rows there are; a job counts the rows
        # outside the window only when a directory lies outside it
        place = cur.location(*stage)
        values = partition_dirs(place, model.partition_by or "")
        if all(_within(value, window) for value in values):
            return (0, parquet_rows(place))
        return cur.execute(exact).fetchone()

    return Write(
        (_create_as(*stage, f"SELECT * FROM {_wrap(sql)}", model.partition_by),),
        audit=audit,
        counted_by_audit=True,
        judge=judge,
        finish=(_replace_window(model, stage, window, schema, table, exists), _drop_stage(stage)),
        stage=_stage_quoted(stage),
    )


def _replace_window(
    model: Model, stage: tuple[str, str], window: Window, schema: str, table: str, exists: bool
):
    column = model.partition_by or ""

    def step(cur: SparkCursor) -> None:
        staged = _spark_relation(*stage)
        if not exists or f"{schema}.{table}".lower() not in cur.relations():
            _create_as(schema, table, _in_layout_order(cur, stage), column)(cur)
            cur.known(f"{schema}.{table}", "table")
            return
        target = cur.data_relation(schema, table)
        for value in _gone(cur, model, window, stage, (schema, table)):
            _drop_partition(cur, schema, table, column, value)
        columns = [name for name, _ in cur.describe(Native(f"SELECT * FROM {target}"))]
        listed = ", ".join(ident(c) for c in columns)
        cur.execute(Native(f"INSERT OVERWRITE TABLE {target} SELECT {listed} FROM {staged}"))
        cur.execute(Native(f"REFRESH TABLE {target}"))

    return step


def _within(value: str, window: Window) -> bool:
    """A partition directory's value inside `window` (one that does not read as a date or a
    time, such as Spark's NULL partition, is not)."""
    from datetime import datetime

    try:
        point = datetime.fromisoformat(value)
    except ValueError:
        return False
    return window.start <= point < window.end


def _gone(cur: SparkCursor, model: Model, window: Window, stage, target) -> list[str]:
    """The target's partitions inside the window that the stage no longer has, read from the
    directories (no job): the stage is partitioned the same way."""
    column = model.partition_by or ""
    produced = set(partition_dirs(cur.location(*stage), column))
    return [
        value
        for value in partition_dirs(cur.location(*target), column)
        if _within(value, window) and value not in produced
    ]


def _drop_partition(cur: SparkCursor, schema: str, table: str, column: str, value) -> None:
    """A partition the window no longer has: out of the catalog, and its files gone (the
    table is external: dropping the partition alone leaves the files)."""
    cur.execute(
        Native(
            f"ALTER TABLE {cur.data_relation(schema, table)} DROP IF EXISTS "
            f"PARTITION ({ident(column)} = {literal(value)})"
        )
    )
    directory = partition_dirs(cur.location(schema, table), column).get(value)
    if directory:
        remove_tree(cur.location(schema, table) / directory)


def _merge_whole(model: Model, sql: str, existing: str | None, merging: bool) -> Write:
    """Merge the whole query by key: the new table is the query's rows plus the current rows
    whose key they do not carry, built aside and moved in."""
    current = (model.schema, model.table) if merging else None
    stage, merged, write = _keyed(model, sql, None, current)
    return replace(write, finish=(_move_in(model, merged, existing), _drop_stage(stage, merged)))


def _merge(model: Model, sql: str, window: Window, schema: str, table: str, exists: bool) -> Write:
    """Upsert the window's rows by key: the window's new content is staged (new rows win),
    audited, checked, then replaces the window."""
    stage, merged, write = _keyed(model, sql, window, (schema, table) if exists else None)
    return replace(
        write,
        finish=(
            _replace_window(model, merged, window, schema, table, exists),
            _drop_stage(stage, merged),
        ),
    )


def _keyed(model: Model, sql: str, window: Window | None, current: tuple[str, str] | None):
    """The staging of a merge by key: the query's rows staged and audited (outside the window
    when there is one, NULL and duplicate keys), then combined with the `current` table's rows
    (those of the window) whose key they lack, into the stage the checks judge."""
    stage, merged = stage_of(model), stage_of(model, "__merged")
    keys = [ident(k) for k in model.unique_key]
    null_keys = " OR ".join(f"{k} IS NULL" for k in keys)
    inside = _in_window(model, window) if window is not None else ""
    outside = f"count_if(NOT coalesce({inside}, false)), " if window is not None else ""

    def combine(cur: SparkCursor) -> None:
        staged = _spark_relation(*stage)
        if current is not None and ".".join(current).lower() in cur.relations():
            query = _kept_rows(cur, staged, _spark_relation(*current), keys, inside)
        else:
            query = f"SELECT * FROM {staged}"
        _create_as(*merged, query)(cur)

    write = Write(
        (_create_as(*stage, f"SELECT * FROM {_wrap(sql)}"), combine),
        audit=Native(
            f"SELECT {outside}count_if({null_keys}), "
            f"count(*) - count(DISTINCT struct({', '.join(keys)})), count(*) "
            f"FROM {_spark_relation(*stage)}"
        ),
        counted_by_audit=True,
        judge=key_judge(model, window),
        stage=_stage_quoted(merged),
    )
    return stage, merged, write


def _kept_rows(
    cur: SparkCursor, staged: str, current: str, keys: list[str], where: str = ""
) -> str:
    """The staged rows plus the current rows (optionally only `where`) whose key they lack,
    in the staged rows' column order."""
    columns = [name for name, _ in cur.describe(Native(f"SELECT * FROM {staged}"))]
    listed = ", ".join(f"t.{ident(c)}" for c in columns)
    on = " AND ".join(f"s.{k} <=> t.{k}" for k in keys)
    condition = f"({where}) AND " if where else ""
    return (
        f"SELECT * FROM {staged} UNION ALL SELECT {listed} FROM {current} t "
        f"WHERE {condition}NOT EXISTS (SELECT 1 FROM {staged} s WHERE {on})"
    )


def swap(model: Model, existing: str | None) -> Write:
    """The last step of a full refresh: the shadow table's directory takes the model's place."""
    shadow = (model.schema, model.table + "__refresh")
    return Write((_move_in(model, shadow, existing),))


def drop_relation(model: Model, kind: str):
    """Drop what stands under the model's name (`kind`: table or view)."""
    return drop_named(model.name, kind)


def drop_named(name: str, kind: str):
    """Drop a relation this tool built for a model the project no longer has."""

    def step(cur: SparkCursor) -> None:
        schema, table = name.split(".", 1)
        relation = _spark_relation(schema, table)
        if kind == "view":
            cur.execute(Native(f"DROP VIEW IF EXISTS {relation}"))
        else:
            cur.drop_table(schema, table)
        if kind == "view":
            from ... import state

            state.forget_spark_view(cur.state, name)
        else:
            remove_tree(cur.location(schema, table))
        cur.known(name, None)

    return step


def drop_shadow(model: Model):
    return _drop_stage((model.schema, model.table + "__refresh"))


def create_schema(schema: str) -> Native:
    return Native(f"CREATE DATABASE IF NOT EXISTS {ident(schema)}")


def evolve(
    model: Model, target: str, new: list[tuple[str, str]], old: list[tuple[str, str]]
) -> tuple[list, str | None]:
    """As on DuckDB (`materialize.evolve`): added columns are added, a changed type refused."""
    from ...statements.materialize import evolve as duckdb_evolve

    statements, refusal = duckdb_evolve(model, target, new, old)
    if refusal:
        return [], refusal
    existing = {n.lower() for n, _ in old}
    added = [(n, k) for n, k in new if n.lower() not in existing]
    if not added:
        return [], None

    def step(cur: SparkCursor) -> None:
        relation = cur.data_relation(model.schema, model.table)
        listed = ", ".join(f"{ident(n)} {spark_type(k)}" for n, k in added)
        cur.execute(Native(f"ALTER TABLE {relation} ADD COLUMNS ({listed})"))
        place = cur.location(model.schema, model.table)
        layout = read_layout(place)
        if layout:  # the query's order, the added columns where it has them
            types = dict(cur.spark_columns(f"SELECT * FROM {relation}"))
            columns = [(n, types[n]) for n, _ in new if n in types]
            write_layout(place, columns, layout["partition_by"])
            cur.register_table(model.schema, model.table)

    return [step], None


def existing_columns(cur: SparkCursor, model: Model) -> list[tuple[str, str]]:
    return cur.describe(Native(f"SELECT * FROM {_spark_relation(model.schema, model.table)}"))
