from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.partitions import (
    Grain,
    Window,
    describe,
    floor,
    parse_boundary,
    parse_point,
    step,
    window_for_key,
    windows,
)


@pytest.mark.parametrize(
    ("grain", "ts", "key", "end"),
    [
        (Grain.HOUR, datetime(2024, 3, 31, 23, 59), "2024-03-31T23", datetime(2024, 4, 1)),
        (Grain.DAY, datetime(2024, 2, 28, 5), "2024-02-28", datetime(2024, 2, 29)),
        (Grain.MONTH, datetime(2024, 12, 31), "2024-12", datetime(2025, 1, 1)),
        (Grain.YEAR, datetime(2024, 6, 1), "2024", datetime(2025, 1, 1)),
    ],
)
def test_containing_window(grain, ts, key, end):
    w = Window.containing(ts, grain)
    assert w.key == key
    assert w.end == end
    assert window_for_key(key, grain) == w


def test_windows_are_half_open_and_cover_partial_ranges():
    keys = [w.key for w in windows(datetime(2024, 1, 30, 12), datetime(2024, 2, 2), Grain.DAY)]
    assert keys == ["2024-01-30", "2024-01-31", "2024-02-01"]
    assert list(windows(datetime(2024, 1, 1), datetime(2024, 1, 1), Grain.DAY)) == []


def test_month_steps_across_year_end():
    assert step(datetime(2024, 11, 1), Grain.MONTH, 3) == datetime(2025, 2, 1)
    assert floor(datetime(2024, 5, 17, 3), Grain.YEAR) == datetime(2024, 1, 1)


def test_literals_by_grain():
    day = Window.containing(datetime(2024, 1, 5), Grain.DAY)
    hour = Window.containing(datetime(2024, 1, 5, 7), Grain.HOUR)
    assert day.literal(day.start) == "DATE '2024-01-05'"
    assert hour.literal(hour.end) == "TIMESTAMP '2024-01-05 08:00:00'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", datetime(2024, 1, 1)),
        ("2024-03", datetime(2024, 3, 1)),
        ("2024-03-05", datetime(2024, 3, 5)),
        ("2024-03-05T07", datetime(2024, 3, 5, 7)),
        ("2024-03-05 07:30", datetime(2024, 3, 5, 7, 30)),
    ],
)
def test_parse_point(text, expected):
    assert parse_point(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "2024-02-30", "24-01-01", ""])
def test_parse_point_rejects(text):
    with pytest.raises(ValueError):
        parse_point(text)


@pytest.mark.parametrize("text", ["9999", "9999-12-31", "9999-12-31T23"])
def test_parse_point_rejects_points_whose_window_would_end_past_year_9999(text):
    with pytest.raises(ValueError, match="out of range: use a date before 9999-01-01"):
        parse_point(text)
    last = parse_point("9998-12-31T23")
    for grain in Grain:  # the latest point accepted still has a whole window of every grain
        assert Window.containing(last, grain).end <= datetime(9999, 12, 31)


def test_boundary_must_align_to_grain():
    assert parse_boundary("2024-03", Grain.MONTH) == datetime(2024, 3, 1)
    with pytest.raises(ValueError, match="not the start of a month"):
        parse_boundary("2024-03-05", Grain.MONTH)


def test_describe_folds_contiguous_runs():
    ws = [
        window_for_key(k, Grain.DAY)
        for k in [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
            "2024-01-05",
            "2024-01-07",
            "2024-01-08",
        ]
    ]
    assert describe(ws) == "2024-01-01..2024-01-03, 2024-01-05, 2024-01-07..2024-01-08"
