"""The SQL of a unit test, run on DuckDB: inputs typed as declared or as their values suggest,
missing values NULL, and expected values cast to the types a model returned."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from orchestrator.statements import unit_sql


@pytest.fixture
def con():
    found = duckdb.connect()
    yield found
    found.close()


def table(con, relation: str, columns, rows):
    con.execute(unit_sql.create_schema(relation))
    con.execute(unit_sql.input_table(relation, columns, rows))
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    return [(r[0], r[1]) for r in described], con.execute(f"FROM {relation}").fetchall()


@pytest.mark.parametrize(
    "values, texts, kind",
    [
        ([1, 2], False, "BIGINT"),
        ([1, 2.5], False, "DOUBLE"),
        ([2**70], False, "HUGEINT"),
        ([True, None], False, "BOOLEAN"),
        ([date(2026, 10, 3), "2026-10-04"], False, "DATE"),
        (["2026-10-03", "2026-10-03 07:00:00"], False, "TIMESTAMP"),
        ([datetime(2026, 10, 3, 7), "2026-10-03T07:30"], False, "TIMESTAMP"),
        (["1", "2"], False, "VARCHAR"),  # quoted in YAML: the user meant text
        (["1", "2"], True, "BIGINT"),  # CSV: every value is text
        (["1", "2.50", "-3e2"], True, "DOUBLE"),
        (["true", "FALSE"], True, "BOOLEAN"),
        (["1", "x"], True, "VARCHAR"),
        ([1, True], False, "VARCHAR"),
        ([None, None], False, None),
    ],
)
def test_a_column_type_is_inferred_from_its_values(values, texts, kind):
    assert unit_sql.infer(values, texts) == kind


def test_an_input_casts_each_value_to_its_column_type(con):
    columns, rows = table(
        con,
        "raw.orders",
        [("id", "BIGINT"), ("amount", "DECIMAL(18,2)"), ("day", "DATE"), ("tags", "VARCHAR[]")],
        [
            {"id": 1, "amount": 2.5, "day": "2026-10-03", "tags": '["a", "b"]'},
            {"id": "2", "amount": "7", "day": date(2026, 10, 4)},
        ],
    )
    assert columns == [
        ("id", "BIGINT"),
        ("amount", "DECIMAL(18,2)"),
        ("day", "DATE"),
        ("tags", "VARCHAR[]"),
    ]
    assert rows == [
        (1, Decimal("2.50"), date(2026, 10, 3), ["a", "b"]),
        (2, Decimal("7.00"), date(2026, 10, 4), None),
    ]


def test_a_column_no_value_types_is_an_untyped_null_that_fits_any_expression(con):
    columns, rows = table(con, "s.t", [("id", "BIGINT"), ("note", None)], [{"id": 1}])
    assert columns == [("id", "BIGINT"), ("note", '"NULL"')] and rows == [(1, None)]
    assert con.execute("select upper(note), note + 1, note::date from s.t").fetchall() == [
        (None, None, None)
    ]


def test_no_rows_is_an_empty_table_of_the_known_types(con):
    columns, rows = table(con, "s.e", [("id", "BIGINT"), ("x", None)], [])
    assert columns[0] == ("id", "BIGINT") and rows == []


def test_text_and_quoting_keep_values_whole(con):
    assert unit_sql.text(datetime(2026, 10, 3, 7)) == "2026-10-03 07:00:00"
    _, rows = table(con, "s.q", [("s", "VARCHAR")], [{"s": "it's"}])
    assert rows == [("it's",)]
    con.execute(unit_sql.query_table("s.sql", "select 1 as a;"))
    assert con.execute("from s.sql").fetchall() == [(1,)]


def test_expected_values_are_cast_beside_their_text(con):
    query = unit_sql.expected_cast(
        [("d", "DATE"), ("n", "DECIMAL(18,2)")], [{"d": "2026-10-03", "n": 7.5}, {"d": "x"}]
    )
    assert con.execute(query).fetchall() == [
        (date(2026, 10, 3), "2026-10-03", False, Decimal("7.50"), "7.5", False),
        (None, "x", False, None, None, False),
    ]


def test_a_cast_that_changes_the_number_says_so(con):
    query = unit_sql.expected_cast(
        [("n", "DECIMAL(18,0)"), ("i", "INTEGER")], [{"n": 12.5, "i": 7}]
    )
    assert con.execute(query).fetchall() == [(Decimal("13"), "12.5", True, 7, "7", False)]
