"""The making commands (cli.making: init, import dbt) through the real CLI in subprocesses: a
new project that runs as it is, and what they refuse."""

from __future__ import annotations


def test_init_creates_a_runnable_project(tmp_path):
    from conftest import ProjectDir

    project = ProjectDir(tmp_path / "new")
    out = project.cli("init", str(project.root))
    assert out.returncode == 0, out.stderr
    # it says what to run next, as a newcomer would type it
    assert f"cd {project.root}" in out.stdout and "orchestrator run" in out.stdout
    ignored = (project.root / ".gitignore").read_text().splitlines()
    assert {"*.duckdb", "*.duckdb.wal", "*.duckdb.lock", ".orchestrator/", "logs/"} <= set(ignored)
    toml = (project.root / "orchestrator.toml").read_text()
    assert '[sources."raw.orders"]' in toml and 'start = "2024-01-07"' in toml
    assert "owner: analytics" in (project.root / "models/staging/stg_orders.sql").read_text()
    # issue 10, item 24: init then run works out of the box, with a source, checks, an owner
    run = project.cli("run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert project.query("select count(distinct order_date), count(*) from staging.stg_orders") == [
        (3, 15)
    ]
    assert project.scalar("select count(*) from orchestrator.check_results") == 9
    status = project.cli("status")
    assert "up to date" in status.stdout and status.stderr == ""
    assert "nothing to do" in project.cli("plan").stdout


def test_init_never_overwrites_what_is_there(tmp_path):
    from conftest import ProjectDir

    project = ProjectDir(tmp_path / "new")
    project.cli("init", str(project.root), check=True)
    project.write("orchestrator.toml", "# mine\n")
    again = project.cli("init", str(project.root))
    assert again.returncode == 0, again.stderr
    assert "created" not in again.stdout
    assert (project.root / "orchestrator.toml").read_text() == "# mine\n"


def test_import_dbt_writes_a_project_that_runs(tmp_path):
    from conftest import ProjectDir

    dbt = ProjectDir(tmp_path / "shop")
    dbt.write("dbt_project.yml", "name: shop\nversion: '1.0'\nprofile: shop\n")
    dbt.write("models/orders.sql", "select 1 as id\n")
    dbt.write("models/totals.sql", "select count(*) as n from {{ ref('orders') }}\n")
    before = dbt.files()
    out = dbt.cli("import", "dbt", str(dbt.root))
    assert out.returncode == 0, out.stdout + out.stderr
    ours = ProjectDir(tmp_path / "shop-orchestrator")
    assert out.stdout.splitlines() == [
        f"imported 2 dbt nodes into {ours.root}: 2 converted exactly, 0 converted with notes, "
        "0 needs a hand (see IMPORT_REPORT.md)",
        f"next: cd {ours.root} && orchestrator run",
    ]
    assert dbt.files() == before  # the dbt project is never modified
    ours.cli("run", check=True)
    assert ours.query("select n from main.totals") == [(1,)]


def test_import_dbt_of_a_folder_that_is_no_dbt_project_says_so(tmp_path):
    from conftest import ProjectDir

    folder = ProjectDir(tmp_path / "empty")
    folder.root.mkdir()
    out = folder.cli("import", "dbt", str(folder.root))
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: no dbt_project.yml in {folder.root}: is it a dbt project?"
    assert list(tmp_path.iterdir()) == [folder.root]
