"""Every remedy we print is the command that fixes that cause (issue 20, item 5): for each
cause, the alert and `status` name the same remedy, a test does what it says (fixes the named
input first, when it says so) and runs the printed command, and the state is healthy after."""

from __future__ import annotations

import json
import shlex

import pytest
from conftest import NOW

from orchestrator.plan import remedies

CONFIG = """
[owners.default]
log = "alerts.jsonl"

[sources."raw.orders"]
path = "data/orders.csv"
columns = { id = "INTEGER", amount = "INTEGER" }
"""

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-08
-- retries: 0
select d, n from raw.t where d >= {{ start }} and d < {{ end }}
"""


def _remedies(project, now=NOW) -> tuple[str, dict[str, str]]:
    """The last alert's remedy, and status's remedy per model."""
    alerts = [json.loads(x) for x in (project.root / "alerts.jsonl").read_text().splitlines()]
    failing = [a for a in alerts if a["event"] in ("task_failed", "check_failed")]
    return failing[-1]["remedy"], _remedies_of_status(project, now)


def _command(remedy: str) -> list[str]:
    """The command a remedy prints: after 'then: ' when it says to fix something first."""
    command = remedy.split("then: ", 1)[-1]
    assert command.startswith("orchestrator "), remedy
    return shlex.split(command)[1:]


def _healthy(project, now=NOW) -> None:
    status = project.cli("status", now=now)
    assert "to fix" not in status.stdout, status.stdout
    states = [x.rsplit("  ", 1)[-1] for x in status.stdout.splitlines()[2:] if x.strip()]
    assert states and all(s == "up to date" for s in states), status.stdout


@pytest.fixture
def shop(project):
    project.write("orchestrator.toml", CONFIG)
    project.write("data/orders.csv", "id,amount\n1,10\n2,20\n")
    project.model("s.orders", "-- retries: 0\nselect id, amount from raw.orders")
    project.model(
        "s.revenue",
        "-- check: expression(amount >= 0)\n-- retries: 0\nselect id, amount from s.orders",
    )
    assert project.cli("run").returncode == 0
    return project


def test_bad_rows_in_a_file_fix_the_file_then_run_not_retry(shop):
    shop.write("data/orders.csv", "id,amount\n1,10\n2,-20\n")
    assert shop.cli("run").returncode == 1
    alert, fixes = _remedies(shop)
    assert alert == fixes["s.revenue"] and not remedies.is_retry(alert)
    assert "check expression(amount >= 0)" in alert
    shop.write("data/orders.csv", "id,amount\n1,10\n2,20\n")  # what it says: fix the rows
    assert shop.cli(*_command(alert)).returncode == 0
    _healthy(shop)


def test_a_sql_error_fix_the_model_then_run(shop):
    shop.model("s.orders", "-- retries: 0\nselect id, amountt as amount from raw.orders")
    assert shop.cli("run").returncode == 1
    alert, fixes = _remedies(shop)
    assert alert == fixes["s.orders"] and "in s.orders's SQL" in alert
    shop.model("s.orders", "-- retries: 0\nselect id, amount from raw.orders")
    assert shop.cli(*_command(alert)).returncode == 0
    _healthy(shop)


def test_a_changed_column_type_rebuild_with_full_refresh(project):
    project.write(
        "orchestrator.toml",
        '[owners.default]\nlog = "alerts.jsonl"\n[jobs.nightly]\nselect = "s.daily"\n'
        'cron = "0 6 * * *"\n',
    )
    project.seed(
        "create schema raw; create table raw.t as "
        "select date '2024-01-08' + range::int as d, 1 as n from range(10)"
    )
    project.model("s.daily", DAILY)
    assert project.cli("run").returncode == 0
    project.seed("alter table raw.t alter n type varchar")  # the loader now writes text
    later = "2024-01-11T12:00"
    refused = project.cli("run", now=later)  # a run refuses it before writing, saying how
    assert refused.returncode == 2 and "orchestrator run --full-refresh s.daily" in refused.stderr
    assert project.cli("run", "--job", "nightly", now=later).returncode == 1  # the job alerts
    alert, fixes = _remedies(project, now=later)
    assert alert == fixes["s.daily"] == "orchestrator run --full-refresh s.daily"
    assert project.cli(*_command(alert), now=later).returncode == 0
    _healthy(project, now=later)


def test_a_transient_fault_is_retried(project):
    project.write("orchestrator.toml", '[owners.default]\nlog = "alerts.jsonl"\n')
    # a file read that fails (DuckDB's IOException: transient) until the file is there
    project.model("s.landed", "-- retries: 0\nselect * from read_csv('late/landed.csv')")
    assert project.cli("run").returncode == 1
    alert, fixes = _remedies(project)
    assert alert == "orchestrator retry --run 1" and fixes["s.landed"] == "orchestrator retry"
    project.write("late/landed.csv", "id\n1\n")
    assert project.cli(*_command(alert)).returncode == 0
    _healthy(project)


def test_a_drifted_source_fix_the_file_then_run(shop):
    shop.write("data/orders.csv", "id,amount\n1,ten\n")  # no longer reads as declared
    shop.cli("run")
    fixes = _remedies_of_status(shop)
    assert not remedies.is_retry(fixes["s.orders"])
    assert "source" in fixes["s.orders"]
    shop.write("data/orders.csv", "id,amount\n1,10\n2,20\n")
    assert shop.cli(*_command(fixes["s.orders"])).returncode == 0
    _healthy(shop)


def _remedies_of_status(project, now=NOW) -> dict[str, str]:
    shown = project.cli("status", now=now).stdout.splitlines()
    return dict(x[len("to fix ") :].split(": ", 1) for x in shown if x.startswith("to fix "))
