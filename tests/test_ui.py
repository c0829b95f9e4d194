"""The UI server on 127.0.0.1 against a real warehouse (issue 11, first step): every page and
its JSON answer, the states shown are the states of `status`, and a run holding the warehouse
never makes a page fail."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from conftest import SLOW_DAYS, serving

from orchestrator.lock import WriteLock
from orchestrator.ui import data

NOW = "2024-01-05T06:00"
HOLD = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(120)\n"
)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_every_page_answers_with_the_states_of_status(estate):
    with serving(estate) as base:
        status, overview = get(f"{base}/api/")
        assert status == 200
        shown = {m["model"]: m["readiness"] for m in json.loads(overview)["models"]}
        assert shown == {
            "s.after_broken": "blocked",
            "s.broken": "failed",
            "s.checked": "failed",
            "s.changing": "stale",
            "s.daily": "waiting",
            "s.good": "complete",
        }
        page = json.loads(overview)
        assert page["counts"]["failed"] == 2 and page["runs"][0]["run_id"] == 1
        assert {i["subject"] for i in page["incidents"]} == {"s.broken", "s.checked"}
        # problems first
        assert [m["model"] for m in page["models"]][:2] == ["s.broken", "s.checked"]

        status, html = get(f"{base}/")
        assert status == 200 and "Is today's data ready?" in html
        assert 'href="/models/s.broken"' in html and "s-failed" in html

        status, model = get(f"{base}/api/models/s.daily")
        cells = {c["partition"]: c["state"] for c in json.loads(model)["partitions"]}
        assert cells == {
            "2024-01-01": "complete",
            "2024-01-02": "complete",
            "2024-01-03": "waiting",
            "2024-01-04": "complete",
        }
        status, html = get(f"{base}/models/s.daily")
        assert status == 200 and 'data-state="waiting"' in html and ">W</span>" in html

        checked = json.loads(get(f"{base}/api/models/s.checked")[1])
        [result] = checked["checks"]
        assert result["status"] == "fail" and result["sample"] == [{"x": None}]
        assert result["failing_partitions"] == ["all"] and result["check"] == "not_null(x)"
        assert checked["commands"] == [
            "fix the rows check not_null(x) names (in what s.checked reads, or its SQL), "
            "then: orchestrator run +s.checked"
        ]
        assert "sample of failing rows" in get(f"{base}/models/s.checked")[1]

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
        sources = json.loads(get(f"{base}/api/sources")[1])["sources"]
        [events] = sources
        assert events["name"] == "raw.events" and events["readers"] == ["s.daily"]
        assert events["evaluations"][0]["status"] == "fresh"
        assert "Read by:" in get(f"{base}/sources")[1]
        alerts = json.loads(get(f"{base}/api/alerts")[1])
        assert alerts["alerts"][0]["event"] == "digest" and alerts["alerts"][0]["delivered"]
        assert {i["subject"] for i in alerts["incidents"]} == {"s.broken", "s.checked"}
        assert get(f"{base}/alerts")[0] == 200

        grid = json.loads(get(f"{base}/api/partitions?start=2024-01-01&end=2024-01-05")[1])
        [daily] = grid["models"]
        assert [(r["from"], r["to"], r["state"], r["count"]) for r in daily["ranges"]] == [
            ("2024-01-01", "2024-01-02", "complete", 2),
            ("2024-01-03", "2024-01-03", "waiting", 1),
            ("2024-01-04", "2024-01-04", "complete", 1),
        ]
        only = json.loads(get(f"{base}/api/partitions?state=failed")[1])
        assert only["models"] == []  # s.daily has no failed partition
        assert get(f"{base}/api/partitions?start=soon")[0] == 400
        assert 'data-state="waiting"' in get(f"{base}/partitions?start=2024-01-01")[1]

        lineage = json.loads(get(f"{base}/api/lineage")[1])
        assert {n["id"]: n["state"] for n in lineage["nodes"]} == {
            **shown,
            "raw.events": "source",
            "main.nowhere": "source",
        }
        assert ["raw.events", "s.daily"] in lineage["edges"]
        near = json.loads(get(f"{base}/api/lineage?focus=s.daily&hops=1")[1])
        assert {n["id"] for n in near["nodes"]} == {"s.daily", "raw.events"}
        assert get(f"{base}/api/lineage?focus=s.nope")[0] == 400
        assert get(f"{base}/api/lineage?hops=many")[0] == 400

        why = json.loads(get(f"{base}/api/models/s.daily/why/2024-01-03")[1])
        assert why["cell"]["state"] == "waiting" and why["built"] is None
        assert why["sources"] == [
            {"source": "raw.events", "status": "fresh", "detail": "last loaded 0s ago"}
        ]
        assert "DATE '2024-01-03'" in why["sql"]
        broken = json.loads(get(f"{base}/api/models/s.broken/why/all")[1])
        assert broken["error"].startswith("CatalogException") and "nowhere" in broken["error"]
        stale = json.loads(get(f"{base}/api/models/s.changing/why/all")[1])
        assert stale["changed"][0].startswith("its SQL or settings changed")
        checked = json.loads(get(f"{base}/api/models/s.checked/why/all")[1])
        assert checked["checks"][0]["sample"] == [{"x": None}]
        html = get(f"{base}/models/s.daily")[1]
        assert 'href="/models/s.daily/why/2024-01-03"' in html
        assert (
            "What changed since its last good build"
            in get(f"{base}/models/s.daily/why/2024-01-03")[1]
        )
        assert get(f"{base}/models/nope")[0] == 404
        assert get(f"{base}/static/ui.css")[0] == 200
        assert get(f"{base}/static/../server.py")[0] == 404


def test_a_run_holding_the_warehouse_never_makes_a_page_fail(estate):
    lock = WriteLock(estate.warehouse).acquire("run", "someone-else")
    lock.update(run_id=2, total=7, done=3, failed=1, latest="s.daily 2024-01-03: failed")
    # a writer is another process: DuckDB locks the file against other processes only
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(estate.warehouse)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "holding"
    try:
        with serving(estate) as base:
            for path in ("/", "/models/s.daily", "/runs", "/runs/1", "/api/"):
                status, body = get(base + path)
                assert status == 200, (path, body[:300])
            page = json.loads(get(f"{base}/api/")[1])
            assert page["running"]["command"] == "run"
            assert "before that run" in page["notes"][0]
            for path in ("/", "/runs", "/models/s.daily"):  # every page shows the progress
                html = get(base + path)[1]
                assert "Run 2" in html and "is writing: 3/7 tasks done, 1 failed" in html
                assert "Latest: s.daily 2024-01-03: failed" in html
    finally:
        holder.kill()
        holder.wait()
        lock.release()


def test_a_run_started_while_the_ui_is_polled_succeeds_and_shows_progress_then_result(project):
    """Pages and the progress endpoint polled without pause from before a run starts to after
    it ends: the run is never in their way, every answer is a page, and they show the run's
    progress (from the lock's side file) and then its result."""
    project.seed("create schema raw; create table raw.knob as select 10::bigint as n")
    project.model("s.days", SLOW_DAYS)
    project.cli("run", check=True)  # a state copy exists from here on
    project.seed("update raw.knob set n = 150000000")  # about a second a partition
    answers: list[tuple[str, int, str]] = []
    stop = threading.Event()
    with serving(project) as base:

        def poll():
            while not stop.is_set():
                for path in ("/api/progress", "/api/", "/", "/api/runs", "/models/s.days"):
                    answers.append((path, *get(base + path)))

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            time.sleep(0.5)
            run = project.cli_background(
                "backfill",
                "s.days",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-07",
                "--threads",
                "1",
            )
            out, err = run.communicate(timeout=300)
        finally:
            stop.set()
            poller.join()
        assert run.returncode == 0, err
        assert [a for a in answers if a[1] != 200] == []
        during = [
            json.loads(body)["running"] for path, _, body in answers if path == "/api/progress"
        ]
        during = [r for r in during if r]
        assert during, "the progress endpoint never saw the run"
        assert {r["run_id"] for r in during} <= {None, 2} and during[-1][
            "total"
        ] == 6  # None: planning
        assert max(r["done"] for r in during) >= 1 and during[-1]["latest"].startswith("s.days")
        assert any(
            "is writing" in body and "tasks done" in body for p, _, body in answers if p == "/"
        )
        assert any(
            "before that run" in " ".join(json.loads(b)["notes"])
            for p, _, b in answers
            if p == "/api/"
        )
        after = json.loads(get(f"{base}/api/")[1])
        assert after["running"] is None and after["notes"] == []
        assert after["runs"][0]["run_id"] == 2 and after["runs"][0]["status"] == "success"
        assert json.loads(get(f"{base}/api/progress")[1])["running"] is None


def test_a_fresh_project_says_what_to_do_next(project):
    with serving(project) as base:
        status, html = get(f"{base}/")
        assert status == 200 and "No models yet" in html


def test_the_ui_command_serves_and_a_bad_port_is_one_line(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("ui", "--port", "70000")
    assert out.returncode == 2 and "70000" in out.stderr


def test_readiness_follows_the_labels_of_status():
    assert data.readiness("1 failed (all), last good data kept") == "failed"
    assert data.readiness("9 missing") == "missing"
    assert data.readiness("2 stale") == "stale"


def test_the_report_is_one_file_with_every_model_and_nothing_outside(estate, tmp_path):
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    out = estate.cli("report", "-o", str(target), now="2024-01-05T06:00")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"wrote {target} (") and "6 models" in out.stdout
    html = target.read_text()
    for name in ("s.after_broken", "s.broken", "s.checked", "s.daily", "s.changing", "s.good"):
        assert f'id="model-{name}"' in html and f'href="#model-{name}"' in html
    assert 'data-state="waiting"' in html and '<table class="sample">' in html
    assert 'id="lineage"' in html and "lineageLayout" in html and "new Worker" in html
    for outside in ('src="http', 'href="http', 'href="/', "@import", "url("):
        assert outside not in html, outside
    bad = estate.cli("report", "-o", str(tmp_path / "missing" / "r.html"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot write ")


def test_attempts_go_on_the_first_free_lane_as_a_thread_pool_takes_them():
    from datetime import datetime, timedelta

    from orchestrator.state import TimedAttempt

    t0 = datetime(2024, 1, 5, 6)

    def attempt(task, start, end):
        at = t0 + timedelta(seconds=start)
        return TimedAttempt(
            task, "s.m", f"k{task}", 1, "success", "missing", at, t0 + timedelta(seconds=end), None
        )

    timeline = data._lanes(
        [attempt(0, 0, 4), attempt(1, 0, 2), attempt(2, 2, 3), attempt(3, 4, 5)], t0
    )
    assert timeline["lanes"] == 2 and timeline["seconds"] == 5
    assert [(b["partition"], b["lane"]) for b in timeline["bars"]] == [
        ("k0", 0),
        ("k1", 1),
        ("k2", 1),
        ("k3", 0),
    ]


def test_a_checks_history_outlives_the_build_that_fixed_it(estate):
    """The model page keeps each check's result run by run: fixing the data makes the latest
    result pass, and the failure before it is still there, linked to its run."""
    estate.model("s.checked", "-- check: not_null(x)\nselect 1::int as x")
    assert estate.cli("run", "s.checked", now=NOW).returncode == 0
    with serving(estate) as base:
        [check] = json.loads(get(f"{base}/api/models/s.checked")[1])["checks"]
        assert check["status"] == "pass" and check["run_id"] == 2
        assert [(h["run_id"], h["status"], h["failing_rows"]) for h in check["history"]] == [
            (1, "fail", 1),
            (2, "pass", 0),
        ]
        html = get(f"{base}/models/s.checked")[1]
        assert 'class="tick t-fail" href="/runs/1"' in html
        assert 'class="tick t-pass" href="/runs/2"' in html


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


def test_long_histories_come_as_ranges_and_batches_as_one_bar(project, monkeypatch):
    """1,500 hourly partitions built in batches of 500: the model page draws the latest
    GRID_CELLS cells and the whole history as ranges; the partitions page cuts a range at its
    hours exactly; the run's timeline has one bar per batch, and its task list is capped."""
    project.model("s.hourly", HOURLY)
    assert project.cli("run", now="2024-03-10T00:00").returncode == 0
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-03-10T00:00")
    monkeypatch.setattr(data, "RUN_ROWS", 100)
    with serving(project) as base:
        page = json.loads(get(f"{base}/api/models/s.hourly")[1])
        assert page["partitions_total"] == 1500 and len(page["partitions"]) == data.GRID_CELLS
        assert page["partitions"][-1]["partition"] == "2024-03-03T11"
        assert page["partition_ranges"] == [
            {
                "from": "2024-01-01T00",
                "to": "2024-03-03T11",
                "state": "complete",
                "count": 1500,
                "letter": "C",
            }
        ]
        assert "All 1,500 partitions" in get(f"{base}/models/s.hourly")[1]

        def hours(start: str, end: str) -> int:
            found = json.loads(get(f"{base}/api/partitions?start={start}&end={end}")[1])
            return found["models"][0]["counts"]["complete"]

        assert hours("2024-01-01T05", "2024-01-01T10") == 5  # 05 to 09
        assert hours("2024-01-01T05:30", "2024-01-01T10:30") == 6  # 05 to 10: both overlap
        assert hours("2023-12-01", "2024-01-01T01") == 1
        assert hours("2024-03-03T11", "2024-04-01") == 1

        run = json.loads(get(f"{base}/api/runs/1")[1])
        bars = run["timeline"]["bars"]
        assert [(b["partition"], b["partitions"]) for b in bars] == [
            ("2024-01-01T00..2024-01-21T19", 500),
            ("2024-01-21T20..2024-02-11T15", 500),
            ("2024-02-11T16..2024-03-03T11", 500),
        ]
        assert run["tasks_total"] == 1500 and len(run["tasks"]) == 100
        assert "100 of 1,500 shown" in get(f"{base}/runs/1")[1]


def test_a_capped_list_keeps_every_problem_then_the_slowest(monkeypatch):
    monkeypatch.setattr(data, "RUN_ROWS", 3)
    items = [
        ("a", "success", 1.0),
        ("b", "failed", 0.1),
        ("c", "success", 9.0),
        ("d", "success", 5.0),
    ]
    kept = data._most_telling(items, lambda i: i[1], lambda i: i[2])
    assert [i[0] for i in kept] == ["b", "c", "d"]  # in their order


def test_pages_follow_the_project_and_the_state_as_they_change(project):
    """Pages are remembered for a state of the world: an edit to a model, a new run, and the
    page shows it (within the second the server waits between looks at the files)."""
    project.model("s.m", "-- owner: ann\nselect 1 as x")
    with serving(project) as base:
        assert json.loads(get(f"{base}/api/models/s.m")[1])["model"]["owner"] == "ann"
        assert json.loads(get(f"{base}/api/")[1])["models"][0]["readiness"] == "missing"
        project.model("s.m", "-- owner: bob\nselect 1 as x")
        time.sleep(1.1)
        assert json.loads(get(f"{base}/api/models/s.m")[1])["model"]["owner"] == "bob"
        assert project.cli("run").returncode == 0
        page = json.loads(get(f"{base}/api/")[1])
        assert page["models"][0]["readiness"] == "complete" and page["runs"][0]["run_id"] == 1


def test_the_sources_page_lists_arrivals_per_window_with_the_gaps(estate):
    with serving(estate) as base:
        [source] = json.loads(get(f"{base}/api/sources")[1])["sources"]
        arrivals = [(a["period"], a["files"], a["missing"]) for a in source["arrivals"]]
        assert arrivals == [
            ("2024-01-04", 1, False),
            ("2024-01-03", 0, True),  # the late day
            ("2024-01-02", 1, False),
            ("2024-01-01", 1, False),
        ]
        assert source["arrivals"][0]["bytes"] > 0 and source["arrivals"][0]["arrived"]
        assert "not arrived" in get(f"{base}/sources")[1]


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


def test_the_overview_forgets_a_source_that_was_removed(project, monkeypatch):
    from orchestrator.workspace import open_workspace

    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW)
    project.write("orchestrator.toml", '[sources."raw.events"]\npath = "data/events.csv"\n')
    project.write("data/events.csv", "id\n1\n")
    project.model("s.m", "select id from raw.events")
    project.model("s.other", "select 1 as x")
    assert project.cli("run", now=NOW).returncode == 0
    names = [s["source"] for s in data.overview(open_workspace(project.root))["sources"]]
    assert names == ["raw.events"]
    project.write("orchestrator.toml", "")
    (project.root / "models/s/m.sql").unlink()
    assert project.cli("prune", "--yes", now=NOW).returncode == 0
    assert data.overview(open_workspace(project.root))["sources"] == []
