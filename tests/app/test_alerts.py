"""Alerts: routed to the owner, delivered to a real webhook on 127.0.0.1, a command and a log,
one per incident until it recovers, and a sink that is down never fails the run."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import datetime

import pytest

from orchestrator.app import alerts
from orchestrator.project.model import Operations, Owner
from orchestrator.state import OpenIncident


def _config(project, url: str, extra: str = "") -> None:
    project.write(
        "orchestrator.toml",
        f"""
        [owners.finance]
        webhook = "{url}"

        [owners.default]
        log = "logs/alerts.jsonl"
        {extra}
        """,
    )


def _failing_pipeline(project, url: str) -> None:
    _config(project, url)
    project.model("s.revenue", "-- owner: finance\nselect x from raw.t\n")
    project.model("s.report", "select sum(x) as total from s.revenue\n")


def test_failure_alert_reaches_the_webhook_with_what_to_do(project, webhook):
    _failing_pipeline(project, webhook.url)
    out = project.cli("run")
    assert out.returncode == 1
    assert len(webhook.bodies) == 1
    body = webhook.bodies[0]
    assert body["event"] == "task_failed"
    assert body["subject"] == "s.revenue"
    assert body["owner"] == body["routed_to"] == "finance"
    assert body["run_id"] == 1 and body["partitions"] == ["all"]
    assert "raw.t" in body["error"]
    # a table that does not exist fails the same way on a retry: the fix comes first
    fix = "fix what the error names (in s.revenue's SQL or what it reads), then: orchestrator run"
    assert body["remedy"] == fix + " +s.revenue" and body["retry_command"] is None
    text = body["text"]
    assert text.startswith(":red_circle: s.revenue failed on all (run 1)")
    assert "owner: finance" in text and f"to fix: {fix} +s.revenue" in text
    # the skipped downstream model is not an incident of its own
    assert project.query(
        "select event, subject, owner, run_id, sinks, delivered, attempts from orchestrator.alerts"
    ) == [("task_failed", "s.revenue", "finance", 1, ["webhook"], True, 1)]
    assert "alert -> finance: s.revenue failed on all" in out.stderr


def test_one_alert_per_incident_then_recovery_then_a_new_incident(project, webhook):
    _failing_pipeline(project, webhook.url)
    assert project.cli("run").returncode == 1
    assert project.cli("run").returncode == 1  # still failing: nothing new to tell
    assert [b["event"] for b in webhook.bodies] == ["task_failed"]

    project.seed("create schema raw; create table raw.t as select 1 as x")
    assert project.cli("run").returncode == 0
    assert [b["event"] for b in webhook.bodies] == ["task_failed", "recovered"]
    recovered = webhook.bodies[1]
    assert recovered["subject"] == "s.revenue" and recovered["run_id"] == 3
    assert "s.revenue recovered (failing since" in recovered["text"]  # a table: no "on all"
    assert project.query(
        "select kind, subject, opened_run, closed_run from orchestrator.incidents"
    ) == [("model", "s.revenue", 1, 3)]

    assert project.cli("run").returncode == 0  # healthy and quiet: no alert for a success
    project.model("s.revenue", "-- owner: finance\nselect x from raw.gone\n")
    assert project.cli("run").returncode == 1
    assert [b["event"] for b in webhook.bodies] == ["task_failed", "recovered", "task_failed"]
    assert (
        project.scalar("select count(*) from orchestrator.incidents where closed_at is null") == 1
    )


def test_failed_check_alert_carries_a_sample_and_goes_to_the_default_owner(project, webhook):
    _config(project, webhook.url)
    project.model(
        "s.orders",
        """
        -- check: not_null(amount)
        select * from (values (1, 10), (2, null), (3, null)) t(id, amount)
        """,
    )
    assert project.cli("run").returncode == 1
    assert webhook.bodies == []  # not finance's model
    [line] = (project.root / "logs/alerts.jsonl").read_text().splitlines()
    body = json.loads(line)
    assert body["event"] == "check_failed" and body["routed_to"] == "default"
    assert body["owner"] is None
    assert body["sample"] and all(row["amount"] is None for row in body["sample"])
    assert "failing rows, e.g.:" in body["text"]


@pytest.mark.slow
def test_a_sink_that_is_down_is_retried_recorded_and_never_fails_the_run(project, webhook):
    _failing_pipeline(project, webhook.url)
    webhook.status = 500
    assert project.cli("run").returncode == 1  # the task's failure, not the alert's
    assert webhook.requests == 3
    delivered, attempts, error = project.query(
        "select delivered, attempts, error from orchestrator.alerts"
    )[0]
    assert (delivered, attempts) == (False, 3) and "500" in error

    project.seed("create schema raw; create table raw.t as select 1 as x")
    webhook.close()  # now nothing listens at all
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert project.query("select event, delivered from orchestrator.alerts order by alert_id") == [
        ("task_failed", False),
        ("recovered", False),
    ]
    assert project.query("select status from orchestrator.runs order by run_id") == [
        ("failed",),
        ("success",),
    ]


def test_command_sink_gets_the_payload_on_stdin(project):
    script = "import sys, pathlib; pathlib.Path('got.json').write_text(sys.stdin.read())"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    project.write(
        "orchestrator.toml",
        f"""
        [owners.default]
        command = {json.dumps(command)}
        """,
    )
    project.model("s.bad", "select * from raw.nothing")
    assert project.cli("run").returncode == 1
    body = json.loads((project.root / "got.json").read_text())
    assert body["event"] == "task_failed" and body["subject"] == "s.bad"
    assert project.query("select sinks, delivered from orchestrator.alerts") == [
        (["command"], True)
    ]


def test_a_drifted_source_alerts_its_owner(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        columns = { id = "BIGINT", d = "DATE" }
        owner = "payments"

        [owners.payments]
        log = "payments.jsonl"
        """,
    )
    project.write("data/events_2024-01-01.csv", "id,d\n1,2024-01-01\n")
    project.write("data/events_2024-01-02.csv", "id,day\n1,2024-01-02\n")
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-03
        select id, d from raw.events where d >= {{ start }} and d < {{ end }}
        """,
    )
    assert project.cli("run").returncode == 1
    [body] = [json.loads(x) for x in (project.root / "payments.jsonl").read_text().splitlines()]
    assert body["event"] == "source_blocked" and body["subject"] == "raw.events"
    assert body["owner"] == "payments" and body["partitions"] == ["2024-01-02"]
    assert "unexpected column(s): day" in body["error"]
    assert project.query("select d from s.daily") == [(datetime(2024, 1, 1).date(),)]


def test_news_and_healing_are_per_subject_cause_and_partition():
    """Issue 10, item 4: an open incident hides only what it told about; a model's incident
    heals when the state of each of its partitions is success, whichever command did it."""
    opened = datetime(2026, 1, 1, 6)
    incident = OpenIncident("model", "m", "check unique(id)", ("11-27",), "o", opened, 1, 1)
    told = alerts.told_by([incident])
    assert told == {("model", "m", "check unique(id)"): {"11-27"}}

    fail = alerts.Event("task_failed", "m", "o", "m failed", partitions=("all",), cause="failed")
    first = alerts.decide([fail], set(), [], {}, 1)
    assert first.send == [fail] and first.opened == [fail] and first.closed == []

    still = {("m", "11-27"): "check_failed", ("m", "11-29"): "check_failed"}
    assert alerts.decide([], set(), [incident], still, 2).closed == []
    # a partition that was never this incident's does not keep it open
    healed = alerts.decide([], set(), [incident], {("m", "11-27"): "success"}, 3)
    assert healed.closed == [incident]
    [recovered] = healed.send
    assert recovered.event == "recovered" and recovered.kind == "model"
    assert recovered.summary == (
        "m recovered on 11-27 (failing check unique(id) since 2026-01-01 06:00 UTC, run 1)"
    )
    # skipped is not healed: its data was not rebuilt
    assert alerts.decide([], set(), [incident], {("m", "11-27"): "skipped"}, 4).closed == []
    # a source heals when the command saw it healthy
    source = OpenIncident("source", "raw.o", "blocked", (), None, opened, 1, 2)
    assert alerts.decide([], {("source", "raw.o")}, [source], {}, 5).closed == [source]
    assert alerts.decide([], set(), [source], {}, 5).closed == []


def test_routing_falls_back_to_the_default_owner():
    ops = Operations(owners={"a": Owner("a", log="a"), "default": Owner("default", log="d")})
    assert alerts.route(alerts.Event("task_failed", "m", "a", ""), ops).name == "a"
    assert alerts.route(alerts.Event("task_failed", "m", "zz", ""), ops).name == "default"
    assert alerts.route(alerts.Event("task_failed", "m", None, ""), Operations()) is None


def test_a_column_type_change_alert_says_to_rebuild_not_to_retry(project):
    """Issue 10, item 13: retrying would fail the same way; the alert names the command the
    console names, `run --full-refresh MODEL`."""
    project.write(
        "orchestrator.toml",
        """
        [owners.default]
        log = "alerts.jsonl"

        [jobs.nightly]
        select = "s.daily"
        cron = "0 6 * * *"
        """,
    )
    project.seed(
        "create schema raw; create table raw.t as "
        "select date '2024-01-08' + range::int as d, 1 as n from range(10)"
    )
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-08
        select d, n from raw.t where d >= {{ start }} and d < {{ end }}
        """,
    )
    assert project.cli("run", "--job", "nightly").returncode == 0
    # the loader now writes text: the model is unchanged, its next day's type is not
    project.seed("alter table raw.t alter n type varchar")
    out = project.cli("run", "--job", "nightly", now="2024-01-11T12:00")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "orchestrator run --full-refresh s.daily" in out.stdout
    body = json.loads((project.root / "alerts.jsonl").read_text().splitlines()[0])
    assert body["retry_command"] == "orchestrator run --full-refresh s.daily"
    assert "to fix: orchestrator run --full-refresh s.daily" in body["text"]
    assert "retry --run" not in body["text"]
