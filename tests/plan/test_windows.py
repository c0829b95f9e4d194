"""Which partitions a plan looks at for one model (`plan.windows`): pure functions of a model,
what is built and the request's values, tested on models made by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from orchestrator.core.partitions import WHOLE, Grain, window_for_key
from orchestrator.plan.windows import (
    affected_windows,
    backfill_windows,
    expected_windows,
    failed_windows,
    in_bounds,
    overlapping_keys,
    retry_windows,
    run_windows,
)
from orchestrator.project.model import Kind, Model

NOW = datetime(2024, 1, 4, 9, 30)


def model(name: str, **settings) -> Model:
    schema, table = name.split(".")
    path = f"models/{schema}/{table}.sql"
    return Model(name, schema, table, Path(path), path, "select 1", **settings)


def daily(name: str = "s.d", **settings) -> Model:
    settings.setdefault("start", datetime(2024, 1, 1))
    return model(name, kind=Kind.INCREMENTAL, partition_by="d", **settings)


def keys(windows) -> list[str]:
    return [w.key if w else WHOLE for w in windows]


def test_expected_windows_run_from_start_to_the_last_complete_period():
    assert keys(expected_windows(daily(), NOW)) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # `end` closes the range even when now is long past it
    closed = daily(end=datetime(2024, 1, 3))
    assert keys(expected_windows(closed, datetime(2024, 3, 1))) == ["2024-01-01", "2024-01-02"]


def test_a_model_without_start_or_not_started_yet_expects_nothing():
    assert expected_windows(daily(start=None), NOW) == []
    assert expected_windows(daily(start=datetime(2024, 2, 1)), NOW) == []


def test_in_bounds_keeps_windows_between_start_and_end():
    m = daily(end=datetime(2024, 1, 3))
    inside = [window_for_key(k, Grain.DAY) for k in ("2024-01-01", "2024-01-02")]
    outside = [window_for_key(k, Grain.DAY) for k in ("2023-12-31", "2024-01-03")]
    assert all(in_bounds(m, w) for w in inside)
    assert not any(in_bounds(m, w) for w in outside)


def test_overlapping_keys_follow_the_grains_of_reader_and_upstream():
    day, month = window_for_key("2024-01-05", Grain.DAY), window_for_key("2024-02", Grain.MONTH)
    monthly = daily("s.m", grain=Grain.MONTH)
    assert overlapping_keys(model("s.t"), day, {}) == [WHOLE]  # an unpartitioned upstream
    assert overlapping_keys(daily(), None, {"2024-01-02": 1, "2024-01-01": 1}) == [
        "2024-01-01",
        "2024-01-02",
    ]  # the whole reader reads every built partition
    assert overlapping_keys(daily(), day, {}) == ["2024-01-05"]
    assert overlapping_keys(monthly, day, {}) == ["2024-01"]  # a day reads its month
    days = overlapping_keys(daily(), month, {})
    assert len(days) == 29 and days[0] == "2024-02-01" and days[-1] == "2024-02-29"


def test_run_windows_of_each_kind_of_model():
    expected = expected_windows(daily(), NOW)
    assert run_windows(model("s.t"), {}, []) == [None]  # the whole table
    assert run_windows(daily(), {}, expected) == expected
    # without start, only what a backfill built is looked at
    built = {"2024-01-07": 1, "2024-01-02": 1}
    assert keys(run_windows(daily(start=None), built, [])) == ["2024-01-02", "2024-01-07"]


def test_failed_windows_are_those_run_would_not_look_at_inside_the_bounds():
    m = daily(end=datetime(2024, 1, 10))
    candidates = run_windows(m, {}, expected_windows(m, NOW))
    failed = {"2023-12-31": 1, "2024-01-02": 1, "2024-01-09": 1, "2024-01-12": 1, WHOLE: 1}
    # 2024-01-02 is looked at anyway; 2023-12-31 and 2024-01-12 lie outside start..end
    assert keys(failed_windows(m, failed, candidates)) == ["2024-01-09"]
    assert failed_windows(model("s.t"), {WHOLE: 1}, [None]) == []


def test_retry_windows_name_the_keys_in_order_and_the_whole_table_as_none():
    assert keys(retry_windows(daily(), ["2024-01-03", "2024-01-01"])) == [
        "2024-01-01",
        "2024-01-03",
    ]
    assert retry_windows(model("s.t"), [WHOLE]) == [None]


def test_a_backfill_stays_inside_the_bounds_and_stops_before_the_period_in_progress():
    m = daily()
    picked = backfill_windows(m, datetime(2023, 12, 30), datetime(2024, 2, 1), NOW)
    assert keys(picked) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert backfill_windows(model("s.t"), datetime(2024, 1, 1), NOW, NOW) == [None]


def test_affected_windows_are_those_reading_what_the_plan_rebuilds():
    rebuilt = {"2024-01-02"}

    def touched(name: str, window) -> bool:
        return name == "s.up" and (window is None or window.key in rebuilt)

    backfill = (datetime(2024, 1, 2), datetime(2024, 1, 3))
    reader = daily()
    found = affected_windows(
        reader, {}, expected_windows(reader, NOW), ["s.up"], touched, backfill, NOW
    )
    assert keys(found) == ["2024-01-02"]
    table = model("s.t")
    assert affected_windows(table, {}, [], ["s.up"], touched, backfill, NOW) == [None]
    # a view reads its inputs when queried; a reader of nothing rebuilt is not affected
    view = model("s.v", kind=Kind.VIEW)
    assert affected_windows(view, {}, [], ["s.up"], touched, backfill, NOW) == []
    assert affected_windows(table, {}, [], ["s.other"], touched, backfill, NOW) == []
