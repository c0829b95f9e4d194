"""Keeping the warehouse's catalog in step with the project: the models table, and the views
over declared file sources. Both are rewritten only when they changed, so a run with nothing to
do changes nothing. The statements come from materialize and state."""

from __future__ import annotations

from .. import state
from ..core.errors import first_line
from ..execution import utcnow
from ..sources.survey import Survey, glob_pattern
from ..statements import materialize
from .workspace import Workspace, who


def sync_catalog(ws: Workspace, con) -> None:
    """The models table mirrors the project."""
    rows = [
        [
            name,
            str(m.kind),
            m.owner,
            list(m.tags),
            m.version,
            list(ws.dag.upstream[name]),
            list(ws.dag.sources[name]),
            m.partition_by,
            str(m.grain) if m.partitioned else None,
            m.start,
            m.end,
            m.relpath,
        ]
        for name in ws.dag.order
        for m in [ws.dag.models[name]]
    ]
    with con.transaction():
        state.replace_models(con, rows, utcnow())


def save_environment(ws: Workspace, con) -> None:
    """An environment's row: what it builds now, and who built it last."""
    env = ws.env
    state.save_environment(con, env.name, who(), utcnow(), env.copies, env.reasons)


def remember_versions(ws: Workspace, con, plan) -> None:
    """The SQL of each version the plan builds, under the production model's name (a copy in
    an environment builds the version its SQL has there): what `diff` shows production's SQL
    from."""
    rows = []
    for name in dict.fromkeys(t.model for t in plan.tasks):
        model = ws.dag.models[name]
        rows.append((model.home or name, model.version, model.template))
    state.remember_versions(con, rows, utcnow())


def sync_source_views(ws: Workspace, con, surveyed: Survey) -> dict[str, str]:
    """Declared file sources become views over their files. Returns the sources whose view could
    not be made, with DuckDB's reason: they cannot be read, so their readers are held back
    instead of failing on a missing view."""
    unreadable: dict[str, str] = {}
    known = state.source_views(con)
    existing = state.relations(con)
    for source in ws.project.sources.values():
        if not (source.path and source.format):
            continue
        pattern = glob_pattern(ws.project.root, source.path)
        files = surveyed.files(source)
        if not files:
            continue  # no file yet: its readers wait
        error = _sync_view(
            con,
            source,
            pattern,
            known.get(source.name),
            source.name in existing,
            files,
            surveyed.newest(files),
        )
        if error:
            unreadable[source.name] = error
    return unreadable


def _sync_view(
    con, source, pattern: str, known: str | None, exists: bool, files: list[str], newest: str
) -> str | None:
    """Make the first of the source's candidate views that DuckDB accepts (declared types on
    files that lack the column fail: try plainer); the first error when none is accepted.

    A view is bound when it is made, over every file. A read-by-partition source's tasks read
    only their window's files, so one file DuckDB cannot read (held back by its window's
    check) must not stop the view: it is bound on the newest file, else the oldest, instead."""
    import duckdb

    error = None
    bindings: list[list[str] | None] = [None]
    if source.read_by_partition:
        bindings += [[newest], [files[0]]]
    for statement in materialize.source_views(source, pattern):
        if known == statement and exists:
            return None
        for binding in bindings:
            try:
                con.execute(materialize.create_schema(source.name.split(".")[0]))
                if binding is not None:
                    con.execute(materialize.set_files(source.name, binding))
                con.execute(statement)
            except duckdb.Error as exc:
                error = error or first_line(exc, named=False)
                continue
            finally:
                if binding is not None:
                    con.execute(materialize.set_files(source.name, None))
            state.remember_source_view(con, source.name, statement)
            return None
    return error
