"""A cache of what parsing found in each model, so a project of thousands of models loads in a
fraction of the time the parser needs.

Parsing is by far the most expensive step of loading a project, and its result depends only on
the text that is parsed: an entry is keyed by a hash of the template and the literals it was
rendered with, and the whole cache by the tool's version, the parser's version and the source of
the module that parses. A changed file is a new key and an upgrade a new cache, so an entry can
be missing but never stale. The cache lives in `.orchestrator/cache/` under the project; it is
written atomically, and any problem reading or writing it only costs a parse.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .. import __version__
from ..sql import parse as sql

FOLDER = Path(".orchestrator") / "cache"
_FIELDS = dataclasses.fields(sql.Analysis)
FILE = "analysis.json"


def _salt() -> str:
    from importlib import metadata

    try:
        parser = metadata.version("sqlglot")
    except metadata.PackageNotFoundError:  # pragma: no cover - sqlglot is a dependency
        parser = "?"
    code = hashlib.sha256(b"".join(p.read_bytes() for p in sql.source_files())).hexdigest()[:16]
    return f"{__version__}|sqlglot {parser}|{code}"


class AnalysisCache:
    """`analyze()` answers from the cache or parses; `save()` keeps what this load used."""

    def __init__(self, root: Path | None):
        self.path = root / FOLDER / FILE if root is not None else None
        self.salt = _salt() if root is not None else ""
        self.entries: dict[str, dict] = {}
        self.used: dict[str, dict] = {}
        self.misses = 0
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("salt") == self.salt:
                    self.entries = data["entries"]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # no cache, or one we cannot read: parse everything

    def analyze(
        self,
        text: str,
        relpath: str,
        literals: Mapping[str, str] | None = None,
        dialect: str = "duckdb",
    ) -> sql.Analysis:
        key = hashlib.sha256(
            json.dumps(
                [text, sorted((literals or {}).items())] + [dialect] * (dialect != "duckdb")
            ).encode()
        ).hexdigest()
        entry = self.entries.get(key)
        if entry is not None:
            try:
                analysis = sql.Analysis(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
                )
                self.used[key] = entry
                return analysis
            except TypeError:
                pass  # written by a different shape of Analysis: parse again
        analysis = sql.analyze(text, relpath, literals, dialect)
        self.used[key] = {f.name: getattr(analysis, f.name) for f in _FIELDS}
        self.misses += 1
        return analysis

    def save(self) -> None:
        """Write the entries this load used (dropping those of files that changed or went),
        when anything differs from what was read."""
        if self.path is None or (not self.misses and len(self.used) == len(self.entries)):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".analysis-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"salt": self.salt, "entries": self.used}, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only project still works, it just parses every time
