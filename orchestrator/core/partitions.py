"""Grains, half-open partition windows, ranges, and the mapping between grains. No I/O.

All times are naive datetimes meaning UTC. A window is `[start, end)`; its key is the short text
users see and type: `2024-01-05T07` (hour), `2024-01-05` (day), `2024-01` (month), `2024` (year).

>>> w = Window.containing(datetime(2024, 2, 29, 13, 5), Grain.MONTH)
>>> w.key, w.end
('2024-02', datetime.datetime(2024, 3, 1, 0, 0))
>>> [x.key for x in windows(datetime(2024, 1, 30), datetime(2024, 2, 2), Grain.DAY)]
['2024-01-30', '2024-01-31', '2024-02-01']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Grain(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


WHOLE = "all"
"""The partition key of a model that is not partitioned (a view or a table)."""

_KEY_FORMATS = {
    Grain.HOUR: "%Y-%m-%dT%H",
    Grain.DAY: "%Y-%m-%d",
    Grain.MONTH: "%Y-%m",
    Grain.YEAR: "%Y",
}


def key_format(grain: Grain) -> str:
    """The strftime format of a partition key of `grain` (also DuckDB's).

    >>> key_format(Grain.MONTH)
    '%Y-%m'
    """
    return _KEY_FORMATS[grain]


def floor(ts: datetime, grain: Grain) -> datetime:
    """The start of the period of `grain` that contains `ts`."""
    if grain is Grain.HOUR:
        return ts.replace(minute=0, second=0, microsecond=0)
    if grain is Grain.DAY:
        return ts.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain is Grain.MONTH:
        return ts.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return ts.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def step(ts: datetime, grain: Grain, n: int = 1) -> datetime:
    """`ts` moved by `n` periods of `grain` (`ts` is expected to be aligned)."""
    if grain is Grain.HOUR:
        return ts + timedelta(hours=n)
    if grain is Grain.DAY:
        return ts + timedelta(days=n)
    months = n if grain is Grain.MONTH else 12 * n
    index = ts.year * 12 + (ts.month - 1) + months
    return ts.replace(year=index // 12, month=index % 12 + 1)


@dataclass(frozen=True, order=True, slots=True)
class Window:
    """One partition: the half-open interval `[start, end)` of one period of `grain`."""

    start: datetime
    end: datetime
    grain: Grain

    @classmethod
    def containing(cls, ts: datetime, grain: Grain) -> Window:
        start = floor(ts, grain)
        return cls(start, step(start, grain), grain)

    @property
    def key(self) -> str:
        return _key(self.start, self.grain)

    def literal(self, ts: datetime) -> str:
        """`ts` as a DuckDB literal: DATE for day and coarser grains, TIMESTAMP for hours."""
        if self.grain is Grain.HOUR:
            return f"TIMESTAMP '{ts:%Y-%m-%d %H:%M:%S}'"
        return f"DATE '{ts:%Y-%m-%d}'"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@functools.lru_cache(maxsize=65536)
def _key(start: datetime, grain: Grain) -> str:
    """A window's key, cached: planning asks for the same keys millions of times at scale, and
    strftime is the slow part."""
    return start.strftime(_KEY_FORMATS[grain])


def windows(start: datetime, end: datetime, grain: Grain) -> Iterator[Window]:
    """Every window of `grain` that overlaps `[start, end)`, in order."""
    current = floor(start, grain)
    while current < end:
        following = step(current, grain)
        yield Window(current, following, grain)
        current = following


def window_for_key(key: str, grain: Grain) -> Window:
    """The window whose key is `key` (inverse of `Window.key`)."""
    return Window.containing(datetime.strptime(key, _KEY_FORMATS[grain]), grain)


LAST_YEAR = 9998
"""The latest year a point may fall in: the window after it must still be a valid datetime
(Python's end at the close of year 9999)."""

_POINT = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?)?)?)?$"
)


def parse_point(text: str) -> datetime:
    """A point in time typed by a user: `2024`, `2024-03`, `2024-03-05`, `2024-03-05T07[:30[:00]]`.

    Raises ValueError with the accepted forms when `text` is none of them, or when it lies past
    LAST_YEAR (a window from there would end beyond what a datetime holds).
    """
    match = _POINT.match(text.strip())
    if not match:
        raise ValueError(
            f"'{text}' is not a date; use YYYY-MM-DD (or YYYY, YYYY-MM, YYYY-MM-DDTHH)"
        )
    parts = {k: int(v) if v else None for k, v in match.groupdict().items()}
    if parts["y"] > LAST_YEAR:  # type: ignore[operator]
        raise ValueError(f"'{text}' is out of range: use a date before {LAST_YEAR + 1}-01-01")
    try:
        return datetime(
            parts["y"],
            parts["m"] or 1,
            parts["d"] or 1,
            parts["h"] or 0,
            parts["mi"] or 0,
            parts["s"] or 0,
        )
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date: {exc}") from None


def parse_boundary(text: str, grain: Grain) -> datetime:
    """A partition boundary from a model header: a point that must be aligned to `grain`."""
    ts = parse_point(text)
    if floor(ts, grain) != ts:
        aligned = Window.containing(ts, grain).key
        raise ValueError(f"'{text}' is not the start of a {grain} (the {grain} is '{aligned}')")
    return ts


def describe(windows_: list[Window], limit: int = 3) -> str:
    """A short summary of sorted windows, runs folded: `2024-01-01..2024-01-09, 2024-01-12`."""
    runs: list[tuple[Window, Window]] = []
    for w in windows_:
        if runs and runs[-1][1].end == w.start:
            runs[-1] = (runs[-1][0], w)
        else:
            runs.append((w, w))
    parts = [a.key if a == b else f"{a.key}..{b.key}" for a, b in runs[:limit]]
    if len(runs) > limit:
        parts.append(f"and {len(runs) - limit} more ranges")
    return ", ".join(parts)
