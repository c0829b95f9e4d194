"""statements.promotion on an in-memory DuckDB: the production relation becomes a copy of the
environment's rows, a view standing there first is dropped, in one transaction."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestrator.project.model import Model
from orchestrator.statements.promotion import promote


def model() -> Model:
    return Model("marts.daily", "marts", "daily", Path("m.sql"), "models/marts/daily.sql", "")


def test_the_table_takes_the_copys_rows():
    con = duckdb.connect()
    con.execute("create schema marts__dev; create table marts__dev.daily as select 1 as x")
    con.execute("begin")
    for statement in promote(model(), '"marts__dev"."daily"', None):
        con.execute(statement)
    con.execute("commit")
    assert con.execute("select * from marts.daily").fetchall() == [(1,)]


def test_a_view_in_the_way_is_dropped_and_a_rollback_keeps_it():
    con = duckdb.connect()
    con.execute("create schema marts; create view marts.daily as select 0 as x")
    con.execute("create schema marts__dev; create table marts__dev.daily as select 1 as x")
    statements = promote(model(), '"marts__dev"."daily"', "view")
    assert statements[0] == 'DROP VIEW IF EXISTS "marts"."daily"'
    con.execute("begin")
    for statement in statements:
        con.execute(statement)
    con.execute("rollback")
    assert con.execute("select * from marts.daily").fetchall() == [(0,)]
