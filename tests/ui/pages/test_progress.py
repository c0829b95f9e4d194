"""The run writing now as pages show it (`ui.pages.progress`): read from the side file of the
write lock alone, never the warehouse, and nothing once the run is gone."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from orchestrator.app.workspace import open_workspace
from orchestrator.engines.lock import WriteLock, lock_path
from orchestrator.ui.pages.progress import progress, running


def test_nobody_is_running_without_a_lock(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    ws = open_workspace(project.root)
    assert running(ws) is None
    found = progress(ws)
    assert found["running"] is None and found["as_of"].startswith("2024-01-05T06:")
    assert not project.warehouse.exists()  # asking opened nothing


def test_the_run_holding_the_lock_shows_its_progress_then_nothing_once_it_ends(project):
    ws = open_workspace(project.root)
    lock = WriteLock(project.warehouse).acquire("backfill", "ann")
    try:
        assert running(ws) == {
            "run_id": None,  # still planning
            "command": "backfill",
            "user": "ann",
            "started": lock.info["started"],
            "done": 0,
            "total": 0,
            "failed": 0,
            "latest": None,
        }
        lock.update(run_id=3, total=7, done=2, failed=1, latest="s.m 2024-01-02: failed")
        shown = progress(ws)["running"]
        assert (shown["run_id"], shown["done"], shown["total"], shown["failed"]) == (3, 2, 7, 1)
        assert shown["latest"] == "s.m 2024-01-02: failed"
        assert not project.warehouse.exists()  # read from the side file alone
    finally:
        lock.release()
    assert running(ws) is None


def test_a_lock_left_by_a_dead_process_is_no_run(project):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    holder = {"pid": gone.pid, "host": socket.gethostname(), "command": "run", "run_id": 4}
    lock_path(project.warehouse).write_text(json.dumps(holder))
    assert running(open_workspace(project.root)) is None
