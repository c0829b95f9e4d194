"""dbt_utils' generic tests natively (`sql.dbt.dbt_utils_tests`): each query, run on DuckDB, gives
a row for each failure, as dbt_utils' do; arguments dbt_utils refuses are refused."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.sql.dbt.dbt_utils_tests import (
    equality,
    fewer_rows_than,
    mutually_exclusive_ranges,
    natives,
    not_accepted_values,
    sequential_values,
)
from orchestrator.sql.dbt.errors import NeedsDatabase
from orchestrator.sql.dbt.yamlfile import ImportProblem


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create table a as select * from (values (1, 'x', 9), (2, 'y', 9)) t(id, c, z)")
    con.execute("create table b as select * from (values ('y', 2, 0), ('x', 1, 0)) t(c, id, z)")
    con.execute(
        "create table r as select * from (values (1, 0, 5), (1, 5, 9), (2, 0, 3), "
        "(2, 2, 6)) t(g, lo, hi)"
    )
    return con


def failures(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_equality_compares_by_name_and_only_the_columns_asked(con):
    assert len(failures(con, equality("a", "b"))) == 4  # z differs on every row
    assert failures(con, equality("a", "b", exclude_columns=["Z"])) == []
    assert failures(con, equality("a", "b", compare_columns=["id", "c"])) == []
    with pytest.raises(ImportProblem, match="Only one is allowed"):
        equality("a", "b", compare_columns=["id"], exclude_columns=["z"])
    with pytest.raises(NeedsDatabase, match="precision"):
        equality("a", "b", precision=2)


def test_fewer_rows_than_fails_unless_the_model_has_fewer(con):
    assert failures(con, fewer_rows_than("a", "r")) == []
    assert len(failures(con, fewer_rows_than("r", "a"))) == 1
    assert len(failures(con, fewer_rows_than("a", "b"))) == 1  # as many is not fewer
    assert failures(con, fewer_rows_than("r", "r", group_by_columns=["g"])) != []


def test_not_accepted_values_lists_each_value_found(con):
    assert failures(con, not_accepted_values("a", "c", ["y", "q"])) == [("y",)]
    assert failures(con, not_accepted_values("a", "id", [3], quote=False)) == []


def test_sequential_values_fails_on_each_gap(con):
    con.execute("create table s as select * from (values (1), (2), (4), (5)) t(n)")
    assert failures(con, sequential_values("s", "n")) == [(4, 2)]
    assert failures(con, sequential_values("s", "n", interval=2)) == [(2, 1), (5, 4)]
    con.execute("create table w as select unnest([date '2024-01-01', date '2024-01-08']) as d")
    assert failures(con, sequential_values("w", "d", interval=7, datepart="day")) == []


def test_mutually_exclusive_ranges_finds_the_overlap_and_checks_gaps(con):
    overlapping = failures(con, mutually_exclusive_ranges("r", "lo", "hi", partition_by="g"))
    assert [(row[0], row[1]) for row in overlapping] == [(2, 0)]
    assert (
        failures(con, mutually_exclusive_ranges("(select * from r where g = 1)", "lo", "hi")) == []
    )
    gapless = mutually_exclusive_ranges("r", "lo", "hi", partition_by="g", gaps="required")
    assert len(failures(con, gapless)) == 2  # g = 1 touches: no gap
    with pytest.raises(ImportProblem, match="`gaps` argument"):
        mutually_exclusive_ranges("r", "lo", "hi", gaps="sometimes")


def test_the_tests_are_the_macros_dbt_makes_of_them():
    assert set(natives()) == {
        "test_equality",
        "test_fewer_rows_than",
        "test_not_accepted_values",
        "test_sequential_values",
        "test_mutually_exclusive_ranges",
    }
