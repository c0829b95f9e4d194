"""The walk over a query's scopes (`sql.column_scopes`), seen through `column_lineage`: a column
a `*` expanded to is read only where something needs it, written columns always, and a
DISTINCT, GROUP BY ALL or UNION needs every column; names are numbered as DuckDB numbers them."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.sql.column_lineage import column_lineage, columns_read
from orchestrator.sql.column_scopes import numbered

SCHEMA = {"s.t": ["a", "b", "c"], "s.u": ["a", "d"]}


def read(sql: str) -> dict[str, set[str]]:
    return {r: set(c) for r, c in columns_read(sql, SCHEMA, ["s"]).items()}


def test_a_star_in_a_cte_reads_only_the_columns_used():
    assert read("with x as (select * from t) select x.b from x") == {"s.t": {"b"}}
    assert read("with x as (select * from t) select count(*) as n from x") == {}
    # a column written in the CTE is read even when nothing uses it: the query needs it
    assert read("with x as (select a, c * 2 as c2 from t) select x.a from x") == {"s.t": {"a", "c"}}


def test_a_filter_join_or_grouping_reads_what_it_names():
    sql = "with x as (select * from t) select count(*) from x join u using (a) where x.c > 0"
    assert read(sql) == {"s.t": {"a", "c"}, "s.u": {"a"}}


@pytest.mark.parametrize(
    "sql",
    [
        "with x as (select distinct * from t) select x.a from x",
        "with x as (select * from t group by all) select x.a from x",
        "with x as (select * from t union select a, a, a from u) select x.a from x",
    ],
)
def test_what_decides_which_rows_there_are_reads_every_column(sql):
    assert read(sql)["s.t"] == {"a", "b", "c"}


def test_union_all_needs_the_same_positions_of_each_side():
    sql = "with x as (select * from t union all select *, 0 from u) select x.b from x"
    assert read(sql) == {"s.t": {"b"}, "s.u": {"d"}}
    by_name = "with x as (select * from t union all by name select * from u) select x.d from x"
    assert read(by_name) == {"s.u": {"d"}}


def test_exists_needs_none_of_its_star():
    sql = "select t.a from t where exists (select * from u where u.a = t.a)"
    assert read(sql) == {"s.t": {"a"}, "s.u": {"a"}}


def test_an_ambiguous_column_names_where_it_could_come_from():
    found = column_lineage("select a from t join u on t.b = u.d", SCHEMA, ["s"])
    assert found.problems == ("column 'a' could come from s.t or s.u: qualify it",)


def test_repeated_names_are_numbered_as_duckdb_numbers_them():
    con = duckdb.connect()
    con.execute("create table r as select 1 as x, 2 as x, 3 as x_1, 4 as x")
    assert numbered(["x", "x", "x_1", "x"]) == [r[0] for r in con.execute("describe r").fetchall()]
