"""What a source held when a partition was built, and whether it still holds the same: values
and comparisons only (`holdings` reads the files and tables).

A source holds items. A file source's items are its files (a path relative to the project, with
the period its `{date}`-style placeholders name); their print is `size:mtime_ns:sha256`, the
hash left empty for files too large to hash cheaply. A source with `partition_by` holds one item
per period of that column, printed `rows:hash` (a row count and the sum of the rows' hashes);
a table without it holds one item, the whole table. A build records the prints of the items it
read; the planner compares them with what the source holds now.

Which items a partition depends on: a whole table or view reads everything the source holds;
a partition of an incremental model reads the items whose period overlaps its window. A
partition does not depend on a source that has no periods (a dimension table, one file): a
change there must not rebuild years of history (`run --full-refresh` does that on purpose).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .partitions import Window

Prints = Mapping[str, Mapping[str, str]]
"""source name -> item -> print: what one build read."""


@dataclass(frozen=True, slots=True)
class Holding:
    """One item a source holds now: a file, a period of rows, or the whole table."""

    item: str
    print: str
    start: datetime | None = None  # the period it holds (None: no period)
    end: datetime | None = None


def file_print(size: int, mtime_ns: int, sha: str = "") -> str:
    return f"{size}:{mtime_ns}:{sha}"


def rows_print(rows: int, hashed: object) -> str:
    return f"{rows}:{hashed}"


def same(recorded: str, current: str) -> bool:
    """Do two prints of one item say it holds the same data? A file whose size is unchanged is
    the same when both hashes are known and equal (a copy that only touched its time), and
    otherwise when its modification time is unchanged.

    >>> same("10:5:ab", "10:9:ab"), same("10:5:ab", "10:9:cd"), same("10:5:", "10:5:")
    (True, False, True)
    >>> same("10:5:", "11:5:"), same("3:99", "3:99"), same("3:99", "4:99")
    (False, True, False)
    """
    if recorded == current:
        return True
    old, new = recorded.split(":"), current.split(":")
    if len(old) != 3 or len(new) != 3 or old[0] != new[0]:
        return False
    if old[2] and new[2]:
        return old[2] == new[2]
    return old[1] == new[1]


def stat_matches(recorded: str, size: int, mtime_ns: int) -> bool:
    """Does a recorded file print describe a file of this size and time (so its hash holds)?"""
    parts = recorded.split(":")
    return len(parts) == 3 and parts[0] == str(size) and parts[1] == str(mtime_ns)


def held_in(holdings: Iterable[Holding], window: Window | None) -> dict[str, str]:
    """The prints of the items a reader of `window` depends on (all of them for a whole
    table; none when the source has no periods and the reader is a partition)."""
    if window is None:
        return {h.item: h.print for h in holdings}
    return {
        h.item: h.print
        for h in holdings
        if h.start is not None
        and h.end is not None
        and h.start < window.end
        and window.start < h.end
    }


def changed(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """The items that differ between a build's record and now: changed, new or gone.

    >>> before = {"a.csv": "1:1:", "b.csv": "2:2:"}
    >>> changed(before, {"a.csv": "1:1:", "b.csv": "3:3:", "c.csv": "1:1:"})
    ['b.csv', 'c.csv']
    """
    items = sorted(set(recorded) | set(current))
    return [
        i
        for i in items
        if i not in recorded or i not in current or not same(recorded[i], current[i])
    ]


def describe(items: list[str], limit: int = 3) -> str:
    """Changed items as a reason says them: file names without their folders.

    >>> describe(["data/o/o_2026-11-02.csv"]), describe(["a", "b", "c", "d", "e"])
    ('o_2026-11-02.csv', 'a, b, c and 2 more')
    """
    names = [i.rsplit("/", 1)[-1] for i in items]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)
