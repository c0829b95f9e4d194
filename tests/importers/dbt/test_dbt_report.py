"""`IMPORT_REPORT.md` from what a conversion made, as a pure function: the counts, problems,
macros and packages first, then each status's nodes (needs a hand first), then the relations
dbt builds beside ours."""

from __future__ import annotations

from pathlib import Path

from orchestrator.importers.dbt.report import report
from orchestrator.importers.dbt.values import EXACT, HAND, NOTES, Converted, Outcome


def test_the_report_counts_and_lists_each_node_under_its_status():
    converted = Converted(
        outcomes=[
            Outcome("model.p.b", "models/b.sql", EXACT, "main.b"),
            Outcome("model.p.a", "models/a.sql", EXACT, "main.a"),
            Outcome("model.p.c", "models/c.sql", HAND, notes=["no | way", "really"]),
            Outcome("test.p.t", "models/x.yml", NOTES, "checks/t.sql", ["moved"]),
        ],
        relations=[("main.a (models/a.sql)", "main.a")],
    )
    text = report(converted, "p", Path("/dbt"), Path("/ours"))
    assert text.startswith(
        "# Import of the dbt project 'p'\n\nFrom `/dbt` into `/ours`. 4 nodes: 2 converted "
        "exactly, 1 converted with notes, 1 needs a hand.\n"
    )
    hand, notes, exact = (
        text.index(f"## {s}") for s in ("Needs", "Converted with", "Converted exactly")
    )
    assert hand < notes < exact
    assert "## Needs a hand (1)" in text and "## Converted exactly (2)" in text
    assert "| `model.p.c` | `models/c.sql` |  | no \\| way; really |" in text  # a pipe escaped
    assert text.index("`model.p.a`") < text.index("`model.p.b`")  # sorted by node
    assert "| `test.p.t` | `models/x.yml` | `checks/t.sql` | moved |" in text
    assert text.endswith("| dbt | ours |\n|---|---|\n| main.a (models/a.sql) | `main.a` |\n")
    assert "## Problems" not in text and "## Packages" not in text


def test_problems_unloaded_macros_and_missing_packages_come_first():
    converted = Converted(
        outcomes=[Outcome("model.p.a", "models/a.sql", HAND, notes=["x"])],
        problems=["models/a.sql:1: boom"],
        macro_files=["macros/m.sql:2: bad"],
        packages={"dbt_date": ["model.p.a", "model.p.b"]},
    )
    text = report(converted, "p", Path("/dbt"), Path("/ours"))
    assert (
        text.index("## Problems")
        < text.index("## Macros not loaded")
        < text.index("## Packages")
        < text.index("## Needs a hand")
    )
    assert "- models/a.sql:1: boom\n" in text and "- macros/m.sql:2: bad\n" in text
    assert "| dbt_date | not installed, not expanded natively | `model.p.a`, `model.p.b` |" in text
