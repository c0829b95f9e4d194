"""Returned rows against expected ones: multisets or sequences, floats to 12 digits, and the
difference as a small table where the one value that changed stands out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from orchestrator.core import row_diff
from orchestrator.core.row_diff import MISSING, SAME, UNEXPECTED, compare, table


def test_equal_multisets_pass_in_any_order():
    diff = compare(["id", "n"], [(2, 1.0), (1, 0.1 + 0.2)], [(1, 0.3), (2, 1)])
    assert diff.passed and diff.lines == () and diff.matched == 2


def test_a_row_counts_as_often_as_it_comes():
    diff = compare(["id"], [(1,), (1,)], [(1,)])
    assert not diff.passed and diff.lines == ((UNEXPECTED, (1,)),) and diff.matched == 1
    assert diff.count(UNEXPECTED) == 1 and diff.count(MISSING) == 0


def test_a_changed_row_reads_as_a_pair_by_its_first_column():
    diff = compare(
        ["id", "amount"],
        [(1, Decimal("5.00")), (2, Decimal("3.00")), (3, None)],
        [(2, Decimal("3.5")), (1, Decimal("5")), (4, Decimal("1"))],
    )
    assert diff.lines == (
        (MISSING, (2, Decimal("3.5"))),
        (UNEXPECTED, (2, Decimal("3.00"))),
        (UNEXPECTED, (3, None)),
        (MISSING, (4, Decimal("1"))),
    )
    assert table(diff) == [
        "  id  amount",
        "- 2   3.5",
        "+ 2   3.00",
        "+ 3   NULL",
        "- 4   1",
    ]


def test_ordered_rows_show_where_the_order_differs():
    diff = compare(["id"], [(2,), (1,), (3,)], [(1,), (2,), (3,)], ordered=True)
    assert not diff.passed and diff.matched == 2
    assert diff.lines == ((UNEXPECTED, (2,)), (SAME, (1,)), (MISSING, (2,)), (SAME, (3,)))
    assert compare(["id"], [(1,), (2,)], [(1,), (2,)], ordered=True).lines == ()


def test_a_wide_table_shows_only_the_columns_that_differ_and_says_the_rest():
    diff = compare(
        ["day", "a", "b", "c"],
        [(date(2026, 10, 3), 1, "x", True)],
        [(date(2026, 10, 3), 1, "y", True)],
    )
    assert table(diff) == [
        "  day         b",
        "- 2026-10-03  y",
        "+ 2026-10-03  x",
        "(the same in every row above: a = 1, c = true)",
    ]
    assert table(diff, narrow=False)[0] == "  day         a  b  c"


def test_values_of_mixed_types_still_sort_and_nested_values_compare():
    diff = compare(["v"], [("a",), (None,), ([1, 2],)], [(1,), ({"k": 0.1 + 0.2},)])
    assert not diff.passed and len(diff.lines) == 5
    assert row_diff.key([0.1 + 0.2]) == row_diff.key([0.3])
    assert row_diff.shown(None) == "NULL" and row_diff.shown("it") == "it"
