"""statements.data_diff on an in-memory DuckDB: rows only on one side (duplicates counted),
rows changed by key (NULL keys paired), retyped columns compared as text, per partition."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.core.partitions import Grain
from orchestrator.statements import data_diff as dd


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "create table e as select * from (values "
        "(1, date '2024-01-01', 10), (2, date '2024-01-01', 20), (2, date '2024-01-01', 20), "
        "(3, date '2024-01-02', 31), (null, date '2024-01-02', 5), (5, date '2024-01-02', 50)"
        ") t(id, d, v)"
    )
    con.execute(
        "create table p as select * from (values "
        "(1, date '2024-01-01', 10), (2, date '2024-01-01', 20), "
        "(3, date '2024-01-02', 30), (null, date '2024-01-02', 5), (4, date '2024-01-02', 40)"
        ") t(id, d, v)"
    )
    return con


def sides(key=()):
    columns = dd.shared_columns(
        [("id", "INT"), ("d", "DATE"), ("v", "INT")], [("id", "INT"), ("d", "DATE"), ("v", "INT")]
    )
    return dd.Sides("e", "p", columns, key, "d", Grain.DAY)


def test_whole_rows_count_duplicates_and_split_by_partition(con):
    s = sides()
    con.execute(dd.whole_rows(s, "t"))
    summary = sorted(con.execute(dd.whole_rows_summary(s, "t")).fetchall())
    # 2024-01-01: one extra (2, 20) here; 2024-01-02: (3, 31), (5, 50) here, (3, 30), (4, 40) there
    assert summary == [("2024-01-01", 1, 0, 0), ("2024-01-02", 2, 2, 0)]
    assert con.execute(dd.whole_rows_sample(s, "t", False, 5)).fetchall() == [
        (3, __import__("datetime").date(2024, 1, 2), 30),
        (4, __import__("datetime").date(2024, 1, 2), 40),
    ]


def test_by_key_a_row_is_changed_added_or_removed_and_null_keys_pair(con):
    s = sides(("id",))
    con.execute(dd.keyed_rows(s, "t"))
    summary = sorted(con.execute(dd.keyed_summary("t")).fetchall())
    # id 3 changed, id 5 only here, id 4 only there; the NULL keys pair and agree
    assert summary == [("2024-01-02", 1, 1, 1)]
    changed = con.execute(dd.keyed_sample("t", "changed", 5)).fetchall()
    assert [(r[0], r[4], r[5]) for r in changed] == [(3, 31, 30)]  # id, v here, v there


def test_counts_per_partition(con):
    assert sorted(con.execute(dd.counts("e", sides())).fetchall()) == [
        ("2024-01-01", 3),
        ("2024-01-02", 3),
    ]


def test_a_retyped_column_is_compared_as_text():
    con = duckdb.connect()
    con.execute("create table e as select 1 as id, '1.50' as v")
    con.execute("create table p as select 1 as id, 1.5::double as v")
    columns = dd.shared_columns(
        [("id", "INTEGER"), ("v", "VARCHAR")], [("id", "INTEGER"), ("v", "DOUBLE")]
    )
    assert columns == (("id", False), ("v", True))
    s = dd.Sides("e", "p", columns, ("id",))
    con.execute(dd.keyed_rows(s, "t"))
    assert con.execute(dd.keyed_summary("t")).fetchall() == [("all", 0, 0, 1)]
