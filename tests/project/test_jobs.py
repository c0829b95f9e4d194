"""Jobs, owners and access from orchestrator.toml; owners' folder defaults and `status --owner`."""

from __future__ import annotations

import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import jobs
from orchestrator.project import loader as project_mod
from orchestrator.project.model import Owner


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
    owners = {n: m.owner for n, m in project_mod.load(project.root, strict=True).models.items()}
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


def test_jobs_owners_and_access_parse_into_their_values():
    raw = {
        "jobs": {
            "daily": {"select": "+marts.x tag:a", "cron": "0 6 * * *", "deadline": "07:30"},
            "arrival": {
                "select": "s.m",
                "on": "source:Raw.Events",
                "poll": "30s",
                "vars": {"n": 1},
            },
        },
        "owners": {"fin": {"log": "fin.jsonl", "folders": ["/models/marts/", "reporting"]}},
        "access": {"admin": ["alice"], "viewer": ["*"]},
    }
    ops = jobs.parse(raw, Path("orchestrator.toml"), "", {"raw.events"})
    daily, arrival = ops.jobs["daily"], ops.jobs["arrival"]
    assert daily.select == ("+marts.x", "tag:a") and daily.cron.text == "0 6 * * *"
    assert (daily.deadline, daily.on, daily.poll) == (time(7, 30), None, timedelta(minutes=1))
    assert (arrival.cron, arrival.on, arrival.poll) == (None, "raw.events", timedelta(seconds=30))
    assert dict(arrival.vars) == {"n": "1"} and arrival.catchup == timedelta(days=1)
    assert ops.owners["fin"] == Owner("fin", log="fin.jsonl", folders=("marts", "reporting"))
    assert ops.owner_of_folder("models/marts/deep/m.sql") == "fin"
    assert ops.access.role_of("alice") == "admin" and ops.access.role_of("bob") == "viewer"


def test_a_job_needs_a_trigger_and_a_declared_source():
    text = '[jobs.a]\nselect = "s.m"\n\n[jobs.b]\nselect = "s.m"\non = "source:raw.evnts"\n'
    with pytest.raises(ProjectError) as info:
        jobs.parse(tomllib.loads(text), Path("c.toml"), text, {"raw.events"})
    assert str(info.value).startswith("c.toml:1: job 'a' needs cron = \"...\" or on = ")
    only_b = text.split("\n\n")[1]
    with pytest.raises(ProjectError) as info:
        jobs.parse(tomllib.loads(only_b), Path("c.toml"), only_b, {"raw.events"})
    assert str(info.value) == (
        "c.toml:3: job 'b': on must be \"source:<a declared source>\", got 'source:raw.evnts'"
        " (did you mean: raw.events?)"
    )
