"""The audit of write-audit-publish: checks judge the new data inside the task's transaction
(blocking ones can roll it back), warnings judge what was published. `check` judges published
data with the same function."""

from __future__ import annotations

from collections.abc import Sequence

from .. import state
from ..core.column_types import canonical_types
from ..core.errors import CheckFailed, OrchestratorError, full_message
from ..core.partitions import WHOLE
from ..core.tasks import Action
from ..project import checks
from ..project.dag import DAG
from ..project.model import Model
from ..sql import parse as sql
from ..sql.template import render as render_template
from ..statements import check_sql
from .context import TaskContext


def evaluate_checks(
    engine,
    dag: DAG,
    model: Model,
    selected: Sequence[checks.Check],
    scope: check_sql.Scope,
    variables,
    *,
    history: Sequence[tuple[str, int]] = (),
    in_transaction: bool = False,
) -> list[checks.Result]:
    """Judge `selected` checks of `model` over `scope` (whose relation may be the data built
    aside: then the model's own name in a custom check means that relation)."""
    relation = scope.relation

    def render(check: checks.Check) -> str:
        literals = model.window_literals(scope.outer, this=relation)
        text = render_template(check.template, literals, variables, path=check.path)
        own = {model.name, model.table, *([model.home] if model.home else [])}
        if relation != model.relation or model.relations:
            text = sql.remap(text, {**model.relations, **dict.fromkeys(own, relation)})
        return text

    def relation_for(reference: str) -> str:
        copied = model.relations.get(reference.lower())
        return copied if copied is not None else dag.relation_for(reference, model.name)

    return run_checks(
        engine,
        selected,
        scope,
        relation_for=relation_for,
        render=render,
        history=history,
        stop_on_error=in_transaction,
    )


def run_checks(
    cur,
    selected: Sequence[checks.Check],
    scope: check_sql.Scope,
    *,
    relation_for,
    render,
    history: Sequence[tuple[str, int]] = (),
    stop_on_error: bool = False,
) -> list[checks.Result]:
    """Run the `selected` checks over `scope` on `cur`; one Result per check and partition key.

    `relation_for(reference)` quotes a relationships target; `render(check)` gives a custom
    check's SQL. A check whose query fails yields `error` results; with `stop_on_error` (inside a
    transaction, which the failure aborts) the remaining checks are not run."""
    import duckdb

    results: list[checks.Result] = []
    counts: dict[str, int] | None = None
    together = _together(cur, selected, scope, relation_for, render)
    for check in selected:
        key = id(check)
        try:
            if check.kind in check_sql.ROW_LEVEL:
                custom = render(check) if check.kind == "custom" else None
                if check.kind == "relationships":
                    check = check_sql.with_reference(check, relation_for(check.reference))
                failing = check_sql.failing_rows_sql(check, scope, custom)
                group = check.kind != "custom" or len(scope.keys) == 1
                rows = together.get(key)
                if rows is None:
                    query = check_sql.grouped_failures_sql(failing, scope, group)
                    rows = cur.execute(query).fetchall()
                # a custom check's rows need not carry the partition column: over several
                # windows its verdict is for the scope as a whole
                judged = scope if group else check_sql.Scope(scope.relation)
                results.extend(check_sql.judge_failures(check, judged, rows))
            elif check.kind in ("row_count", "row_count_change"):
                if counts is None:
                    counts = dict(cur.execute(check_sql.counts_sql(scope)).fetchall())
                if check.kind == "row_count":
                    results.extend(check_sql.judge_row_count(check, scope, counts))
                else:
                    results.extend(check_sql.judge_row_count_change(check, scope, counts, history))
            else:
                described = cur.describe(check_sql.columns_sql(scope))
                declared = canonical_types([t for _, t in check.types])
                results.extend(check_sql.judge_columns(check, scope, described, declared))
        except (duckdb.Error, OrchestratorError) as exc:  # Spark's errors are WarehouseErrors
            message = f"the check could not run: {full_message(exc)}"
            results.extend(checks.Result(check, key, "error", 0, (), message) for key in scope.keys)
            if stop_on_error:
                break
    return results


def _together(cur, selected, scope, relation_for, render) -> dict[int, list[tuple]]:
    """On an engine where each query is a job of its own (Spark), the row-level checks run
    as one query, their rows told apart by check; {} where each runs alone (DuckDB), or when
    the one query fails (then each runs alone, so that the failing one is named)."""
    if getattr(cur, "name", "") != "spark":
        return {}
    parts, owners = [], []
    for check in selected:
        if check.kind not in check_sql.ROW_LEVEL:
            continue
        try:
            custom = render(check) if check.kind == "custom" else None
            resolved = (
                check_sql.with_reference(check, relation_for(check.reference))
                if check.kind == "relationships"
                else check
            )
            failing = check_sql.failing_rows_sql(resolved, scope, custom)
        except Exception:
            return {}
        group = check.kind != "custom" or len(scope.keys) == 1
        grouped = check_sql.grouped_failures_sql(failing, scope, group)
        parts.append(f"SELECT {len(parts)} AS _check, g.* FROM (\n{grouped}\n) AS g")
        owners.append(check)
    if len(parts) < 2:
        return {}
    try:
        rows = cur.execute("\nUNION ALL\n".join(parts)).fetchall()
    except Exception:
        return {}
    found: dict[int, list[tuple]] = {id(c): [] for c in owners}
    for row in rows:
        found[id(owners[row[0]])].append(tuple(row[1:]))
    return found


def _history(ctx: TaskContext) -> list[tuple[str, int]]:
    """Row counts of the model's other published partitions (or of the whole table before)."""
    name = ctx.model.name
    with ctx.live.lock:
        built = ctx.live.built.get(name, {})
        if not ctx.model.partitioned:
            previous = built.get(WHOLE)
            return [("", previous.rows)] if previous and previous.rows is not None else []
        return [(k, b.rows) for k, b in built.items() if k not in ctx.keys and b.rows is not None]


def _evaluate(
    ctx: TaskContext, selected: list[checks.Check], in_transaction: bool, stage: str | None = None
):
    return evaluate_checks(
        ctx.cur,
        ctx.dag,
        ctx.model,
        selected,
        ctx.scope(stage or ctx.target()),
        ctx.options.variables,
        history=_history(ctx),
        in_transaction=in_transaction,
    )


def blocking_checks(ctx: TaskContext, stage: str | None = None) -> None:
    """Judge the new data inside the open transaction (or in its `stage`, where it waits to
    be published, on an engine without transactions): a failure rolls the task back.

    Before it does, the warnings judge the rejected data too, so that check_results holds
    every check of the attempt (this costs only on the failure path). Not after a check
    errored: the error aborted the transaction, and the data is gone with it."""
    blocking = [c for c in ctx.model.checks if c.blocking]
    if not blocking:
        return
    results = _evaluate(ctx, blocking, in_transaction=True, stage=stage)
    ctx.results.extend(results)
    if any(r.failed for r in results):
        warn = [c for c in ctx.model.checks if not c.blocking]
        if warn and not any(r.status == "error" for r in results):
            ctx.results.extend(_evaluate(ctx, warn, in_transaction=True, stage=stage))
        raise CheckFailed(results, checks.summarize([r for r in results if r.failed]))


def warn_checks(ctx: TaskContext) -> None:
    """Warnings never hold data back: they run on what was just published, and are
    recorded; a warn check whose own query fails is recorded as an error."""
    warn = [c for c in ctx.model.checks if not c.blocking]
    if not warn or ctx.task.action is Action.SWAP:
        return
    try:
        results = _evaluate(ctx, warn, in_transaction=False)
    except Exception as exc:  # a warning must never turn a published task into a failure
        results = [
            checks.Result(c, u.key, "error", 0, (), full_message(exc))
            for c in warn
            for u in ctx.units
        ]
    ctx.results.extend(results)
    state.insert_check_results(
        ctx.cur.state, ctx.options.run_id, ctx.task.id, ctx.model.name, results, ctx.now()
    )
