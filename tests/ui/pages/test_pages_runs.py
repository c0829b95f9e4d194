"""The runs' pages (`ui.pages.runs`): the last runs, and one run with its tasks, what it held
back, and its attempts on a timeline with the worker threads as lanes (batches as one bar,
long lists capped to what is worth reading)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.state import TimedAttempt
from orchestrator.ui.pages import runs as run_pages
from orchestrator.ui.pages.runs import runs_page

NOW = "2024-01-05T06:00"
T0 = datetime(2024, 1, 5, 6)


def attempt(task, start, end, model="s.m", key=None, status="success"):
    at = T0 + timedelta(seconds=start)
    return TimedAttempt(
        task, model, key or f"k{task}", 1, status, "missing", at, T0 + timedelta(seconds=end), None
    )


def test_a_run_page_shows_its_tasks_on_a_timeline_and_what_it_held_back(estate):
    with serving(estate) as base:
        assert get(f"{base}/runs")[0] == 200
        status, run = get(f"{base}/api/runs/1")
        assert status == 200 and json.loads(run)["run"]["command"] == "run"
        timeline = json.loads(run)["timeline"]
        assert timeline["lanes"] >= 1 and len(timeline["bars"]) == 8  # 7 ran, 1 skipped
        assert {b["status"] for b in timeline["bars"]} == {
            "success",
            "failed",
            "check_failed",
            "skipped",
        }
        [skip] = [b for b in timeline["bars"] if b["status"] == "skipped"]
        assert skip["model"] == "s.after_broken" and "s.broken" in skip["reason"]
        assert all(0 <= b["start"] <= timeline["seconds"] for b in timeline["bars"])
        held = json.loads(run)["held"]
        assert [(h["model"], h["partition_key"], h["status"]) for h in held] == [
            ("s.daily", "2024-01-03", "waiting")
        ]
        assert get(f"{base}/runs/1")[0] == 200


def test_a_run_that_left_work_waiting_is_not_a_plain_success(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW)
    project.write(
        "orchestrator.toml",
        '[sources."raw.events"]\npath = "data/events_{date}.csv"\nread_by_partition = true\n',
    )
    for day in ("2024-01-01", "2024-01-02", "2024-01-04"):  # 2024-01-03 has not arrived
        project.write(f"data/events_{day}.csv", f"id,d\n1,{day}\n")
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select id, d::date as d from raw.events where d >= {{ start }} and d < {{ end }}
        """,
    )
    run = project.cli("run", now=NOW)
    assert run.returncode == 0 and "waiting" in run.stdout, run.stdout
    with serving(project) as base:
        _, runs = get(f"{base}/runs")
        _, one = get(f"{base}/runs/1")
    assert "success, 1 waiting" in runs
    assert "success, 1 waiting" in one


HOURLY = """
-- kind: incremental
-- partition_by: ts
-- grain: hour
-- start: 2024-01-01
-- end: 2024-03-03T12
-- batch_size: 500
select h as ts, 1 as n
from generate_series({{ start }}, {{ end }} - interval 1 hour, interval 1 hour) t(h)
"""


def test_batches_are_one_bar_and_a_long_task_list_is_capped(project, monkeypatch):
    """1,500 hourly partitions built in batches of 500: the run's timeline has one bar per
    batch, and its task list is capped."""
    project.model("s.hourly", HOURLY)
    assert project.cli("run", now="2024-03-10T00:00").returncode == 0
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-03-10T00:00")
    monkeypatch.setattr(run_pages, "RUN_ROWS", 100)
    with serving(project) as base:
        run = json.loads(get(f"{base}/api/runs/1")[1])
        bars = run["timeline"]["bars"]
        assert [(b["partition"], b["partitions"]) for b in bars] == [
            ("2024-01-01T00..2024-01-21T19", 500),
            ("2024-01-21T20..2024-02-11T15", 500),
            ("2024-02-11T16..2024-03-03T11", 500),
        ]
        assert run["tasks_total"] == 1500 and len(run["tasks"]) == 100
        assert "100 of 1,500 shown" in get(f"{base}/runs/1")[1]


def test_attempts_go_on_the_first_free_lane_as_a_thread_pool_takes_them():
    timeline = run_pages._lanes(
        [attempt(0, 0, 4), attempt(1, 0, 2), attempt(2, 2, 3), attempt(3, 4, 5)], T0
    )
    assert timeline["lanes"] == 2 and timeline["seconds"] == 5
    assert [(b["partition"], b["lane"]) for b in timeline["bars"]] == [
        ("k0", 0),
        ("k1", 1),
        ("k2", 1),
        ("k3", 0),
    ]


def test_attempts_of_one_statement_are_one_bar_and_others_are_not():
    same = [attempt(0, 0, 2, key="2024-01-02"), attempt(1, 0, 2, key="2024-01-01")]
    other = attempt(2, 0, 2, model="s.other", key="2024-01-01")
    failed = attempt(3, 0, 2, key="2024-01-03", status="failed")
    timeline = run_pages._lanes([*same, other, failed], T0)
    bars = timeline["bars"]
    assert [(b["model"], b["partition"], b["partitions"], b["status"]) for b in bars] == [
        ("s.m", "2024-01-01..2024-01-02", 2, "success"),
        ("s.other", "2024-01-01", 1, "success"),
        ("s.m", "2024-01-03", 1, "failed"),
    ]
    assert timeline["lanes"] == 3 and timeline["total"] == 3


def test_a_timeline_with_nothing_ran_is_empty():
    assert run_pages._lanes([], T0) == {"lanes": 0, "seconds": 1.0, "bars": [], "total": 0}


def test_a_capped_list_keeps_every_problem_then_the_slowest(monkeypatch):
    monkeypatch.setattr(run_pages, "RUN_ROWS", 3)
    items = [
        ("a", "success", 1.0),
        ("b", "failed", 0.1),
        ("c", "success", 9.0),
        ("d", "success", 5.0),
    ]
    kept = run_pages._most_telling(items, lambda i: i[1], lambda i: i[2])
    assert [i[0] for i in kept] == ["b", "c", "d"]  # in their order


def test_before_the_first_run_there_are_no_runs(project):
    project.model("s.m", "select 1 as x")
    assert runs_page(open_workspace(project.root)) == {"notes": [], "runs": []}
