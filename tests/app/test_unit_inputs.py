"""A unit test's inputs as tables: their columns and types from the test, the warehouse, the
declared source or the values, in that order; the warehouse only read, and not waited for."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from orchestrator.app import unit_inputs, unit_testing
from orchestrator.app.workspace import open_workspace
from orchestrator.project import unit_tests

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

TYPES = """
select typeof(order_id) as id_type, typeof(amount) as amount_type, typeof(note) as note_type,
       upper(note) as shout
from raw.orders
"""


@pytest.fixture
def typed(project):
    project.write(
        "orchestrator.toml",
        '[sources."raw.orders"]\ncolumns = { order_id = "INTEGER", amount = "DECIMAL(9,3)" }\n',
    )
    project.model("marts.types", TYPES)
    return project


def loaded(project, given: str):
    project.write(
        "unit_tests/t.yml",
        "unit_tests:\n  - name: t\n    model: types\n    given:\n"
        f"      - {given}\n    expect:\n      rows: []\n",
    )
    ws = open_workspace(project.root)
    return ws, unit_tests.load(ws.project, ws.dag)[0]


def returned(project, given: str) -> list[tuple]:
    ws, test = loaded(project, given)
    types, note = unit_inputs.warehouse_types(ws, [g.relation for g in test.given])
    assert note is None
    con = duckdb.connect()
    try:
        unit_inputs.create(_Wrapped(con), ws, test, types)
        return con.execute(TYPES).fetchall()
    finally:
        con.close()


class _Wrapped:
    """What `create` calls: `execute` on an engine connection."""

    def __init__(self, con):
        self.raw = con

    def execute(self, sql):
        return self.raw.execute(sql)


def test_a_declared_sources_columns_type_the_input_and_what_rows_leave_out(typed):
    rows = returned(typed, "{input: raw.orders, rows: [{order_id: 1}, {note: null}]}")
    assert rows == [("INTEGER", "DECIMAL(9,3)", '"NULL"', None)] * 2


def test_the_tests_own_columns_win(typed):
    rows = returned(
        typed,
        "{input: raw.orders, columns: {amount: DOUBLE, note: VARCHAR}, rows: [{order_id: 1}]}",
    )
    assert rows == [("INTEGER", "DOUBLE", "VARCHAR", None)]


def test_the_warehouses_types_win_over_the_declared_ones(typed):
    typed.seed(
        "create schema raw; create table raw.orders "
        "(order_id bigint, amount decimal(18,2), note varchar, extra date)"
    )
    rows = returned(typed, "{input: raw.orders, rows: [{order_id: 1, note: hi}]}")
    assert rows == [("BIGINT", "DECIMAL(18,2)", "VARCHAR", "HI")]


def test_without_any_type_known_the_values_decide(project):
    project.model("marts.types", TYPES)
    rows = returned(project, "{input: raw.orders, rows: [{order_id: 1, amount: 2.5, note: x}]}")
    assert rows == [("BIGINT", "DOUBLE", "VARCHAR", "X")]


def test_an_input_of_no_rows_and_no_known_columns_says_what_to_write(project):
    project.model("marts.types", TYPES)
    project.write(
        "unit_tests/t.yml",
        "unit_tests:\n  - name: t\n    model: types\n    given:\n"
        "      - {input: raw.orders, rows: []}\n    expect: {rows: []}\n",
    )
    (result,) = unit_testing.run(open_workspace(project.root)).results
    assert result.error == (
        "unit_tests/t.yml:5: input raw.orders: no rows and no known columns (no table in the "
        "warehouse, none declared): name its columns with `columns: {name: TYPE}`"
    )


def test_an_input_query_that_fails_names_its_line(project):
    project.model("marts.types", TYPES)
    project.write(
        "unit_tests/t.yml",
        "unit_tests:\n  - name: t\n    model: types\n    given:\n"
        "      - {input: raw.orders, format: sql, rows: select nope}\n    expect: {rows: []}\n",
    )
    (result,) = unit_testing.run(open_workspace(project.root)).results
    assert result.error.startswith("unit_tests/t.yml:5: input raw.orders: Binder Error")


def test_a_warehouse_held_by_a_writer_is_not_waited_for(typed):
    typed.seed("create schema raw; create table raw.orders (order_id bigint)")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(30)",
            str(typed.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        ws, test = loaded(typed, "{input: raw.orders, rows: [{order_id: 1}]}")
        started = time.monotonic()
        types, note = unit_inputs.warehouse_types(ws, ["raw.orders"])
        assert time.monotonic() - started < 5
        assert types == {} and note.startswith("note: column types inferred from the given rows")
    finally:
        holder.kill()
        holder.wait()


def test_no_warehouse_no_relations_or_none_of_them_there_give_no_types(typed):
    ws, _ = loaded(typed, "{input: raw.orders, rows: []}")
    assert unit_inputs.warehouse_types(ws, ["raw.orders"]) == ({}, None)
    typed.seed("create table x (a int)")
    assert unit_inputs.warehouse_types(ws, []) == ({}, None)
    assert unit_inputs.warehouse_types(ws, ["raw.orders"]) == ({}, None)
