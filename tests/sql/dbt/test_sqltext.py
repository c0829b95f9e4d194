"""The small pieces of SQL the native dbt macros share (`sql.dbt.sqltext`): literals and quoted
names that nothing escapes, and DuckDB's COLUMNS over all but (or only) some names."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.sql.dbt.sqltext import columns_except, literal, lowered_names, quoted, trimmed


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute('create table t as select 1 as id, 2 as "Amount", 3 as "we""ird"')
    return con


def test_a_literal_and_a_quoted_name_keep_their_quotes_inside(con):
    assert trimmed("  a + b \n") == "a + b"
    assert literal("it's") == "'it''s'"
    assert quoted('we"ird') == '"we""ird"'
    assert con.execute(f"select {literal(chr(39) + '; drop table t; --')}").fetchone() == (
        "'; drop table t; --",
    )
    assert con.execute(f"select {quoted('we' + chr(34) + 'ird')} from t").fetchone() == (3,)


def test_lowered_names_compare_case_insensitively():
    assert lowered_names(["ID", "It's"]) == "('id', 'it''s')"


def test_columns_except_drops_names_case_insensitively_and_a_missing_one_is_no_error(con):
    picked = con.execute(f"select {columns_except(['AMOUNT', 'nope'])} from t")
    assert [d[0] for d in picked.description] == ["id", 'we"ird']
    kept = con.execute(f"select {columns_except(['amount'], keep=True)} from t")
    assert [d[0] for d in kept.description] == ["Amount"]
    assert columns_except([]) == "COLUMNS(*)"
