"""YAML read with its line numbers, so that a mistake in a project's YAML file is one message
naming the file and the line (PyYAML's plain loaders forget where each value stood).

Mappings load as `Lined` (a dict that knows its own line and each key's), sequences as
`LinedList` (each item's line). PyYAML is the `dbt` extra's: a project without YAML files
never needs it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..core.errors import ProjectError, UsageError


class Lined(dict):
    """A YAML mapping: `line` where it starts, `lines` where each of its keys stands."""

    line: int = 0
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line) if hasattr(self, "lines") else self.line


class LinedList(list):
    """A YAML sequence: `line` where it starts, `lines` the line of each item."""

    line: int = 0
    lines: list[int]

    def line_of(self, index: int) -> int:
        lines = getattr(self, "lines", [])
        return lines[index] if index < len(lines) else self.line


def line_of(value: Any, default: int) -> int:
    """Where a loaded value starts: its own line for a mapping or sequence, else `default`."""
    return getattr(value, "line", 0) or default


@functools.cache
def _loader():
    try:
        import yaml
    except ImportError:
        raise UsageError(
            "YAML files of the project are read with PyYAML, which is not installed: "
            "pip install 'orchestrator[dbt]'"
        ) from None
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def mapping(loader, node):
        found = Lined()
        found.line = node.start_mark.line + 1
        yield found
        keys = [k for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        seen: dict[str, int] = {}
        for key in keys:
            if key.value in seen:
                raise _Duplicate(key.value, key.start_mark.line + 1)
            seen[key.value] = key.start_mark.line + 1
        found.update(loader.construct_mapping(node, deep=True))
        found.lines = seen

    def sequence(loader, node):
        found = LinedList()
        found.line = node.start_mark.line + 1
        yield found
        found.extend(loader.construct_sequence(node, deep=True))
        found.lines = [item.start_mark.line + 1 for item in node.value]

    def timestamp(loader, node):
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        except ValueError:  # 2026-13-03 looks like a date and is none: its text, for a message
            return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    Loader.add_constructor("tag:yaml.org,2002:seq", sequence)
    return yaml, Loader


class _Duplicate(Exception):
    def __init__(self, key: str, line: int):
        self.key, self.line = key, line


def load(path: Path, relpath: str) -> Any:
    """The document in `path` (None when empty); ProjectError naming the line when it does not
    parse or a mapping repeats a key (PyYAML would keep the last one silently)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read it: {exc}", relpath) from None
    return loads(text, relpath)


def loads(text: str, relpath: str) -> Any:
    """The document in `text`, as `load` reads a file's (`relpath` names it in messages)."""
    yaml, loader = _loader()
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except _Duplicate as dup:
        raise ProjectError(
            f"'{dup.key}' is given twice in one mapping", relpath, dup.line
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        line = mark.line + 1 if mark is not None else None
        raise ProjectError(f"YAML does not parse: {what}", relpath, line) from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"YAML does not parse: {exc}", relpath) from None
