"""core.quoting: identifiers and literals quoted so that DuckDB reads back exactly the text."""

from __future__ import annotations

import duckdb

from orchestrator.core.quoting import literal, quote, quote_relation


def test_a_quote_inside_is_doubled():
    assert quote('my "col"') == '"my ""col"""'
    assert literal("it's") == "'it''s'"
    assert literal(5) == "'5'"


def test_a_relation_is_quoted_part_by_part():
    assert quote_relation("marts.fct_orders") == '"marts"."fct_orders"'
    assert quote_relation("t") == '"t"'


def test_duckdb_reads_back_the_exact_text():
    awkward = "a 'b' \"c\" \\n; drop table x; --"
    con = duckdb.connect()
    try:
        assert con.execute(f"SELECT {literal(awkward)} AS {quote(awkward)}").fetchall() == [
            (awkward,)
        ]
        assert con.execute(f"SELECT {quote(awkward)} FROM (SELECT 1 AS {quote(awkward)})")
        assert con.description[0][0] == awkward
    finally:
        con.close()
