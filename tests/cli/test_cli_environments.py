"""The environment commands through the real CLI: `run --env`, `status --env`, `env list`,
`diff --env` (text and JSON), `promote`, `env drop`, and bad input as one line, exit 2."""

from __future__ import annotations

import json

import pytest
from changes import STAGED_DOUBLED, changes_project


@pytest.fixture
def changed(project):
    changes_project(project)
    project.cli("run", check=True)
    project.model("staging.events", STAGED_DOUBLED)
    return project


def test_the_environment_round_trip(changed):
    planned = changed.cli("plan", "--env", "pr-1", "--json", check=True)
    tasks = json.loads(planned.stdout)["tasks"]
    assert {t["model"] for t in tasks} == {
        "staging__pr_1.events",
        "marts__pr_1.daily",
        "marts__pr_1.users",
    }
    ran = changed.cli("run", "--env", "pr-1", check=True)
    assert "ok staging__pr_1.events" in ran.stdout
    status = changed.cli("status", "--env", "pr-1", check=True).stdout
    assert "staging__pr_1.events" in status and "marts.source_only" not in status
    listed = json.loads(changed.cli("env", "list", "--json", check=True).stdout)
    (env,) = listed["environments"]
    assert env["name"] == "pr-1" and env["models"]["staging.events"] == "staging__pr_1.events"
    text = changed.cli("diff", "--env", "pr-1", check=True).stdout
    assert text.splitlines()[0].startswith("environment pr-1 against production: 3 model(s)")
    assert "4 row(s) only in the environment, 4 only in production" in text
    shape = json.loads(changed.cli("diff", "--env", "pr-1", "events", "--json", check=True).stdout)
    (model,) = shape["models"]
    assert model["model"] == "staging.events" and model["category"] == "breaking"
    assert model["data"]["only_in_env"] == 4 and len(model["data"]["partitions"]) == 4
    assert model["downstream"] == [
        {"model": "marts.daily", "partitions": 9},
        {"model": "marts.users", "partitions": 1},
    ]
    promoted = changed.cli("promote", "pr-1", check=True).stdout
    assert promoted.startswith("promoted 3 model(s) from pr-1")
    assert "nothing to do" in changed.cli("plan", check=True).stdout
    dropped = changed.cli("env", "drop", "pr-1", check=True).stdout
    assert dropped.startswith("dropped environment pr-1: 3 relation(s)")
    assert "no environments" in changed.cli("env", "list", check=True).stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("run", "--env", "Bad Name"), "bad environment name 'Bad Name'"),
        (("diff", "--env", "prod"), "bad environment name 'prod'"),
        (("promote", "nope"), "no environment named 'nope' (known: none)"),
        (("env", "drop", "nope"), "no environment named 'nope'"),
        (("diff",), "Missing option '--env'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(changed, args, message):
    before = changed.files()
    result = changed.cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert changed.files() == before


def test_sql_and_check_in_an_environment_read_its_copies(changed):
    changed.cli("run", "--env", "dev", check=True)
    query = "select sum(amount) as total from staging.events"
    prod = changed.cli("sql", query, "--format", "csv", check=True).stdout
    env = changed.cli("sql", query, "--env", "dev", "--format", "csv", check=True).stdout
    assert prod.split() == ["total", "990"] and env.split() == ["total", "1090"]
    report = json.loads(changed.cli("check", "--env", "dev", "--json", check=True).stdout)
    assert {r["model"] for r in report["results"]} == {"staging__dev.events"}
    runs = changed.query("select command, env from orchestrator.runs order by run_id")
    assert runs[-1] == ("check", "dev")
    missing = changed.cli("sql", query, "--env", "nope")
    assert missing.returncode == 2 and "no environment named 'nope'" in missing.stderr


def test_a_backfill_in_an_environment_rebuilds_its_copies_only(changed):
    changed.cli("run", "--env", "dev", check=True)
    before = changed.query("select * from orchestrator.partitions where model = 'staging.events'")
    out = changed.cli(
        "backfill",
        "events",
        "--start",
        "2024-01-02",
        "--end",
        "2024-01-04",
        "--env",
        "dev",
        check=True,
    ).stdout
    assert "ok staging__dev.events" in out and "2 partitions" in out
    assert "marts__dev.daily" in out  # what reads it in the environment follows
    after = changed.query("select * from orchestrator.partitions where model = 'staging.events'")
    assert after == before  # production's rows untouched


def test_check_in_an_environment_that_never_ran_is_refused_and_records_nothing(changed):
    result = changed.cli("check", "--env", "nope")
    assert result.returncode == 2 and "no environment named 'nope'" in result.stderr
    assert changed.scalar("select count(*) from orchestrator.runs where env = 'nope'") == 0
