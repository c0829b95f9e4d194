"""Environments as values: where a model's copy lives in one, and the project with the copies
of the models an environment builds added beside production's.

A copy of `staging.stg_orders` in environment `pr-123` is the model `staging__pr_123.stg_orders`:
its own relation, its own rows in the state tables (under that name), and SQL that reads the
environment's copies of what changed upstream and production's relations for everything else.
Production's models stay in the project unchanged, so the planner sees what the copies read and
holds a copy back while production's input is not there; nothing selects them in an
environment, so nothing writes them. No I/O: which models changed is decided by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..core.errors import UsageError
from ..core.quoting import quote
from .checks import Check
from .dag import resolve
from .model import Model, Project

SEPARATOR = "__"
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def check_name(name: str) -> str:
    """An environment's name as given, or a UsageError saying what a name may be.

    >>> check_name("pr-123")
    'pr-123'
    """
    if not NAME.match(name or "") or len(name) > 40 or name == "prod":
        raise UsageError(
            f"bad environment name {name!r}: use up to 40 lowercase letters and digits, "
            "starting with a letter, in words joined by single '-' (pr-123); not 'prod': "
            "production has no name"
        )
    return name


def schema_in(env: str, schema: str) -> str:
    """The schema a model's copy lives in: `staging` in `pr-123` is `staging__pr_123` (names
    have no '_', so no two environments share a schema).

    >>> schema_in("pr-123", "staging")
    'staging__pr_123'
    """
    return f"{schema}{SEPARATOR}{env.replace('-', '_')}"


def copy_name(env: str, model: str) -> str:
    """The name of a model's copy in an environment (also its relation, unquoted)."""
    schema, table = model.split(".", 1)
    return f"{schema_in(env, schema)}.{table}"


@dataclass(frozen=True)
class Environment:
    """An environment as one command sees it: which production models it builds copies of
    (production name -> copy name), and why each one (its SQL changed, it is new, what it reads
    changed)."""

    name: str
    copies: Mapping[str, str] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    # changed models it leaves to production, with why (forward-only changes)
    left: Mapping[str, str] = field(default_factory=dict)
    # each changed model's category (breaking, non-breaking, forward-only)
    categories: Mapping[str, str] = field(default_factory=dict)


def with_copies(project: Project, env: str, chosen: Iterable[str]) -> Project:
    """`project` with a copy of each `chosen` model in `env`, reading the copies of the chosen
    models it reads and production's relations of the others."""
    chosen = set(chosen)
    copies = {name: copy_name(env, name) for name in chosen}
    models = dict(project.models)
    for name in sorted(chosen):
        models[copies[name]] = _copy(project, project.models[name], env, copies)
    return replace(project, models=MappingProxyType(models))


def _copy(project: Project, model: Model, env: str, copies: Mapping[str, str]) -> Model:
    relations: dict[str, str] = {}

    def point(ref: str) -> str:
        """The reference as the copy writes it: a copy's name, or production's model."""
        target = resolve(ref.lower(), model, project)
        if target is None:
            return ref
        name = copies.get(target, target)
        relations[ref.lower()] = ".".join(quote(p) for p in name.split("."))
        return name

    tables = tuple(point(ref) for ref in model.tables)
    depends_on = tuple(point(ref) for ref in model.depends_on)
    checks = tuple(_copy_check(check, point) for check in model.checks)
    schema = schema_in(env, model.schema)
    return replace(
        model,
        name=copies[model.name],
        schema=schema,
        tables=tables,
        depends_on=depends_on,
        checks=checks,
        home=model.name,
        relations=MappingProxyType(relations),
    )


def _copy_check(check: Check, point) -> Check:
    if check.reference:
        return replace(check, reference=point(check.reference))
    if check.tables:
        return replace(check, tables=tuple(point(ref) for ref in check.tables))
    return check
