"""The `dbt/` folder `import dbt` writes beside our project for the models dbt's renderer
renders when they run (`-- renderer: dbt`): its name, the hash that versions what it holds, and
the shape of the queries those models make while rendering. Both `sql.model_sql` (which renders
a model) and `runtime` (which renders it the dbt way) read these."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

BUNDLE = "dbt"
"""The project folder with what dbt's renderer needs (written by `import dbt`)."""

Query = Callable[[str], tuple[list[str], list[tuple]]]
"""Answers a query a model makes while rendering: SQL -> (column names, rows)."""


def bundle_digest(root: Path) -> str:
    """A hash of the `dbt/` folder's files, part of the version of every model it renders: an
    edited macro makes them stale."""
    folder = Path(root) / BUNDLE
    if not folder.is_dir():
        return ""
    stats = tuple(
        (p.relative_to(folder).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )
    return _digest(str(folder), stats)


@lru_cache(maxsize=16)
def _digest(folder: str, stats: tuple) -> str:
    """The files' contents hashed, once per set of (name, mtime, size): unchanged files are not
    read again."""
    hashed = hashlib.sha256()
    for rel, _, _ in stats:
        hashed.update(rel.encode() + b"\0" + (Path(folder) / rel).read_bytes() + b"\0")
    return hashed.hexdigest()[:16]
