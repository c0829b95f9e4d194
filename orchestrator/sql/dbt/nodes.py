"""What one render is about: the node being rendered (`Rendering`: its identity, the configs it
sets, what it uses), the relations dbt's `ref()`/`source()`/`this` give (`RelationName`), and
dbt's target. The renderer swaps the node for each file it renders; the namespace a template
sees (`context`) reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RelationName(str):
    """A relation as dbt's `ref()`/`source()`/`this` give it: renders as `schema.name`, with
    the attributes macros read."""

    def __new__(cls, schema: str, identifier: str, database: str = "main", dbt_text: str = ""):
        text = f"{schema}.{identifier}" if schema else identifier
        made = super().__new__(cls, text)
        made.schema, made.identifier, made.name, made.database = (
            schema,
            identifier,
            identifier,
            database,
        )
        made.dbt_text = dbt_text  # how dbt renders it as text, `"db"."schema"."name"`
        return made

    def include(self, database=True, schema=True, identifier=True):  # noqa: ARG002
        return self if schema else RelationName("", self.identifier)

    def render(self) -> str:
        """The relation as dbt writes it into a value (a union's source column, an audit's
        relation name): database, schema and name quoted, dbt's names (ours may differ with
        --schemas custom; the SQL reads `str()`, ours)."""
        return self.dbt_text or str(self)

    @property
    def is_table(self) -> bool:
        return True


def as_text(relation: Any) -> str:
    """A relation as dbt writes it into a value (`relation.render()`), anything else as is."""
    render = getattr(relation, "render", None)
    return str(render() if callable(render) else relation)


@dataclass
class Target:
    name: str
    schema: str
    database: str = "main"
    type: str = "duckdb"
    threads: int = 1
    profile_name: str = ""
    path: str = ""  # the DuckDB file of dbt's target (profiles.yml), where dbt builds

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


ACCUMULATED = ("tags", "pre_hook", "post_hook")
"""Configs dbt accumulates (each setting adds to the list) instead of replacing."""


def as_config_list(value: Any) -> list:
    """An accumulated config's value (one item or several) as a list."""
    return [value] if isinstance(value, str | dict) else list(value or [])


@dataclass
class Rendering:
    """One node being rendered: its identity, the configs it sets, what it uses."""

    name: str
    relpath: str
    fqn: list[str]
    resource_type: str = "model"
    settled: dict = field(default_factory=dict)  # configs from the tree and properties files
    config: dict = field(default_factory=dict)  # what its own config() calls set
    refs: list[tuple] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # env_var, is_incremental, ...
    this: RelationName | None = None
    incremental: bool = False

    def merged(self) -> dict:
        found = {**self.settled, **self.config}
        for key in ACCUMULATED:
            if key in self.settled and key in self.config:
                found[key] = [*as_config_list(self.settled[key]), *as_config_list(self.config[key])]
        return found
