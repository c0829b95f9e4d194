"""Every view of the state agrees (issue 20, item 6): for each scenario an on-call engineer
meets (a built day's file deleted then restored, a late file, a failure then its revert, a
blocking check failing upstream), `status`, `status --json`, the `orchestrator.readiness`
view, the `orchestrator.partitions` table and the UI's overview say the same of every model."""

from __future__ import annotations

import json
from datetime import date

import pytest

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages.overview import overview
from orchestrator.ui.pages.shared import readiness as ui_readiness

NOW = "2024-01-04T06:00"

CONFIG = """
[sources."raw.events"]
path = "data/events_{date}.csv"
read_by_partition = true
"""

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- retries: 0
select id, d::date as d from raw.events where d >= {{ start }} and d < {{ end }}
"""


def _views(project) -> dict[str, dict[str, str]]:
    """model -> what each view says of it, on one scale: complete, failed, blocked or
    pending (partial, waiting, missing, stale: not complete, nobody's fault yet)."""

    def scale(word: str) -> str:
        if word in ("up to date", "complete"):
            return "complete"
        if word in ("failed", "check_failed"):
            return "failed"
        if word in ("blocked", "skipped"):
            return "blocked"
        return "pending"

    said: dict[str, dict[str, str]] = {}
    listed = json.loads(project.cli("status", "--json", now=NOW).stdout)["models"]
    for m in listed:
        said.setdefault(m["model"], {})["status"] = scale(ui_readiness(m["state"]))
    text = project.cli("status", now=NOW).stdout.splitlines()
    for line in text[2:]:
        if line.startswith("to fix") or not line.strip():
            continue
        model, state = line.split()[0], line.split("  ")[-1].strip()
        said[model]["status text"] = scale(ui_readiness(state))
    # through `orchestrator sql`, which sets the view's clock to the pinned one
    readiness = project.cli(
        "sql", "select model, own_state from orchestrator.readiness", "--format", "json", now=NOW
    )
    for row in json.loads(readiness.stdout):
        said[row["model"]]["readiness"] = scale(row["own_state"])
    for model, statuses in project.query(
        "select model, list(status) from orchestrator.partitions group by model"
    ):
        order = ("failed", "check_failed", "blocked", "skipped", "waiting")
        worst = next((s for s in order if s in statuses), "complete")
        said[model]["partitions"] = scale(worst)
    monkey = open_workspace(project.root)
    for m in overview(monkey)["models"]:
        said[m["model"]]["ui"] = scale(m["readiness"])
    return said


def _agree(project) -> dict[str, str]:
    said = _views(project)
    for model, views in said.items():
        assert len(set(views.values())) == 1, f"{model}: {views}"
    return {model: next(iter(views.values())) for model, views in said.items()}


@pytest.fixture
def daily(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW)
    project.write("orchestrator.toml", CONFIG)
    for day in ("01", "02", "03"):
        project.write(f"data/events_2024-01-{day}.csv", f"id,d\n1,2024-01-{day}\n")
    project.model("s.daily", DAILY)
    project.model("s.total", "-- retries: 0\nselect count(*) as n from s.daily")
    assert project.cli("run", now=NOW).returncode == 0
    assert _agree(project) == {"s.daily": "complete", "s.total": "complete"}
    return project


def test_a_deleted_file_restored_unchanged_is_complete_everywhere(daily):
    path = daily.root / "data/events_2024-01-02.csv"
    kept = path.read_text()
    path.unlink()
    daily.cli("run", now=NOW)
    assert _agree(daily)["s.daily"] == "pending"  # waiting for it again
    path.write_text(kept)
    assert "nothing to do" in daily.cli("run", now=NOW).stdout
    assert _agree(daily) == {"s.daily": "complete", "s.total": "complete"}


def test_a_late_file_is_pending_everywhere_then_complete(daily, monkeypatch):
    later = "2024-01-05T06:00"
    monkeypatch.setattr(__import__(__name__), "NOW", later)  # every view judged at this time
    monkeypatch.setenv("ORCHESTRATOR_NOW", later)
    daily.cli("run", now=later)
    assert _agree(daily)["s.daily"] == "pending"  # the 4th has not arrived
    daily.write("data/events_2024-01-04.csv", "id,d\n1,2024-01-04\n")
    assert daily.cli("run", now=later).returncode == 0
    assert _agree(daily) == {"s.daily": "complete", "s.total": "complete"}


def test_a_failure_then_its_revert(daily):
    good = (daily.root / "models/s/total.sql").read_text()
    daily.model("s.total", "-- retries: 0\nselect count(*) as n from s.dailyy")
    assert daily.cli("run", now=NOW).returncode != 0
    daily.model("s.total", good)
    daily.cli("run", now=NOW)
    assert _agree(daily) == {"s.daily": "complete", "s.total": "complete"}


def test_a_failed_model_and_what_reads_it(daily):
    daily.model(
        "s.total",
        "-- retries: 0\n-- check: expression(n > 100)\nselect count(*) + 0 as n from s.daily",
    )
    daily.model("s.report", "-- retries: 0\nselect n from s.total")
    assert daily.cli("run", now=NOW).returncode == 1
    said = _agree(daily)
    assert said["s.total"] == "failed" and said["s.daily"] == "complete"
    assert said["s.report"] in ("blocked", "pending")


# -- published data that fails a blocking check (item 7) -----------------------------------


def test_published_data_failing_a_blocking_check_reads_as_failed_everywhere(daily):
    daily.write("orchestrator.toml", CONFIG + '\n[owners.default]\nlog = "alerts.jsonl"\n')
    # a check file added after the model was built, which its published data fails
    daily.write(
        "checks/one_per_day.sql",
        "-- model: s.daily\nselect d from s.daily where d = '2024-01-02'",
    )
    checked = daily.cli("check", now=NOW)
    assert checked.returncode == 1
    said = _agree(daily)
    assert said["s.daily"] == "failed"
    status = daily.cli("status", now=NOW).stdout
    # a check of the whole model judges every partition of it
    assert "3 check_failed (2024-01-01, 2024-01-02, 2024-01-03)" in status
    assert "last good data kept" not in status and "check one_per_day names" in status
    alerts = [json.loads(x) for x in (daily.root / "alerts.jsonl").read_text().splitlines()]
    assert [a["event"] for a in alerts] == ["check_failed"]
    assert "published data fails" in alerts[0]["text"]
    # checked again, still failing: no second alert for the same partition
    daily.cli("check", now=NOW)
    assert len((daily.root / "alerts.jsonl").read_text().splitlines()) == 1
    # what reads it is held back from being refreshed on top of it
    daily.model("s.total", "-- retries: 0\nselect count(*) + 1 as n from s.daily")
    plan = daily.cli("plan", now=NOW).stdout
    assert "s.total" in plan and "published data fails a blocking check" in plan
    assert daily.query("select n from s.total") == [(3,)]  # not rebuilt
    # the check fixed: a pass closes it and everything agrees again
    daily.write(
        "checks/one_per_day.sql", "-- model: s.daily\nselect d from s.daily where d is null"
    )
    assert daily.cli("check", now=NOW).returncode == 0
    assert daily.cli("run", now=NOW).returncode == 0
    assert _agree(daily) == {"s.daily": "complete", "s.total": "complete"}
    assert daily.query("select n from s.total") == [(4,)]
    events = [
        json.loads(x)["event"] for x in (daily.root / "alerts.jsonl").read_text().splitlines()
    ]
    assert events == ["check_failed", "recovered"]


def test_a_check_added_after_the_build_is_planned_then_run_on_the_published_data(daily):
    daily.write("orchestrator.toml", CONFIG + '\n[owners.default]\nlog = "alerts.jsonl"\n')
    daily.model(
        "s.daily", DAILY.replace("-- retries: 0", "-- retries: 0\n-- check: expression(id > 1)")
    )
    plan = daily.cli("plan", now=NOW)
    assert "never checked: s.daily's published data by expression(id > 1)" in plan.stdout
    run = daily.cli("run", now=NOW)
    assert "checked the published data of s.daily" in run.stderr
    said = _agree(daily)
    assert said["s.daily"] == "failed"
    assert "never checked" not in daily.cli("plan", now=NOW).stdout


def test_a_rebuild_held_by_one_late_day_says_so(daily):
    daily.model("s.daily", DAILY.replace("select id,", "select id + 1 as id,"))
    late = daily.root / "data/events_2024-01-02.csv"
    late.unlink()
    held = "rebuild of s.daily held by 2024-01-02 (waiting: source raw.events[2024-01-02]"
    plan = daily.cli("plan", now=NOW).stdout
    assert held in plan and "ways out: wait for what it names" in plan
    run = daily.cli("run", now=NOW)
    assert run.returncode == 0 and held in run.stdout
    status = daily.cli("status", now=NOW).stdout
    assert "3 waiting, rebuild held by 2024-01-02 (waiting: source raw.events" in status
    assert _agree(daily)["s.daily"] == "pending"
    assert daily.query("select min(id) from s.daily") == [(1,)]  # the last build kept
    # the other way out, as printed: publish the ready days now, the late one keeps waiting
    backfill = "orchestrator backfill s.daily --start 2024-01-01 --end 2024-01-04"
    assert f"or publish the ready partitions now: {backfill}" in plan
    assert f"to fix s.daily: wait, or publish the ready partitions now: {backfill}" in status
    out = daily.cli(*backfill.split()[1:], now=NOW)
    assert out.returncode == 0, out.stdout + out.stderr
    assert daily.query("select d, min(id) from s.daily group by d order by d") == [
        (date(2024, 1, 1), 2),
        (date(2024, 1, 2), 1),  # still its last build: its file is late
        (date(2024, 1, 3), 2),
    ]
    late.write_text("id,d\n1,2024-01-02\n")
    assert daily.cli("run", now=NOW).returncode == 0
    assert daily.query("select min(id) from s.daily") == [(2,)]
    assert _agree(daily) == {"s.daily": "complete", "s.total": "complete"}


# -- plan binds what it would run (item 2) ----------------------------------------------------


def test_plan_refuses_an_unknown_column_with_the_line_and_candidates(daily):
    daily.model("s.total", "-- retries: 0\nselect\n  count(idd) as n\nfrom s.daily")
    plan = daily.cli("plan", now=NOW)
    assert plan.returncode == 2
    assert plan.stderr.startswith("error: ") and "models/s/total.sql:3:" in plan.stderr
    assert 'Referenced column "idd" not found' in plan.stderr and '"id"' in plan.stderr


def test_plan_binds_a_reader_of_a_changed_model_only_in_the_run(daily):
    # the upstream gains a column its reader uses: the old table lacks it, the run builds it
    daily.model("s.daily", DAILY.replace("select id,", "select id, 1 as extra,"))
    daily.model("s.total", "-- retries: 0\nselect sum(extra) as n from s.daily")
    plan = daily.cli("plan", now=NOW)
    assert plan.returncode == 0, plan.stderr
    assert daily.cli("run", now=NOW).returncode == 0
    assert daily.query("select n from s.total") == [(3,)]
