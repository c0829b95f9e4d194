"""core.column_types: declared columns against actual ones, type names as DuckDB knows them."""

from __future__ import annotations

from orchestrator.core import column_types
from orchestrator.core.column_types import canonical_types, column_differences, type_error

ACTUAL = [("id", "INTEGER"), ("Name", "VARCHAR"), ("amount", "DECIMAL(18,2)")]


def test_columns_that_agree_have_no_differences_whatever_the_case_or_alias():
    assert column_differences([("ID", "int"), ("name", "text")], ACTUAL) == []
    assert column_differences([("amount", "decimal(18, 2)")], ACTUAL) == []


def test_missing_retyped_and_extra_columns_are_said_in_words():
    expected = [("id", "BIGINT"), ("gone", "DATE"), ("amount", "DECIMAL(9,2)")]
    assert column_differences(expected, ACTUAL, extra_allowed=False) == [
        "missing column(s): gone",
        "id is INTEGER, expected BIGINT",
        "amount is DECIMAL(18,2), expected DECIMAL(9,2)",
        "unexpected column(s): Name",
    ]


def test_without_exact_types_a_type_of_the_same_family_is_enough():
    expected = [("id", "BIGINT"), ("amount", "DOUBLE"), ("name", "DATE")]
    assert column_differences(expected, ACTUAL, exact_types=False) == [
        "name is VARCHAR, expected DATE"
    ]


def test_canonical_types_are_duckdbs_own_names():
    assert canonical_types(["REAL", "INT64", "VARCHAR(10)", "notatype", "x)"]) == [
        "FLOAT",
        "BIGINT",
        "VARCHAR",
        "NOTATYPE",
        "X)",
    ]


def test_type_error_says_why_a_name_is_not_a_type():
    assert type_error("DECIMAL(18,2)") is None
    assert type_error("DECIMAL(40,2)") is not None  # past DuckDB's widest decimal
    assert type_error("int; drop table x") == "'int; drop table x' is not a type name"
    assert "did you mean" in type_error("INTEGR").lower()


def test_known_type_names_are_known_to_duckdb():
    import duckdb

    con = duckdb.connect()
    for name in sorted(column_types.KNOWN_TYPES):
        con.execute(f"SELECT CAST(NULL AS {name})")
    assert column_types.type_error("UINT8") is None  # not in the list: DuckDB is asked
    assert column_types.type_error("NUMBER").startswith("Catalog Error: Type with name NUMBER")
