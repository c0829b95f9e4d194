"""dbt_expectations' tests expanded natively, as pure functions: what each must hold for a row
or for the table (or each group), the failing rows' query of a check file, the tests that are
neither, and the arguments they refuse."""

from __future__ import annotations

import pytest

from orchestrator.importers.dbt.expectations import Expectation, expectation, whole_table
from orchestrator.sql.dbt.yamlfile import ImportProblem


@pytest.mark.parametrize(
    "test,args,expression",
    [
        ("expect_column_values_to_be_between", {"min_value": 0}, "x >= 0"),
        (
            "expect_column_values_to_be_between",
            {"min_value": 0, "max_value": 9, "strictly": True},
            "(x > 0 and x < 9)",
        ),
        (
            "expect_column_values_to_be_in_set",
            {"value_set": ["a", "b's"]},
            "x is not null and x in ('a', 'b''s')",
        ),
        (
            "expect_column_values_to_not_be_in_set",
            {"value_set": [1], "quote_values": False},
            "x not in (1)",
        ),
        (
            "expect_column_values_to_match_regex",
            {"regex": "^a'b"},
            "regexp_matches(x, '^a''b', '')",
        ),
        (
            "expect_column_values_to_match_like_pattern_list",
            {"like_pattern_list": ["a%", "b%"], "match_on": "all"},
            "(x like 'a%' and x like 'b%')",
        ),
        ("expect_column_value_lengths_to_equal", {"value": 2}, "length(x) = 2"),
        (
            "expect_column_pair_values_A_to_be_greater_than_B",
            {"column_A": "a", "column_B": "b", "or_equal": True},
            "a >= b",
        ),
    ],
)
def test_row_level_tests_say_what_each_row_must_hold(test, args, expression):
    assert expectation(test, "x", args) == Expectation(expression)


def test_a_row_condition_and_a_where_filter_the_failing_rows():
    found = expectation("expect_column_values_to_not_be_null", "x", {"row_condition": " y > 0 "})
    assert found == Expectation("x is not null", row_condition="y > 0")
    assert found.failing_rows("main.t", "z = 1") == (
        "select * from main.t where (z = 1) and (y > 0) and not (x is not null)"
    )


def test_aggregate_tests_are_judged_for_the_table_or_each_group():
    found = expectation("expect_column_max_to_be_between", "x", {"max_value": 5, "group_by": ["g"]})
    assert found == Expectation("max(x) <= 5", aggregate=True, group_by=("g",))
    assert found.failing_rows("main.t") == (
        "select * from (select g, max(x) <= 5 as expression from main.t group by g) as judged "
        "where not (expression)"
    )
    rows = expectation("expect_table_row_count_to_equal", None, {"value": 3})
    assert rows.failing_rows("main.t") == (
        "select * from (select count(*) = 3 as expression from main.t) as judged "
        "where not (expression)"
    )


def test_tests_that_are_neither_have_their_own_query_or_none():
    assert expectation("expect_column_values_to_be_unique", "x", {}) is None
    assert whole_table("expect_column_values_to_be_unique", "x", "main.t", {}) == (
        "select x, count(*) as n_records from main.t where not (x is null) group by x "
        "having count(*) > 1"
    )
    assert whole_table(
        "expect_compound_columns_to_be_unique",
        None,
        "main.t",
        {"column_list": ["a", "b"], "ignore_row_if": "any_value_is_missing"},
    ).startswith(
        "select a, b, count(*) as n_records from main.t where not (a is null or b is null)"
    )
    assert whole_table("expect_column_to_exist", "x", "main.t", {}) == (
        "select x from main.t limit 0"
    )
    assert expectation("expect_something_else", "x", {}) is None
    assert whole_table("expect_something_else", "x", "main.t", {}) is None


@pytest.mark.parametrize(
    "test,column,args,message",
    [
        ("expect_column_values_to_be_between", "x", {}, "it needs min_value, max_value or both"),
        ("expect_column_values_to_be_in_set", "x", {"value_set": []}, "value_set is empty"),
        ("expect_column_values_to_not_be_null", "x + 1", {}, "only plain column names"),
        ("expect_column_mean_to_be_between", None, {"min_value": 0}, "only plain column names"),
    ],
)
def test_arguments_that_say_nothing_are_refused(test, column, args, message):
    with pytest.raises(ImportProblem, match=message):
        expectation(test, column, args)
