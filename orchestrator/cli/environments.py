"""The commands of changing a model like code: `env list` / `env drop`, `diff --env` (what a
change does, for a reviewer) and `promote` (production becomes the environment)."""

from __future__ import annotations

import sys

import click

from ..core.errors import UsageError
from . import options
from .workspace import load_workspace


@click.group(
    "env",
    short_help="List or drop the environments changes are tried in.",
    invoke_without_command=True,
)
@click.pass_context
def env_group(ctx):
    """Environments: changed models built beside production (`run --env NAME`)."""
    if ctx.invoked_subcommand is None:
        raise UsageError("env needs a command: `orchestrator env list` or `env drop NAME`")


@env_group.command("list", cls=options.ProjectCommand)
@options.json_output
@click.pass_context
def env_list(ctx, as_json):
    """The environments in the warehouse: what each builds, and who built it last."""
    from ..app import environments, shapes
    from .report import format_table

    found = environments.list_environments(load_workspace(ctx))
    if as_json:
        click.echo(shapes.dump({"environments": [shapes.environment(e) for e in found]}))
        return
    if not found:
        click.echo("no environments: `orchestrator run --env NAME` builds one")
        return
    rows = [
        (
            e.name,
            _first(e.changed) if e.row else "",
            len(e.row.models) if e.row else 0,
            e.partitions,
            e.failed,
            f"{e.row.updated_at:%Y-%m-%d %H:%M} by {e.row.updated_by}" if e.row else "",
        )
        for e in found
    ]
    columns = ["env", "changes", "models", "built", "failed", "last run"]
    click.echo("\n".join(format_table(columns, rows)))


@env_group.command("drop", cls=options.ProjectCommand)
@click.argument("name")
@options.wait_option(None)
@click.pass_context
def env_drop(ctx, name, wait):
    """Drop environment NAME: its relations and its rows in the state."""
    from ..app import environments, session

    ws = load_workspace(ctx)
    session.authorize(ws, "run")
    gone = environments.drop_environment(ws, name, wait)
    click.echo(
        f"dropped environment {gone.name}: {len(gone.relations)} relation(s), "
        f"{gone.partitions} built partition(s) in the state"
    )


@options.command("What an environment's change does: SQL, columns, data, downstream.")
@options.selectors
@click.option("--env", "env_name", required=True, metavar="NAME", help="The environment.")
@click.option(
    "--sample",
    type=click.IntRange(min=0, max=100),
    default=5,
    show_default=True,
    help="Rows shown per kind of difference.",
)
@options.json_output
@options.wait_option("selectors", reader=True)
@click.pass_context
@options.reading
def diff(ctx, selectors, env_name, sample, as_json):
    """Per model environment NAME builds (or the selected ones): the SQL diff against what
    production built, the columns added, removed or retyped, what it rebuilds downstream, and
    a data diff of its relation against production's (rows only on one side, rows changed by
    unique_key, per partition, with samples). Exit 0 whatever it finds: it reports."""
    from ..app import diffing, session, shapes
    from ..project.environments import check_name

    ctx.obj["env"] = check_name(env_name)
    ws = load_workspace(ctx)
    session.authorize(ws, "plan")
    found = diffing.diff(ws, selectors, sample)
    if as_json:
        click.echo(shapes.dump(shapes.diff(ws.env.name, found)))
    else:
        click.echo("\n".join(format_diff(ws.env.name, found)))


@options.command("Make production what an environment built, without recomputing it.")
@click.argument("name")
@options.wait_option(None)
@click.pass_context
def promote(ctx, name, wait):
    """Make production equal to environment NAME for the models that differ, in one
    transaction, without recomputing them. Run it where the change has landed (after the
    merge): it refuses, saying what moved, when the SQL here is not what NAME built or when
    production changed under NAME since it was built."""
    from ..app import promotion
    from ..project.environments import check_name

    done = promotion.promote(load_workspace(ctx), check_name(name), wait)
    click.echo(
        f"promoted {len(done.models)} model(s) from {done.env} in {done.seconds:.2f}s "
        f"(the transaction {done.transaction_seconds:.2f}s): {', '.join(done.models)} "
        f"({done.partitions} partition(s) recorded as built)"
    )
    sys.stdout.flush()


def format_diff(env: str, found) -> list[str]:
    """The diff as a reviewer reads it: per model, SQL, columns, data, downstream."""
    changed = [d for d in found if d.category not in ("rebuilt",)]
    failed = [d.model for d in found if d.failed]
    lines = [
        f"environment {env} against production: {len(found)} model(s) differ "
        f"({len(changed)} changed, {len(found) - len(changed)} because they read a change)"
    ]
    if failed:
        lines.append(
            f"failed in {env}: {', '.join(failed)}; what they hold there is not the change's "
            f"result (`orchestrator status --env {env}` says why)"
        )
    for d in found:
        where = f"-> {d.copy}" if d.copy else "(left to production: new partitions take it)"
        lines += ["", f"{d.model}  {d.category}  ({d.reason})  {where}"]
        if d.sql_diff:
            lines += ["  sql:"] + [f"    {line.rstrip()}" for line in d.sql_diff.splitlines()]
        elif not d.production_sql:
            lines.append("  sql: production's SQL was not recorded by its build")
        for c in d.columns:
            sign = {"added": "+", "removed": "-", "retyped": "~"}[c.change]
            types = c.after if c.change == "added" else c.before
            if c.change == "retyped":
                types = f"{c.before} -> {c.after}"
            lines.append(f"  column {sign} {c.column} {types}")
        lines += _data_lines(d)
        if d.downstream:
            shown = ", ".join(f"{m} ({n} partition{'s' * (n != 1)})" for m, n in d.downstream)
            lines.append(f"  downstream rebuilt in {env}: {shown}")
    return lines


def _data_lines(d) -> list[str]:
    from .report import format_table

    if not d.copy:
        return []
    if d.failed:
        return [f"  failed there: {d.failed} partition(s) rejected; {d.built} built"]
    if not d.built:
        return ["  not built there yet (or held back): nothing to compare"]
    if d.data is None:
        return [f"  data: new, {d.env_rows:,} rows (production has no relation to compare with)"]
    data = d.data
    how = f"by {', '.join(data.key)}" if data.key else "whole rows"
    if data.identical:
        env_rows = sum(p.env_rows for p in data.partitions)
        return [f"  data ({how}, {len(data.compared)} columns): identical, {env_rows:,} rows"]
    differing = [p for p in data.partitions if p.differs]
    lines = [
        f"  data ({how}): {data.total('only_env'):,} row(s) only in the environment, "
        f"{data.total('only_prod'):,} only in production, {data.total('changed'):,} changed, "
        f"in {len(differing)} of {len(data.partitions)} partition(s)"
    ]
    rows = [
        (p.partition, p.env_rows, p.prod_rows, p.only_env, p.only_prod, p.changed)
        for p in differing[:20]
    ]
    table = format_table(
        ["partition", "env rows", "prod rows", "only env", "only prod", "changed"], rows
    )
    lines += [f"    {line}" for line in table]
    if len(differing) > 20:
        lines.append(f"    ... {len(differing) - 20} more partition(s)")
    titles = {"env": "only in the environment", "prod": "only in production", "changed": "changed"}
    for side, (columns, sample) in data.samples.items():
        lines.append(f"    sample {titles[side]}:")
        lines += [f"      {line}" for line in format_table(columns, sample)]
    return lines


def environment_lines(env) -> list[str]:
    """What an environment builds and why, before its plan or run (nothing outside one)."""
    if env is None:
        return []
    if not env.copies:
        lines = [f"environment {env.name}: nothing differs from production here"]
    else:
        changed = [m for m, why in env.reasons.items() if not why.startswith("reads ")]
        lines = [
            f"environment {env.name}: builds {len(env.copies)} model(s), reading the rest "
            f"from production: {len(changed)} changed, {len(env.copies) - len(changed)} "
            "reading a change"
        ]
        for m in changed:
            category = env.categories.get(m)
            lines.append(f"  {m}: {category + ', ' if category else ''}{env.reasons[m]}")
    lines += [f"  {m}: {why} (left to production)" for m, why in env.left.items()]
    return lines


def _first(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (" ..." if len(names) > shown else "")
