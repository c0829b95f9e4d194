"""The UI's HTTP server (`ui.server`) on 127.0.0.1 against a real warehouse: its routes (a page
and its JSON), 404s and 400s, that serving never writes, that a run holding the warehouse never
makes a page fail, and that pages follow the project and the state as they change. What each
page holds is tested beside its module, in tests/ui/pages/."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from conftest import SLOW_DAYS, get, serving

from orchestrator.core.errors import UsageError
from orchestrator.engines.lock import WriteLock
from orchestrator.ui import server
from orchestrator.ui.pages.memo import Remembered

HOLD = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(120)\n"
)


def test_every_page_and_its_json_answer_and_what_is_not_there_is_a_404(estate):
    with serving(estate) as base:
        for path in (
            "/",
            "/models/s.daily",
            "/models/s.daily/why/2024-01-03",
            "/runs",
            "/runs/1",
            "/sources",
            "/partitions",
            "/alerts",
            "/lineage",
        ):
            status, html = get(base + path)
            assert status == 200 and html.lstrip().lower().startswith("<!doctype html"), path
            status, body = get(base + "/api" + path)
            assert status == 200 and json.loads(body)["version"] == 1, path
        assert get(f"{base}/models/nope") == (404, "no such model")
        assert get(f"{base}/api/models/nope") == (404, "no such model")
        assert get(f"{base}/models/nope/why/all") == (404, "no such model")
        for path in ("/nope", "/api/nope", "/runs/x", "/models/a/b", "/static/nope.css"):
            assert get(base + path) == (404, "not found"), path
        assert get(f"{base}/static/ui.css")[0] == 200
        assert get(f"{base}/static/../server.py")[0] == 404


def test_a_bad_parameter_is_a_400_that_says_what_is_wrong(estate):
    with serving(estate) as base:
        status, body = get(f"{base}/api/lineage?hops=21")
        assert status == 400
        assert json.loads(body) == {
            "version": 1,
            "error": "hops must be a whole number from 0 to 20, got '21'",
        }
        status, html = get(f"{base}/lineage?focus=s.nope")
        assert status == 400 and "no model named &#39;s.nope&#39;" in html


def test_serving_every_page_writes_nothing(estate):
    before = estate.files()
    with serving(estate) as base:
        for path in ("/", "/api/", "/models/s.daily", "/runs/1", "/sources", "/partitions"):
            assert get(base + path)[0] == 200
        progress = json.loads(get(f"{base}/api/progress")[1])
        assert progress["version"] == 1 and progress["running"] is None
        assert progress["as_of"].startswith("2024-01-05T06:")
    assert estate.files() == before


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


def test_the_ui_command_serves_and_a_bad_port_is_one_line(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("ui", "--port", "70000")
    assert out.returncode == 2 and "70000" in out.stderr


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


def test_hops_are_a_whole_number_from_0_to_20():
    assert (server._hops(None), server._hops("0"), server._hops("20")) == (2, 0, 20)
    for bad in ("21", "-1", "two"):
        with pytest.raises(UsageError, match="hops must be a whole number from 0 to 20"):
            server._hops(bad)


def test_links_point_at_the_servers_paths():
    assert server._path("model", "s.m") == "/models/s.m"
    assert server._path("model", "s.m/why/2024-01-02") == "/models/s.m/why/2024-01-02"
    assert server._path("run", 3) == "/runs/3"
    assert (server._path("partitions", None), server._path("lineage", None)) == (
        "/partitions",
        "/lineage",
    )


def test_a_pages_json_has_the_run_of_the_moment_in_front():
    page = Remembered({"notes": [], "running": {"run_id": 1}, "models": ["s.m"]})
    assert json.loads(server._json(page, {"run_id": 2})) == {
        "version": 1,
        "running": {"run_id": 2},
        "notes": [],
        "models": ["s.m"],
    }
    assert json.loads(server._json(Remembered({"runs": []}), {"run_id": 2})) == {
        "version": 1,
        "runs": [],
    }


def test_the_project_is_loaded_again_only_when_one_of_its_files_changed(project):
    project.model("s.m", "-- owner: ann\nselect 1 as x")
    loaded = server.Project(project.root, None)
    first = loaded.get()
    assert loaded.get() is first  # within the second between looks: not even looked at
    loaded.CHECK_EVERY = 0
    assert loaded.get() is first  # looked at: nothing changed
    project.model("s.m", "-- owner: bob\nselect 1 as x")
    time.sleep(0.01)
    assert loaded.get().dag.models["s.m"].owner == "bob"
