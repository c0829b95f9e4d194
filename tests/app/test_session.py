"""The writer session: recorded_run records who/host/pid and a final status, also when its
body raises; writing takes the lock file and creates the state schema."""

from __future__ import annotations

import os
import socket

import pytest

from orchestrator.app.session import recorded_run, writing
from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import RunStopped


@pytest.fixture
def ws(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_USER", "ana")
    project.model("s.m", "select 1 as x")
    return open_workspace(project.root)


RUN_ROW = "select command, arguments, who, host, pid, status, tasks, error from orchestrator.runs"


def test_recorded_run_finishes_with_the_status_the_body_gave(ws, project):
    with writing(ws, "test") as (con, _lock, _):
        with recorded_run(con, "check", "a b", {"v": "1"}) as recording:
            assert recording.run_id == 1
            recording.finish("failed", {"tasks": 3})
    assert project.query(RUN_ROW) == [
        ("check", "a b", "ana", socket.gethostname(), os.getpid(), "failed", 3, None)
    ]
    assert project.scalar("select vars from orchestrator.runs") == '{"v": "1"}'


def test_recorded_run_records_failed_when_the_body_raises(ws, project):
    with writing(ws, "test") as (con, _lock, _), pytest.raises(ValueError, match="boom"):
        with recorded_run(con, "freshness", "", {}):
            raise ValueError("boom")
    assert project.query(RUN_ROW) == [
        ("freshness", "", "ana", socket.gethostname(), os.getpid(), "failed", 0, "ValueError: boom")
    ]


def test_a_second_signal_is_recorded_cancelled_and_raised_as_run_stopped(ws, project):
    with writing(ws, "test") as (con, _lock, _), pytest.raises(RunStopped) as stopped:
        with recorded_run(con, "run", "", {}, retryable=True):
            raise KeyboardInterrupt
    assert "`orchestrator retry --run 1`" in str(stopped.value)
    assert project.query("select status, error from orchestrator.runs") == [
        ("cancelled", "stopped at once by a second signal")
    ]


def test_a_transaction_cut_short_inside_a_recorded_run_leaves_nothing(ws, project):
    with writing(ws, "test") as (con, _lock, _), pytest.raises(RuntimeError):
        with recorded_run(con, "run", "", {}), con.transaction():
            con.execute("create table main.half as select 1 as x")
            raise RuntimeError("cut short")
    assert project.query(
        "select count(*) from information_schema.tables where table_name = 'half'"
    ) == [(0,)]
    assert project.scalar("select status from orchestrator.runs") == "failed"
