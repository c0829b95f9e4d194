"""The commands that keep a warehouse running: `schedule` (start jobs when due), `freshness` (the
sources), `adopt` (take over what dbt built), `verify` (before switching engines), `prune`
(drop removed models), and `ui` and `report` (the state as web pages, served or in one file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import ProjectError, UsageError, first_line
from ..core.status import SOURCE_PROBLEMS
from . import options
from .workspace import load_workspace, require_named_warehouse


@options.command("Record what dbt already built in the warehouse as built, when it is right.")
@options.selectors
@options.exclude
@options.variables
@options.wait_option("selectors")
@click.pass_context
def adopt(ctx, selectors, exclude, variables, wait):
    """Record the tables and views already in the warehouse (built by dbt) as built.

    Each relation whose kind, columns and types are what the model builds is recorded as
    built by this version, per partition for partitioned models, once its blocking checks
    pass on it; the next `run` then rebuilds nothing that is already right. The others are
    listed with the difference, and the next run rebuilds them.
    """
    from ..app import building, session
    from .report import format_adopted

    ws = load_workspace(ctx)
    require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "run")
    adopted = building.adopt(ws, options.selection(selectors, exclude, variables), wait)
    click.echo("\n".join(format_adopted(adopted, ws.dag)))
    sys.exit(adopted.run.exit_code)


@options.command("Start jobs when they are due (cron) or when their source arrives.")
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
@options.wait_option(None)
@click.pass_context
def schedule(ctx, once, interval, wait):
    """Start jobs when they are due (cron) or when a source partition arrives (on = ...).

    Runs in the foreground until SIGINT/SIGTERM; history in orchestrator.schedule_ticks.
    """
    from ..app import scheduler, session
    from .report import ConsoleReporter, format_ticks

    def load():
        return load_workspace(ctx)

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


@options.command("Evaluate the declared sources: arrival, freshness, columns.")
@click.argument("sources", nargs=-1)
@options.wait_option("sources")
@options.json_output
@click.pass_context
def freshness(ctx, sources, wait, as_json):
    """Evaluate declared sources: freshness (loaded_at or file times), presence, column drift.

    Results are recorded in orchestrator.freshness. Exit 1 when a source is stale or drifted.
    """
    from ..app import maintenance, session, shapes
    from .report import format_table

    ws = load_workspace(ctx)
    session.authorize(ws, "freshness")
    run_id, statuses = maintenance.source_freshness(ws, sources, wait=wait)
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
    from ..sources.freshness import ago

    return ago(lag)


@options.command("Build on DuckDB and on Spark, and compare every table.")
@options.selectors(required=False)
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
@options.batch_size
@options.variables
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

    from ..app import maintenance
    from ..engines.spark import ready as spark_ready

    if (start is None) != (end is None):
        raise UsageError("verify: give --start and --end together, or neither")
    backfill = None if start is None else options.parse_range("verify", start, end)
    ws = load_workspace(ctx)
    spark = replace(ws.project.settings.engine, kind="spark")
    missing = spark_ready.problem(spark)
    if missing:
        raise UsageError(missing)
    selection = options.selection(
        selectors, (), variables, backfill=backfill, batch_size=batch_size
    )
    with tempfile.TemporaryDirectory(prefix="orchestrator-verify-") as temporary:
        place = scratch or Path(temporary)
        verdict = maintenance.verify_engines(ws, selection, place.resolve())
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


@options.command("Drop the tables and views of models removed from the project.")
@click.option("--yes", is_flag=True, help="Drop them (without it, only list them).")
@options.wait_option(None)
@click.pass_context
def prune(ctx, yes, wait):
    """Drop the tables and views of models removed from the project.

    Only relations this tool built for a model (recorded in orchestrator.partitions) are
    dropped; their partitions leave the state and their open incidents close as `removed`.
    """
    from ..app import maintenance, session

    ws = load_workspace(ctx)
    require_named_warehouse(ctx, ws.warehouse)
    if not yes:
        gone = maintenance.removed_models(ws)
        if not gone:
            click.echo("prune: nothing to drop (every model the state knows is in the project)")
            return
        for name, kind in gone:
            click.echo(f"would drop {name} ({kind})")
        click.echo("run `orchestrator prune --yes` to drop them")
        return
    session.authorize(ws, "prune")
    dropped = maintenance.prune(ws, wait)
    if not dropped:
        click.echo("prune: nothing to drop (every model the state knows is in the project)")
    for name, kind in dropped:
        click.echo(f"dropped {name} ({kind})" if kind != "gone" else f"forgot {name}")


@options.command("Serve the state as web pages and JSON on 127.0.0.1 (read-only).")
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
@options.env
@click.pass_context
def ui(ctx, host, port, open_browser):
    """Serve the state as web pages and JSON (read-only), until Ctrl-C.

    Pages open the warehouse only while they read it and never take the write lock: runs start
    and finish while it serves.
    """
    import webbrowser

    from ..app import session
    from ..ui.server import serve

    ws = load_workspace(ctx)
    session.authorize(ws, "ui")
    try:
        server = serve(
            Path(ctx.obj["project"]), ctx.obj["warehouse"], host, port, ctx.obj.get("env")
        )
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


@options.command("Write the UI's views as one HTML file that opens from disk.")
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
    from ..app import session
    from ..ui.report import render

    ws = load_workspace(ctx)
    session.authorize(ws, "report")
    html = render(ws)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output} ({len(html) // 1024} KiB, {len(ws.dag.models)} models)")
