"""The project a command works on, as --project and --warehouse name it (before or after the
command's name; kept in click's context object): loaded as a workspace, or only its settings,
with the checks and notes every command makes the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..core.errors import UsageError


def load_workspace(ctx, *, engine_needed: bool = True):
    """The project, loaded. With `[engine] kind = "spark"`, what Spark needs is checked first
    (one line saying what is missing, exit 2); `engine_needed=False` for commands that only
    read the project (compile)."""
    from ..app.workspace import open_workspace
    from ..engines.spark import ready as spark_ready

    ws = open_workspace(ctx.obj["project"], ctx.obj["warehouse"])
    if ctx.obj.get("env"):
        from ..app.environments import environment_workspace

        ws = environment_workspace(ws, ctx.obj["env"])
    engine = ws.project.settings.engine
    if engine_needed and engine.kind == "spark":
        missing = spark_ready.problem(engine)
        if missing:
            raise UsageError(missing)
        from ..app import queries

        queries.check_spark_sql(ws)
    return ws


def load_settings(ctx):
    """Only the project's settings: for commands that read the warehouse, not the models."""
    from ..project import config

    loaded, _ = config.load_settings(Path(ctx.obj["project"]), ctx.obj["warehouse"])
    return loaded


def require_named_warehouse(ctx, path: Path) -> None:
    """Commands that only look: a warehouse named by --warehouse or ORCHESTRATOR_WAREHOUSE must
    exist, or a typo in its name would read as an empty state. The project's own warehouse may
    not exist yet: nothing has run."""
    if (ctx.obj["warehouse"] or os.environ.get("ORCHESTRATOR_WAREHOUSE")) and not path.exists():
        raise UsageError(
            f"no warehouse at {path}: check --warehouse (or ORCHESTRATOR_WAREHOUSE); "
            "`orchestrator run` creates one"
        )


def route_note(ws) -> None:
    """Once, on stderr: alerts that would reach nobody (no owner route, no default)."""
    from ..app.alerts import unrouted

    project = ws.project
    note = unrouted(project.models.values(), project.sources.values(), project.ops)
    if note:
        click.echo(note, err=True)
