"""A unit test's inputs as tables of an in-memory DuckDB, under the names the model reads, and
its expected rows as values.

An input's columns are those its rows name, plus those the relation is known to have, NULL
where a row leaves them out. Their types, by what knows best: the test's own `columns:`, the
warehouse (when its file exists and has the relation: the types the model really reads), the
columns a source declares in orchestrator.toml, else the values (`statements.unit_sql.infer`).
A seed the test leaves out is read from its file, as dbt does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.errors import WarehouseBusy, WarehouseError, first_line
from ..engines import engine
from ..project.unit_rows import Rows
from ..project.unit_tests import Given, UnitTest
from ..statements import unit_sql
from .workspace import Workspace

Types = Mapping[str, list[tuple[str, str]]]  # relation -> its columns and types


class Failed(Exception):
    """A test that cannot go on: why, and the line of the test file it is about (None: the
    test's own)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def warehouse_types(ws: Workspace, relations: Iterable[str]) -> tuple[Types, str | None]:
    """The columns and types the warehouse holds for `relations`, read-only and at once:
    none when there is no warehouse yet, and none (with a note) while a run holds it."""
    wanted = sorted(set(relations))
    path = ws.warehouse
    if not wanted or ws.project.settings.engine.kind != "duckdb" or not path.exists():
        return {}, None
    try:
        con = engine.connect(path, read_only=True)
    except (WarehouseBusy, WarehouseError) as exc:
        return {}, f"note: column types inferred from the given rows: {exc}"
    try:
        placeholders = ", ".join("?" for _ in wanted)
        rows = con.execute(
            "SELECT lower(table_schema || '.' || table_name), column_name, data_type "
            "FROM information_schema.columns WHERE table_catalog = current_database() "
            f"AND lower(table_schema || '.' || table_name) IN ({placeholders}) "
            "ORDER BY table_schema, table_name, ordinal_position",
            wanted,
        ).fetchall()
    finally:
        con.close()
    found: dict[str, list[tuple[str, str]]] = {}
    for relation, column, kind in rows:
        found.setdefault(relation, []).append((column, kind))
    return found, None


def create(con, ws: Workspace, test: UnitTest, types: Types) -> None:
    """Every given input as a table, and every seed the model reads that is not given."""
    import duckdb

    given = {g.relation for g in test.given}
    for item in test.given:
        statement = _statement(ws, item, types)
        try:
            con.execute(unit_sql.create_schema(item.relation))
            con.execute(statement)
        except duckdb.Error as exc:
            raise Failed(
                f"input {item.relation}: {first_line(exc, named=False)}", item.line
            ) from None
    for name in ws.dag.upstream.get(test.model, ()):
        seed = ws.dag.models[name]
        if seed.seed and name not in given:
            try:
                con.execute(unit_sql.create_schema(name))
                con.execute(unit_sql.query_table(name, seed.template))
            except duckdb.Error as exc:
                raise Failed(f"seed {name}: {first_line(exc, named=False)}") from None


def _statement(ws: Workspace, item: Given, types: Types) -> str:
    data = item.data
    if data.sql is not None:
        return unit_sql.query_table(item.relation, data.sql)
    columns, rows = _columns(ws, item, types)
    if not columns:
        raise Failed(
            f"input {item.relation}: no rows and no known columns (no table in the warehouse, "
            "none declared): name its columns with `columns: {name: TYPE}`",
            item.line,
        )
    return unit_sql.input_table(item.relation, columns, rows)


def _columns(ws: Workspace, item: Given, types: Types):
    """The input's columns with their types (None: untyped), and its rows keyed by them."""
    data = item.data
    known = _known(ws, item.relation, types)
    names: dict[str, str] = {}  # lower-case name -> the name the table gets
    for name, _ in known:
        names.setdefault(name.lower(), name)
    for name in data.columns:
        names.setdefault(name.lower(), name)
    declared = {k.lower(): v for k, v in data.types.items()}
    for name in declared:
        names.setdefault(name, name)
    kinds = {name.lower(): kind for name, kind in known}
    rows = [{names[k.lower()]: v for k, v in row.items()} for row in data.rows]
    columns = []
    for low, name in names.items():
        kind = declared.get(low) or kinds.get(low)
        if kind is None:
            kind = unit_sql.infer((row.get(name) for row in rows), data.texts)
        columns.append((name, kind))
    return columns, rows


def _known(ws: Workspace, relation: str, types: Types) -> list[tuple[str, str | None]]:
    """The columns the relation is known to have: the warehouse's, a declared source's, or
    the names a model's SQL gives its columns (typed by the values then)."""
    if relation in types:
        return list(types[relation])
    source = ws.project.sources.get(relation)
    if source is not None and source.columns:
        return list(source.columns)
    model = ws.dag.models.get(relation)
    if model is not None and model.columns:
        return [(c, None) for c in model.columns]
    return []


@dataclass(frozen=True)
class Expected:
    columns: tuple[str, ...]
    rows: tuple[Mapping, ...]
    lines: tuple[int, ...]


def expected_rows(con, test: UnitTest) -> Expected:
    """The expected rows as mappings; a `format: sql` expectation is its query's rows."""
    import duckdb

    data: Rows = test.expect
    if data.sql is None:
        return Expected(data.columns, data.rows, data.lines)
    try:
        relation = con.raw.sql(data.sql)
        names = tuple(relation.columns)
        rows = tuple(dict(zip(names, r, strict=True)) for r in relation.fetchall())
    except duckdb.Error as exc:
        raise Failed(f"expect: {first_line(exc, named=False)}", data.line) from None
    return Expected(names, rows, ())
