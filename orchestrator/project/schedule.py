"""Cron and time: when a job is due, what a missed tick becomes, when its deadline passes. Pure.

A cron expression has five fields, minute hour day-of-month month day-of-week, each `*`, a number,
a range `a-b`, a list `a,b`, a step `*/n` or `a-b/n`, with month and weekday names (`jan`, `mon`)
and the shorthands `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. As in classic cron,
when both day fields are restricted a day matches either. Times are wall-clock times in the
job's time zone: a time that a daylight-saving jump skips fires at the end of the jump, a time
that happens twice fires once (the first time).

>>> cron = Cron.parse("30 6 * * mon-fri")
>>> cron.next_after(datetime(2026, 11, 27, 7, 0), ZoneInfo("UTC"))  # a Friday, 07:00
datetime.datetime(2026, 11, 30, 6, 30)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like 'Europe/Paris')"
        ) from None


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset:
    values: set[int] = set()
    for part in text.lower().split(","):
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step {step_text!r} in the {name} field")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        else:
            first_text, dash, last_text = body.partition("-")
            first = _value(first_text, name, low, high, names)
            last = (
                _value(last_text, name, low, high, names)
                if dash
                else (high if step_text else first)
            )
            if last < first:
                raise ValueError(f"range {body!r} runs backwards in the {name} field")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not a valid {name} ({low}-{high})")
    return int(text)


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset
    hours: frozenset
    days: frozenset
    months: frozenset
    weekdays: frozenset  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        expanded = _SHORTHANDS.get(text.strip().lower(), text)
        fields = expanded.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron {text!r} needs 5 fields (minute hour day month weekday), got {len(fields)}"
            )
        parsed = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in parsed[4])  # 7 is Sunday too
        return cls(
            text,
            parsed[0],
            parsed[1],
            parsed[2],
            parsed[3],
            weekdays,
            fields[2] == "*",
            fields[4] == "*",
        )

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_month_day = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_month_day and by_weekday
        return by_month_day or by_weekday  # both restricted: either one (classic cron)

    def instants(self, tz: ZoneInfo, start: date, backward: bool = False) -> Iterator[datetime]:
        """Firings as naive UTC, walking wall-clock days from `start` forwards (or backwards),
        at most ~5 years. Two wall times that map to one instant (a DST gap) fire once."""
        times = [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]
        if backward:
            times.reverse()
        step = timedelta(days=-1 if backward else 1)
        previous = None
        day = start
        for _ in range(366 * 5):
            if self.matches_day(day):
                for clock in times:
                    instant = to_utc(datetime.combine(day, clock), tz)
                    if instant != previous:
                        previous = instant
                        yield instant
            day += step

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime:
        """The first firing strictly after `after` (naive UTC), as naive UTC."""
        for instant in self.instants(tz, to_local(after, tz).date() - timedelta(days=1)):
            if instant > after:
                return instant
        raise ValueError(f"cron {self.text!r} never fires")

    def between(
        self, after: datetime, until: datetime, tz: ZoneInfo, limit: int = 10_000
    ) -> list[datetime]:
        """Firings in (after, until], naive UTC, oldest first: at most `limit` of the latest
        ones. Walks back from `until`, so the cost is bounded by `limit`, not by the span."""
        found: list[datetime] = []
        for instant in self.instants(tz, to_local(until, tz).date() + timedelta(days=1), True):
            if instant <= after or len(found) == limit:
                break
            if instant <= until:
                found.append(instant)
        found.reverse()
        return found


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """Naive UTC -> naive wall-clock time in `tz`."""
    return instant.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Naive wall-clock time in `tz` -> naive UTC. A time that happens twice is taken the first
    time; a time skipped by a jump forward becomes the end of the jump."""
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC).replace(tzinfo=None)
    if to_local(first, tz) != local:  # does not exist: moved to when the clock jumped
        after = local.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(tzinfo=None)
        jump = min(first, after)
        # the first instant whose wall time is past `local`
        while to_local(jump, tz) < local:
            jump += timedelta(minutes=1)
        return jump.replace(second=0, microsecond=0) if to_local(jump, tz) > local else jump
    return first


def deadline_after(due: datetime, clock: time, tz: ZoneInfo) -> datetime:
    """The first moment at or after `due` (naive UTC) when the wall clock in `tz` shows
    `clock`: a tick due at 06:00 with a 07:30 deadline has it the same morning."""
    local_due = to_local(due, tz)
    candidate = datetime.combine(local_due.date(), clock)
    if candidate < local_due:
        candidate += timedelta(days=1)
    return to_utc(candidate, tz)


def parse_clock(text: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day like '07:30'") from None


@dataclass(frozen=True)
class Due:
    """What the schedule says about a job at one moment."""

    run_at: datetime | None  # the tick to run now, if any
    coalesced: tuple[datetime, ...]  # older ticks the same run catches up
    missed: tuple[datetime, ...]  # ticks too old to catch up (beyond the catch-up window)


def due(
    cron: Cron,
    tz: ZoneInfo,
    last: datetime | None,
    now: datetime,
    catchup: timedelta,
    limit: int = 100,
) -> Due:
    """Ticks due since `last` (the latest tick already handled; None: never). One run covers
    them all, because it plans from the warehouse's state (missing partitions), not from ticks;
    ticks older than `catchup` are only recorded as missed, so a long outage does not replay."""
    window_start = now - catchup
    since = last if last is not None else window_start
    recent = cron.between(max(since, window_start - timedelta(microseconds=1)), now, tz, limit)
    old = tuple(cron.between(since, window_start - timedelta(microseconds=1), tz, limit))
    if not recent:
        return Due(None, (), old)
    return Due(recent[-1], tuple(recent[:-1]), old)
