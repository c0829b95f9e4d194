"""`orchestrator lineage MODEL.COLUMN`: which columns of which models and sources a column is
computed from, down to the sources, and which columns it feeds, as two trees to read (or one
JSON object for tools).
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from . import options
from .workspace import load_workspace

_NOTES = {"source": " (source)", "seed": " (seed)", "relation": " (read, not declared)"}
_UNFED = {
    "model": "no column (a constant, or a count of rows)",
    "seed": "nothing: a seed is loaded from its CSV file",
    "source": "nothing: a source is loaded by something else, not by a model",
}


@options.command("Where a column comes from and which columns it feeds.")
@click.argument("target", metavar="MODEL.COLUMN")
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    default=None,
    help="Levels to follow each way (default: all, to the sources and the last models).",
)
@options.json_output
@options.wait_option("target", reader=True)
@click.pass_context
@options.reading
def lineage(ctx, target, depth, as_json):
    """The columns MODEL.COLUMN is computed from (through CTEs, joins, `*`, aggregates and
    window functions), down to the source columns, and the columns computed from it, to the
    last models. MODEL is `schema.name`, or its name alone when no other model has it; a
    source's columns (`raw.orders.amount`) show what they feed.

    Columns only used to filter, join or group rows are not shown as feeding one.
    """
    from ..app import session, shapes
    from ..app.column_lineage import lineage as trace_column

    ws = load_workspace(ctx, engine_needed=False)
    session.authorize(ws, "lineage")
    trace = trace_column(ws, target, depth)
    if as_json:
        click.echo(shapes.dump(trace_shape(trace)))
    else:
        click.echo("\n".join(format_trace(trace)))


def format_trace(trace) -> list[str]:
    """The column, then what feeds it and what it feeds as indented trees, then the problems
    that make either partial."""
    lines = [f"{trace.relation}.{trace.column}{_NOTES.get(trace.kind, '')}", "", "fed by:"]
    if trace.fed_by:
        lines += _tree_lines(trace.fed_by)
    elif any(model == trace.relation for model, _ in trace.problems):
        lines.append("  no column found: its SQL could not be read whole (note below)")
    else:
        lines.append(f"  {_UNFED.get(trace.kind, _UNFED['source'])}")
    lines += ["", "feeds:"]
    lines += _tree_lines(trace.feeds) if trace.feeds else ["  no model column"]
    if trace.problems:
        lines.append("")
        lines += [f"note: {model}: {problem}" for model, problem in trace.problems]
    return lines


def _tree_lines(nodes: Iterable, prefix: str = "  ") -> list[str]:
    nodes = list(nodes)
    lines = []
    for i, node in enumerate(nodes):
        last = i == len(nodes) - 1
        more = " (see above)" if node.repeated else " ..." if node.truncated else ""
        name = f"{node.relation}.{node.column}{_NOTES.get(node.kind, '')}{more}"
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{name}")
        lines += _tree_lines(node.children, prefix + ("   " if last else "│  "))
    return lines


def trace_shape(trace) -> dict:
    """`lineage --json`: {"column": {relation, column, kind}, "fed_by": [node], "feeds":
    [node], "problems": [{model, problem}]}; a node is {relation, column, kind, repeated,
    truncated} with its own "fed_by" (or "feeds") list."""
    return {
        "column": {"relation": trace.relation, "column": trace.column, "kind": trace.kind},
        "fed_by": _nodes(trace.fed_by, "fed_by"),
        "feeds": _nodes(trace.feeds, "feeds"),
        "problems": [{"model": m, "problem": p} for m, p in trace.problems],
    }


def _nodes(nodes: Iterable, key: str) -> list[dict]:
    return [
        {
            "relation": n.relation,
            "column": n.column,
            "kind": n.kind,
            "repeated": n.repeated,
            "truncated": n.truncated,
            key: _nodes(n.children, key),
        }
        for n in nodes
    ]
