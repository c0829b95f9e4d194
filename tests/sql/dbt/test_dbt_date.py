"""dbt_date's macros natively (`sql.dbt.dbt_date`): the SQL each gives, run on DuckDB, has the
values dbt_date gives (weeks from Sunday, ISO weeks from Monday, `now()` in the project's zone),
and `get_date_dimension` its columns."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from orchestrator.sql.dbt.dbt_date import ZonedDates, from_unixtimestamp, natives

D = natives("America/Los_Angeles")
SAT = "date '2024-01-06'"


def one(sql: str):
    return duckdb.connect().execute(f"select {sql}").fetchone()[0]


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        (D["day_name"](SAT), "Sat"),
        (D["day_name"](SAT, short=False), "Saturday"),
        (D["day_of_week"](SAT), 6),  # ISO: Monday 1
        (D["day_of_week"](SAT, isoweek=False), 7),  # Sunday 1
        (D["week_start"](SAT), date(2023, 12, 31)),
        (D["week_end"](SAT), date(2024, 1, 6)),
        (D["iso_week_start"](SAT), date(2024, 1, 1)),
        (D["iso_week_of_year"](SAT), 1),
        (D["week_of_year"](SAT), 1),
        (D["month_name"](SAT, short=False), "January"),
        (D["n_days_ago"](3, SAT), date(2024, 1, 3)),
        (D["n_days_away"](2, SAT), date(2024, 1, 8)),
        (D["to_unixtimestamp"]("timestamp '2024-01-01 00:00:00'"), 1704067200),
        (D["from_unixtimestamp"]("1700000000"), datetime(2023, 11, 14, 22, 13, 20)),
        (D["round_timestamp"]("timestamp '2024-01-06 13:00'"), datetime(2024, 1, 7)),
    ],
)
def test_each_macro_gives_dbt_dates_value(sql, value):
    assert one(sql) == value


def test_today_is_in_the_projects_time_zone_unless_one_is_given():
    assert "at time zone 'Asia/Tokyo'" in ZonedDates("Asia/Tokyo").today()
    assert "at time zone 'UTC' at time zone 'Europe/Paris'" in D["now"]("Europe/Paris")
    tokyo, utc = one(ZonedDates("Asia/Tokyo").now()), one(D["now"]("UTC"))
    assert abs((tokyo - utc).total_seconds() - 9 * 3600) < 60


def test_the_date_dimension_has_a_row_per_day_with_dbt_dates_columns():
    con = duckdb.connect()
    dimension = con.execute(D["get_date_dimension"]("2023-12-28", "2024-01-09"))
    columns = [d[0] for d in dimension.description]
    rows = [dict(zip(columns, r, strict=True)) for r in dimension.fetchall()]
    assert len(columns) == 36 and columns[:3] == ["date_day", "prior_date_day", "next_date_day"]
    assert (rows[0]["date_day"], rows[-1]["date_day"], len(rows)) == (
        date(2023, 12, 28),
        date(2024, 1, 8),
        12,
    )
    new_year = next(r for r in rows if r["date_day"] == date(2024, 1, 1))
    assert (
        new_year["day_of_week"],
        new_year["week_start_date"],
        new_year["week_end_date"],
        new_year["iso_week_of_year"],
        new_year["month_end_date"],
        new_year["quarter_end_date"],
    ) == (2, date(2023, 12, 31), date(2024, 1, 6), 1, date(2024, 1, 31), date(2024, 3, 31))


def test_only_seconds_are_taken_from_a_unix_timestamp():
    with pytest.raises(ValueError, match="format 'milliseconds' is not supported"):
        from_unixtimestamp("x", format="milliseconds")
