"""dbt_date's macros, natively as DuckDB SQL: a project that uses them converts without the
package installed. Each gives what dbt_date's DuckDB rendering gives (weeks start on Sunday,
ISO weeks on Monday, `now()` in the `dbt_date:time_zone` var's zone, America/Los_Angeles by
default), composed from the same small pieces, so `get_date_dimension` has its columns.
Those that read the clock are `ZonedDates`' methods (they need the zone); the rest are plain
functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cross_database import dateadd, datediff, last_day


def date_part(datepart: str, date: Any) -> str:
    return f"date_part('{datepart}', {date})"


def month_name(date: Any, short: bool = True) -> str:
    return f"substr(monthname({date}), 1, 3)" if short else f"monthname({date})"


def day_name(date: Any, short: bool = True) -> str:
    return f"substr(dayname({date}), 1, 3)" if short else f"dayname({date})"


def day_of_week(date: Any, isoweek: bool = True) -> str:
    if isoweek:
        return f"cast({date_part('isodow', date)} as INTEGER)"  # Monday 1 .. Sunday 7
    return f"cast({date_part('dow', date)} + 1 as INTEGER)"  # Sunday 1 .. Saturday 7


def from_unixtimestamp(epochs: Any, format: str = "seconds") -> str:  # noqa: A002
    if format != "seconds":
        raise ValueError(f"from_unixtimestamp: format {format!r} is not supported")
    return f"cast(to_timestamp({epochs}) at time zone 'UTC' as timestamp)"


class ZonedDates:
    """dbt_date's macros that default to today: `now()` in `time_zone` unless a `tz` is
    given, and what is computed from it."""

    def __init__(self, time_zone: str):
        self.time_zone = time_zone

    def convert_timezone(self, column: Any, target_tz: Any = None, source_tz: Any = None) -> str:
        source, target = source_tz or "UTC", target_tz or self.time_zone
        return (
            f"cast(cast({column} as TIMESTAMP) at time zone '{source}' "
            f"at time zone '{target}' as TIMESTAMP)"
        )

    def now(self, tz: Any = None) -> str:
        return self.convert_timezone("now()", tz)

    def today(self, tz: Any = None) -> str:
        return f"cast({self.now(tz)} as date)"

    def n_days_ago(self, n: Any, date: Any = None, tz: Any = None) -> str:
        return f"cast({dateadd('day', -1 * int(n), date or self.today(tz))} as date)"

    def n_days_away(self, n: Any, date: Any = None, tz: Any = None) -> str:
        return self.n_days_ago(-1 * int(n), date, tz)

    def months(self, n: int, tz: Any) -> str:
        return f"date_trunc('month', {dateadd('month', n, self.today(tz))})"

    def weeks(self, n: int, tz: Any) -> str:
        return f"date_trunc('week', {dateadd('week', n, self.today(tz))})"

    def week_start(self, date: Any = None, tz: Any = None) -> str:
        day = date or self.today(tz)  # Sunday starts the week: the day before Monday's week
        trunc = f"date_trunc('week', {dateadd('day', 1, day)})"
        return f"cast({dateadd('day', -1, trunc)} as date)"

    def week_end(self, date: Any = None, tz: Any = None) -> str:
        return self.n_days_away(6, self.week_start(date, tz))

    def iso_week_start(self, date: Any = None, tz: Any = None) -> str:
        return f"cast(date_trunc('week', {date or self.today(tz)}) as date)"

    def iso_week_end(self, date: Any = None, tz: Any = None) -> str:
        return self.n_days_away(6, self.iso_week_start(date, tz))

    def week_of_year(self, date: Any = None, tz: Any = None) -> str:
        return f"cast(ceil(dayofyear({date or self.today(tz)}) / 7) as int)"

    def iso_week_of_year(self, date: Any = None, tz: Any = None) -> str:
        return f"cast({date_part('week', date or self.today(tz))} as INTEGER)"

    def get_base_dates(
        self, start_date: Any = None, end_date: Any = None, n_dateparts: Any = None, datepart="day"
    ) -> str:
        if start_date and end_date:
            start, end = f"cast('{start_date}' as TIMESTAMP)", f"cast('{end_date}' as TIMESTAMP)"
        else:
            start = dateadd(datepart, -1 * int(n_dateparts), self.today())
            end = self.n_days_away(1)
        return (
            f"select cast(range as TIMESTAMP) as date_{datepart} from "
            f"range(cast({start} as TIMESTAMP), cast({end} as TIMESTAMP), interval 1 {datepart})"
        )

    def get_date_dimension(self, start_date: Any, end_date: Any) -> str:
        listed = ",\n    ".join(f"{sql} as {name}" for sql, name in _dimension_columns(self))
        return (
            f"with base_dates as (\n{self.get_base_dates(start_date, end_date)}\n),\n"
            "dates_with_prior_year_dates as (\n"
            "select cast(d.date_day as date) as date_day, "
            f"cast({dateadd('year', -1, 'd.date_day')} as date) as prior_year_date_day, "
            f"cast({dateadd('day', -364, 'd.date_day')} as date) as prior_year_over_year_date_day"
            "\nfrom base_dates d\n)\n"
            f"select\n    {listed}\nfrom dates_with_prior_year_dates d\norder by 1"
        )


def _dimension_columns(dates: ZonedDates) -> list[tuple[str, str]]:
    """`get_date_dimension`'s columns: (SQL over `d`, name), in dbt_date's order."""
    d, py, pyoy = "d.date_day", "d.prior_year_date_day", "d.prior_year_over_year_date_day"
    return [
        (d, "date_day"),
        (dates.n_days_ago(1, d), "prior_date_day"),
        (dates.n_days_away(1, d), "next_date_day"),
        (py, "prior_year_date_day"),
        (pyoy, "prior_year_over_year_date_day"),
        (day_of_week(d, isoweek=False), "day_of_week"),
        (day_of_week(d, isoweek=True), "day_of_week_iso"),
        (day_name(d, short=False), "day_of_week_name"),
        (day_name(d, short=True), "day_of_week_name_short"),
        (date_part("day", d), "day_of_month"),
        (date_part("dayofyear", d), "day_of_year"),
        (dates.week_start(d), "week_start_date"),
        (dates.week_end(d), "week_end_date"),
        (dates.week_start(pyoy), "prior_year_week_start_date"),
        (dates.week_end(pyoy), "prior_year_week_end_date"),
        (dates.week_of_year(d), "week_of_year"),
        (dates.iso_week_start(d), "iso_week_start_date"),
        (dates.iso_week_end(d), "iso_week_end_date"),
        (dates.iso_week_start(pyoy), "prior_year_iso_week_start_date"),
        (dates.iso_week_end(pyoy), "prior_year_iso_week_end_date"),
        (dates.iso_week_of_year(d), "iso_week_of_year"),
        (dates.week_of_year(pyoy), "prior_year_week_of_year"),
        (dates.iso_week_of_year(pyoy), "prior_year_iso_week_of_year"),
        (f"cast({date_part('month', d)} as INTEGER)", "month_of_year"),
        (month_name(d, short=False), "month_name"),
        (month_name(d, short=True), "month_name_short"),
        (f"cast(date_trunc('month', {d}) as date)", "month_start_date"),
        (f"cast({last_day(d, 'month')} as date)", "month_end_date"),
        (f"cast(date_trunc('month', {py}) as date)", "prior_year_month_start_date"),
        (f"cast({last_day(py, 'month')} as date)", "prior_year_month_end_date"),
        (f"cast({date_part('quarter', d)} as INTEGER)", "quarter_of_year"),
        (f"cast(date_trunc('quarter', {d}) as date)", "quarter_start_date"),
        (f"cast({last_day(d, 'quarter')} as date)", "quarter_end_date"),
        (f"cast({date_part('year', d)} as INTEGER)", "year_number"),
        (f"cast(date_trunc('year', {d}) as date)", "year_start_date"),
        (f"cast({last_day(d, 'year')} as date)", "year_end_date"),
    ]


def natives(time_zone: str) -> dict[str, Callable]:
    """dbt_date's macros by name, `now()` in `time_zone` (its `dbt_date:time_zone` var)."""
    z = ZonedDates(time_zone)
    return {
        "date_part": date_part,
        "convert_timezone": z.convert_timezone,
        "now": z.now,
        "today": z.today,
        "yesterday": lambda date=None, tz=None: z.n_days_ago(1, date, tz),
        "tomorrow": lambda date=None, tz=None: z.n_days_away(1, date, tz),
        "n_days_ago": z.n_days_ago,
        "n_days_away": z.n_days_away,
        "n_months_ago": lambda n, tz=None: z.months(-1 * int(n), tz),
        "n_months_away": lambda n, tz=None: z.months(int(n), tz),
        "n_weeks_ago": lambda n, tz=None: z.weeks(-1 * int(n), tz),
        "n_weeks_away": lambda n, tz=None: z.weeks(int(n), tz),
        "last_month": lambda tz=None: z.months(-1, tz),
        "next_month": lambda tz=None: z.months(1, tz),
        "last_week": lambda tz=None: z.weeks(-1, tz),
        "next_week": lambda tz=None: z.weeks(1, tz),
        "last_month_name": lambda short=True, tz=None: month_name(z.months(-1, tz), short),
        "next_month_name": lambda short=True, tz=None: month_name(z.months(1, tz), short),
        "last_month_number": lambda tz=None: date_part("month", z.months(-1, tz)),
        "next_month_number": lambda tz=None: date_part("month", z.months(1, tz)),
        "month_name": month_name,
        "day_name": day_name,
        "day_of_week": day_of_week,
        "day_of_month": lambda date: date_part("day", date),
        "day_of_year": lambda date: date_part("dayofyear", date),
        "week_start": z.week_start,
        "week_end": z.week_end,
        "week_of_year": z.week_of_year,
        "iso_week_start": z.iso_week_start,
        "iso_week_end": z.iso_week_end,
        "iso_week_of_year": z.iso_week_of_year,
        "periods_since": lambda date_col, period_name="day", tz=None: datediff(
            date_col, z.now(tz), period_name
        ),
        "round_timestamp": lambda timestamp: f"date_trunc('day', {dateadd('hour', 12, timestamp)})",
        "to_unixtimestamp": lambda timestamp: date_part("epoch", timestamp),
        "from_unixtimestamp": from_unixtimestamp,
        "get_base_dates": z.get_base_dates,
        "get_date_dimension": z.get_date_dimension,
    }
