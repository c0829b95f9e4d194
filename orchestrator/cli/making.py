"""The commands that make a project: `init` (a new one that runs as it is) and `import dbt` (one
converted from a dbt project). Both may run where no project is yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import options


@options.command("Write a new project that runs as it is.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def init(ctx, directory):
    """Write a new project that runs as it is (a source with sample files, a model with checks
    and an owner, alerts to a log, a .gitignore) and its warehouse state; never overwrites."""
    from ..app import maintenance, session

    root = directory or Path(ctx.obj["project"])
    if (root / "orchestrator.toml").exists():
        session.authorize(None, "init", root=root, warehouse_path=ctx.obj["warehouse"])
    created = maintenance.init_project(root, ctx.obj["warehouse"])
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


@click.group(
    name="import",
    cls=click.Group,
    short_help="Adopt a dbt project: `orchestrator import dbt DBT_PROJECT`.",
)
def import_group():
    """Adopt a project of another tool (dbt) in one command."""


@import_group.command(name="dbt", cls=options.ProjectCommand)
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
    from ..importers.dbt.write import import_dbt as run_import

    done = run_import(dbt_project, out, target, schemas, force, dbt_vars)
    for problem in done.converted.problems:
        click.echo(f"error: {problem}", err=True)
    outcomes = done.converted.outcomes
    from ..importers.dbt.values import EXACT, HAND, NOTES

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
