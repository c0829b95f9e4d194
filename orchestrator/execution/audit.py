"""The audit of write-audit-publish: checks judge the new data inside the task's transaction
(blocking ones can roll it back), warnings judge what was published. `check` judges published
data with the same function."""

from __future__ import annotations

from collections.abc import Sequence

from .. import checks, sql, state
from ..dag import DAG
from ..errors import CheckFailed, first_line
from ..partitions import WHOLE
from ..planner import Action
from ..project import Model
from .context import TaskContext


def evaluate_checks(
    engine,
    dag: DAG,
    model: Model,
    selected: Sequence[checks.Check],
    scope: checks.Scope,
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
        text = sql.render(check.template, literals, variables, path=check.path)
        if relation != model.relation:
            text = sql.retarget(text, {model.name, model.table}, relation)
        return text

    return checks.evaluate(
        engine,
        selected,
        scope,
        relation_for=lambda ref: dag.relation_for(ref, model.name),
        render=render,
        history=history,
        stop_on_error=in_transaction,
    )


def _history(ctx: TaskContext) -> list[tuple[str, int]]:
    """Row counts of the model's other published partitions (or of the whole table before)."""
    name = ctx.model.name
    with ctx.live.lock:
        built = ctx.live.built.get(name, {})
        if not ctx.model.partitioned:
            previous = built.get(WHOLE)
            return [("", previous.rows)] if previous and previous.rows is not None else []
        return [(k, b.rows) for k, b in built.items() if k not in ctx.keys and b.rows is not None]


def _evaluate(ctx: TaskContext, selected: list[checks.Check], in_transaction: bool):
    return evaluate_checks(
        ctx.cur,
        ctx.dag,
        ctx.model,
        selected,
        ctx.scope(ctx.target()),
        ctx.options.variables,
        history=_history(ctx),
        in_transaction=in_transaction,
    )


def blocking_checks(ctx: TaskContext) -> None:
    """Judge the new data inside the open transaction: a failure rolls the task back.

    Before it does, the warnings judge the rejected data too, so that check_results holds
    every check of the attempt (this costs only on the failure path). Not after a check
    errored: the error aborted the transaction, and the data is gone with it."""
    blocking = [c for c in ctx.model.checks if c.blocking]
    if not blocking:
        return
    results = _evaluate(ctx, blocking, in_transaction=True)
    ctx.results.extend(results)
    if any(r.failed for r in results):
        warn = [c for c in ctx.model.checks if not c.blocking]
        if warn and not any(r.status == "error" for r in results):
            ctx.results.extend(_evaluate(ctx, warn, in_transaction=True))
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
            checks.Result(c, u.key, "error", 0, (), first_line(exc))
            for c in warn
            for u in ctx.units
        ]
    ctx.results.extend(results)
    state.insert_check_results(
        ctx.cur, ctx.options.run_id, ctx.task.id, ctx.model.name, results, ctx.now()
    )
