"""The statements of `promote`: a production relation made what an environment's copy holds,
inside the promoting transaction."""

from __future__ import annotations

from ..project.model import Model
from .materialize import create_schema, drop_relation


def promote(model: Model, copy_relation: str, existing: str | None) -> tuple[str, ...]:
    """Make `model`'s production table what its environment copy holds: a copy of the rows,
    inside the promoting transaction (a view is made again from its production SQL instead)."""
    return _drop_other(model, existing) + (
        create_schema(model.schema),
        f"CREATE OR REPLACE TABLE {model.relation} AS SELECT * FROM {copy_relation}",
    )


def _drop_other(model: Model, existing: str | None) -> tuple[str, ...]:
    """A view where the table goes is dropped first (CREATE OR REPLACE TABLE cannot)."""
    return (drop_relation(model, existing),) if existing not in (None, "table") else ()
