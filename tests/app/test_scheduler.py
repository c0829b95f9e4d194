"""The scheduler through the real CLI: `schedule --once` runs exactly the due jobs, missed ticks
catch up by planning from state with a bound, arrivals trigger jobs, deadlines alert the owner
and the data stays unpublished, one job writes at a time, and the foreground loop stops cleanly."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from datetime import date

import pytest

from orchestrator.engines.lock import WriteLock

GENERATED = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
select {{ start }} as d, 1 as n
"""
"""A daily model with no inputs: always ready, so only the schedule decides."""

FROM_FILES = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
select id, d from raw.events where d >= {{ start }} and d < {{ end }}
"""

SOURCE = """
[sources."raw.events"]
path = "data/events_{date}.csv"
columns = { id = "BIGINT", d = "DATE" }
"""


def write_day(project, day: str) -> None:
    project.write(f"data/events_{day}.csv", f"id,d\n1,{day}\n2,{day}\n")


def days(project, model: str = "s.daily") -> list[date]:
    return [d for (d,) in project.query(f"select distinct d from {model} order by d")]


def ticks(project, job: str | None = None) -> list[tuple]:
    where = f"where job = '{job}'" if job else ""
    return project.query(
        f"select job, strftime(due_at, '%m-%d %H:%M'), trigger, outcome, run_id "
        f"from orchestrator.schedule_ticks {where} order by due_at, job"
    )


def test_once_runs_exactly_the_due_jobs(project):
    project.write(
        "orchestrator.toml",
        """
        [jobs.morning]
        select = "s.daily"
        cron = "0 6 * * *"
        catchup = "1h"

        [jobs.noon]
        select = "s.other"
        cron = "0 12 * * *"
        catchup = "1h"
        """,
    )
    project.model("s.daily", GENERATED)
    project.model("s.other", "select 1 as x")
    out = project.cli("schedule", "--once", now="2024-01-05T06:05")
    assert out.returncode == 0, out.stderr
    assert "morning  cron 2024-01-05 06:00  success (run 1)" in out.stdout
    assert "noon" not in out.stdout
    assert days(project)[-1] == date(2024, 1, 4)
    assert project.query("select arguments, who is not null from orchestrator.runs") == [
        ("--job morning (cron 2024-01-05 06:00)", True)
    ]
    assert project.query(
        "select count(*) from information_schema.tables where table_name = 'other'"
    ) == [(0,)]

    out = project.cli("schedule", "--once", now="2024-01-05T06:30")
    assert out.stdout.strip() == "schedule: nothing due"
    out = project.cli("schedule", "--once", now="2024-01-05T12:00")
    assert "noon  cron 2024-01-05 12:00  success (run 2)" in out.stdout
    assert ticks(project) == [
        ("morning", "01-05 06:00", "cron", "success", 1),
        ("noon", "01-05 12:00", "cron", "success", 2),
    ]
    assert project.scalar("select count(*) from orchestrator.runs") == 2


@pytest.mark.slow
def test_missed_ticks_catch_up_from_state_within_a_bound(project):
    project.write(
        "orchestrator.toml",
        """
        [jobs.hourly]
        select = "s.daily"
        cron = "0 * * * *"
        catchup = "3h"
        """,
    )
    project.model("s.daily", GENERATED)
    assert project.cli("schedule", "--once", now="2024-01-02T06:00").returncode == 0
    assert days(project) == [date(2024, 1, 1)]
    # down for three days: one run builds what is missing; the old ticks are only recorded
    out = project.cli("schedule", "--once", now="2024-01-05T06:30")
    assert out.returncode == 0, out.stderr
    assert days(project)[-1] == date(2024, 1, 4)
    outcomes = dict(
        project.query(
            "select outcome, count(*) from orchestrator.schedule_ticks "
            "where due_at > '2024-01-02 06:00' group by outcome"
        )
    )
    assert outcomes == {"missed": 69, "coalesced": 2, "success": 1}
    assert project.scalar("select count(*) from orchestrator.runs") == 2
    # a month away: at most 100 missed ticks are recorded, and still one run
    out = project.cli("schedule", "--once", now="2024-02-05T06:30")
    assert out.returncode == 0, out.stderr
    assert (
        project.scalar(
            "select count(*) from orchestrator.schedule_ticks "
            "where outcome = 'missed' and due_at > '2024-01-05 06:30'"
        )
        == 100
    )
    assert project.scalar("select count(*) from orchestrator.runs") == 3
    assert days(project)[-1] == date(2024, 2, 4)


def test_an_arrival_starts_the_job(project):
    project.write(
        "orchestrator.toml",
        SOURCE
        + """
        [jobs.on_events]
        select = "s.daily"
        on = "source:raw.events"
        """,
    )
    project.model("s.daily", FROM_FILES.replace("2024-01-01", "2024-01-01\n-- end: 2024-01-04"))
    write_day(project, "2024-01-01")
    write_day(project, "2024-01-02")
    out = project.cli("schedule", "--once", now="2024-01-05T06:00")
    assert out.stdout.strip() == "schedule: nothing due"  # what was there is the baseline
    write_day(project, "2024-01-03")
    out = project.cli("schedule", "--once", now="2024-01-05T06:01")
    assert out.returncode == 0, out.stderr
    assert "event 2024-01-05 06:01  success (run 1): raw.events[2024-01-03] arrived" in out.stdout
    assert days(project) == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    assert project.cli("schedule", "--once", now="2024-01-05T06:02").stdout.strip() == (
        "schedule: nothing due"
    )


@pytest.mark.slow
def test_a_late_source_misses_the_deadline_alerts_once_and_publishes_when_it_comes(project):
    project.write(
        "orchestrator.toml",
        SOURCE
        + """
        [jobs.daily_revenue]
        select = "s.daily"
        cron = "0 6 * * *"
        owner = "finance"
        deadline = "07:30"

        [owners.finance]
        log = "finance.jsonl"
        """,
    )
    project.model("s.daily", FROM_FILES)
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        write_day(project, day)
    out = project.cli("schedule", "--once", now="2024-01-05T06:05")
    assert out.returncode == 0, out.stderr  # waiting is not a failure
    assert "daily_revenue  cron 2024-01-05 06:00  waiting (run 1)" in out.stdout
    # still missing half an hour later: nothing became ready, so no new run is recorded
    out = project.cli("schedule", "--once", now="2024-01-05T06:35")
    assert out.stdout.strip() == "schedule: nothing due"
    assert project.scalar("select count(*) from orchestrator.runs") == 1

    out = project.cli("schedule", "--once", now="2024-01-05T07:31")
    assert out.returncode == 1
    assert "late: s.daily[2024-01-04] waiting: source raw.events[2024-01-04] has not arrived" in (
        out.stdout
    )
    alerts = [json.loads(x) for x in (project.root / "finance.jsonl").read_text().splitlines()]
    assert [a["event"] for a in alerts] == ["deadline_missed"]
    assert alerts[0]["subject"] == "daily_revenue" and alerts[0]["job"] == "daily_revenue"
    assert "missed its 07:30 UTC deadline" in alerts[0]["text"]
    assert alerts[0]["retry_command"] == "orchestrator run --job daily_revenue"
    assert days(project)[-1] == date(2024, 1, 3)  # the outputs stay unpublished
    assert project.cli("schedule", "--once", now="2024-01-05T07:45").returncode == 0  # told once
    assert len((project.root / "finance.jsonl").read_text().splitlines()) == 1

    write_day(project, "2024-01-04")
    out = project.cli("schedule", "--once", now="2024-01-05T08:00")
    assert out.returncode == 0, out.stderr
    assert "success (run 2): published after its 2024-01-05 07:30 deadline" in out.stdout
    assert days(project)[-1] == date(2024, 1, 4)
    alerts = [json.loads(x) for x in (project.root / "finance.jsonl").read_text().splitlines()]
    assert [a["event"] for a in alerts] == ["deadline_missed", "recovered"]
    assert project.query(
        "select outcome, deadline_missed_at is not null from orchestrator.schedule_ticks"
    ) == [("success", True)]


def test_run_job_by_hand_and_bad_job_names(project):
    project.write(
        "orchestrator.toml",
        """
        [jobs.daily_revenue]
        select = "s.daily"
        cron = "0 6 * * *"
        vars = { region = "eu" }
        """,
    )
    project.model("s.daily", GENERATED.replace("1 as n", "{{ var('region') }} as region"))
    out = project.cli("run", "--job", "daily_revenue")
    assert out.returncode == 0, out.stderr
    assert project.query("select distinct region from s.daily") == [("eu",)]
    assert project.query("select vars::varchar from orchestrator.runs") == [('{"region": "eu"}',)]
    out = project.cli("run", "--job", "daily_revenu")
    assert out.returncode == 2
    assert "no job named 'daily_revenu' (did you mean: daily_revenue?)" in out.stderr
    out = project.cli("run", "--job", "daily_revenue", "s.daily")
    assert out.returncode == 2 and "--job runs the job's own selection" in out.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[jobs.j]\nselect = "s.a"\ncron = "0 25 * * *"\n', "'25' is not a valid hour (0-23)"),
        ('[jobs.j]\nselect = "s.a"\ncron = "@daily"\ntimezone = "Mars/Base"\n', "Mars/Base"),
        ('[jobs.j]\nselect = "s.a"\ncron = "@daily"\nschedule = "x"\n', "unknown setting"),
        ('[jobs.j]\nselect = "s.a"\non = "source:raw.nope"\n', "a declared source"),
        ('[jobs.j]\nselect = "s.a"\n', 'needs cron = "..." or on = "source:..."'),
        ('[jobs.j]\nselect = "s.a"\ncron = "@daily"\ndeadline = "7h"\n', "a time of day"),
        ('[owners.o]\nwebhook = "ftp://x"\n', "webhook must be an http(s) URL"),
        ('[access]\nsuperuser = ["a"]\n', "unknown role 'superuser'"),
    ],
)
def test_bad_job_owner_and_access_settings_point_at_the_line(project, toml, message):
    project.write("orchestrator.toml", toml)
    project.model("s.a", "select 1 as x")
    out = project.cli("schedule", "--once")
    assert out.returncode == 2
    assert message in out.stderr and "orchestrator.toml" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not project.warehouse.exists()


def _start(project, now: str, *args: str) -> subprocess.Popen:
    """The CLI as a background process (unbuffered: a test reads its lines as they come)."""
    return project.cli_background(*args, now=now, env={"PYTHONUNBUFFERED": "1"})


def test_a_due_job_waits_for_the_running_writer(project):
    project.write("orchestrator.toml", '[jobs.j]\nselect = "s.daily"\ncron = "0 6 * * *"\n')
    project.model("s.daily", GENERATED)
    lock = WriteLock(project.warehouse).acquire("run", "someone else")
    try:
        proc = _start(project, "2024-01-05T06:05", "schedule", "--once")
        time.sleep(2)
        assert proc.poll() is None  # still waiting for the writer
    finally:
        lock.release()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "j  cron 2024-01-05 06:00  success (run 1)" in stdout


def _wait_for_the_baseline(project, seconds: float = 60) -> None:
    """Until the scheduler's first evaluation has recorded what had already arrived (a fixed
    sleep is too short on a loaded machine: the next file would count as already there)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if project.scalar("select count(*) from orchestrator.sensor_marks"):
                return
        except Exception:  # not created yet, or held by the scheduler for a moment
            pass
        time.sleep(0.1)
    raise AssertionError("the scheduler recorded no baseline")


def test_the_foreground_loop_reacts_to_an_arrival_and_stops_on_sigterm(project):
    project.write(
        "orchestrator.toml",
        SOURCE + '\n[jobs.on_events]\nselect = "s.daily"\non = "source:raw.events"\npoll = "1s"\n',
    )
    project.model("s.daily", FROM_FILES.replace("2024-01-01", "2024-01-01\n-- end: 2024-01-03"))
    write_day(project, "2024-01-01")
    proc = _start(project, "2024-01-05T06:00", "schedule", "--interval", "0.2")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        _wait_for_the_baseline(project)  # an arrival is what comes after it
        write_day(project, "2024-01-02")
        deadline = time.monotonic() + 60
        seen = ""
        while "success" not in seen and time.monotonic() < deadline:
            try:
                seen += lines.get(timeout=1)
            except queue.Empty:
                pass
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    errors = proc.stderr.read()
    assert "raw.events[2024-01-02] arrived" in seen and "success (run 1)" in seen, errors
    assert proc.returncode == 0, errors
    assert days(project) == [date(2024, 1, 1), date(2024, 1, 2)]


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (
            'select = "+reporting.dashbord"',
            "orchestrator.toml:2: job 'daily': select: no model matches 'reporting.dashbord' "
            "(did you mean: reporting.dashboard?)",
        ),
        (
            'select = "reporting.*"\nexclude = "tag:experimentl"',
            "orchestrator.toml:3: job 'daily': exclude: selector 'tag:experimentl' matches no "
            "model (did you mean: experimental?)",
        ),
        (
            'select = "tag:daily,reporting.*"',
            "orchestrator.toml:2: job 'daily': select: selector 'tag:daily,reporting.*' matches "
            "no model",
        ),
        (
            'select = "reporting.dashboard"\nexclude = "tag:experimental"',
            "orchestrator.toml:3: job 'daily' selects no model: exclude takes out every model",
        ),
    ],
)
def test_job_selectors_are_checked_when_the_project_loads(project, job, message):
    project.write("orchestrator.toml", f'[jobs.daily]\n{job}\ncron = "0 6 * * *"\n')
    project.model("s.daily", "-- tags: daily\nselect 1 as x")
    project.model("reporting.dashboard", "-- tags: experimental\nselect * from s.daily")
    for command in (["plan"], ["schedule", "--once"], ["status"], ["run", "s.daily"]):
        out = project.cli(*command, now="2024-01-05T06:05")
        assert out.returncode == 2, (command, out)
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not project.warehouse.exists()


def test_a_job_that_cannot_start_fails_alone_and_the_others_run(project):
    """A job whose run is refused before it starts (a var it lacks, a protected model its user
    may not write) is recorded failed for its tick; the other due jobs run; no tick is left
    pending, and the failed one does not loop."""
    project.write(
        "orchestrator.toml",
        """
        [jobs.broken]
        select = "s.regional"
        cron = "0 6 * * *"

        [jobs.guarded]
        select = "s.finance"
        cron = "0 6 * * *"

        [jobs.fine]
        select = "s.daily"
        cron = "0 6 * * *"

        [access]
        admin = ["alice"]
        operator = ["*"]

        [owners.default]
        log = "alerts.jsonl"
        """,
    )
    project.model("s.regional", "select {{ var('region') }} as region")
    project.model("s.finance", "-- protected: true\nselect 1 as x")
    project.model("s.daily", GENERATED)
    out = project.cli(
        "schedule", "--once", now="2024-01-05T06:05", env={"ORCHESTRATOR_USER": "bob"}
    )
    assert out.returncode == 1, out
    assert "fine  cron 2024-01-05 06:00  success (run 1)" in out.stdout
    assert "broken  cron 2024-01-05 06:00  failed: s.regional uses var('region')" in out.stdout
    assert "guarded  cron 2024-01-05 06:00  failed: " in out.stdout
    assert days(project)[-1] == date(2024, 1, 4)
    assert ticks(project) == [
        ("broken", "01-05 06:00", "cron", "failed", None),
        ("fine", "01-05 06:00", "cron", "success", 1),
        ("guarded", "01-05 06:00", "cron", "failed", None),
    ]
    # the owner hears that each refused job could not start, once
    sent = [json.loads(line) for line in (project.root / "alerts.jsonl").read_text().splitlines()]
    assert sorted(a["event"] for a in sent) == ["job_failed", "job_failed"]
    assert {a["subject"] for a in sent} == {"broken", "guarded"}
    again = project.cli(
        "schedule", "--once", now="2024-01-05T06:10", env={"ORCHESTRATOR_USER": "bob"}
    )
    assert again.returncode == 0 and again.stdout.strip() == "schedule: nothing due"


def test_a_model_that_does_not_parse_is_held_back_and_the_rest_runs_on_time(project):
    """Issue 20: `form` for `from` in one mart stopped everything (no alert, no deadline
    judged, no status). Now that model and what reads it are held back, with its file and
    line; the other models run; the owner hears it once; the deadline is judged."""
    project.write(
        "orchestrator.toml",
        SOURCE
        + """
        [jobs.daily]
        select = "s.daily s.other s.report"
        cron = "0 6 * * *"
        owner = "finance"
        deadline = "07:30"

        [owners.finance]
        log = "finance.jsonl"
        """,
    )
    project.model("s.daily", FROM_FILES)
    project.model("s.other", GENERATED)
    project.model("s.report", "-- owner: finance\nselect count(*) as n from s.daily")
    for day in ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"):
        write_day(project, day)
    assert project.cli("schedule", "--once", now="2024-01-05T06:05").returncode == 0
    broken = FROM_FILES.replace("from raw.events", "form raw.events").replace(
        "-- start", "-- owner: finance\n-- start"
    )
    project.model("s.daily", broken)
    write_day(project, "2024-01-05")

    out = project.cli("schedule", "--once", now="2024-01-06T07:45")
    assert out.returncode == 1, out.stderr
    assert "late:" in out.stdout or "failed" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr and "error:" not in out.stderr, out.stderr
    assert days(project, "s.other")[-1] == date(2024, 1, 5)  # the rest ran
    assert days(project)[-1] == date(2024, 1, 4)  # the broken one kept its last good data
    alerts = [json.loads(x) for x in (project.root / "finance.jsonl").read_text().splitlines()]
    events = [a["event"] for a in alerts]
    assert "model_broken" in events and "deadline_missed" in events, events
    told = next(a for a in alerts if a["event"] == "model_broken")
    assert told["subject"] == "s.daily"
    assert "models/s/daily.sql:5: SQL syntax error" in told["error"], told
    assert told["remedy"] == "fix models/s/daily.sql:5, then: orchestrator run s.daily+"
    ticks_missed = project.scalar(
        "select count(*) from orchestrator.schedule_ticks where deadline_missed_at is not null"
    )
    assert ticks_missed == 1

    # status, plan and runs work and show it; the readers wait, saying where
    status = project.cli("status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("s.daily "))
    assert "broken: models/s/daily.sql:5: SQL syntax error" in line
    assert "to fix s.daily: fix models/s/daily.sql:5, then: orchestrator run s.daily+" in (
        status.stdout
    )
    as_json = json.loads(project.cli("status", "--json").stdout)
    daily = next(m for m in as_json["models"] if m["model"] == "s.daily")
    assert daily["state"].startswith("broken: models/s/daily.sql:5")
    project.model("s.report", "-- owner: finance\nselect count(*) as rows_read from s.daily")
    plan = project.cli("plan")  # a reader to rebuild waits; one that is current stays so
    assert plan.returncode == 1
    assert "blocked: s.daily: broken: models/s/daily.sql:5: SQL syntax error" in plan.stdout
    assert "blocked: s.report: waits for s.daily: broken (models/s/daily.sql:5)" in plan.stdout
    assert project.cli("runs").returncode == 0

    # told once: the next evaluation does not repeat it
    project.cli("schedule", "--once", now="2024-01-06T08:00")
    again = (project.root / "finance.jsonl").read_text().splitlines()
    assert sum(json.loads(x)["event"] == "model_broken" for x in again) == 1

    # fixed: built, and the incident closes with a recovery
    project.model("s.daily", FROM_FILES)
    out = project.cli("run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert days(project)[-1] == date(2024, 1, 5)
    alerts = [json.loads(x) for x in (project.root / "finance.jsonl").read_text().splitlines()]
    assert any(
        a["event"] == "recovered" and a["subject"] == "s.daily" and "not loading" in a["text"]
        for a in alerts
    ), alerts
    assert "broken" not in project.cli("status").stdout


def test_a_broken_orchestrator_toml_stops_the_scheduler_and_tells_the_default_owner(project):
    config = """
        [jobs.j]
        select = "s.daily"
        cron = "0 6 * * *"

        [owners.default]
        log = "default.jsonl"
        """
    project.write("orchestrator.toml", config)
    project.model("s.daily", GENERATED)
    assert project.cli("schedule", "--once", now="2024-01-02T06:05").returncode == 0

    def told() -> list[dict]:
        path = project.root / "default.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    # a bad setting: the file still reads, so its own [owners.default] is used
    project.write("orchestrator.toml", config.replace('cron = "0 6 * * *"', 'cron = "0 6 * *"'))
    out = project.cli("schedule", "--once", now="2024-01-03T06:05")
    assert out.returncode == 2 and "orchestrator.toml:" in out.stderr, out.stderr
    assert [a["event"] for a in told()] == ["project_broken"]
    assert "orchestrator.toml" in told()[0]["error"] and "cron" in told()[0]["error"]
    project.cli("schedule", "--once", now="2024-01-03T06:10")
    assert len(told()) == 1  # the same error is told once

    # not TOML at all: the route the project had when it last loaded
    project.write("orchestrator.toml", "[jobs.j\nselect = ")
    out = project.cli("schedule", "--once", now="2024-01-03T06:15")
    assert out.returncode == 2
    assert [a["event"] for a in told()] == ["project_broken", "project_broken"]
    assert project.scalar("select count(*) from orchestrator.runs") == 1  # nothing ran

    project.write("orchestrator.toml", config)
    out = project.cli("schedule", "--once", now="2024-01-03T06:20")
    assert out.returncode == 0, out.stderr
    assert [a["event"] for a in told()] == ["project_broken", "project_broken", "recovered"]
    assert "loads again" in told()[-1]["text"]
