"""The `orchestrator` command: the root group with its global options, the commands gathered
from the modules by concern (`building`, `looking`, `operating`, `making`), and the entry point
`main`, which turns every error into one line and the documented exit code
(`errors.EXIT_CODES`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from .. import __version__
from ..core.errors import OrchestratorError, UsageError
from . import building, environments, lineage, looking, making, operating, unit_testing
from .options import PROJECT_HELP, WAREHOUSE_HELP

MAKING_COMMANDS = ("init", "import")  # they may run where no project is yet: they make it


class RootGroup(click.Group):
    """Turns our errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OrchestratorError as exc:
            click.echo(f"error: {exc}" if exc.exit_code else str(exc), err=bool(exc.exit_code))
            sys.exit(exc.exit_code)


def find_root(start: Path) -> Path:
    """The project `start` is in, as git finds its repository: the nearest folder, from
    `start` up, holding orchestrator.toml or a models/ folder; `start` itself when there is
    none (a new project, or a message saying what is missing)."""
    for folder in (start, *start.parents):
        if (folder / "orchestrator.toml").is_file() or (folder / "models").is_dir():
            return folder if folder != start else Path(".")
    return Path(".")


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orchestrator")
@click.option(
    "--project",
    "-C",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help=PROJECT_HELP
    + " Default: the nearest folder holding orchestrator.toml (or models/), from here up."
    + " Also accepted after the command.",
)
@click.option(
    "--warehouse",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help=WAREHOUSE_HELP + " Also accepted after the command.",
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
        new_project = ctx.invoked_subcommand in MAKING_COMMANDS
        project = Path(".") if new_project else find_root(Path.cwd())
    if not project.exists() and ctx.invoked_subcommand not in MAKING_COMMANDS:
        raise UsageError(f"the project directory {project} does not exist")
    ctx.obj["project"] = project
    ctx.obj["warehouse"] = warehouse
    if engine:
        os.environ["ORCHESTRATOR_ENGINE"] = engine  # what the project's settings read


COMMANDS = (
    building.plan,
    building.run,
    building.backfill,
    building.retry,
    looking.status,
    looking.runs,
    looking.compile,
    looking.dag,
    lineage.lineage,
    looking.sql,
    looking.check,
    unit_testing.run_tests,
    operating.adopt,
    operating.schedule,
    operating.freshness,
    operating.verify,
    operating.prune,
    operating.ui,
    operating.report,
    making.init,
    making.import_group,
    environments.env_group,
    environments.diff,
    environments.promote,
)
for command in COMMANDS:  # `orchestrator --help` lists them by name
    cli.add_command(command)


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
