"""`IMPORT_REPORT.md`: what became of each dbt node, problems first, then the relations dbt
builds and ours."""

from __future__ import annotations

from pathlib import Path

from .values import EXACT, HAND, NOTES, Converted


def report(converted: Converted, name: str, dbt_root: Path, out: Path) -> str:
    counts = {s: sum(1 for o in converted.outcomes if o.status == s) for s in (EXACT, NOTES, HAND)}
    lines = [
        f"# Import of the dbt project '{name}'",
        "",
        f"From `{dbt_root}` into `{out}`. {len(converted.outcomes)} nodes: "
        f"{counts[EXACT]} {EXACT}, {counts[NOTES]} {NOTES}, {counts[HAND]} {HAND}.",
        "",
        "Build it with `orchestrator run` in that folder.",
        "",
    ]
    if converted.problems:
        lines += ["## Problems", ""]
        lines += [f"- {p}" for p in converted.problems]
        lines.append("")
    if converted.macro_files:
        lines += [
            "## Macros not loaded",
            "",
            "Files of macros Jinja cannot read; a node that calls one of their macros says so.",
            "",
        ]
        lines += [f"- {p}" for p in converted.macro_files]
        lines.append("")
    if converted.packages:
        lines += ["## Packages", "", "| package | state | nodes that use it |", "|---|---|---|"]
        for package, nodes in sorted(converted.packages.items()):
            used = ", ".join(f"`{n}`" for n in nodes)
            lines.append(f"| {package} | not installed, not expanded natively | {used} |")
        lines.append("")
    for status in (HAND, NOTES, EXACT):
        chosen = [o for o in converted.outcomes if o.status == status]
        if not chosen:
            continue
        lines += [
            f"## {status.capitalize()} ({len(chosen)})",
            "",
            "| dbt node | file | ours | why |",
            "|---|---|---|---|",
        ]
        for o in sorted(chosen, key=lambda o: o.node):
            why = "; ".join(n.replace("|", "\\|") for n in o.notes)
            lines.append(
                f"| `{o.node}` | `{o.file}` | {('`' + o.ours + '`') if o.ours else ''} | {why} |"
            )
        lines.append("")
    if converted.relations:
        lines += ["## Relations: dbt's and ours", "", "| dbt | ours |", "|---|---|"]
        lines += [f"| {theirs} | `{ours}` |" for theirs, ours in converted.relations]
        lines.append("")
    return "\n".join(lines)
