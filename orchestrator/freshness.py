"""Sources: where their files are, whether a partition has arrived, how fresh they are, and
whether their columns still match what was declared.

A file source's `path` is a glob relative to the project root that may carry partition
placeholders: `{date}` (YYYY-MM-DD), `{month}` (YYYY-MM), `{year}`, `{hour}` (HH), e.g.
`data/payments/payments_{date}.csv`. The source's view reads every file (placeholders become `*`);
a partition window has arrived when a file for each of its periods exists.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

_PLACEHOLDER = re.compile(r"\{(date|month|year|hour)\}")


def glob_pattern(root: Path, path: str) -> str:
    """The absolute glob for every file of a source (placeholders become `*`)."""
    full = Path(path) if Path(path).is_absolute() else root / path
    return _PLACEHOLDER.sub("*", str(full))


def matching_files(pattern: str) -> list[str]:
    return sorted(glob.glob(pattern, recursive=True))
