"""The commands that look and change nothing in the models: `status`, `runs`, `dag`, `compile`,
`sql`, and `check` (it runs the checks on what is published, building nothing).
"""

from __future__ import annotations

import json
import sys

import click

from ..core.errors import UsageError
from . import options
from .workspace import load_settings, load_workspace, require_named_warehouse, route_note


@options.command("The state of every model or partition: built, pending, failed.")
@options.selectors
@click.option("--partitions", "-p", is_flag=True, help="One line per partition.")
@click.option("--owner", default=None, help="Only the models this owner answers for.")
@options.json_output
@options.env
@options.wait_option("selectors", reader=True)
@click.pass_context
@options.reading
def status(ctx, selectors, partitions, owner, as_json):
    """The state of every model (or the selected ones): built, pending, waiting, blocked,
    failed. Sources are evaluated as `run` would, so waiting and blocked are current."""
    from ..app import exporting, maintenance, queries, session, shapes, steps
    from ..app.workspace import now
    from ..core.errors import WarehouseBusy
    from .report import format_table
    from .steps import status_lines as step_status_lines

    ws = load_workspace(ctx)
    require_named_warehouse(ctx, ws.warehouse)
    session.authorize(ws, "status")
    as_of = now()
    try:
        columns, rows = queries.status(ws, selectors, partitions=partitions, owner=owner)
    except WarehouseBusy as busy:
        # DuckDB lets nobody read while a run writes: show how far that run got instead
        click.echo(shapes.dump({"busy": str(busy)}) if as_json else f"busy: {busy}")
        return
    gone = maintenance.removed_models(ws)
    step_rows = steps.status_rows(ws)
    exports = exporting.read_statuses(ws)
    if as_json:
        shape = shapes.status(as_of, rows, partitions, gone)
        shape |= {"exports": shapes.records(exports)}
        click.echo(shapes.dump({**shape, **shapes.steps(step_rows)}))
        return
    fixes = [] if partitions else [(r.model, r.remedy) for r in rows if r.remedy]
    if not partitions:  # the table shows the typed row as people read it
        from ..app.views import MODEL_COLUMNS

        columns, rows = list(MODEL_COLUMNS), [r.shown() for r in rows]
    click.echo("\n".join(format_table(columns, rows) + exporting.status_lines(exports)))
    for model, fix in fixes:
        click.echo(f"to fix {model}: {fix}")
    if gone:
        listed = ", ".join(f"{name} ({kind})" for name, kind in gone)
        click.echo(f"no longer in the project: {listed}; drop with: orchestrator prune --yes")
    if not partitions and step_rows:
        click.echo("\n".join(step_status_lines(step_rows, format_table)))
    route_note(ws)


@options.command("Recent runs, or the tasks of one run.")
@click.argument("run_id", type=int, required=False)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the latest runs to list.",
)
@options.json_output
@options.wait_option(None, reader=True)
@click.pass_context
@options.reading
def runs(ctx, run_id, limit, as_json):
    """Recent runs, or the tasks of one run."""
    from ..app import queries, session, shapes, steps
    from .steps import run_lines as step_run_lines

    session.authorize(None, "runs", root=ctx.obj["project"], warehouse_path=ctx.obj["warehouse"])
    from .report import format_run_header, format_table

    settings = load_settings(ctx)
    require_named_warehouse(ctx, settings.warehouse)
    if run_id is None:
        columns, rows = queries.list_runs(settings.warehouse, limit)
        if as_json:
            click.echo(shapes.dump(shapes.run_list(rows)))
            return
        if not rows:
            click.echo("no runs yet: `orchestrator run` builds the models and records its runs")
            return
    else:
        record, columns, rows = queries.show_run(settings.warehouse, run_id)
        step_rows = steps.run_rows(settings.warehouse, run_id)
        if as_json:
            click.echo(shapes.dump({**shapes.run_detail(record, rows), **shapes.steps(step_rows)}))
            return
        click.echo(format_run_header(record))
    click.echo("\n".join(format_table(columns, rows)))
    if run_id is not None and step_rows:
        click.echo("\n".join(step_run_lines(step_rows, format_table)))


@options.command("Print the SQL a model runs (for DuckDB, or transpiled for Spark).")
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
@options.variables
@click.pass_context
def compile(ctx, model, target, partition, variables):  # noqa: A001 - the command's name
    """Print the SQL that will run for MODEL: rendered, and for Spark transpiled.

    A construct Spark would read differently is fixed in the tree or refused with its line
    and a rewrite (date + INTERVAL, day-of-week numbering, ordered aggregates, read_csv).
    """
    from ..app import queries

    ws = load_workspace(ctx, engine_needed=False)
    engine = target or ws.project.settings.engine.kind
    variables = options.parse_vars(variables)
    click.echo(queries.compile_model(ws, model, engine, partition, variables), nl=False)


@options.command("The models in dependency order, with what each reads.")
@options.selectors
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "dot"]),
    default="text",
    show_default=True,
    help="text to read, json for tools, dot for Graphviz (dot -Tsvg).",
)
@options.json_output
@click.pass_context
def dag(ctx, selectors, fmt, as_json):
    """The models in dependency order, with what each reads (models and external sources)."""
    from ..app import queries, session
    from .report import format_dag

    if as_json and fmt not in ("text", "json"):
        raise UsageError("--json and --format dot together: pick one")
    ws = load_workspace(ctx)
    session.authorize(ws, "dag")
    names = queries.dag_order(ws, selectors)
    click.echo(format_dag(ws.dag, ws.project.sources, names, "json" if as_json else fmt))


class QueryCommand(options.ProjectCommand):
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


@options.command("A read-only SQL query on the warehouse (the state tables too).", cls=QueryCommand)
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
@options.env
@options.wait_option("query", reader=True)
@click.pass_context
@options.reading
def sql(ctx, query, fmt, limit):
    """Run a read-only SQL query against the warehouse, e.g. over the orchestrator.* tables.

    On Spark the query is Spark SQL, over the models' tables and the state's.
    """
    import csv
    import io

    from ..app import queries, session

    session.authorize(None, "sql", root=ctx.obj["project"], warehouse_path=ctx.obj["warehouse"])
    from .report import format_table

    settings = load_settings(ctx)
    if settings.engine.kind == "spark":
        columns, rows = queries.query_spark(load_workspace(ctx), query)
    else:
        env = ctx.obj.get("env")
        columns, rows = queries.query(settings.warehouse, query, settings.serve_copy, env)
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


@options.command("Run the selected models' checks on the published data.")
@options.selectors
@options.exclude
@options.variables
@options.wait
@options.json_output
@options.env
@click.pass_context
def check(ctx, selectors, exclude, variables, wait, as_json):
    """Run the selected models' checks against what is published, building nothing.

    Exit 1 when a blocking check fails.
    """
    from ..app import published, session, shapes
    from .report import format_check_report

    ws = load_workspace(ctx)
    session.authorize(ws, "check")
    report = published.check_published(ws, selectors, exclude, options.parse_vars(variables), wait)
    if as_json:
        click.echo(shapes.dump(shapes.check_report(report)))
    else:
        click.echo("\n".join(format_check_report(report)))
    sys.exit(report.exit_code)
