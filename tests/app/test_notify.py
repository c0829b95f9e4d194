"""Incidents and alerts that follow the state (issue 10, items 3-6): a failure that is no longer
current heals whichever command made it so; news is per subject, cause and partition; one
message per owner per run; undelivered alerts are said so and tried again; removed models are
pruned and their incidents close."""

from __future__ import annotations

import json
import os

NOW = "2026-11-04T06:00"


def _log(project) -> list[dict]:
    path = project.root / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _owner_log(project, extra: str = "") -> None:
    project.write(
        "orchestrator.toml",
        f"""
        [owners.default]
        log = "alerts.jsonl"
        {extra}
        """,
    )


def test_a_failure_reverted_to_the_last_good_sql_heals_without_a_rebuild(project):
    """3a: the published build is current again: not failed, incident closed, recovered."""
    _owner_log(project)
    good = "select 1 as id\n"
    project.model("s.m", good)
    assert project.cli("run").returncode == 0
    project.model("s.m", "select 1 as id from nowhere\n")
    assert project.cli("run").returncode == 1
    assert "1 failed, last good data kept" in project.cli("status").stdout

    project.model("s.m", good)
    out = project.cli("run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "nothing to do" in out.stdout
    assert "up to date" in project.cli("status").stdout
    assert project.scalar("select status from orchestrator.partitions") == "success"
    assert [a["event"] for a in _log(project)] == ["task_failed", "recovered"]
    assert project.query("select closed_run, closed_how from orchestrator.incidents") == [
        (3, "recovered")
    ]
    assert "alert -> default: s.m recovered" in out.stderr


def _backfilled_orders(project) -> None:
    _owner_log(
        project,
        """
        [sources."raw.orders"]
        path = "data/orders_{date}.csv"
        read_by_partition = true
        """,
    )
    for day, rows in (("01", 3), ("02", 1), ("03", 3)):
        project.write(
            f"data/orders_2026-11-{day}.csv",
            "id,day\n" + "".join(f"{i},2026-11-{day}\n" for i in range(rows)),
        )
    project.model(
        "s.orders",
        """
        -- kind: incremental
        -- partition_by: day
        -- check: row_count(min=2)
        select id, day::date as day from raw.orders where day >= {{ start }} and day < {{ end }}
        """,
    )
    out = project.cli(
        "backfill", "s.orders", "--start", "2026-11-01", "--end", "2026-11-03", now=NOW
    )
    assert out.returncode == 1, out.stdout + out.stderr


def test_a_fixed_file_of_a_failed_backfill_day_is_offered_and_rebuilt_by_run(project):
    """3b: the model has no start, so `run` keeps only built days; the day that failed its
    check is tried again once its file changed, and its incident closes."""
    _backfilled_orders(project)
    assert "nothing to do" in project.cli("plan", now=NOW).stdout  # nothing changed: no loop
    path = project.root / "data/orders_2026-11-02.csv"
    path.write_text(path.read_text() + "7,2026-11-02\n")
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 2_000_000_000))

    plan = project.cli("plan", now=NOW).stdout
    assert "retry (source changed since it failed: orders_2026-11-02.csv)" in plan, plan
    out = project.cli("run", now=NOW)
    assert out.returncode == 0, out.stdout + out.stderr
    # --end is exclusive: 11-01 (3 rows) and the fixed 11-02 (2 rows)
    assert project.scalar("select count(*) from s.orders") == 5
    assert [a["event"] for a in _log(project)] == ["check_failed", "recovered"]
    assert "nothing to do" in project.cli("plan", now=NOW).stdout


def test_bare_retry_finds_the_latest_run_that_left_work_undone(project):
    """3b: a later run with nothing to do does not hide the backfill that failed."""
    _backfilled_orders(project)
    assert project.cli("run", now=NOW).returncode == 0  # run 2: nothing to do
    out = project.cli("retry", now=NOW)
    assert "left nothing to retry" not in out.stdout + out.stderr
    assert project.query(
        "select partition_key, status from orchestrator.task_runs where run_id = 3"
    ) == [("2026-11-02", "check_failed")]


def test_a_new_partition_failing_is_news_while_an_incident_is_open(project):
    """4: the incident of 11-02's failed check does not hide 11-05's."""
    _owner_log(project)
    project.model(
        "s.events",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2026-11-01
        -- check: unique(id)
        select day({{ start }}) as id, {{ start }} as d
        union all select day({{ start }}), {{ start }}
        where {{ start }} in ('2026-11-02', '2026-11-05')
        """,
    )
    assert project.cli("run", now="2026-11-04T06:00").returncode == 1
    assert project.cli("run", now="2026-11-04T07:00").returncode == 1  # same failure: quiet
    assert project.cli("run", now="2026-11-06T06:00").returncode == 1
    events = [(a["event"], a["partitions"]) for a in _log(project)]
    assert events == [("check_failed", ["2026-11-02"]), ("check_failed", ["2026-11-05"])]
    assert project.query(
        "select cause, partitions from orchestrator.incidents order by opened_at"
    ) == [("check unique(id)", ["2026-11-02"]), ("check unique(id)", ["2026-11-05"])]


def test_one_message_per_owner_per_run_is_a_digest(project):
    """4: three blocked sources of one owner make one message, and so do their recoveries."""
    sources = "".join(
        f"""
        [sources."raw.s{i}"]
        path = "data/s{i}.csv"
        columns = {{ id = "BIGINT" }}
        owner = "ops"
        """
        for i in range(3)
    )
    project.write(
        "orchestrator.toml",
        f"""
        [owners.ops]
        log = "alerts.jsonl"
        {sources}
        """,
    )
    for i in range(3):
        project.write(f"data/s{i}.csv", "other\n1\n")
        project.model(f"s.m{i}", f"select id from raw.s{i}\n")
    out = project.cli("run")
    assert out.returncode == 1
    [digest] = _log(project)
    assert digest["event"] == "digest" and len(digest["events"]) == 3
    assert digest["text"].startswith(":bell: 3 alerts (run 1)")
    assert out.stderr.count("alert -> ops") == 1
    assert project.scalar("select count(*) from orchestrator.alerts") == 1
    assert project.scalar("select count(distinct alert_id) from orchestrator.incidents") == 1

    for i in range(3):
        project.write(f"data/s{i}.csv", "id\n1\n")
    assert project.cli("run").returncode == 0
    recovered = _log(project)[1]
    assert recovered["event"] == "digest"
    assert [e["event"] for e in recovered["events"]] == ["recovered"] * 3


def test_an_undelivered_alert_is_said_so_and_tried_again_until_delivered(project, webhook):
    """5: the console does not call it sent; the next run sends it while the incident is
    open; a project with no route says so in plan and status."""
    project.model("s.m", "select 1 as id from nowhere\n")
    out = project.cli("run")
    assert "alert NOT delivered: s.m failed on all (no owner to route to" in out.stderr
    assert "alert ->" not in out.stderr
    note = "have no route: add [owners.default]"
    assert note in project.cli("plan").stderr and note in project.cli("status").stderr

    project.write(
        "orchestrator.toml",
        f"""
        [owners.default]
        webhook = "{webhook.url}"
        """,
    )
    webhook.status = 500
    out = project.cli("run", now="2024-01-10T12:05")
    assert "alert NOT delivered -> default: s.m failed on all (run 1) (sent again)" in out.stderr
    assert "HTTP Error 500" in out.stderr and "sent again" in out.stderr
    assert note not in project.cli("plan").stderr

    webhook.status = 200
    out = project.cli("run", now="2024-01-10T12:30")  # the backoff is over
    assert "alert -> default: s.m failed on all (run 1) (sent again)" in out.stderr
    assert webhook.bodies[-1]["event"] == "task_failed"
    assert project.query("select delivered, next_try_at from orchestrator.alerts") == [(True, None)]
    out = project.cli("run", now="2024-01-10T13:00")
    assert "alert" not in out.stderr  # delivered once: nothing more to send


def test_prune_drops_removed_models_and_closes_their_incidents(project):
    """6: status lists what no model builds any more; prune drops it, recorded."""
    _owner_log(project)
    project.model("s.keep", "select 1 as id\n")
    project.model("s.old", "select 1 as id from nowhere\n")
    project.model("s.older", "select 1 as id\n")
    project.model("s.view", "-- kind: view\nselect 1 as id\n")
    assert project.cli("run").returncode == 1
    for name in ("old", "older", "view"):
        (project.root / f"models/s/{name}.sql").unlink()

    status = project.cli("status").stdout
    assert "no longer in the project: s.old (gone), s.older (table), s.view (view)" in status
    dry = project.cli("prune")
    assert dry.returncode == 0 and "would drop s.older (table)" in dry.stdout
    assert (
        project.scalar("select count(*) from information_schema.tables where table_name = 'older'")
        == 1
    )

    out = project.cli("prune", "--yes")
    assert out.returncode == 0, out.stderr
    assert "dropped s.older (table)" in out.stdout and "dropped s.view (view)" in out.stdout
    assert project.query(
        "select table_name from information_schema.tables where table_schema = 's'"
    ) == [("keep",)]
    assert project.query("select distinct model from orchestrator.partitions") == [("s.keep",)]
    assert project.query("select subject, closed_how from orchestrator.incidents") == [
        ("s.old", "removed")
    ]
    assert project.query(
        "select command, status from orchestrator.runs order by run_id desc limit 1"
    ) == [("prune", "success")]
    assert "no longer in the project" not in project.cli("status").stdout
    assert "nothing to drop" in project.cli("prune", "--yes").stdout
