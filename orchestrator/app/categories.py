"""Change categories: how each model whose SQL or settings differ from what built it changed,
so that the planner rebuilds only what a change can affect.

- `forward-only` (`-- forward_only: true`): built partitions keep their data; partitions built
  from now on use the new SQL. Nothing downstream is rebuilt for it.
- `non-breaking`: the change only adds columns, or changes (or drops) columns no reader reads,
  and keeps the rows as they are: the model is rebuilt, its readers keep their data.
- `breaking`: anything else (the rows may change, a column a reader reads changed, production's
  SQL is not recorded, the settings changed): the model and its readers are rebuilt.

The SQL a build was made from is in `orchestrator.model_versions`; the comparison is
`sql.change_category`; which columns each reader reads comes from column lineage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from .. import state
from ..core.errors import OrchestratorError
from ..core.partitions import Window
from ..core.snapshot import Snapshot
from ..core.tasks import Change
from ..project.model import Model

if TYPE_CHECKING:  # the comparison loads sqlglot: only a changed model pays for it
    from ..sql.change_category import ColumnChanges
from ..sql.model_sql import render_model
from .workspace import Workspace

FORWARD_ONLY = Change("forward-only", "built partitions keep their data, new ones use the new SQL")


def differs(model: Model, built: Mapping | None) -> bool:
    """Is a model's current version other than one of its builds'?"""
    return bool(built) and any(b.version != model.version for b in built.values())


def changes(
    ws: Workspace, con, snapshot: Snapshot, variables: Mapping[str, str]
) -> dict[str, Change]:
    """The category of each model whose builds are of another version than its SQL now."""
    changed = [
        name
        for name in ws.dag.order
        if not ws.dag.models[name].broken and differs(ws.dag.models[name], snapshot.built.get(name))
    ]
    found: dict[str, Change] = {}
    for name in changed:
        model = ws.dag.models[name]
        if model.forward_only:
            found[name] = FORWARD_ONLY
            continue
        built = snapshot.built[name]
        latest = max(built.values(), key=lambda b: b.run)
        before = state.version_template(con, model.home or name, latest.version)
        found[name] = _category(ws, con, model, before, variables)
    return found


def _category(ws: Workspace, con, model: Model, before: str | None, variables) -> Change:
    if before is None:
        return Change("breaking", "the SQL of its build was not recorded")
    if model.seed or model.renderer == "dbt":  # what they hold is not in their SQL alone
        return Change("breaking", "its data is not its SQL alone")
    if model.language == "python":
        return Change("breaking", "a Python model: its rows are what its code returns")
    from ..sql.change_category import ColumnChanges

    delta = ColumnChanges() if before == model.template else _compare(model, before, variables)
    if delta is None:
        return Change("breaking", "its SQL could not be compared")
    if delta.none:  # the SQL means the same: a setting or what it reads changed
        return Change("breaking", "its settings or what it reads changed")
    if delta.rows:
        return Change("breaking", "which rows it holds may change")
    touched = set(delta.removed) | set(delta.changed)
    if any("*" in c for c in (*touched, *delta.added)):
        return Change("breaking", "its * changed: which columns it has is not known")
    added = f"adds {', '.join(delta.added)}" if delta.added else ""
    if not touched:
        return Change("non-breaking", f"{added or 'the same columns'}; its readers keep their data")
    read = _read_by_readers(ws, con, model, touched)
    what = _describe(delta)
    if read:
        reader, column = read
        return Change("breaking", f"{what}; {reader} reads {column}")
    return Change("non-breaking", f"{what}, which no reader reads; its readers keep their data")


def _describe(delta: ColumnChanges) -> str:
    parts = []
    if delta.added:
        parts.append(f"adds {', '.join(delta.added)}")
    if delta.changed:
        parts.append(f"changes {', '.join(delta.changed)}")
    if delta.removed:
        parts.append(f"drops {', '.join(delta.removed)}")
    return "; ".join(parts)


def _compare(model: Model, before: str, variables) -> ColumnChanges | None:
    """The two SQL texts rendered for one window and compared (None: cannot be)."""
    from ..sql.change_category import compare

    window = None
    if model.partitioned:
        window = Window.containing(model.start or datetime(2000, 1, 1), model.grain)
    literals = model.window_literals(window)
    old = replace(model, template=before)
    try:
        return compare(
            render_model(old, literals, variables), render_model(model, literals, variables)
        )
    except (OrchestratorError, KeyError):
        return None


def _read_by_readers(ws: Workspace, con, model: Model, touched: set[str]) -> tuple[str, str] | None:
    """The first (reader, column) among `touched` columns that a reader of `model` reads (any
    use: selected, filtered, joined, grouped); a reader whose SQL cannot be read reads all."""
    from .column_lineage import known_columns, project_lineage

    readers = ws.dag.downstream.get(model.name, ())
    if not readers:
        return None
    lineage = project_lineage(ws, readers, known_columns(ws, con))
    for reader in readers:
        found = lineage.models.get(reader)
        if found is None or found.problems:
            return reader, sorted(touched)[0]
        read = found.reads.get(model.name, frozenset())
        if "*" in read:
            return reader, sorted(touched)[0]
        for column in sorted(touched):
            if column in read:
                return reader, column
    return None
