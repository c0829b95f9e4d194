"""The importer's values: what became of each dbt node (exactly, with notes, needs a hand),
what the conversion produces, a model as the parse pass found it, and small helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...sql.dbt.nodes import RelationName
from ...sql.dbt.project import Node

EXACT, NOTES, HAND = "converted exactly", "converted with notes", "needs a hand"
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Outcome:
    """What became of one dbt node."""

    node: str  # dbt's unique id, e.g. model.shop.orders
    file: str  # where it is in the dbt project
    status: str  # EXACT | NOTES | HAND
    ours: str = ""  # what it became: a relation, a check, a source
    notes: list[str] = field(default_factory=list)


@dataclass
class Converted:
    files: dict[str, str] = field(default_factory=dict)  # our relpath -> text
    sources: dict[str, dict] = field(default_factory=dict)  # our source name -> settings
    seeds: dict[str, dict] = field(default_factory=dict)  # our seed name -> settings
    hooks: dict[str, list[str]] = field(default_factory=dict)  # on_run_start/end -> SQL
    outcomes: list[Outcome] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)  # dbt relation -> ours
    problems: list[str] = field(default_factory=list)  # file:line: message
    packages: dict[str, list[str]] = field(default_factory=dict)  # missing package -> nodes
    macro_files: list[str] = field(default_factory=list)  # files of macros that do not load
    rendered_at_run: list[str] = field(default_factory=list)  # models rendered when they run
    unit_tests: dict[str, list[dict]] = field(default_factory=dict)  # our file -> its tests
    default_schema: str = "main"


@dataclass
class DbtModel:
    node: Node
    config: dict
    relation: RelationName | None = None
    dbt_relation: str = ""  # where dbt itself would build it
    ephemeral_sql: str | None = None
    problem: str | None = None

    @property
    def path(self) -> str:
        """Where our model file for it goes."""
        return f"models/{self.relation.schema}/{self.relation.identifier}.sql"


def close(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known name, or nothing."""
    import difflib

    found = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""


def literal(value: Any, quote: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not quote:
        return str(value)
    if not quote:
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
