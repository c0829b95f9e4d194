"""Owners: folder defaults in config, and `status --owner`."""

from __future__ import annotations

from orchestrator import project as project_mod


def test_folder_owners_are_defaults_and_headers_win(project):
    project.write(
        "orchestrator.toml",
        """
        [owners.finance]
        log = "finance.jsonl"
        folders = ["marts", "models/reporting/finance"]

        [owners.growth]
        log = "growth.jsonl"
        folders = ["reporting"]
        """,
    )
    project.model("marts.revenue", "select 1 as x")
    project.model("marts.signups", "-- owner: growth\nselect 1 as x")
    project.write("models/reporting/finance/board.sql", "select 1 as x")
    project.write("models/reporting/funnel.sql", "select 1 as x")
    project.model("staging.orders", "select 1 as x")
    owners = {n: m.owner for n, m in project_mod.load(project.root).models.items()}
    assert owners == {
        "marts.revenue": "finance",
        "marts.signups": "growth",
        "reporting.board": "finance",  # the longest folder wins
        "reporting.funnel": "growth",
        "staging.orders": None,
    }
    assert project.cli("run").returncode == 0
    out = project.cli("status", "--owner", "finance")
    assert out.returncode == 0, out.stderr
    assert "marts.revenue" in out.stdout and "reporting.board" in out.stdout
    assert "marts.signups" not in out.stdout and "staging.orders" not in out.stdout
    assert project.query("select name, owner from orchestrator.models order by name")[0] == (
        "marts.revenue",
        "finance",
    )
