"""The commands that build: `plan` (what a build would do), `run`, `backfill` and `retry`.

They share one path (`execute`): authorize, plan or run through the API, print the notes the
run left and its result, exit with the run's code.
"""

from __future__ import annotations

import sys

import click

from ..core.errors import UsageError
from . import options
from .environments import environment_lines
from .workspace import load_workspace, require_named_warehouse, route_note


@options.command("Show what `run` would do and why, writing nothing.")
@options.selectors
@options.exclude
@options.variables
@click.option("--full-refresh", is_flag=True, help="Plan a rebuild from scratch.")
@click.option("--verbose", "-v", is_flag=True, help="List every partition.")
@options.json_output
@options.env
@options.wait_option("selectors", reader=True)
@click.pass_context
@options.reading
def plan(ctx, selectors, exclude, variables, full_refresh, verbose, as_json):
    """Show what `run` would do and why, writing nothing (exit 1 when a model is broken).

    SELECTORS (or -s SELECTOR): name, schema.name, schema.*, +name / 2+name (with upstream, N
    levels), name+ / name+1 (with downstream), @name (its descendants and all they read),
    tag:x, owner:x, schema:x, kind:x, and a,b for the models in both. None means every model.
    """
    from ..app import building, exporting, session, shapes, steps
    from ..core.tasks import BROKEN
    from .report import format_plan
    from .steps import plan_lines

    ws = load_workspace(ctx)
    require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "plan")
    selection = options.selection(selectors, exclude, variables, full_refresh=full_refresh)
    the_plan = building.plan(ws, selection)
    planned = steps.planned(ws, the_plan)
    exports = exporting.planned(ws, the_plan)
    if as_json:
        shape = shapes.plan(the_plan) | {"exports": shapes.records(exports)}
        shape["steps"] = [{"step": name, "partitions": keys} for name, keys in planned]
        if ws.env is not None:
            shape["environment"] = shapes.environment_plan(ws.env)
        click.echo(shapes.dump(shape))
    else:
        lines = format_plan(the_plan, ws.dag, verbose=verbose) + plan_lines(planned)
        lines += exporting.plan_lines(exports)
        click.echo("\n".join(environment_lines(ws.env) + lines))
        route_note(ws)
    if any(h.reason.startswith(BROKEN) for h in the_plan.held):
        sys.exit(1)  # a model that does not load is work for someone, as in `run`


def execute(
    ctx,
    selection,
    command: str,
    threads: int | None,
    dry_run: bool,
    wait: float | None = None,
    retry_of: int | None = None,
    job: str | None = None,
):
    """Run (or with `dry_run` only plan) `selection`, or the job named `job`, as `command`."""
    from ..app import building, scheduler, session
    from ..app.workspace import Selection
    from .report import ConsoleReporter, format_plan, format_result

    ws = load_workspace(ctx)
    needed = "full-refresh" if selection.full_refresh else command
    session.authorize(ws, "plan" if dry_run else needed)
    if job is not None:
        the_job = scheduler.job_named(ws, job)
        if dry_run:
            selection = Selection(the_job.select, the_job.exclude, dict(the_job.vars))
    if ws.env is not None:
        click.echo("\n".join(environment_lines(ws.env)))
    if dry_run:
        the_plan = building.plan(ws, selection, retry_of=retry_of)
        if retry_of is not None:
            click.echo(f"retry of run {the_plan.request.retry_of}, without writing anything:")
        click.echo("\n".join(format_plan(the_plan, ws.dag)))
        return
    if job is not None:
        result = scheduler.run_job(ws, the_job, reporter=ConsoleReporter(), wait=wait)
    else:
        result = building.run(
            ws,
            selection,
            command=command,
            arguments=sys.argv[1:],
            threads=threads,
            reporter=ConsoleReporter(),
            wait=wait,
            retry_of=retry_of,
        )
    print_run_notes(result)
    click.echo("\n".join(format_result(result, ws.dag)))
    sys.exit(result.exit_code)


def print_run_notes(result) -> None:
    """On stderr, what a run did besides building: a lock taken over, earlier runs marked
    abandoned, the serving copy written, the alerts sent."""
    if result.took_over:
        from ..engines.lock import describe

        click.echo(
            f"note: took over the lock left by a dead process ({describe(result.took_over)})",
            err=True,
        )
    if result.abandoned:
        from ..state import BUILD_COMMANDS

        # `run` rebuilds only what is missing or stale: partitions a killed backfill or retry
        # did not get to are built (with older data) and fresh, so only `retry` redoes them
        redo = "".join(
            f"; `orchestrator retry --run {run_id}` reruns what run {run_id} left undone"
            for run_id, command in result.abandoned
            if command in BUILD_COMMANDS
        )
        click.echo(
            f"note: marked earlier run(s) {', '.join(str(r) for r, _ in result.abandoned)} "
            f"abandoned (their process is gone){redo}",
            err=True,
        )
    from ..app import exporting
    from .report import format_sent

    if result.served:
        path, relations = result.served
        click.echo(f"serving copy: {path} ({relations} relations, as of this run)", err=True)
    for line in exporting.report(result):
        click.echo(line, err=True)
    for sent in result.alerts:
        click.echo(format_sent(sent), err=True)


@options.command("Build the missing and stale partitions, tables and views.")
@options.selectors
@options.exclude
@options.variables
@options.threads
@options.wait
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Drop and rebuild the selected models from scratch (swapped in when complete).",
)
@click.option(
    "--job",
    default=None,
    metavar="NAME",
    help="Run a job from orchestrator.toml now (its selection and vars).",
)
@options.dry_run
@options.env
@click.pass_context
def run(ctx, selectors, exclude, variables, threads, wait, full_refresh, job, dry_run):
    """Build missing and stale partitions, tables and views of the selected models."""
    if job and (selectors or exclude or variables or full_refresh):
        raise UsageError(
            "--job runs the job's own selection and vars: give no selectors, -s, "
            "--exclude, --var or --full-refresh with it"
        )
    selection = options.selection(selectors, exclude, variables, full_refresh=full_refresh)
    execute(ctx, selection, "run", threads, dry_run, wait, job=job)


@options.command("Rebuild a date range of the selected models, and what depends on it.")
@options.selectors(required=True)
@click.option("--start", required=True, metavar="DATE", help="First point of the range.")
@click.option(
    "--end",
    required=True,
    metavar="DATE",
    help="End of the range, exclusive (half-open like every window).",
)
@options.exclude
@options.variables
@options.threads
@options.wait
@options.batch_size
@options.dry_run
@options.env
@click.pass_context
def backfill(ctx, selectors, start, end, exclude, variables, threads, wait, batch_size, dry_run):
    """Rebuild the partitions of [START, END) for the selected models, and what depends on them.

    Idempotent: backfilling the same range twice leaves the same data.
    """
    the_range = options.parse_range("backfill", start, end, explain=" (the range is [start, end))")
    selection = options.selection(
        selectors, exclude, variables, backfill=the_range, batch_size=batch_size
    )
    execute(ctx, selection, "backfill", threads, dry_run, wait)


@options.command("Rerun what a run left undone (failed, timed out, skipped), nothing else.")
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    default=None,
    help="The run whose tasks to retry (default: the last run, backfill or retry).",
)
@options.variables
@options.threads
@click.option("--dry-run", is_flag=True, help="Only show what it would rerun, and from which run.")
@options.wait_option(None)
@click.pass_context
def retry(ctx, run_id, variables, threads, dry_run, wait):
    """Rerun what a run left undone: its failed, timed-out, cancelled and skipped tasks that
    are not built since, and nothing else.

    Without --run, the newest run that left such work (it is named). A task the run never
    got to (its process died) counts as undone; a partition built since by another run does
    not. With nothing undone it says so and does nothing. Vars default to the run's own.
    For a failure a rerun cannot fix (a bad input file, a changed type), the alert and
    `orchestrator status` name the command that does.
    """
    selection = options.selection((), (), variables)
    execute(ctx, selection, "retry", threads, dry_run, wait, run_id or 0)
