"""Cron due-time computation (pure): fields, month ends, leap years, DST in both directions,
catch-up and deadlines."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.project.schedule import Cron, deadline_after, due, to_local, to_utc

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 6 * * *", datetime(2026, 11, 25, 6, 0), datetime(2026, 11, 26, 6, 0)),
        ("*/15 * * * *", datetime(2026, 11, 25, 6, 7), datetime(2026, 11, 25, 6, 15)),
        ("30 6 * * mon-fri", datetime(2026, 11, 27, 7), datetime(2026, 11, 30, 6, 30)),
        ("0 0 31 * *", datetime(2026, 2, 1), datetime(2026, 3, 31)),  # skips short months
        ("0 0 29 2 *", datetime(2026, 3, 1), datetime(2028, 2, 29)),  # next leap day
        ("0 0 L * *".replace("L", "28-31"), datetime(2026, 2, 27), datetime(2026, 2, 28)),
        ("@monthly", datetime(2026, 12, 15), datetime(2027, 1, 1)),
        ("0 12 1 * sun", datetime(2026, 11, 2), datetime(2026, 11, 8, 12)),  # day OR weekday
        ("0 0 * jan,jul *", datetime(2026, 2, 1), datetime(2026, 7, 1)),
        ("5 4 * * 7", datetime(2026, 11, 25), datetime(2026, 11, 29, 4, 5)),  # 7 is Sunday
    ],
)
def test_next_after(expr, after, expected):
    assert Cron.parse(expr).next_after(after, UTC) == expected


@pytest.mark.parametrize(
    "expr",
    [
        "* * * *",
        "61 * * * *",
        "* 24 * * *",
        "5-1 * * * *",
        "*/0 * * * *",
        "* * * foo *",
        "0 0 32 * *",
    ],
)
def test_bad_cron(expr):
    with pytest.raises(ValueError):
        Cron.parse(expr)


def test_spring_forward_gap_fires_at_the_jump():
    # Europe/Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist
    cron = Cron.parse("30 2 * * *")
    fired = cron.next_after(datetime(2026, 3, 28, 12), BERLIN)
    assert fired == datetime(2026, 3, 29, 1, 0)  # 03:00 CEST, the end of the jump
    assert cron.next_after(fired, BERLIN) == datetime(2026, 3, 30, 0, 30)  # 02:30 CEST


def test_fall_back_repeated_hour_fires_once():
    # Europe/Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice
    cron = Cron.parse("30 2 * * *")
    fired = cron.next_after(datetime(2026, 10, 24, 12), BERLIN)
    assert fired == datetime(2026, 10, 25, 0, 30)  # the first 02:30 (CEST)
    assert cron.next_after(fired, BERLIN) == datetime(2026, 10, 26, 1, 30)


def test_hourly_across_dst_changes():
    hourly = Cron.parse("0 * * * *")
    # the fall-back day has 25 hours in New York but wall hour 01 fires once: one firing per
    # wall hour 00..23 (00:00 EDT is 04:00 UTC, 23:00 EST is 04:00 UTC the next day)
    fall = hourly.between(datetime(2026, 11, 1, 3), datetime(2026, 11, 2, 4), NEW_YORK)
    assert len(fall) == 24 and len(set(fall)) == 24
    # the spring-forward night has 23 hours: no duplicate, nothing lost but the missing hour
    spring = hourly.between(datetime(2026, 3, 8, 5), datetime(2026, 3, 9, 4), NEW_YORK)
    assert len(spring) == len(set(spring)) == 23


def test_daily_time_stays_on_the_wall_clock_across_dst():
    cron = Cron.parse("0 6 * * *")
    before = cron.next_after(datetime(2026, 3, 6, 12), NEW_YORK)  # DST starts 2026-03-08
    after = cron.next_after(datetime(2026, 3, 8, 12), NEW_YORK)
    assert (before.hour, after.hour) == (11, 10)  # 06:00 EST, then 06:00 EDT
    assert to_local(before, NEW_YORK).hour == to_local(after, NEW_YORK).hour == 6


def test_local_utc_round_trip():
    assert to_utc(datetime(2026, 7, 1, 12), BERLIN) == datetime(2026, 7, 1, 10)
    assert to_local(datetime(2026, 1, 1, 12), BERLIN) == datetime(2026, 1, 1, 13)


def test_due_coalesces_recent_ticks_and_only_records_old_ones():
    cron = Cron.parse("0 6 * * *")
    now = datetime(2026, 11, 25, 7)
    d = due(cron, UTC, datetime(2026, 11, 18, 6), now, timedelta(days=2))
    assert d.run_at == datetime(2026, 11, 25, 6)
    assert d.coalesced == (datetime(2026, 11, 24, 6),)
    assert d.missed == tuple(datetime(2026, 11, day, 6) for day in range(19, 24))
    assert due(cron, UTC, d.run_at, now, timedelta(days=2)).run_at is None


def test_first_evaluation_does_not_replay_history():
    d = due(Cron.parse("*/5 * * * *"), UTC, None, datetime(2026, 11, 25, 7), timedelta(hours=1))
    assert d.run_at == datetime(2026, 11, 25, 7) and len(d.coalesced) == 11 and d.missed == ()


def test_catch_up_is_bounded_in_rows():
    d = due(
        Cron.parse("* * * * *"),
        UTC,
        datetime(2026, 1, 1),
        datetime(2026, 11, 25),
        timedelta(hours=1),
        limit=100,
    )
    assert len(d.missed) <= 100 and d.run_at == datetime(2026, 11, 25)


def test_deadline_is_the_next_wall_clock_time_after_the_tick():
    assert deadline_after(datetime(2026, 11, 25, 6), time(7, 30), UTC) == datetime(
        2026, 11, 25, 7, 30
    )
    assert deadline_after(datetime(2026, 11, 25, 23), time(7, 30), UTC) == datetime(
        2026, 11, 26, 7, 30
    )
    # in Berlin summer time 07:30 is 05:30 UTC
    assert deadline_after(datetime(2026, 7, 1, 4), time(7, 30), BERLIN) == datetime(
        2026, 7, 1, 5, 30
    )
