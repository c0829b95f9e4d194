"""core.fingerprints: the prints of what a source holds, and whether they still say the same."""

from __future__ import annotations

from datetime import datetime

from orchestrator.core.fingerprints import (
    Holding,
    changed,
    describe,
    file_print,
    held_in,
    rows_print,
    same,
    stat_matches,
)
from orchestrator.core.partitions import Grain, Window


def day(d: int) -> tuple[datetime, datetime]:
    return datetime(2024, 1, d), datetime(2024, 1, d + 1)


def test_a_file_touched_but_not_changed_is_the_same_when_its_hash_says_so():
    assert same(file_print(10, 5, "ab"), file_print(10, 9, "ab"))
    assert not same(file_print(10, 5, "ab"), file_print(10, 9, "cd"))
    assert not same(file_print(10, 9), file_print(10, 5))  # no hash: the time decides
    assert not same(file_print(10, 5, "ab"), file_print(11, 5, "ab"))  # its size changed
    assert same(rows_print(3, 99), "3:99") and not same(rows_print(3, 99), rows_print(3, 98))


def test_a_recorded_print_matches_a_stat_of_the_same_size_and_time():
    assert stat_matches("10:5:ab", 10, 5)
    assert not stat_matches("10:5:ab", 10, 6)
    assert not stat_matches("3:99", 3, 99)  # a rows print is not a file's


def test_a_partition_depends_on_the_items_whose_period_overlaps_its_window():
    holdings = [
        Holding("a.csv", "1:1:", *day(1)),
        Holding("b.csv", "2:2:", *day(2)),
        Holding("dim.csv", "3:3:"),  # no period
    ]
    window = Window.containing(datetime(2024, 1, 2, 5), Grain.DAY)
    assert held_in(holdings, window) == {"b.csv": "2:2:"}
    assert held_in(holdings, None) == {"a.csv": "1:1:", "b.csv": "2:2:", "dim.csv": "3:3:"}


def test_changed_items_are_the_changed_new_and_gone_ones_in_order():
    before = {"a.csv": "1:1:", "b.csv": "2:2:", "gone.csv": "1:1:"}
    now = {"a.csv": "1:7:", "b.csv": "3:3:", "c.csv": "1:1:"}
    assert changed(before, now) == ["a.csv", "b.csv", "c.csv", "gone.csv"]
    assert changed(before, before) == []


def test_changed_items_are_described_by_file_name_with_the_rest_counted():
    assert describe(["data/o/o_2026-11-02.csv"]) == "o_2026-11-02.csv"
    assert describe(["x/a", "b", "c", "d"]) == "a, b, c and 1 more"
