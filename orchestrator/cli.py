"""The `orchestrator` command: parse arguments, call the API, print. No logic lives here.

One module for one concept, the command line: each command is its flags, one call and its
printing, and keeping them side by side keeps the CLI's conventions (selectors, --var, --wait,
exit codes) uniform; that is why it runs past 500 lines. Exit codes are `errors.EXIT_CODES`.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
from pathlib import Path

import click

from . import __version__
from .errors import OrchestratorError, ProjectError, UsageError, first_line
from .status import SOURCE_PROBLEMS

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Group(click.Group):
    """Turns our errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OrchestratorError as exc:
            click.echo(f"error: {exc}" if exc.exit_code else str(exc), err=bool(exc.exit_code))
            sys.exit(exc.exit_code)


_PROJECT_HELP = "Project directory (holds models/ and orchestrator.toml)."
_WAREHOUSE_HELP = "Warehouse file, overriding orchestrator.toml."


def _set_project(ctx, param, value: Path | None) -> Path | None:
    if value is not None:
        if not value.exists() and ctx.info_name != "init":  # init creates it
            raise UsageError(f"the project directory {value} does not exist")
        ctx.obj["project"] = value
    return value


def find_root(start: Path) -> Path:
    """The project `start` is in, as git finds its repository: the nearest folder, from
    `start` up, holding orchestrator.toml or a models/ folder; `start` itself when there is
    none (a new project, or a message saying what is missing)."""
    for folder in (start, *start.parents):
        if (folder / "orchestrator.toml").is_file() or (folder / "models").is_dir():
            return folder if folder != start else Path(".")
    return Path(".")


def _set_warehouse(ctx, param, value: Path | None) -> Path | None:
    if value is not None:
        ctx.obj["warehouse"] = value
    return value


class _Command(click.Command):
    """Every command also takes --project/-C and --warehouse after its name, as people type
    them (`orchestrator status --warehouse w.duckdb`); given there, they win over the same
    options given before the command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params += [
            click.Option(
                ["--project", "-C"],
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                expose_value=False,
                is_eager=True,
                callback=_set_project,
                help=_PROJECT_HELP,
            ),
            click.Option(
                ["--warehouse"],
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                expose_value=False,
                is_eager=True,
                callback=_set_warehouse,
                help=_WAREHOUSE_HELP,
            ),
        ]


_Group.command_class = _Command


def _parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not _VAR_NAME.match(name):
            raise UsageError(f"--var expects NAME=VALUE with NAME an identifier, got {item!r}")
        if name in parsed:
            raise UsageError(f"--var {name} given twice: pass each var once")
        try:
            value.encode("utf-8")  # undecodable bytes in argv arrive as lone surrogates
        except UnicodeEncodeError:
            raise UsageError(f"--var {name}: the value is not valid UTF-8 text") from None
        parsed[name] = value
    return parsed


def _workspace(ctx, *, engine_needed: bool = True):
    """The project, loaded. With `[engine] kind = "spark"`, what Spark needs is checked first
    (one line saying what is missing, exit 2); `engine_needed=False` for commands that only
    read the project (compile)."""
    from . import spark_ready
    from .workspace import open_workspace

    ws = open_workspace(ctx.obj["project"], ctx.obj["warehouse"])
    engine = ws.project.settings.engine
    if engine_needed and engine.kind == "spark":
        missing = spark_ready.problem(engine)
        if missing:
            raise UsageError(missing)
        from . import api

        api.check_spark_sql(ws)
    return ws


def _require_named_warehouse(ctx, path: Path) -> None:
    """Commands that only look: a warehouse named by --warehouse or ORCHESTRATOR_WAREHOUSE must
    exist, or a typo in its name would read as an empty state. The project's own warehouse may
    not exist yet: nothing has run."""
    if (ctx.obj["warehouse"] or os.environ.get("ORCHESTRATOR_WAREHOUSE")) and not path.exists():
        raise UsageError(
            f"no warehouse at {path}: check --warehouse (or ORCHESTRATOR_WAREHOUSE); "
            "`orchestrator run` creates one"
        )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orchestrator")
@click.option(
    "--project",
    "-C",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help=_PROJECT_HELP
    + " Default: the nearest folder holding orchestrator.toml (or models/), from here up."
    + " Also accepted after the command.",
)
@click.option(
    "--warehouse",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help=_WAREHOUSE_HELP + " Also accepted after the command.",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="The engine to run on, overriding [engine] kind in orchestrator.toml.",
)
@click.pass_context
def cli(ctx, project: Path, warehouse: Path | None, engine: str | None):
    """A SQL-native data orchestrator that lives inside the warehouse.

    Models are plain SQL files under models/<schema>/<name>.sql; dependencies are read from the
    SQL. Run state lives in the warehouse's `orchestrator` schema.
    """
    ctx.ensure_object(dict)
    if project is None:
        making = ctx.invoked_subcommand in ("init", "import")
        project = Path(".") if making else find_root(Path.cwd())
    if not project.exists() and ctx.invoked_subcommand not in ("init", "import"):  # they make it
        raise UsageError(f"the project directory {project} does not exist")
    ctx.obj["project"] = project
    ctx.obj["warehouse"] = warehouse
    if engine:
        os.environ["ORCHESTRATOR_ENGINE"] = engine  # what the project's settings read


def _selectors(command=None, *, required: bool = False):
    """SELECTORS as arguments and as `-s/--select` options (dbt's habit), merged into one
    `selectors` tuple: both together are a union."""

    def decorate(command):
        @functools.wraps(command)
        def merged(*args, selectors=(), select=(), **kwargs):
            selectors = (*selectors, *select)
            if required and not selectors:
                raise UsageError(f"{command.__name__} needs selectors: SELECTOR... or -s SELECTOR")
            return command(*args, selectors=selectors, **kwargs)

        merged = click.option(
            "--select",
            "-s",
            "select",
            multiple=True,
            metavar="SELECTOR",
            help="Models to work on, as the SELECTORS arguments (repeatable; a union with them).",
        )(merged)
        return click.argument("selectors", nargs=-1)(merged)

    return decorate(command) if command else decorate


_json = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON for tools (its shape is in the README: Machine-readable output).",
)
_exclude = click.option(
    "--exclude",
    "-x",
    multiple=True,
    metavar="SELECTOR",
    help="Leave out models matching SELECTOR (repeatable).",
)
_vars = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A run parameter for {{ var('NAME') }} (repeatable).",
)
_threads = click.option(
    "--threads",
    "-t",
    type=click.IntRange(min=1),
    default=None,
    help="Worker threads (default: threads in config, else the core count).",
)


class _Seconds(click.ParamType):
    """--wait's value: a finite number of seconds, 0 or more; a bare --wait has no limit (-1).

    A bare --wait takes the next word as its value (click cannot tell `--wait staging.x` from
    `--wait 30`), so a word that is no number gets a message saying where to put --wait."""

    name = "seconds"
    NO_LIMIT = "no-limit"  # what a bare --wait stands for

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        if value == self.NO_LIMIT:
            return -1.0
        try:
            seconds = float(value)
        except ValueError:
            self.fail(
                f"{value!r} is not a number of seconds; a bare --wait (no time limit) takes the "
                "next word as its value, so put it after the selectors or write --wait=SECONDS",
                param,
                ctx,
            )
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r}: SECONDS must be a finite number, 0 or more", param, ctx)
        return seconds


def _wait_option(after: str | None, *, reader: bool = False):
    """--wait; `after`: what a bare --wait must follow (it would take the next word). A
    `reader` (a command that only looks) otherwise shows the state from before the run."""
    placed = f", placed after the {after}," if after else ""
    if reader:
        text = (
            "If a run is writing the warehouse, wait for it to finish (at most SECONDS; a bare "
            f"--wait{placed} waits as long as it takes) instead of showing the state from "
            "before it."
        )
    else:
        text = (
            "If another process is writing the warehouse, wait for it (at most SECONDS; a "
            f"bare --wait{placed} waits as long as it takes)."
        )
    return click.option(
        "--wait",
        type=_Seconds(),
        default=None,
        is_flag=False,
        flag_value=_Seconds.NO_LIMIT,
        metavar="[SECONDS]",
        help=text,
    )


_wait = _wait_option("selectors")


def _looking(command):
    """Run a command that only looks under the readers' policy (its --wait), then print the
    notes its reads left (the state shown is from before a run that holds the warehouse)."""

    @functools.wraps(command)
    def wrapped(*args, wait=None, **kwargs):
        from . import readers

        with readers.reading_policy(wait) as policy:
            try:
                return command(*args, **kwargs)
            finally:
                for note in dict.fromkeys(policy.notes):
                    click.echo(note, err=True)

    return wrapped


_batch_size = click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=None,
    metavar="N",
    help="Write N consecutive partitions per task (overrides the models' batch_size).",
)


def _selection(selectors, exclude, variables, **kwargs):
    from .workspace import Selection

    return Selection(tuple(selectors), tuple(exclude), _parse_vars(variables), **kwargs)


@cli.command()
@_selectors
@_exclude
@_vars
@click.option("--full-refresh", is_flag=True, help="Plan a rebuild from scratch.")
@click.option("--verbose", "-v", is_flag=True, help="List every partition.")
@_json
@_wait_option("selectors", reader=True)
@click.pass_context
@_looking
def plan(ctx, selectors, exclude, variables, full_refresh, verbose, as_json):
    """Show what `run` would do and why, writing nothing (exit 1 when a model is broken).

    SELECTORS (or -s SELECTOR): name, schema.name, schema.*, +name / 2+name (with upstream, N
    levels), name+ / name+1 (with downstream), @name (its descendants and all they read),
    tag:x, owner:x, schema:x, kind:x, and a,b for the models in both. None means every model.
    """
    from . import api, session, shapes
    from .report import format_plan
    from .tasks import BROKEN

    ws = _workspace(ctx)
    _require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "plan")
    the_plan = api.plan(ws, _selection(selectors, exclude, variables, full_refresh=full_refresh))
    if as_json:
        click.echo(shapes.dump(shapes.plan(the_plan)))
    else:
        click.echo("\n".join(format_plan(the_plan, ws.dag, verbose=verbose)))
        _route_note(ws)
    if any(h.reason.startswith(BROKEN) for h in the_plan.held):
        sys.exit(1)  # a model that does not load is work for someone, as in `run`


def _route_note(ws) -> None:
    """Once, on stderr: alerts that would reach nobody (no owner route, no default)."""
    from .alerts import unrouted

    project = ws.project
    note = unrouted(project.models.values(), project.sources.values(), project.ops)
    if note:
        click.echo(note, err=True)


def _execute(
    ctx,
    selection,
    command: str,
    threads: int | None,
    dry_run: bool,
    wait: float | None = None,
    retry_of: int | None = None,
    job: str | None = None,
):
    from . import api, scheduler, session
    from .report import ConsoleReporter, format_plan, format_result
    from .workspace import Selection

    ws = _workspace(ctx)
    needed = "full-refresh" if selection.full_refresh else command
    session.authorize(ws, "plan" if dry_run else needed)
    if job is not None:
        the_job = scheduler.job_named(ws, job)
        if dry_run:
            selection = Selection(the_job.select, the_job.exclude, dict(the_job.vars))
    if dry_run:
        the_plan = api.plan(ws, selection, retry_of=retry_of)
        if retry_of is not None:
            click.echo(f"retry of run {the_plan.request.retry_of}, without writing anything:")
        click.echo("\n".join(format_plan(the_plan, ws.dag)))
        return
    if job is not None:
        result = scheduler.run_job(ws, the_job, reporter=ConsoleReporter(), wait=wait)
    else:
        result = api.run(
            ws,
            selection,
            command=command,
            arguments=sys.argv[1:],
            threads=threads,
            reporter=ConsoleReporter(),
            wait=wait,
            retry_of=retry_of,
        )
    _notes(result)
    click.echo("\n".join(format_result(result, ws.dag)))
    sys.exit(result.exit_code)


@cli.command()
@_selectors
@_exclude
@_vars
@_wait_option("selectors")
@click.pass_context
def adopt(ctx, selectors, exclude, variables, wait):
    """Record the tables and views already in the warehouse (built by dbt) as built.

    Each relation whose kind, columns and types are what the model builds is recorded as
    built by this version, per partition for partitioned models, once its blocking checks
    pass on it; the next `run` then rebuilds nothing that is already right. The others are
    listed with the difference, and the next run rebuilds them.
    """
    from . import api, session
    from .report import format_adopted

    ws = _workspace(ctx)
    _require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "run")
    adopted = api.adopt(ws, _selection(selectors, exclude, variables), wait)
    click.echo("\n".join(format_adopted(adopted, ws.dag)))
    sys.exit(adopted.run.exit_code)


def _notes(result) -> None:
    if result.took_over:
        from .lock import describe

        click.echo(
            f"note: took over the lock left by a dead process ({describe(result.took_over)})",
            err=True,
        )
    if result.abandoned:
        from .state import BUILD_COMMANDS

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
    from .report import format_sent

    if result.served:
        path, relations = result.served
        click.echo(f"serving copy: {path} ({relations} relations, as of this run)", err=True)
    for sent in result.alerts:
        click.echo(format_sent(sent), err=True)


@cli.command()
@_selectors
@_exclude
@_vars
@_threads
@_wait
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
@click.option("--dry-run", is_flag=True, help="Only show the plan.")
@click.pass_context
def run(ctx, selectors, exclude, variables, threads, wait, full_refresh, job, dry_run):
    """Build missing and stale partitions, tables and views of the selected models."""
    if job and (selectors or exclude or variables or full_refresh):
        raise UsageError(
            "--job runs the job's own selection and vars: give no selectors, -s, "
            "--exclude, --var or --full-refresh with it"
        )
    selection = _selection(selectors, exclude, variables, full_refresh=full_refresh)
    _execute(ctx, selection, "run", threads, dry_run, wait, job=job)


@cli.command()
@click.option(
    "--once", is_flag=True, help="Evaluate what is due now, run it, and exit (for cron or CI)."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="SECONDS",
    help="How often the loop looks (default: the shortest job poll, at most 60 s).",
)
@_wait_option(None)
@click.pass_context
def schedule(ctx, once, interval, wait):
    """Start jobs when they are due (cron) or when a source partition arrives (on = ...).

    Runs in the foreground until SIGINT/SIGTERM; history in orchestrator.schedule_ticks.
    """
    from . import scheduler, session
    from .report import ConsoleReporter, format_ticks

    def load():
        return _workspace(ctx)

    try:
        ws = load()
    except ProjectError as exc:  # nothing can run: the default owner hears it (once)
        told = scheduler.unloadable(Path(ctx.obj["project"]), exc)
        if told:
            click.echo(f"alert -> default: {told}", err=True)
        raise
    session.authorize(ws, "schedule")
    if not ws.project.ops.jobs:
        raise UsageError("no jobs: add [jobs.NAME] tables to orchestrator.toml")
    for line in scheduler.loaded(ws):
        click.echo(f"alert -> default: {line}", err=True)
    if once:
        reports = scheduler.once(ws, reporter=ConsoleReporter(), wait=-1 if wait is None else wait)
        click.echo("\n".join(format_ticks(reports)))
        sys.exit(1 if any(r.outcome in ("failed", "late") for r in reports) else 0)
    click.echo(f"scheduling {len(ws.project.ops.jobs)} job(s); Ctrl-C to stop", err=True)
    scheduler.forever(
        ws,
        reporter=ConsoleReporter(),
        every=interval,
        on_tick=lambda reports: reports and click.echo("\n".join(format_ticks(reports))),
        load=load,
        on_error=lambda exc: click.echo(f"error: {first_line(exc)} (nothing runs)", err=True),
    )


@cli.command()
@_selectors(required=True)
@click.option("--start", required=True, metavar="DATE", help="First point of the range.")
@click.option(
    "--end",
    required=True,
    metavar="DATE",
    help="End of the range, exclusive (half-open like every window).",
)
@_exclude
@_vars
@_threads
@_wait
@_batch_size
@click.option("--dry-run", is_flag=True, help="Only show the plan.")
@click.pass_context
def backfill(ctx, selectors, start, end, exclude, variables, threads, wait, batch_size, dry_run):
    """Rebuild the partitions of [START, END) for the selected models, and what depends on them.

    Idempotent: backfilling the same range twice leaves the same data.
    """
    from .partitions import parse_point

    try:
        first, last = parse_point(start), parse_point(end)
    except ValueError as exc:
        raise UsageError(f"backfill: {exc}") from None
    if last <= first:
        raise UsageError(
            f"backfill: --end {end} must be after --start {start} (the range is [start, end))"
        )
    selection = _selection(
        selectors, exclude, variables, backfill=(first, last), batch_size=batch_size
    )
    _execute(ctx, selection, "backfill", threads, dry_run, wait)


@cli.command()
@_selectors(required=False)
@click.option(
    "--engine",
    "target",
    type=click.Choice(["spark"]),
    default="spark",
    help="The engine to compare DuckDB with (spark).",
)
@click.option("--start", default=None, metavar="DATE", help="Build only from this point.")
@click.option("--end", default=None, metavar="DATE", help="... to this one (exclusive).")
@click.option(
    "--scratch",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where both builds go (default: a new temporary directory, removed after).",
)
@_batch_size
@_vars
@click.pass_context
def verify(ctx, selectors, target, start, end, scratch, batch_size, variables):
    """Build the selected models on DuckDB and on Spark, apart from the project's warehouse,
    and compare every table row by row: run it before switching engines.

    With --batch-size N both builds write N partitions per task: much faster on Spark, and
    the same rows for every model whose SQL keeps to its window.

    Exit 0 when both builds agree, 1 when a table differs (each named with example rows).
    """
    import tempfile
    from dataclasses import replace

    from . import api, spark_ready
    from .partitions import parse_point

    backfill = None
    if (start is None) != (end is None):
        raise UsageError("verify: give --start and --end together, or neither")
    if start is not None:
        try:
            backfill = (parse_point(start), parse_point(end))
        except ValueError as exc:
            raise UsageError(f"verify: {exc}") from None
        if backfill[1] <= backfill[0]:
            raise UsageError(f"verify: --end {end} must be after --start {start}")
    ws = _workspace(ctx)
    spark = replace(ws.project.settings.engine, kind="spark")
    missing = spark_ready.problem(spark)
    if missing:
        raise UsageError(missing)
    selection = _selection(selectors, (), variables, backfill=backfill, batch_size=batch_size)
    with tempfile.TemporaryDirectory(prefix="orchestrator-verify-") as temporary:
        place = scratch or Path(temporary)
        verdict = api.verify_engines(ws, selection, place.resolve())
    click.echo(f"built on duckdb: {verdict.duckdb_status}; on spark: {verdict.spark_status}")
    for difference in verdict.differences:
        for line in difference.lines():
            click.echo(line)
    rows = sum(n for _, n in verdict.compared)
    if verdict.differences:
        click.echo(
            f"{len(verdict.differences)} of {len(verdict.compared)} tables differ "
            f"({rows:,} rows on duckdb)"
        )
        sys.exit(1)
    click.echo(
        f"no difference: {len(verdict.compared)} tables, {rows:,} rows, the same on both engines"
    )


@cli.command()
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    default=None,
    help="The run whose tasks to retry (default: the last run, backfill or retry).",
)
@_vars
@_threads
@click.option("--dry-run", is_flag=True, help="Only show what it would rerun, and from which run.")
@_wait_option(None)
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
    selection = _selection((), (), variables)
    _execute(ctx, selection, "retry", threads, dry_run, wait, run_id or 0)


@cli.command()
@_selectors
@click.option("--partitions", "-p", is_flag=True, help="One line per partition.")
@click.option("--owner", default=None, help="Only the models this owner answers for.")
@_json
@_wait_option("selectors", reader=True)
@click.pass_context
@_looking
def status(ctx, selectors, partitions, owner, as_json):
    """The state of every model (or the selected ones): built, pending, waiting, blocked,
    failed. Sources are evaluated as `run` would, so waiting and blocked are current."""
    from . import api, session, shapes
    from .errors import WarehouseBusy
    from .report import format_table
    from .workspace import now

    ws = _workspace(ctx)
    _require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "status")
    as_of = now()
    try:
        columns, rows = api.status(ws, selectors, partitions=partitions, owner=owner)
    except WarehouseBusy as busy:
        # DuckDB lets nobody read while a run writes: show how far that run got instead
        click.echo(shapes.dump({"busy": str(busy)}) if as_json else f"busy: {busy}")
        return
    gone = api.removed_models(ws)
    if as_json:
        click.echo(shapes.dump(shapes.status(as_of, rows, partitions, gone)))
        return
    fixes = [] if partitions else [(r.model, r.remedy) for r in rows if r.remedy]
    if not partitions:  # the table shows the typed row as people read it
        from .views import MODEL_COLUMNS

        columns, rows = list(MODEL_COLUMNS), [r.shown() for r in rows]
    click.echo("\n".join(format_table(columns, rows)))
    for model, fix in fixes:
        click.echo(f"to fix {model}: {fix}")
    if gone:
        listed = ", ".join(f"{name} ({kind})" for name, kind in gone)
        click.echo(f"no longer in the project: {listed}; drop with: orchestrator prune --yes")
    _route_note(ws)


@cli.command()
@click.argument("run_id", type=int, required=False)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the latest runs to list.",
)
@_json
@_wait_option(None, reader=True)
@click.pass_context
@_looking
def runs(ctx, run_id, limit, as_json):
    """Recent runs, or the tasks of one run."""
    from . import api, session, shapes

    session.authorize(None, "runs", root=ctx.obj["project"], warehouse_path=ctx.obj["warehouse"])
    from .report import format_run_header, format_table

    ws_settings = _settings(ctx)
    _require_named_warehouse(ctx, ws_settings.warehouse)
    if run_id is None:
        columns, rows = api.list_runs(ws_settings.warehouse, limit)
        if as_json:
            click.echo(shapes.dump(shapes.run_list(rows)))
            return
        if not rows:
            click.echo("no runs yet: `orchestrator run` builds the models and records its runs")
            return
    else:
        record, columns, rows = api.show_run(ws_settings.warehouse, run_id)
        if as_json:
            click.echo(shapes.dump(shapes.run_detail(record, rows)))
            return
        click.echo(format_run_header(record))
    click.echo("\n".join(format_table(columns, rows)))


class _QueryCommand(_Command):
    """A query may begin with a SQL comment (`-- ...`): a token with a space or a line break in
    it is never an option, so it is taken as the query, wherever it stands."""

    def parse_args(self, ctx, args):
        for i, arg in enumerate(args):
            if arg == "--":
                break
            if arg.startswith("-") and any(c.isspace() for c in arg):
                args = [*args[:i], *args[i + 1 :], "--", arg]
                break
        return super().parse_args(ctx, args)


def _settings(ctx):
    from .config import load_settings

    settings, _ = load_settings(Path(ctx.obj["project"]), ctx.obj["warehouse"])
    return settings


@cli.command()
@click.argument("model")
@click.option(
    "--engine",
    "target",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="The engine whose SQL to print (default: the project's): spark transpiles it.",
)
@click.option(
    "--partition",
    default=None,
    metavar="KEY",
    help="The partition whose window to render (incremental models; default: the latest).",
)
@_vars
@click.pass_context
def compile(ctx, model, target, partition, variables):  # noqa: A001 - the command's name
    """Print the SQL that will run for MODEL: rendered, and for Spark transpiled.

    A construct Spark would read differently is fixed in the tree or refused with its line
    and a rewrite (date + INTERVAL, day-of-week numbering, ordered aggregates, read_csv).
    """
    from . import api

    ws = _workspace(ctx, engine_needed=False)
    engine = target or ws.project.settings.engine.kind
    click.echo(api.compile_model(ws, model, engine, partition, _parse_vars(variables)), nl=False)


@cli.command()
@_selectors
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "dot"]),
    default="text",
    show_default=True,
    help="text to read, json for tools, dot for Graphviz (dot -Tsvg).",
)
@_json
@click.pass_context
def dag(ctx, selectors, fmt, as_json):
    """The models in dependency order, with what each reads (models and external sources)."""
    from . import api, session

    if as_json and fmt not in ("text", "json"):
        raise UsageError("--json and --format dot together: pick one")
    ws = _workspace(ctx)
    session.authorize(ws, "dag")
    click.echo(api.describe_dag(ws, selectors, "json" if as_json else fmt))


@cli.command(cls=_QueryCommand)
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="An aligned table to read, or csv / json (one object per row) for tools.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Rows to print at most (table format).",
)
@_wait_option("query", reader=True)
@click.pass_context
@_looking
def sql(ctx, query, fmt, limit):
    """Run a read-only SQL query against the warehouse, e.g. over the orchestrator.* tables.

    On Spark the query is Spark SQL, over the models' tables and the state's.
    """
    import csv
    import io

    from . import api, session

    session.authorize(None, "sql", root=ctx.obj["project"], warehouse_path=ctx.obj["warehouse"])
    from .report import format_table

    settings = _settings(ctx)
    if settings.engine.kind == "spark":
        columns, rows = api.query_spark(_workspace(ctx), query)
    else:
        columns, rows = api.query(settings.warehouse, query, settings.serve_copy)
    if fmt == "json":
        click.echo(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=2)
        )
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    elif columns:
        click.echo("\n".join(format_table(columns, rows, limit=limit)))


@cli.command()
@_selectors
@_exclude
@_vars
@_wait
@_json
@click.pass_context
def check(ctx, selectors, exclude, variables, wait, as_json):
    """Run the selected models' checks against what is published, building nothing.

    Exit 1 when a blocking check fails.
    """
    from . import api, session, shapes
    from .report import format_check_report

    ws = _workspace(ctx)
    session.authorize(ws, "check")
    report = api.check_published(ws, selectors, exclude, _parse_vars(variables), wait)
    if as_json:
        click.echo(shapes.dump(shapes.check_report(report)))
    else:
        click.echo("\n".join(format_check_report(report)))
    sys.exit(report.exit_code)


@cli.command()
@click.argument("sources", nargs=-1)
@_wait_option("sources")
@_json
@click.pass_context
def freshness(ctx, sources, wait, as_json):
    """Evaluate declared sources: freshness (loaded_at or file times), presence, column drift.

    Results are recorded in orchestrator.freshness. Exit 1 when a source is stale or drifted.
    """
    from . import api, session, shapes
    from .report import format_table

    ws = _workspace(ctx)
    session.authorize(ws, "freshness")
    run_id, statuses = api.source_freshness(ws, sources, wait=wait)
    if as_json:
        click.echo(shapes.dump(shapes.freshness(run_id, statuses)))
        sys.exit(1 if any(s.status in SOURCE_PROBLEMS for s in statuses) else 0)
    if not statuses:
        click.echo("no declared sources (see [sources] in orchestrator.toml)")
        return
    rows = [(s.source, s.status, s.latest, _age(s.lag), s.detail) for s in statuses]
    click.echo(
        "\n".join(format_table(["source", "status", "latest_loaded_at", "lag", "detail"], rows))
    )
    sys.exit(1 if any(s.status in SOURCE_PROBLEMS for s in statuses) else 0)


def _age(lag) -> str | None:
    if lag is None:
        return None
    from .freshness import ago

    return ago(lag)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser.")
@click.pass_context
def ui(ctx, host, port, open_browser):
    """Serve the state as web pages and JSON (read-only), until Ctrl-C.

    Pages open the warehouse only while they read it and never take the write lock: runs start
    and finish while it serves.
    """
    import webbrowser

    from . import session
    from .ui.server import serve

    ws = _workspace(ctx)
    session.authorize(ws, "ui")
    try:
        server = serve(Path(ctx.obj["project"]), ctx.obj["warehouse"], host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"serving {url} (read-only; Ctrl-C stops)")
    sys.stdout.flush()
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.pass_context
def report(ctx, output):
    """Write the UI's views (overview, every model, the last runs) as one HTML file that
    opens from disk with no network: to attach to an incident or keep as a CI artifact."""
    from . import session
    from .ui.report import render

    ws = _workspace(ctx)
    session.authorize(ws, "report")
    html = render(ws)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output} ({len(html) // 1024} KiB, {len(ws.dag.models)} models)")


@cli.command()
@click.option("--yes", is_flag=True, help="Drop them (without it, only list them).")
@_wait_option(None)
@click.pass_context
def prune(ctx, yes, wait):
    """Drop the tables and views of models removed from the project.

    Only relations this tool built for a model (recorded in orchestrator.partitions) are
    dropped; their partitions leave the state and their open incidents close as `removed`.
    """
    from . import api, session

    ws = _workspace(ctx)
    _require_named_warehouse(ctx, ws.warehouse)
    if not yes:
        gone = api.removed_models(ws)
        if not gone:
            click.echo("prune: nothing to drop (every model the state knows is in the project)")
            return
        for name, kind in gone:
            click.echo(f"would drop {name} ({kind})")
        click.echo("run `orchestrator prune --yes` to drop them")
        return
    session.authorize(ws, "prune")
    dropped = api.prune(ws, wait)
    if not dropped:
        click.echo("prune: nothing to drop (every model the state knows is in the project)")
    for name, kind in dropped:
        click.echo(f"dropped {name} ({kind})" if kind != "gone" else f"forgot {name}")


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def init(ctx, directory):
    """Write a new project that runs as it is (a source with sample files, a model with checks
    and an owner, alerts to a log, a .gitignore) and its warehouse state; never overwrites."""
    from . import api, session

    root = directory or Path(ctx.obj["project"])
    if (root / "orchestrator.toml").exists():
        session.authorize(None, "init", root=root, warehouse_path=ctx.obj["warehouse"])
    created = api.init_project(root, ctx.obj["warehouse"])
    for path in created:
        click.echo(f"created {path}")
    here = "" if root.resolve() == Path.cwd().resolve() else f"cd {root}\n  "
    click.echo(
        "\nnext:\n"
        f"  {here}orchestrator plan      what a run would build, and why\n"
        "  orchestrator run       build it (the sample files' days of staging.stg_orders)\n"
        "  orchestrator status    the state of every model\n"
        "then add models under models/<schema>/<name>.sql: plain SELECTs, whose dependencies are "
        "found by parsing"
    )


# one line each in `orchestrator --help` (click would cut the docstrings mid-sentence)
@cli.group(name="import", cls=click.Group)
def import_group():
    """Adopt a project of another tool (dbt) in one command."""


@import_group.command(name="dbt", cls=_Command)
@click.argument("dbt_project", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write our project into (default: DBT_PROJECT-orchestrator beside it).",
)
@click.option("--target", default=None, help="The profiles.yml target whose schema to use.")
@click.option(
    "--schemas",
    type=click.Choice(["dbt", "custom"]),
    default="dbt",
    show_default=True,
    help="dbt: relations where dbt puts them (<target>_<custom>); custom: the custom schema as is.",
)
@click.option("--force", is_flag=True, help="Replace an earlier import in a non-empty --out.")
@click.option(
    "--vars",
    "dbt_vars",
    default=None,
    metavar="YAML",
    help="dbt's --vars, e.g. '{schema_id: pr_7}': seen by profiles.yml and every model.",
)
def import_dbt(dbt_project, out, target, schemas, force, dbt_vars):
    """Convert a dbt project into ours, never modifying it.

    Writes models, checks and orchestrator.toml into the new folder, and IMPORT_REPORT.md
    saying what became of every node. Exit 0: all converted; 1: some nodes need a hand;
    2: nothing could be converted.
    """
    from .dbt.write import import_dbt as run_import

    done = run_import(dbt_project, out, target, schemas, force, dbt_vars)
    for problem in done.converted.problems:
        click.echo(f"error: {problem}", err=True)
    outcomes = done.converted.outcomes
    from .dbt.values import EXACT, HAND, NOTES

    counts = {s: sum(1 for o in outcomes if o.status == s) for s in (EXACT, NOTES, HAND)}
    click.echo(
        f"imported {len(outcomes)} dbt nodes into {done.out}: {counts[EXACT]} {EXACT}, "
        f"{counts[NOTES]} {NOTES}, {counts[HAND]} {HAND} (see IMPORT_REPORT.md)"
    )
    if done.exit_code == 0:
        click.echo(f"next: cd {done.out} && orchestrator run")
        if done.dbt_warehouse:
            click.echo(
                f"  (to keep what dbt built: orchestrator adopt --warehouse {done.dbt_warehouse})"
            )
    sys.exit(done.exit_code)


_SHORT_HELP = {
    "adopt": "Record what dbt already built in the warehouse as built, when it is right.",
    "backfill": "Rebuild a date range of the selected models, and what depends on it.",
    "check": "Run the selected models' checks on the published data.",
    "compile": "Print the SQL a model runs (for DuckDB, or transpiled for Spark).",
    "dag": "The models in dependency order, with what each reads.",
    "freshness": "Evaluate the declared sources: arrival, freshness, columns.",
    "import": "Adopt a dbt project: `orchestrator import dbt DBT_PROJECT`.",
    "init": "Write a new project that runs as it is.",
    "plan": "Show what `run` would do and why, writing nothing.",
    "prune": "Drop the tables and views of models removed from the project.",
    "report": "Write the UI's views as one HTML file that opens from disk.",
    "retry": "Rerun what a run left undone (failed, timed out, skipped), nothing else.",
    "run": "Build the missing and stale partitions, tables and views.",
    "runs": "Recent runs, or the tasks of one run.",
    "schedule": "Start jobs when they are due (cron) or when their source arrives.",
    "sql": "A read-only SQL query on the warehouse (the state tables too).",
    "status": "The state of every model or partition: built, pending, failed.",
    "ui": "Serve the state as web pages and JSON on 127.0.0.1 (read-only).",
    "verify": "Build on DuckDB and on Spark, and compare every table.",
}
for _name, _text in _SHORT_HELP.items():
    cli.commands[_name].short_help = _text


def _negative_wait() -> str | None:
    """The negative number given to --wait on the command line, if one was."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        value = arg.partition("=")[2] if arg.startswith("--wait=") else None
        if arg == "--wait" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None and re.fullmatch(r"-[0-9.]+(e-?[0-9]+)?", value):
            return value
    return None


def main() -> None:
    """Entry point: click's multi-line usage errors become one line, like every other error."""
    try:
        code = cli.main(prog_name="orchestrator", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "orchestrator"
        message = exc.format_message()
        negative = _negative_wait() if isinstance(exc, click.NoSuchOption) else None
        if negative is not None:
            # click reads `--wait -5` as a bare --wait followed by an option named -5
            message = f"Invalid value for '--wait': {negative!r}: SECONDS must be 0 or more"
        click.echo(f"error: {message} (see: {where} --help)", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
