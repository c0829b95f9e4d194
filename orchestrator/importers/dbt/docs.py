"""Documentation comes along: the `description:` dbt users write for models, snapshots, seeds,
sources and their columns (with `{{ doc('name') }}` blocks resolved) becomes ours: header
lines of a model (`-- description:` and `-- column NAME:`), `description` and
`column_descriptions` of a seed or a source in orchestrator.toml."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import Rendering
from ...sql.dbt.yamlfile import ImportProblem

if TYPE_CHECKING:
    from .conversion import Conversion


def text(conv: Conversion, value: Any, where: str) -> str | None:
    """A description as dbt shows it: `{{ doc('x') }}` replaced by its block, other Jinja
    rendered; None when there is none (or it does not render: the node still converts)."""
    if not isinstance(value, str) or not value.strip():
        return None
    if "{{" not in value and "{%" not in value:
        return value.strip()

    def doc(name: str, *rest) -> str:
        name = str(rest[0]) if rest else str(name)  # doc('package', 'name')
        if name not in conv.project.docs:
            raise ImportProblem(f"doc('{name}'): no such docs block")
        return conv.project.docs[name]

    conv.renderer.ns["doc"] = doc
    try:
        rendered = conv.renderer.render(value, Rendering("docs", where, [conv.project.name]))
    except (ImportProblem, NeedsDatabase, MissingMacro):
        return None
    return rendered.strip() or None


def columns(conv: Conversion, entry: dict, where: str) -> dict[str, str]:
    """The described columns of a properties entry: name -> description."""
    found: dict[str, str] = {}
    for column in entry.get("columns") or []:
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            continue
        described = text(conv, column.get("description"), where)
        if described:
            found[column["name"].lower()] = described
    return found


def header(conv: Conversion, name: str, where: str) -> list[str]:
    """Our header lines for a model's (or snapshot's) description and its columns'."""
    entry = conv.project.properties.get(name) or {}
    lines = [
        f"-- description: {line}".rstrip()
        for line in _lines(text(conv, entry.get("description"), where))
    ]
    for column, described in columns(conv, entry, where).items():
        lines += [f"-- column {column}: {line}".rstrip() for line in _lines(described)]
    return lines


def _lines(value: str | None) -> list[str]:
    """A description's lines, as header lines keep them (paragraphs kept, trailing space not)."""
    if not value:
        return []
    return [re.sub(r"\s+$", "", line) for line in value.strip().splitlines()]
