"""YAML as dbt projects write it, read with PyYAML (a well-kept parser; the `dbt` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.errors import UsageError


class ImportProblem(Exception):
    """Something in the dbt project we cannot take as it is: one line naming the file and line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path, self.line, self.detail = path, line, message
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(where + message)


def yaml_module():
    """PyYAML, or a usage error saying how to install it."""
    try:
        import yaml
    except ImportError:
        raise UsageError(
            "orchestrator import dbt reads YAML with PyYAML, which is not installed: "
            "pip install 'orchestrator[dbt]'"
        ) from None
    return yaml


def load(path: Path, relpath: str) -> Any:
    """The document in `path` ({} when empty); ImportProblem with the line when it does not
    parse."""
    yaml = yaml_module()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportProblem(f"cannot read it: {exc}", relpath) from None
    try:
        found = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ImportProblem(f"YAML does not parse: {what}", relpath, line) from None
    except yaml.YAMLError as exc:
        raise ImportProblem(f"YAML does not parse: {exc}", relpath) from None
    return {} if found is None else found


def as_list(value: Any) -> list:
    """A YAML value that may be one item or a list of them, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
