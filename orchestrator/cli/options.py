"""The options and parameter types the commands share, defined once: selectors, --exclude, --var,
--threads, --wait, --batch-size, --json, and --project/--warehouse after a command's name.

Keeping them in one place keeps the CLI's conventions uniform: the same flag has the same
spelling, help and checks in every command that takes it.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import click

from ..core.errors import UsageError

PROJECT_HELP = "Project directory (holds models/ and orchestrator.toml)."
WAREHOUSE_HELP = "Warehouse file, overriding orchestrator.toml."

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _set_project(ctx, param, value: Path | None) -> Path | None:
    if value is not None:
        if not value.exists() and ctx.info_name != "init":  # init creates it
            raise UsageError(f"the project directory {value} does not exist")
        ctx.obj["project"] = value
    return value


def _set_warehouse(ctx, param, value: Path | None) -> Path | None:
    if value is not None:
        ctx.obj["warehouse"] = value
    return value


class ProjectCommand(click.Command):
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
                help=PROJECT_HELP,
            ),
            click.Option(
                ["--warehouse"],
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                expose_value=False,
                is_eager=True,
                callback=_set_warehouse,
                help=WAREHOUSE_HELP,
            ),
        ]


def command(short_help: str, *, cls: type[click.Command] = ProjectCommand):
    """A command of ours, with its one line in `orchestrator --help` (click would cut the
    docstring mid-sentence there)."""
    return click.command(cls=cls, short_help=short_help)


def parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    """--var NAME=VALUE pairs as a dict: each name an identifier, given once, in UTF-8."""
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


def selection(selectors, exclude, variables, **kwargs):
    """The API's Selection from the shared options (selectors, --exclude, --var)."""
    from ..app.workspace import Selection

    return Selection(tuple(selectors), tuple(exclude), parse_vars(variables), **kwargs)


def selectors(command=None, *, required: bool = False):
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


json_output = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON for tools (its shape is in the README: Machine-readable output).",
)


def _set_env(ctx, param, value: str | None) -> str | None:
    if value is not None:
        from ..project.environments import check_name

        ctx.obj["env"] = check_name(value)
    return value


env = click.option(
    "--env",
    default=None,
    metavar="NAME",
    expose_value=False,
    callback=_set_env,
    help="Work in environment NAME: the models that differ from production (and what reads "
    "them) are built as its own copies, reading everything unchanged from production.",
)
exclude = click.option(
    "--exclude",
    "-x",
    multiple=True,
    metavar="SELECTOR",
    help="Leave out models matching SELECTOR (repeatable).",
)
variables = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A run parameter for {{ var('NAME') }} (repeatable).",
)
threads = click.option(
    "--threads",
    "-t",
    type=click.IntRange(min=1),
    default=None,
    help="Worker threads (default: threads in config, else the core count).",
)
batch_size = click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=None,
    metavar="N",
    help="Write N consecutive partitions per task (overrides the models' batch_size).",
)
dry_run = click.option("--dry-run", is_flag=True, help="Only show the plan.")


class Seconds(click.ParamType):
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


def wait_option(after: str | None, *, reader: bool = False):
    """--wait; `after`: what a bare --wait must follow (it would take the next word). A
    `reader` (a command that only looks) otherwise shows the state from before the run; it
    goes with `reading`, which applies the wait."""
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
        type=Seconds(),
        default=None,
        is_flag=False,
        flag_value=Seconds.NO_LIMIT,
        metavar="[SECONDS]",
        help=text,
    )


wait = wait_option("selectors")


def reading(command):
    """Run a command that only looks under the readers' policy (its --wait), then print the
    notes its reads left (the state shown is from before a run that holds the warehouse)."""

    @functools.wraps(command)
    def wrapped(*args, wait=None, **kwargs):
        from ..engines import readers

        with readers.reading_policy(wait) as policy:
            try:
                return command(*args, **kwargs)
            finally:
                for note in dict.fromkeys(policy.notes):
                    click.echo(note, err=True)

    return wrapped


def parse_range(command: str, start: str, end: str, *, explain: str = ""):
    """--start and --end as the half-open range [first, last) of partition points; a message
    naming `command` when either is no point or the range is empty."""
    from ..core.partitions import parse_point

    try:
        first, last = parse_point(start), parse_point(end)
    except ValueError as exc:
        raise UsageError(f"{command}: {exc}") from None
    if last <= first:
        raise UsageError(f"{command}: --end {end} must be after --start {start}{explain}")
    return first, last
