"""Data checks as values (`project.checks`): parsing a header check into its parts, the errors
that say what is accepted, and the one-line summary of what failed. Running them is tested in
tests/statements/test_checks.py and tests/execution/test_audit.py."""

from __future__ import annotations

import pytest

from orchestrator.project.checks import Result, Severity, parse, summarize


def test_column_checks_keep_their_columns_lowercased_and_their_severity():
    c = parse("unique(Order_Id, amount)", "warn", "models/s/m.sql", 4)
    assert (c.kind, c.name, c.columns) == (
        "unique",
        "unique(Order_Id, amount)",
        ("order_id", "amount"),
    )
    assert c.severity is Severity.WARN and not c.blocking
    assert (c.path, c.line) == ("models/s/m.sql", 4)
    assert parse("not_null(id)", "block", "m.sql", 1).blocking


def test_each_kind_keeps_what_it_judges_with():
    values = parse("accepted_values(status, 'paid', 'it''s', 3)", "block", "m.sql", 1)
    assert values.columns == ("status",) and values.values == ("'paid'", "'it''s'", "3")
    ref = parse("relationships(customer_id, dim.customers.ID)", "block", "m.sql", 1)
    assert (ref.reference, ref.reference_column) == ("dim.customers", "id")
    assert dict(parse("row_count(min=1, max=10)", "block", "m.sql", 1).limits) == {
        "min": 1,
        "max": 10,
    }
    change = parse("row_count_change(max_pct=20.5)", "warn", "m.sql", 1)
    assert dict(change.limits) == {"max_pct": 20.5, "partitions": 7}  # seven by default
    typed = parse("columns(id bigint, amount decimal(18,2))", "block", "m.sql", 1)
    assert typed.types == (("id", "BIGINT"), ("amount", "DECIMAL(18,2)"))
    expr = parse("expression(coalesce(a, 0) >= 0)", "block", "m.sql", 1)
    assert (expr.name, expr.expression) == (
        "expression(coalesce(a, 0) >= 0)",
        "coalesce(a, 0) >= 0",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not_null", "expected a check like not_null(col), got 'not_null'"),
        ("not_nul(x)", "unknown check 'not_nul' (did you mean: not_null?)"),
        ("unique()", "unique expects column names, e.g. unique(id, amount)"),
        ("accepted_values(status, paid)", "accepted_values: paid is not a literal"),
        ("relationships(cid, customers)", "relationships expects a column and model.column"),
        ("row_count()", "row_count expects min=N and/or max=N"),
        ("row_count(foo=1)", "row_count takes min=N, max=N, got 'foo=1'"),
        ("row_count(min=x)", "row_count: min must be a number, got 'x'"),
        ("row_count(min=-1)", "row_count: min must not be negative"),
        ("row_count(min=5, max=2)", "row_count: max is below min"),
        ("row_count_change(partitions=3)", "row_count_change expects max_pct=N"),
        ("row_count_change(max_pct=5, partitions=0)", "partitions must be at least 1"),
        ("expression()", "expression expects a condition every row meets"),
        ("columns(id)", "columns expects 'name TYPE' pairs, got 'id'"),
    ],
)
def test_a_bad_check_says_what_is_accepted(text, message):
    with pytest.raises(ValueError) as err:
        parse(text, "block", "m.sql", 1)
    assert message in str(err.value)


def test_the_summary_names_each_failure_and_its_partition():
    unique = parse("unique(id)", "block", "m.sql", 1)
    count = parse("row_count(min=1)", "warn", "m.sql", 2)
    results = [
        Result(unique, "2024-01-05", "fail", 2),
        Result(unique, "2024-01-06", "fail", 1),
        Result(unique, "2024-01-07", "pass"),
        Result(count, "all", "warn", 0, (), "0 rows, expected at least 1"),
        Result(count, "2024-01-08", "error", 0, (), "the check could not run: boom"),
    ]
    assert summarize(results) == (
        "unique(id) failed on 2024-01-05: 2 failing rows; "
        "unique(id) failed on 2024-01-06: 1 failing row; "
        "row_count(min=1) failed on all: 0 rows, expected at least 1; "
        "row_count(min=1) on 2024-01-08: the check could not run: boom"
    )
    assert [r.failed for r in results] == [True, True, False, False, True]


def test_a_long_summary_stops_after_five():
    check = parse("not_null(id)", "block", "m.sql", 1)
    results = [Result(check, f"2024-01-0{d}", "fail", 1) for d in range(1, 8)]
    assert summarize(results).endswith(
        "not_null(id) failed on 2024-01-05: 1 failing row; and 2 more"
    )
