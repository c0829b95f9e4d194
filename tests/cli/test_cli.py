"""The real CLI end to end, across the command groups: the --json shapes of status, runs, plan,
freshness and check, and listings that do not depend on the hash seed. (Each group's commands
are tested in test_cli_building, test_looking, test_operating, test_making; the root group in
test_main; the shared options in test_options.)"""

from __future__ import annotations

import json

import seeded_projects
from seeded_projects import FACT

seeded = seeded_projects.seeded  # the fixture: a daily fact and a total


def test_listings_do_not_depend_on_the_hash_seed(project):
    # independent models and sources: their order used to follow set iteration
    names = ("a", "b", "c", "d", "e", "f")
    for name in names:
        project.model(f"staging.{name}", f"select 1 as x from raw.src_{name}")
    # one reader of them all: graphlib learns its inputs from a set
    project.model("marts.all", " union all ".join(f"select x from staging.{n}" for n in names))
    project.seed(
        "create schema raw; "
        + " ".join(f"create table raw.src_{n} as select 1 as x;" for n in "abcdef")
    )
    commands = [["dag"], ["dag", "--format", "dot"], ["dag", "--format", "json"], ["plan"]]
    commands += [["status"], ["status", "-p"]]
    for command in commands:
        outputs = {
            project.cli(*command, env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "6", "11")
        }
        assert len(outputs) == 1, command


def test_json_output_of_status_runs_plan_freshness_and_check(seeded):
    """Issue 10, item 20: stable shapes, read with json.loads, times ISO 8601 UTC."""
    seeded.model("marts.fact", FACT.replace("select", "-- check: not_null(amount)\nselect", 1))
    seeded.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        """,
    )
    plan = json.loads(seeded.cli("plan", "--json").stdout)
    assert plan["version"] == 1 and plan["as_of"] == "2024-01-10T12:00:00Z"
    assert plan["tasks"][0]["reason"] == "missing" and plan["held"] == []
    assert seeded.cli("run").returncode == 0

    status = json.loads(seeded.cli("status", "--json").stdout)
    assert status["version"] == 1 and status["as_of"] == "2024-01-10T12:00:00Z"
    fact = next(m for m in status["models"] if m["model"] == "marts.fact")
    assert fact == {
        "model": "marts.fact",
        "kind": "incremental",
        "owner": None,
        "partitioned": True,
        "built": 9,
        "rows": fact["rows"],
        "last_built": fact["last_built"],
        "last_run": 1,
        "state": "up to date",
        "remedy": None,
    }
    assert fact["last_built"].startswith("2024-01-10T12:") and fact["last_built"].endswith("Z")
    assert isinstance(fact["rows"], int)
    parts = json.loads(seeded.cli("status", "--partitions", "--json").stdout)["partitions"]
    assert parts[0]["partition"] == "2024-01-01" and parts[0]["built_at"].endswith("Z")

    runs = json.loads(seeded.cli("runs", "--json").stdout)
    assert [r["run_id"] for r in runs["runs"]] == [1]
    assert runs["runs"][0]["started"].startswith("2024-01-10T12:00:")
    detail = json.loads(seeded.cli("runs", "1", "--json").stdout)
    assert detail["run"]["command"] == "run" and detail["run"]["vars"] == {}
    assert {t["status"] for t in detail["tasks"]} == {"success"}

    check = seeded.cli("check", "--json")
    assert check.returncode == 0
    results = json.loads(check.stdout)["results"]
    assert {(r["model"], r["check"], r["status"]) for r in results} == {
        ("marts.fact", "not_null(amount)", "pass")
    }

    fresh = seeded.cli("freshness", "--json")
    assert fresh.returncode == 0, fresh.stderr
    [source] = json.loads(fresh.stdout)["sources"]
    assert source["source"] == "raw.events" and source["checked_at"] == "2024-01-10T12:00:00Z"
    assert set(source) == {
        "source",
        "status",
        "latest_loaded_at",
        "lag_seconds",
        "detail",
        "checked_at",
    }
