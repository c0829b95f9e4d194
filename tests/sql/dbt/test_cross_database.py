"""dbt's cross-database macros as dbt-duckdb renders them (`sql.dbt.cross_database`): the SQL text
they give, run on DuckDB where the meaning matters (dates, weeks, quarters, a date spine)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from orchestrator.sql.dbt.cross_database import (
    TYPES,
    array_construct,
    concat,
    date_spine,
    dateadd,
    datediff,
    last_day,
    listagg,
    natives,
    powers_of_two,
    string_literal,
)
from orchestrator.sql.dbt.errors import NeedsDatabase
from orchestrator.sql.dbt.nodes import RelationName
from orchestrator.sql.dbt.star import star
from orchestrator.sql.dbt.yamlfile import ImportProblem


def one(sql: str):
    return duckdb.connect().execute(f"select {sql}").fetchone()[0]


def test_the_text_is_dbt_duckdbs():
    assert concat(["a ", " b"]) == "a || b"
    assert dateadd("day", 3, "d") == "(d + cast(3 as bigint) * interval 1 day)"
    assert listagg("x", "', '", "order by x", 2) == (
        "list_aggr((array_agg(x order by x))[1:2], 'string_agg', ', ')"
    )
    assert array_construct([]) == "array[]::integer[]"
    assert natives()["type_numeric"]() == TYPES["type_numeric"] == "numeric(28,6)"


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        (dateadd("quarter", 1, "date '2024-01-31'"), datetime(2024, 4, 30)),
        (dateadd("week", -1, "date '2024-01-10'"), datetime(2024, 1, 3)),
        (datediff("date '2024-01-01'", "date '2024-01-17'", "week"), 2),
        (datediff("date '2024-01-06'", "date '2024-01-07'", "week"), 1),  # Sat to Sun
        (datediff("date '2024-01-17'", "date '2024-01-01'", "week"), -2),
        (datediff("date '2024-01-01'", "date '2024-03-01'", "month"), 2),
        (last_day("date '2024-02-10'", "month"), date(2024, 2, 29)),
        (last_day("date '2024-05-10'", "quarter"), date(2024, 6, 30)),
        (listagg("x", "'-'", "order by x desc"), "c-b-a"),
    ],
)
def test_the_sql_means_what_dbt_means_on_duckdb(sql, value):
    if "string_agg" in sql:
        sql = f"(select {sql} from (values ('a'), ('b'), ('c')) t(x))"
    assert one(sql) == value


def test_a_date_spine_has_one_row_per_part_and_none_past_the_end():
    spine = date_spine("day", "date '2024-01-30'", "date '2024-02-02'")
    rows = duckdb.connect().execute(spine).fetchall()
    assert [r[0].date() for r in rows] == [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1)]
    backwards = date_spine("day", "date '2024-02-02'", "date '2024-01-30'")
    with pytest.raises(duckdb.Error, match="upper bound must be positive"):
        duckdb.connect().execute(backwards).fetchall()


def test_powers_of_two_reach_the_bound_and_refuse_a_non_positive_one():
    assert [powers_of_two(n) for n in (1, 2, 3, 8, 9)] == [1, 1, 2, 3, 4]
    with pytest.raises(ImportProblem, match="upper bound must be positive"):
        powers_of_two(0)


def test_what_needs_the_catalog_or_a_query_raises_needs_database():
    assert string_literal("it's") == "'it''s'"
    with pytest.raises(NeedsDatabase, match="as text"):
        string_literal(star(RelationName("s", "t")))
    with pytest.raises(NeedsDatabase, match="runs a query while compiling"):
        natives()["get_intervals_between"]("a", "b", "day")


def test_natives_is_a_new_dict_each_call():
    first = natives()
    first["concat"] = None
    assert natives()["concat"] is concat
