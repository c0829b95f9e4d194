"""statements.exports: an export's rows for a window, its file names and its table writes, run
on DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestrator.core.partitions import Grain, Window
from orchestrator.project.model import Export, Kind, Model
from orchestrator.statements import exports as sql

MODEL = Model(
    name="m.d",
    schema="m",
    table="d",
    path=Path("models/m/d.sql"),
    relpath="models/m/d.sql",
    template="",
    kind=Kind.INCREMENTAL,
    partition_by="day",
)
DAY = Window(datetime(2024, 1, 2), datetime(2024, 1, 3), Grain.DAY)


def warehouse():
    con = duckdb.connect()
    con.execute("create schema m")
    con.execute(
        "create table m.d as select day::date as day, 1 as n "
        "from range(date '2024-01-01', date '2024-01-04', interval 1 day) t(day)"
    )
    return con


def test_the_rows_of_a_window_and_a_query_over_them():
    con = warehouse()
    plain = Export("e", "m.d", path="x/{date}.csv", per="partition")
    assert len(con.execute(sql.rows_of(plain, MODEL, DAY, {})).fetchall()) == 1
    assert len(con.execute(sql.rows_of(plain, MODEL, None, {})).fetchall()) == 3
    query = "select count(*) as c, {{ start }} as s, {{ var('r') }} as r from {{ this }}"
    asked = Export("e", "m.d", path="x/{date}.csv", per="partition", query=query)
    rows = con.execute(sql.rows_of(asked, MODEL, DAY, {"r": "eu"})).fetchall()
    assert rows == [(1, datetime(2024, 1, 2).date(), "eu")]


def test_paths_fill_their_placeholders_and_set_files_aside_hidden():
    export = Export("e", "m.d", path="out/{year}/{month}/{date}T{hour}.parquet")
    assert sql.file_path(export, DAY) == "out/2024/2024-01/2024-01-02T00.parquet"
    assert sql.aside(Path("out/a.parquet")) == Path("out/.a.parquet.partial")
    assert sql.attach("x.sqlite").endswith("(TYPE sqlite)")
    assert "TYPE" not in sql.attach("x.duckdb")


def test_a_whole_table_is_staged_then_swapped_and_a_partition_replaced(tmp_path):
    con = warehouse()
    con.execute(sql.attach(str(tmp_path / "dest.duckdb")))
    fill, swap = sql.stage_whole("fin.d", "select * from m.d")
    for statement in fill + swap:
        con.execute(statement)
    assert con.execute(f"select count(*) from {sql.ATTACHED}.fin.d").fetchone()[0] == 3
    con.execute("update m.d set n = 5 where day = date '2024-01-02'")
    for statement in sql.replace_partition("fin.d", "select * from m.d where n = 5", "day", DAY):
        con.execute(statement)
    got = con.execute(f"select day, n from {sql.ATTACHED}.fin.d order by day").fetchall()
    assert [n for _, n in got] == [1, 5, 1]
    tables = con.execute(
        f"select table_name from duckdb_tables() where database_name = '{sql.ATTACHED}'"
    )
    assert [t for (t,) in tables.fetchall()] == ["d"]
