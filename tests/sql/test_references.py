"""What a query reads and names (`sql.references`): the relations and files it reads, whatever
CTEs, subqueries and table functions stand around them, its output columns when the SQL says
them, and whether it reads one schema only."""

from __future__ import annotations

import pytest
import sqlglot

from orchestrator.sql import parse as sql
from orchestrator.sql.references import output_columns, reads_only_schema


def refs(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    analysis = sql.analyze(text, "m.sql")
    return analysis.tables, analysis.files


@pytest.mark.parametrize(
    ("query", "tables"),
    [
        ("select * from a join b.c using (id)", {"a", "b.c"}),
        ("with x as (select * from raw.orders) select * from x", {"raw.orders"}),
        # a CTE named like the table it reads: the inner name is the real table
        ("with orders as (select * from orders) select * from orders", {"orders"}),
        (
            "select * from a where id in (select id from s.b where exists (select 1 from c))",
            {"a", "s.b", "c"},
        ),
        ("select * from a union all select * from b except select * from c", {"a", "b", "c"}),
        ("select * from (select * from (select * from deep.t) q) r", {"deep.t"}),
        ("select *, (select max(x) from scalar_src) from a", {"a", "scalar_src"}),
        ("select * from a, lateral (select * from b where b.id = a.id) l", {"a", "b"}),
        (
            "with a as (select 1), b as (select * from a join real_t using (x)) select * from b",
            {"real_t"},
        ),
        ("select * from generate_series(1, 3) g, unnest([1, 2]) u", set()),
        ("select * from Mixed.CASE_Name", {"mixed.case_name"}),
        ("select * from cat.sch.tbl", {"cat.sch.tbl"}),
        ("from a select x", {"a"}),
        ("select * from a pivot (sum(v) for k in ('x', 'y'))", {"a"}),
    ],
)
def test_references(query, tables):
    assert set(refs(query)[0]) == tables


def test_table_functions_and_file_paths_are_files_not_tables():
    tables, files = refs(
        "select * from read_csv('data/a.csv') a join 'data/b.parquet' b using (id) "
        "join read_parquet(['x.parquet', 'y.parquet']) c using (id) join real_t using (id)"
    )
    assert tables == ("real_t",)
    assert set(files) == {"data/a.csv", "data/b.parquet", "x.parquet", "y.parquet"}


@pytest.mark.parametrize(
    ("query", "columns"),
    [
        ("select a, b as c, t.d from t", ("a", "c", "d")),
        ("select A as Big from t", ("big",)),
        ("select * from t", None),
        ("select a, * from t", None),
        ("select a + 1 from t", None),  # DuckDB names an unnamed expression itself
    ],
)
def test_output_columns_are_known_only_when_the_sql_names_them(query, columns):
    assert output_columns(sqlglot.parse_one(query, read="duckdb")) == columns


@pytest.mark.parametrize(
    ("query", "only"),
    [
        ("select * from orchestrator.runs join orchestrator.alerts using (id)", True),
        ("with r as (select * from orchestrator.runs) select * from r", True),
        ("select * from orchestrator.runs, marts.f", False),
        ("select * from runs", False),  # no schema: not the state's
        ("select * from orchestrator.runs; select * from main.t", False),
        ("select ( from", False),  # cannot be parsed: assumed to read anything
    ],
)
def test_reads_only_schema_says_whether_every_relation_is_of_the_schema(query, only):
    assert reads_only_schema(query, "orchestrator") is only
