"""The root group (cli.main): global options, the project found from a subfolder, every error
as one line with its exit code, and the commands it lists with their help."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from conftest import DAILY_SOURCE, NOW, spark_toml

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select user_id, event_date, amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""


@pytest.fixture
def seeded(project):
    project.seed(DAILY_SOURCE)
    project.model("marts.fact", FACT)
    project.model("marts.total", "-- tags: report\nselect sum(amount) as total from marts.fact")
    return project


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "marts.fcat"], "no model matches 'marts.fcat' (did you mean: marts.fact"),
        (["run", "tag:reprot"], "did you mean: report"),
        (
            ["backfill", "fact", "--start", "2024-01-05", "--end", "2024-01-01"],
            "--end 2024-01-01 must be after --start 2024-01-05",
        ),
        (
            ["backfill", "fact", "--start", "yesterday", "--end", "2024-01-01"],
            "'yesterday' is not a date",
        ),
        (["run", "--var", "no_equals"], "--var expects NAME=VALUE"),
        (["run", "--var", "bad name=1"], "--var expects NAME=VALUE"),
        (["run", "--threads", "0"], "Invalid value for '--threads'"),
        (["run", "--no-such-flag"], "No such option '--no-such-flag'"),
        (["runs", "99"], "no run with id 99"),
        (
            ["backfill", "fact", "--start", "2023-01-01", "--end", "2023-02-01"],
            "[2023-01-01, 2023-02-01) is outside the partitions of the selected models, "
            "nothing would be rebuilt: marts.fact has start 2024-01-01",
        ),
        (["run", "--var", "a=b", "--var", "a=c"], "--var a given twice"),
        (["run", "--var", "v=\udcff"], "--var v: the value is not valid UTF-8 text"),
        (["--project", "/nonexistent/p", "status"], "project directory /nonexistent/p does not"),
        (["status", "--owner", "nobody"], "no model has owner 'nobody'"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_write_nothing(seeded, args, message):
    if args[0] == "runs":
        seeded.cli("run", check=True)
    before = seeded.files()
    out = seeded.cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""
    assert seeded.files() == before


@pytest.mark.parametrize(
    ("relpath", "text", "message"),
    [
        ("models/marts/cyc.sql", "select * from marts.cyc2", "dependency cycle"),
        ("models/marts/more/fact.sql", "select 1 as x", "model marts.fact is defined twice"),
    ],
)
def test_project_errors_exit_2_and_nothing_runs(seeded, relpath, text, message):
    seeded.cli("run", check=True)
    if "cyc" in relpath:
        seeded.write("models/marts/cyc2.sql", "select * from marts.cyc")
    seeded.write(relpath, text)
    before = seeded.files()
    for command in (["run"], ["plan"], ["dag"]):
        out = seeded.cli(*command)
        assert out.returncode == 2
        assert message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert seeded.files() == before


def test_a_command_run_in_a_subfolder_finds_the_project(seeded):
    import subprocess

    seeded.cli("run", check=True)
    inside = seeded.root / "models" / "marts"
    found = subprocess.run(
        [sys.executable, "-m", "orchestrator", "status"],
        cwd=inside,
        capture_output=True,
        text=True,
        env=seeded.environment(NOW, None),
    )
    assert found.returncode == 0, found.stderr
    assert "marts.fact" in found.stdout and "up to date" in found.stdout
    assert not (inside / "warehouse.duckdb").exists()


def test_every_option_of_every_command_says_what_it_does():
    from orchestrator.cli.main import cli

    missing = [
        (name, p.opts)
        for name, command in cli.commands.items()
        for p in command.params
        if isinstance(p, click.Option) and not p.help
    ]
    assert missing == [] and all(c.help for c in cli.commands.values())
    for name in ("retry", "schedule", "prune"):  # no selectors: nothing to place --wait after
        wait = next(p for p in cli.commands[name].params if p.name == "wait")
        assert "selectors" not in wait.help


def test_the_list_of_commands_reads_whole_sentences():
    from orchestrator.cli.main import cli

    listed = {name: command.get_short_help_str(200) for name, command in cli.commands.items()}
    assert all(text.endswith(".") and "..." not in text for text in listed.values()), listed


def test_the_project_is_the_nearest_folder_holding_its_config_or_models(tmp_path):
    from orchestrator.cli.main import find_root

    (tmp_path / "p" / "models" / "s").mkdir(parents=True)
    (tmp_path / "q" / "deep").mkdir(parents=True)
    (tmp_path / "q" / "orchestrator.toml").write_text("")
    (tmp_path / "r").mkdir()
    assert find_root(tmp_path / "p" / "models" / "s") == tmp_path / "p"
    assert find_root(tmp_path / "q" / "deep") == tmp_path / "q"
    # the folder itself, or none up the tree: the current folder, as given
    assert find_root(tmp_path / "q") == Path(".")
    assert find_root(tmp_path / "r") == Path(".")


def test_version_and_help_exit_0(project):
    version = project.cli("--version")
    assert (version.returncode, version.stdout.split()[0]) == (0, "orchestrator,")
    listed = project.cli("--help")
    assert listed.returncode == 0 and "  backfill " in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rnu"], "error: No such command 'rnu'."),
        (["run", "--wait", "-5"], "error: Invalid value for '--wait': '-5': SECONDS must be 0 or"),
        (["run", "--wait=-1e3"], "error: Invalid value for '--wait': '-1e3': SECONDS must be 0 or"),
        (["runs", "--limt", "3"], "error: No such option '--limt'"),
    ],
)
def test_click_usage_errors_are_one_line_naming_the_help(project, args, message):
    project.model("s.m", "select 1 as x")
    out = project.cli(*args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(message), out.stderr
    assert out.stderr.rstrip().endswith("--help)") and len(out.stderr.strip().splitlines()) == 1
    assert not project.warehouse.exists()


def test_engine_option_overrides_the_projects_engine(project):
    project.write("orchestrator.toml", spark_toml())
    project.model("s.m", "select 1 as x")
    # on DuckDB: no Spark starts (nor the JVM options a Spark test would get)
    out = project.cli("--engine", "duckdb", "run", env={"JAVA_TOOL_OPTIONS": ""})
    assert out.returncode == 0, out.stderr
    assert project.query("select x from s.m") == [(1,)]
    assert not (project.root / "lake").exists()
