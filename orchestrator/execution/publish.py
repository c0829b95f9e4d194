"""Publish: the one transaction of a task. The data change (a window's overwrite, a merge, a
table replace, a swap), the audit of the new data, and the state rows that record it commit
together or not at all, so a crash leaves the warehouse as it was before the task or after it.

On an engine without transactions (Spark) the same steps run in an order that needs none: the
new data is staged, audited and checked (`Write.stage`), published, and recorded last, so a
publish cut short has no record and is redone (each publishing step is idempotent)."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from .. import state
from ..core.errors import HookError, SchemaChangeError, WindowError
from ..core.fingerprints import Prints
from ..core.partitions import WHOLE
from ..core.quoting import literal
from ..core.snapshot import Publication
from ..core.tasks import Action, Reason
from ..engines.engine import run_step
from ..plan.staleness import input_markers
from ..project.model import Kind
from ..sql.model_sql import cursor_query, render_model
from ..sql.template import render
from ..statements import check_sql, materialize
from .audit import blocking_checks
from .columns import column_change
from .context import TaskContext


def publish(ctx: TaskContext, started: datetime) -> dict[str, int | None]:
    """Write, audit, check and record in one transaction; the rows written per partition."""
    if ctx.task.action is Action.SWAP:
        return swap(ctx, started)
    if ctx.task.action is Action.ADOPT:
        return adopt(ctx, started)
    task, model = ctx.task, ctx.model
    with ctx.live.lock:
        existing = ctx.live.relations.get(model.name)
        shadow_exists = model.name in ctx.live.shadows
    # a merge model merges into its table; built new (or again, changed) it is replaced
    merging = (
        model.merges_whole
        and existing == "table"
        and task.reason not in (Reason.FULL_REFRESH, Reason.MODEL_CHANGED)
    )
    if model.language == "python":
        with python_rows(ctx) as rendered:
            return _write(ctx, started, rendered, existing, shadow_exists, merging)
    rendered = render_model(
        model,
        model.window_literals(task.window, this=ctx.target(), incremental=merging),
        ctx.variables,
        cursor_query(ctx.cur),
    )
    return _write(ctx, started, rendered, existing, shadow_exists, merging)


def _write(ctx: TaskContext, started, rendered: str, existing, shadow_exists, merging):
    """Write the rendered query as the model's data, audit, check and record: one transaction."""
    task, model = ctx.task, ctx.model
    _prepare_session(ctx)
    read = ctx.read = _source_prints(ctx)
    if model.kind is not Kind.SNAPSHOT:
        write = ctx.cur.writes.build(
            model,
            ctx.cur.model_sql(model, rendered),
            task.window,
            existing,
            into_shadow=ctx.into_shadow,
            shadow_exists=shadow_exists,
            merging=merging,
        )
    with ctx.cur.transaction() as tx:
        if model.partitioned and existing == "table" and not ctx.into_shadow:
            _follow_columns(ctx, rendered)
        if model.kind is Kind.SNAPSHOT:
            write = _snapshot(ctx, rendered, existing)
        _hooks(ctx, model.pre_hooks, "pre_hook")
        written = _apply(ctx, write, tx)
        _hooks(ctx, model.post_hooks, "post_hook")
        rows = _rows(ctx, written)
        if write.stage is None:
            blocking_checks(ctx)
        ctx.checkpoint()
        finished = ctx.now()
        publications = _publications(ctx, rows, finished, read)
        _record(ctx, started, finished, rows, publications)
        ctx.checkpoint()
    _remember(ctx, publications)
    return rows


def adopt(ctx: TaskContext, started: datetime) -> dict[str, int | None]:
    """Record what another tool built as built by this version, writing nothing to it: its
    rows counted and its blocking checks judged on it in the one transaction that records it
    (a failing check records nothing: the next run rebuilds it)."""
    _prepare_session(ctx)
    read = ctx.read = _source_prints(ctx)
    with ctx.cur.transaction():
        counted = dict(ctx.cur.execute(check_sql.counts_sql(ctx.scope(ctx.target()))).fetchall())
        rows: dict[str, int | None] = {u.key: counted.get(u.key, 0) for u in ctx.units}
        blocking_checks(ctx)
        ctx.checkpoint()
        finished = ctx.now()
        publications = _publications(ctx, rows, finished, read)
        _record(ctx, started, finished, rows, publications)
    _remember(ctx, publications)
    return rows


@contextmanager
def python_rows(ctx: TaskContext):
    """A Python model's rows for the task's window, as the query that reads them: its
    function run in a child process (`python_run`), the files removed once written."""
    from .python_run import run_python_model

    workdir = Path(tempfile.mkdtemp(prefix="orchestrator-python-"))
    reader = ctx.cur.cursor()

    def answer(sql: str, path: Path) -> None:
        kinds = reader.statement_types(sql)
        if not kinds or set(kinds) - {"select"}:
            raise ValueError("only a SELECT may be asked (the model reads, never writes)")
        reader.execute(f"COPY ({sql.strip().rstrip(';')}) TO {literal(str(path))} (FORMAT PARQUET)")

    def stop() -> str | None:
        if ctx.timed_out:
            return "timeout"
        return "cancel" if ctx.options.cancel.is_set() else None

    try:
        rows = run_python_model(
            ctx.model,
            list(ctx.model.declared),
            ctx.task.window,
            ctx.variables,
            ctx.options.run_id,
            workdir,
            answer if ctx.dag.upstream.get(ctx.model.name) or ctx.model.tables else None,
            stop,
        )
        yield f"SELECT * FROM read_parquet({literal(str(rows))})"
    finally:
        reader.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _prepare_session(ctx: TaskContext) -> None:
    """The search path of the model's schema (once per cursor) and the task's session
    settings (a source read by partition lists only the task's files)."""
    path = materialize.search_path(ctx.model.lookup_schema, ctx.options.default_schema)
    if ctx.shared.paths.get(id(ctx.cur)) != path:
        ctx.cur.execute(path)
        ctx.shared.paths[id(ctx.cur)] = path
    session = ctx.options.session
    for source, files in session(ctx.task) if session else ():
        ctx.cur.bind_files(source, files)


def _rows(ctx: TaskContext, written: int | None) -> dict[str, int | None]:
    if not ctx.task.parts:
        return {ctx.task.key: written}
    # one statement wrote a batch's partitions: count each one's rows
    counted = dict(ctx.cur.execute(check_sql.counts_sql(ctx.scope(ctx.target()))).fetchall())
    return {u.key: counted.get(u.key, 0) for u in ctx.units}


def _source_prints(ctx: TaskContext) -> dict[str, Prints]:
    """Per partition, what it is about to read from sources. Taken before the write: a file
    that changes while it is read then differs from its record, and the next plan rebuilds."""
    reads = ctx.options.reads
    if reads is None:
        return {}
    return {u.key: reads(ctx.cur.state, u) for u in ctx.units}


def _publications(
    ctx: TaskContext, rows, finished: datetime, read: dict[str, Prints]
) -> list[Publication]:
    model = ctx.model
    with ctx.live.lock:
        before = ctx.live.built.get(model.name, {})
        return [
            Publication(
                model.name,
                u.key,
                u.window.start if u.window else None,
                u.window.end if u.window else None,
                model.version,
                model.layout,
                input_markers(ctx.dag, ctx.live.built, model.name, u.window),
                ctx.variables,
                ctx.options.run_id,
                rows[u.key],
                finished,
                read.get(u.key, {}),
                _data_run(u, before.get(u.key)),
            )
            for u in ctx.units
        ]


def _data_run(unit, before) -> int | None:
    """What readers read changes with this build, unless a non-breaking change alone rebuilt
    it: then it keeps the data run of the build it replaces (None: this run's)."""
    if unit.keeps_readers and before is not None:
        return before.read_run
    return None


def _record(
    ctx: TaskContext, started: datetime, finished: datetime, rows, publications: list[Publication]
) -> None:
    con = ctx.cur.state
    with con.transaction():  # on DuckDB already inside the task's: one transaction still
        state.insert_task_runs(con, ctx.records("success", started, finished, rows))
        ctx.record_checks(con, finished)
        if not ctx.into_shadow:
            # each partition is written once per run: the snapshot says whether it has a row
            state.publish_partitions(con, publications, ctx.shared.recorded)


def _remember(ctx: TaskContext, publications: list[Publication]) -> None:
    """After the commit: what the rest of the run sees as published."""
    model = ctx.model
    with ctx.live.lock:
        for publication in publications:
            if ctx.into_shadow:
                ctx.live.shadows.setdefault(model.name, {})[publication.key] = publication
            else:
                ctx.live.built.setdefault(model.name, {})[publication.key] = publication.built()
        if not ctx.into_shadow:
            # the columns were checked in this transaction, which committed
            ctx.live.columns_checked.add(model.name)
            ctx.live.relations[model.name] = "view" if model.kind == "view" else "table"


def _follow_columns(ctx: TaskContext, rendered: str) -> None:
    """Once per model and run (until a write commits): add new query columns to the table,
    refuse changed types."""
    with ctx.live.lock:
        if ctx.model.name in ctx.live.columns_checked:
            return
    statements, refusal = column_change(ctx.cur, ctx.model, rendered)
    if refusal:
        # a snapshot's history survives a full refresh: its remedy is in the query itself
        name = ctx.model.name
        remedy = (
            None if ctx.model.kind is Kind.SNAPSHOT else f"orchestrator run --full-refresh {name}"
        )
        raise SchemaChangeError(refusal, remedy)
    for statement in statements:
        if callable(statement):  # a function of the cursor on Spark (`spark_writes.evolve`)
            statement(ctx.cur)
        else:
            ctx.cur.execute(statement)


def _snapshot(ctx: TaskContext, rendered: str, existing: str | None) -> materialize.Write:
    """A snapshot keeps its table (and history) while its layout is the one it was built with;
    the query's new columns are added to it first, as dbt adds them."""
    model = ctx.model
    with ctx.live.lock:
        built = ctx.live.built.get(model.name, {}).get(WHOLE)
    keeps = existing == "table" and built is not None and built.layout == model.layout
    columns: tuple[str, ...] = ()
    added = False
    if keeps:
        new = ctx.cur.describe(rendered)
        old = {name.lower() for name, _ in materialize.existing_columns(ctx.cur, model)}
        columns = tuple(name for name, _ in new)
        checked = model.history.check_cols or columns
        added = any(c.lower() not in old for c in checked)
        _follow_columns(ctx, rendered)
    return materialize.snapshot(
        model, rendered, ctx.now(), existing, keeps=keeps, columns=columns, added=added
    )


def _hooks(ctx: TaskContext, hooks: tuple[str, ...], kind: str) -> None:
    """A model's hooks, in the publishing transaction: one failing fails the task and nothing
    it or the write did is kept."""
    for hook in hooks:
        statement = render(
            hook,
            ctx.model.window_literals(ctx.task.window, this=ctx.target()),
            ctx.variables,
            path=ctx.model.relpath,
        )
        ctx.checkpoint()
        try:
            ctx.cur.execute(statement)
        except Exception as exc:
            raise HookError(f"{kind} failed: {str(exc).splitlines()[0]} (in: {hook})") from None


def _apply(ctx: TaskContext, write: materialize.Write, tx) -> int | None:
    """Run a write's statements; the window guard and the audit turn into WindowError."""
    counts: list[int | None] = []
    try:
        for statement in write.statements:
            counts.append(_count(ctx, statement))
    except Exception as exc:
        if write.guard is None or materialize.GUARD not in str(exc):
            raise
        tx.rollback()  # the failed write aborted the transaction: count outside it
        outside = ctx.cur.execute(write.guard.count).fetchone()[0]
        raise WindowError(write.guard.message(outside)) from None
    audited = None
    if write.audit:
        # a statement, or a function of the cursor that reads the same row another way
        audit = write.audit
        row = audit(ctx.cur) if callable(audit) else ctx.cur.execute(audit).fetchone()
        problem = write.judge(row, counts[-1] or 0) if write.judge else None
        if problem:
            raise WindowError(problem)
        audited = row[-1] if write.counted_by_audit else None
    if write.stage is not None:
        blocking_checks(ctx, write.stage)  # before anything published changes
    for statement in write.finish:
        counts.append(_count(ctx, statement))
    if write.counted_by_audit:
        return audited
    return counts[write.count_statement] if write.count_statement is not None else None


def _count(ctx: TaskContext, statement) -> int | None:
    """Run one step of a write: a statement (its count, if it returns one), or a function of
    the cursor for what SQL cannot say on that engine."""
    ctx.checkpoint()
    return run_step(ctx.cur, statement)


def swap(ctx: TaskContext, started: datetime) -> dict[str, int | None]:
    """The last step of a full refresh: the shadow table (or nothing) replaces the model."""
    model = ctx.model
    with ctx.live.lock:
        existing = ctx.live.relations.get(model.name)
        shadow = dict(ctx.live.shadows.get(model.name, {}))
    writes, con = ctx.cur.writes, ctx.cur.state
    with ctx.cur.transaction() as tx:
        if shadow:
            _apply(ctx, writes.swap(model, existing), tx)
        elif existing:
            _count(ctx, writes.drop_relation(model, existing))
        finished = ctx.now()
        rows = {ctx.task.key: sum(p.rows or 0 for p in shadow.values())}
        with con.transaction():
            state.insert_task_runs(con, ctx.records("success", started, finished, rows))
            state.forget_partitions(con, model.name)
            state.publish_partitions(con, list(shadow.values()))
        ctx.checkpoint()
    with ctx.live.lock:
        ctx.live.built[model.name] = {k: p.built() for k, p in shadow.items()}
        if shadow:
            ctx.live.relations[model.name] = "table"
        else:
            ctx.live.relations.pop(model.name, None)
        ctx.live.shadows.pop(model.name, None)
    return rows
