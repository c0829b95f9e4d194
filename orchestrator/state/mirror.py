"""Copies of the warehouse that readers open while a run holds it (DuckDB lets no other
process open a file that one process writes).

`write_state_copy`: after every writing command, the `orchestrator` tables in full and every
other relation as its shape only (tables with their columns and no rows, views as empty
placeholders), so `status`, `plan`, `runs` and queries on the state answer during a run.
`write_serving_copy`: the data too, of every schema or the listed ones, for dashboards.
Both are written beside the target and swapped in with one rename: a reader sees the old copy
or the new one, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..core.quoting import literal, quote
from ..core.transaction import transaction
from .schema import SCHEMA

_ALIAS = "orchestrator_copy"


def state_copy_path(warehouse: Path) -> Path:
    """Where the last state copy of a warehouse lives: `warehouse.duckdb` ->
    `warehouse.state.duckdb`."""
    return warehouse.with_name(f"{warehouse.stem}.state{warehouse.suffix or '.duckdb'}")


def _relations(con) -> list[tuple[str, str, str]]:
    """(schema, name, kind) of the warehouse's own relations."""
    return con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
    ).fetchall()


def _views_sql(con, schema: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal "
        "AND database_name = current_database() AND schema_name = ?",
        [schema],
    ).fetchall()


def _swap_in(con, target: Path, fill) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH {literal(str(tmp))} AS {_ALIAS}")
    try:
        fill()
    except BaseException:
        con.execute(f"DETACH {_ALIAS}")
        tmp.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {_ALIAS}")
    os.replace(tmp, target)


def write_state_copy(con, target: Path) -> None:
    """The state in full and the shape of everything else (see the module's docstring)."""

    def fill() -> None:
        relations = _relations(con)
        shapes = _table_shapes(con)
        for schema in sorted({s for s, _, _ in relations}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.{quote(schema)}")
        shells = []
        for schema, name, kind in relations:
            if schema == SCHEMA and kind == "VIEW":
                continue  # made again from their SQL below, over the copied tables
            where = f"{_ALIAS}.{quote(schema)}.{quote(name)}"
            source = f"{quote(schema)}.{quote(name)}"
            if kind == "VIEW":
                shells.append(f"CREATE VIEW {where} AS SELECT NULL AS unavailable WHERE false")
            elif schema == SCHEMA:
                con.execute(f"CREATE TABLE {where} AS SELECT * FROM {source}")
            else:
                columns = shapes.get((schema, name))
                shells.append(
                    f"CREATE TABLE {where} ({columns})"
                    if columns
                    else f"CREATE TABLE {where} AS SELECT * FROM {source} LIMIT 0"
                )
        _create_shells(con, shells)
        for name, sql in _views_sql(con, SCHEMA):
            prefix = f"CREATE VIEW {SCHEMA}.{name}"
            if sql.startswith(prefix):
                con.execute(f"CREATE VIEW {_ALIAS}.{SCHEMA}.{quote(name)}" + sql[len(prefix) :])

    _swap_in(con, target, fill)


def _table_shapes(con) -> dict[tuple[str, str], str]:
    """(schema, table) -> its column list as DDL, for the tables outside the state whose
    every column has a built-in type (a type the project created would not exist in the copy;
    those tables are copied by their SELECT instead)."""
    found: dict[tuple[str, str], list[str]] = {}
    plain: dict[tuple[str, str], bool] = {}
    for schema, table, column, kind, builtin in con.execute(
        "SELECT schema_name, table_name, column_name, data_type, "
        "data_type NOT IN (SELECT type_name FROM duckdb_types() WHERE NOT internal) "
        "FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal "
        f"AND schema_name <> '{SCHEMA}' ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        found.setdefault((schema, table), []).append(f"{quote(column)} {kind}")
        plain[(schema, table)] = plain.get((schema, table), True) and builtin
    return {key: ", ".join(cols) for key, cols in found.items() if plain[key]}


def _create_shells(con, statements: list[str]) -> None:
    """The empty shapes of the models, in one transaction: a statement and a commit each
    would cost seconds per writing command at thousands of models."""
    if not statements:
        return
    with transaction(con):
        con.execute(";\n".join(statements))


def write_serving_copy(con, target: Path, schemas: Sequence[str] = ()) -> int:
    """Every relation of `schemas` (all but the state when empty) with its data, views as the
    tables they show: a dashboard reads a consistent copy of what the run published. Returns
    the number of relations copied."""
    relations = [
        (s, n) for s, n, _ in _relations(con) if (s in schemas if schemas else s != SCHEMA)
    ]

    def fill() -> None:
        for schema in sorted({s for s, _ in relations}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.{quote(schema)}")
        for schema, name in relations:
            con.execute(
                f"CREATE TABLE {_ALIAS}.{quote(schema)}.{quote(name)} AS "
                f"SELECT * FROM {quote(schema)}.{quote(name)}"
            )

    _swap_in(con, target, fill)
    return len(relations)
