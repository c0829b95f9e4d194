"""audit_helper's comparisons natively (`sql.dbt.audit_helper`): run on DuckDB, they give the rows
and columns audit_helper's give when a team compares an old relation with a new one."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.sql.dbt.audit_helper import (
    compare_column_values,
    compare_queries,
    compare_relations,
    compare_row_counts,
)
from orchestrator.sql.dbt.nodes import RelationName


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema s")
    con.execute(
        "create table s.old as select * from (values (1, 'click', 5), (2, 'view', 7), "
        "(3, 'click', 12), (4, 'buy', 40)) t(id, kind, amount)"
    )
    con.execute("create table s.new as select * from s.old where kind = 'click'")
    return con


def test_compare_queries_counts_the_rows_in_a_b_or_both(con):
    summary = compare_queries("select id, kind from s.old", "select id, kind from s.new")
    assert con.execute(summary).fetchall() == [(True, True, 2, 50.0), (True, False, 2, 50.0)]


def test_compare_relations_lists_the_rows_that_differ_by_key(con):
    rows = compare_relations("s.old", "s.new", primary_key="id", summarize=False)
    assert [(r[0], r[-2], r[-1]) for r in con.execute(rows).fetchall()] == [
        (2, True, False),
        (4, True, False),
    ]
    limited = compare_relations(
        "s.old", "s.new", exclude_columns=["amount"], primary_key="id", summarize=False, limit=1
    )
    assert con.execute(limited).fetchall() == [(2, "view", True, False)]


def test_compare_row_counts_names_the_relations_as_dbt_writes_them(con):
    old = RelationName("s", "old", dbt_text='"main"."s"."old"')
    counts = con.execute(compare_row_counts(old, RelationName("s", "new"))).fetchall()
    assert counts == [('"main"."s"."old"', 4), ("s.new", 2)]


def test_compare_column_values_counts_each_status_in_order(con):
    sql = compare_column_values(
        "select id, amount from s.old",
        "select id, amount * 2 as amount from s.new",
        primary_key="id",
        column_to_compare="amount",
    )
    assert con.execute(sql).fetchall() == [
        ("amount", "🤷: missing from b", 2, 50.0),
        ("amount", "❌: \u200dvalues do not match", 2, 50.0),
    ]
    plain = compare_column_values(
        "select 1 as id, 1 as v", "select 1 as id, 1 as v", "id", "v", emojis=False
    )
    assert con.execute(plain).fetchall() == [("v", "perfect match", 1, 100.0)]
