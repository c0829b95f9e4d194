"""app.maintenance on a real warehouse in tmp_path: `init` makes a project once, `freshness`
records the sources' states as a run, `prune` drops what left the project."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import DAILY_SOURCE

from orchestrator.app import maintenance
from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import UsageError

STALE = """
[sources."raw.events"]
loaded_at = "loaded"
error_after = "1d"
"""


def test_init_creates_a_project_and_its_state_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-10T12:00")
    root = tmp_path / "new"
    created = maintenance.init_project(root)
    names = {p.relative_to(root).as_posix() for p in created}
    assert names == {
        "orchestrator.toml",
        ".gitignore",
        "models",
        "checks",
        "models/staging/stg_orders.sql",
        "data/orders/orders_2024-01-07.csv",
        "data/orders/orders_2024-01-08.csv",
        "data/orders/orders_2024-01-09.csv",
        "warehouse.duckdb",
    }
    assert maintenance.init_project(root) == []


def test_freshness_records_a_run(project):
    project.seed(DAILY_SOURCE)
    project.write("orchestrator.toml", '[sources."raw.events"]\n')
    project.model("s.total", "select sum(amount) as amount from raw.events")
    ws = open_workspace(project.root)
    run_id, statuses = maintenance.source_freshness(ws, at=datetime(2024, 1, 10, 12))
    assert [s.source for s in statuses] == ["raw.events"]
    assert project.query(
        "select run_id, command, who is not null, host is not null, pid is not null, status "
        "from orchestrator.runs where command = 'freshness'"
    ) == [(run_id, "freshness", True, True, True, "success")]
    with pytest.raises(UsageError, match="no declared source named 'raw.evnts'"):
        maintenance.source_freshness(ws, ["raw.evnts"])


def test_a_stale_source_fails_the_freshness_run(project):
    project.write("orchestrator.toml", STALE)
    project.seed(
        "create schema raw; create table raw.events as "
        "select 1 as id, timestamp '2024-01-05 04:00' as loaded"
    )
    project.model("s.m", "select id from raw.events")
    ws = open_workspace(project.root)
    run_id, [status] = maintenance.source_freshness(ws, ["RAW.events"], at=datetime(2024, 1, 10))
    assert status.status == "stale" and "error_after 1d" in status.detail
    assert project.query(
        "select status, tasks, failed from orchestrator.runs where run_id = ?", [run_id]
    ) == [("failed", 1, 1)]
    assert project.query("select source, status from orchestrator.freshness") == [
        ("raw.events", "stale")
    ]


def test_prune_drops_the_models_removed_from_the_project(project):
    project.model("s.kept", "select 1 as x")
    project.model("s.gone", "select 2 as y")
    project.model("s.forgotten", "select 3 as z")
    project.api_run()
    project.seed("drop table s.forgotten")  # dropped by hand: only its state is left
    (project.root / "models/s/gone.sql").unlink()
    (project.root / "models/s/forgotten.sql").unlink()
    ws = open_workspace(project.root)
    assert maintenance.removed_models(ws) == [("s.forgotten", "gone"), ("s.gone", "table")]
    assert maintenance.prune(ws) == [("s.forgotten", "gone"), ("s.gone", "table")]
    tables = project.query("select table_name from duckdb_tables() where schema_name = 's'")
    assert tables == [("kept",)]
    assert project.query("select command, status, tasks from orchestrator.runs order by run_id")[
        -1
    ] == ("prune", "success", 2)
    assert maintenance.removed_models(ws) == [] and maintenance.prune(ws) == []


def test_nothing_is_removed_before_the_warehouse_exists(project):
    project.model("s.m", "select 1 as x")
    assert maintenance.removed_models(open_workspace(project.root)) == []
    assert not project.warehouse.exists()
