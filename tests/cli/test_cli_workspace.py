"""cli.workspace: the project a command works on, as --project and --warehouse name it; a named
warehouse that does not exist is an error, the project's own may not exist yet."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from orchestrator.cli.workspace import (
    load_settings,
    load_workspace,
    require_named_warehouse,
    route_note,
)
from orchestrator.core.errors import UsageError


@pytest.mark.parametrize("command", [["status"], ["runs"], ["runs", "1"], ["plan"]])
def test_a_named_warehouse_that_does_not_exist_is_an_error_not_an_empty_state(project, command):
    project.model("s.m", "select 1 as x")
    typo = project.root / "typo.duckdb"
    before = project.files()
    out = project.cli("--warehouse", str(typo), *command)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [
        f"error: no warehouse at {typo}: check --warehouse (or ORCHESTRATOR_WAREHOUSE); "
        "`orchestrator run` creates one"
    ]
    assert not typo.exists() and project.files() == before
    # the same through the environment
    out = project.cli(*command, env={"ORCHESTRATOR_WAREHOUSE": str(typo)})
    assert out.returncode == 2 and "no warehouse at" in out.stderr


def test_the_projects_own_warehouse_may_not_exist_yet(project):
    project.model("s.m", "select 1 as x")
    assert project.cli("status").returncode == 0
    assert project.cli("runs").returncode == 0
    assert project.cli("plan").returncode == 0


def context(project: Path | str, warehouse: Path | None = None) -> click.Context:
    """What the root group leaves in click's context object for a command."""
    return click.Context(click.Command("test"), obj={"project": project, "warehouse": warehouse})


def test_a_named_warehouse_must_exist_the_projects_own_need_not(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_WAREHOUSE", raising=False)
    typo = tmp_path / "typo.duckdb"
    require_named_warehouse(context(tmp_path), typo)  # the project's own: nothing has run
    with pytest.raises(UsageError, match=f"no warehouse at {typo}: check --warehouse"):
        require_named_warehouse(context(tmp_path, typo), typo)
    monkeypatch.setenv("ORCHESTRATOR_WAREHOUSE", str(typo))
    with pytest.raises(UsageError, match="or ORCHESTRATOR_WAREHOUSE"):
        require_named_warehouse(context(tmp_path), typo)
    typo.touch()
    require_named_warehouse(context(tmp_path, typo), typo)


def test_the_workspace_and_settings_honour_the_named_warehouse(project, tmp_path):
    project.model("s.m", "select 1 as x")
    elsewhere = tmp_path / "elsewhere.duckdb"
    ws = load_workspace(context(project.root, elsewhere))
    assert list(ws.dag.models) == ["s.m"] and ws.warehouse == elsewhere
    assert load_settings(context(project.root, elsewhere)).warehouse == elsewhere
    assert load_settings(context(project.root)).warehouse == project.warehouse


def test_a_note_says_once_when_alerts_would_reach_nobody(project, capsys):
    project.model("s.m", "-- owner: ada\nselect 1 as x")
    route_note(load_workspace(context(project.root)))
    assert capsys.readouterr().err == (
        "note: alerts about 1 model have no route: add [owners.default] (or [owners.NAME] for "
        "their owner) to orchestrator.toml\n"
    )
    project.write("orchestrator.toml", '[owners.ada]\nlog = "alerts.jsonl"\n')
    route_note(load_workspace(context(project.root)))
    assert capsys.readouterr() == ("", "")
