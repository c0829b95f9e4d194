"""One writer at a time: a second writer is told who holds the warehouse (or waits with --wait),
a lock left by a dead process is taken over, and readers never take the lock."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from orchestrator.engines.lock import WriteLock, lock_path, read_holder

SLOW = """
select (select count(*) from range({size}) r where hash(r.range) % 1000003 = 7) as n
"""


def start(project, *args):
    return project.cli_background(*args, now="2024-01-10T12:00")


def wait_for_holder(project, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = read_holder(project.warehouse)
        if holder and holder.get("run_id"):
            return holder
        time.sleep(0.05)
    raise AssertionError("the first run never took the lock")


@pytest.mark.slow
def test_second_writer_is_told_who_holds_the_warehouse_then_can_wait(project):
    project.model("s.slow", SLOW.format(size=1_500_000_000))
    first = start(project, "run")
    holder = wait_for_holder(project)
    second = project.cli("run")
    assert second.returncode == 3
    message = second.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"run {holder['run_id']}" in message and f"pid {first.pid}" in message
    assert socket.gethostname() in message and "since" in message and "--wait" in message
    for reader in (["status"], ["runs"], ["sql", "select 1"]):
        out = project.cli(*reader)
        assert f"pid {first.pid}" in out.stdout + out.stderr  # says who, never blocks
    waited = project.cli("run", "--wait", "120")
    assert first.wait(timeout=120) == 0
    assert waited.returncode == 0, waited.stderr
    assert "nothing to do" in waited.stdout
    assert read_holder(project.warehouse) is None  # released: nobody writes


def test_wait_gives_up_after_its_seconds(project):
    project.model("s.t", "select 1 as x")
    with WriteLock(project.warehouse).acquire("run", "someone-else"):
        t0 = time.monotonic()
        out = project.cli("run", "--wait", "1")
        assert out.returncode == 3 and "waited 1s" in out.stderr
        assert time.monotonic() - t0 >= 1
    assert project.cli("run").returncode == 0


def test_bare_wait_after_the_selectors_waits_as_long_as_it_takes(project):
    import threading

    project.model("s.t", "select 1 as x")
    lock = WriteLock(project.warehouse).acquire("run", "someone-else")
    threading.Timer(1.5, lock.release).start()
    t0 = time.monotonic()
    out = project.cli("run", "s.t", "--wait")
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - t0 >= 1.5
    assert project.cli("run", "--wait", "5", "s.t").returncode == 0  # SECONDS, then selectors


def test_lock_of_a_dead_process_is_taken_over(project):
    project.model("s.t", "select 1 as x")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    lock_path(project.warehouse).write_text(
        json.dumps(
            {
                "pid": int(dead),
                "host": socket.gethostname(),
                "run_id": 41,
                "command": "run",
                "started": "2024-01-10 03:00:00",
                "user": "ghost",
            }
        )
    )
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert "took over the lock left by a dead process (run 41" in out.stderr
    assert project.query("select x from s.t") == [(1,)]


def test_readers_do_not_take_the_lock(project):
    project.model("s.t", "select 1 as x")
    project.cli("run", check=True)
    with WriteLock(project.warehouse).acquire("run", "someone-else"):
        assert project.cli("sql", "select x from s.t").returncode == 0
        assert project.cli("status").returncode == 0
        assert project.cli("runs").returncode == 0
        assert project.cli("plan").returncode == 0


def test_killed_run_is_marked_abandoned_by_the_next_writer(project):
    project.model("s.slow", SLOW.format(size=3_000_000_000))
    first = start(project, "run")
    holder = wait_for_holder(project)
    first.kill()
    first.wait()
    project.model("s.slow", SLOW.format(size=10))
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert f"marked earlier run(s) {holder['run_id']} abandoned" in out.stderr
    assert project.query("select status from orchestrator.runs order by run_id") == [
        ("abandoned",),
        ("success",),
    ]


KNOB = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-05
select d, (select count(*) from range((select n from raw.knob)) r
           where hash(r.range + 1) % 1000003 = 7) as hits
from (select date '2024-01-01' + range::int as d from range(4))
where d >= {{ start }} and d < {{ end }}
"""


def test_killed_backfill_is_picked_up_by_the_retry_the_note_names(project):
    """A backfill rebuilds partitions that exist and are fresh: `run` has nothing to do for
    the ones a killed backfill did not get to, so the note names the command that does."""
    project.seed("create schema raw; create table raw.knob as select 10::bigint as n")
    project.model("s.part", KNOB)
    project.cli("run", check=True)
    project.seed("update raw.knob set n = 3000000000")  # every partition is slow now
    args = ("backfill", "s.part", "--start", "2024-01-01", "--end", "2024-01-05")
    first = start(project, *args, "--threads", "1")
    run_id = wait_for_holder(project)["run_id"]
    first.kill()
    first.wait()
    project.seed("update raw.knob set n = 20")
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert f"marked earlier run(s) {run_id} abandoned" in out.stderr
    assert f"`orchestrator retry --run {run_id}` reruns what run {run_id} left undone" in (
        out.stderr
    )
    assert "nothing to do" in out.stdout  # run does not pick the backfill's partitions up
    out = project.cli("retry", "--run", str(run_id))
    assert out.returncode == 0, out.stderr
    assert project.query(
        "select partition_key, status from orchestrator.task_runs where run_id = "
        "(select max(run_id) from orchestrator.runs) order by 1"
    ) == [(f"2024-01-0{d}", "success") for d in range(1, 5)]
