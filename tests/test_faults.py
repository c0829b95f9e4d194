"""Faults injected for real: a file that appears late (transient I/O), broken SQL (permanent),
a query that runs too long, SIGTERM and SIGKILL of real CLI processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from conftest import DAILY_SOURCE, ProjectDir

from orchestrator.app import api
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import RunStopped
from orchestrator.engines.lock import read_holder
from orchestrator.execution import Reporter

READS_FILE = """
-- retries: {retries}
-- retry_delay: 1s
select * from read_csv('{path}')
"""


class CreatesFileOnRetry(Reporter):
    """The fault clears while the orchestrator backs off: the file lands after attempt 1."""

    def __init__(self, path, after: int = 1):
        self.path, self.after, self.seen = path, after, []

    def retrying(self, task, attempt, error, delay):
        self.seen.append((attempt, error, delay))
        if attempt >= self.after:
            self.path.write_text("x\n1\n")


def run(project, reporter=None, **selection):
    ws = open_workspace(project.root)
    return api.run(
        ws,
        Selection(**selection),
        command="test",
        reporter=reporter,
        threads=2,
        at=datetime(2024, 1, 10, 12),
    )


def test_transient_fault_is_retried_with_backoff_and_every_attempt_recorded(project):
    path = project.root / "late.csv"
    project.model("s.m", READS_FILE.format(retries=3, path=path))
    reporter = CreatesFileOnRetry(path, after=2)
    result = run(project, reporter)
    assert result.exit_code == 0
    assert [a for a, _, _ in reporter.seen] == [1, 2]
    assert "IOException" in reporter.seen[0][1] and "transient" in reporter.seen[0][1]
    # equal jitter: between half and all of 1s, then of 2s
    assert 0.5 <= reporter.seen[0][2] <= 1.0 and 1.0 <= reporter.seen[1][2] <= 2.0
    rows = project.query("select attempt, status from orchestrator.task_runs order by attempt")
    assert rows == [(1, "retried"), (2, "retried"), (3, "success")]
    assert project.query("select x from s.m") == [(1,)]


class CompletesFileOnRetry(Reporter):
    """A Parquet file half-written when the task first reads it, whole by the next attempt."""

    def __init__(self, path, data: bytes):
        self.path, self.data, self.seen = path, data, []

    def retrying(self, task, attempt, error, delay):
        self.seen.append((attempt, error))
        self.path.write_bytes(self.data)


@pytest.mark.parametrize("kept", [4, 0.5], ids=["too-small", "half"])
def test_half_written_parquet_file_is_transient(project, kept):
    import duckdb

    whole = project.root / "whole.parquet"
    con = duckdb.connect()
    con.execute(f"copy (select range as x from range(1000)) to '{whole}'")
    con.close()
    data = whole.read_bytes()
    path = project.root / "landing.parquet"
    path.write_bytes(data[: kept if isinstance(kept, int) else int(len(data) * kept)])
    project.model("s.m", f"-- retries: 2\n-- retry_delay: 1s\nselect * from read_parquet('{path}')")
    reporter = CompletesFileOnRetry(path, data)
    result = run(project, reporter)
    assert result.exit_code == 0, result.outcomes[0].error
    assert [a for a, _ in reporter.seen] == [1]
    message = reporter.seen[0][1]
    assert "InvalidInputException" in message and "transient" in message
    assert ("too small" if kept == 4 else "No magic bytes") in message
    rows = project.query("select attempt, status from orchestrator.task_runs order by attempt")
    assert rows == [(1, "retried"), (2, "success")]
    assert project.scalar("select count(*) from s.m") == 1000


def test_retries_are_bounded(project):
    project.model("s.m", READS_FILE.format(retries=2, path=project.root / "never.csv"))
    result = run(project)
    assert result.exit_code == 1
    statuses = project.query("select attempt, status from orchestrator.task_runs order by 1")
    assert statuses == [(1, "retried"), (2, "retried"), (3, "failed")]
    assert result.outcomes[0].attempts == 3


def test_project_defaults_apply_and_the_backoff_is_capped(project):
    path = project.root / "late.csv"
    project.write("orchestrator.toml", 'retries = 3\nretry_delay = "1s"\nretry_max_delay = "1s"\n')
    project.model("s.m", f"select * from read_csv('{path}')")  # no header: project defaults
    reporter = CreatesFileOnRetry(path, after=3)
    assert run(project, reporter).exit_code == 0
    assert [a for a, _, _ in reporter.seen] == [1, 2, 3]
    # doubling would wait 1s, 2s, 4s: every wait is capped at 1s (half of it random)
    assert all(0.5 <= delay <= 1.0 for _, _, delay in reporter.seen), reporter.seen
    assert project.query("select status from orchestrator.task_runs order by attempt") == [
        ("retried",),
        ("retried",),
        ("retried",),
        ("success",),
    ]


def test_backoff_doubles_until_the_cap():
    from datetime import timedelta

    from orchestrator.execution import Policy

    policy = Policy(retry_delay=timedelta(seconds=10), retry_max_delay=timedelta(seconds=25))
    for attempt, full in ((1, 10), (2, 20), (3, 25), (12, 25)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jittered


def test_project_retries_bound_attempts_and_a_model_header_overrides_them(project):
    project.write("orchestrator.toml", 'retries = 1\nretry_delay = "1s"\n')
    project.model("s.default", f"select * from read_csv('{project.root / 'never.csv'}')")
    project.model("s.own", f"-- retries: 0\nselect * from read_csv('{project.root / 'never.csv'}')")
    assert run(project).exit_code == 1
    assert project.query(
        "select model, list(status order by attempt) from orchestrator.task_runs "
        "group by model order by model"
    ) == [("s.default", ["retried", "failed"]), ("s.own", ["failed"])]


@pytest.mark.slow
def test_project_timeout_applies_unless_a_model_header_overrides_it(project):
    project.write("orchestrator.toml", 'timeout = "1s"\n')
    query = "select count(*) as n from range({}) r where hash(r.range) % 1000003 = 7"
    project.model("s.slow", query.format(3_000_000_000))
    project.model("s.longer", "-- timeout: 1h\n" + query.format(400_000_000))  # a second or so
    result = run(project)
    assert result.exit_code == 1
    outcomes = {o.model: o for o in result.outcomes}
    assert outcomes["s.slow"].status == "timed_out"
    assert "ran longer than its timeout (1s)" in outcomes["s.slow"].error
    assert outcomes["s.slow"].seconds < 20
    assert outcomes["s.longer"].status == "success"


class ReleasesConflictOnRetry(Reporter):
    """Another transaction holds the partition's rows; it rolls back while the task backs off."""

    def __init__(self, con):
        self.con, self.seen = con, []

    def retrying(self, task, attempt, error, delay):
        self.seen.append((attempt, error))
        self.con.execute("ROLLBACK")


def test_transaction_conflict_is_retried(project):
    import duckdb

    project.seed(DAILY_SOURCE)
    project.model(
        "s.fact",
        "-- kind: incremental\n-- partition_by: event_date\n-- start: 2024-01-01\n"
        "-- retry_delay: 1s\nselect * from raw.events "
        "where event_date >= {{ start }} and event_date < {{ end }}",
    )
    assert run(project).exit_code == 0
    before = project.query("select * from s.fact order by all")
    # a second connection of this process (the same database) deletes the rows of 01-03 in
    # a transaction it keeps open: the task's own DELETE of that partition conflicts
    other = duckdb.connect(str(project.warehouse))
    try:
        other.execute("BEGIN")
        other.execute("DELETE FROM s.fact WHERE event_date = DATE '2024-01-03'")
        reporter = ReleasesConflictOnRetry(other)
        result = run(project, reporter, backfill=(datetime(2024, 1, 3), datetime(2024, 1, 4)))
    finally:
        other.close()
    assert result.exit_code == 0, result.outcomes
    assert len(reporter.seen) == 1 and "TransactionException" in reporter.seen[0][1]
    assert "transient" in reporter.seen[0][1]
    assert project.query(
        "select attempt, status from orchestrator.task_runs where run_id = 2 order by attempt"
    ) == [(1, "retried"), (2, "success")]
    assert project.query("select * from s.fact order by all") == before


KNOB = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-05
-- timeout: 1s
select d, (select count(*) from range((select n from raw.knob)) r
           where hash(r.range + 3) % 1000003 = 7) as hits
from (select date '2024-01-01' + range::int as d from range(4))
where d >= {{ start }} and d < {{ end }}
"""


def test_timeout_of_an_in_place_overwrite_leaves_the_partition_as_it_was(project):
    project.seed("create schema raw; create table raw.knob as select 10::bigint as n")
    project.model("s.part", KNOB)
    assert run(project).exit_code == 0
    before = project.query("select * from s.part order by all")
    built = "select partition_key, built_run, rows from orchestrator.partitions order by 1"
    state_before = project.query(built)
    project.seed("update raw.knob set n = 3000000000")  # the same model, now slow
    result = run(project, backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3)))
    [outcome] = result.outcomes
    assert (outcome.task.action, outcome.status) == ("build", "timed_out")  # in place
    assert result.exit_code == 1 and outcome.seconds < 20
    # the DELETE of the partition ran inside the rolled-back transaction: its rows are back
    assert project.query("select * from s.part order by all") == before
    assert project.query(built) == state_before
    assert project.query(
        "select status from orchestrator.partitions where partition_key = '2024-01-02'"
    ) == [("timed_out",)]


def test_permanent_fault_fails_at_once(project):
    project.model("s.m", "-- retries: 5\nselect no_such_column from (select 1 as a)")
    result = run(project)
    assert result.exit_code == 1
    assert project.query("select attempt, status from orchestrator.task_runs") == [(1, "failed")]
    assert "BinderException" in result.outcomes[0].error


SLOW = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-03
-- timeout: {timeout}
select d, {value} as v,
    (select count(*) from range({size}) r where hash(r.range + {value}) % 1000003 = 7) as n
from (select date '2024-01-01' + range::int as d from range(2))
where d >= {{{{ start }}}} and d < {{{{ end }}}}
"""


def test_timeout_interrupts_and_leaves_the_partition_as_it_was(project):
    project.model("s.slow", SLOW.format(timeout="1h", value=1, size=1000))
    assert run(project).exit_code == 0
    before = project.query("select * from s.slow order by all")
    project.model("s.slow", SLOW.format(timeout="1s", value=2, size=3_000_000_000))
    result = run(project)  # a changed model: rebuilt aside, then swapped in
    assert {(o.task.action, o.status) for o in result.outcomes} == {
        ("shadow", "timed_out"),
        ("swap", "skipped"),
    }
    assert "ran longer than its timeout (1s)" in result.outcomes[0].error
    assert result.exit_code == 1
    assert max(o.seconds for o in result.outcomes) < 20
    assert project.query("select * from s.slow order by all") == before
    assert project.query(
        "select status, count(*) from orchestrator.task_runs where run_id = 2 group by 1 order by 1"
    ) == [("skipped", 1), ("timed_out", 2)]


def cli_process(project: ProjectDir, *args: str) -> subprocess.Popen:
    return project.cli_background(*args, now="2024-01-10T12:00")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_cancels_gracefully(project, sig):
    project.model("s.slow", SLOW.format(timeout="1h", value=1, size=1000))
    assert run(project).exit_code == 0
    before = project.query("select * from s.slow order by all")
    project.model("s.slow", SLOW.format(timeout="1h", value=2, size=5_000_000_000))
    proc = cli_process(project, "run", "--threads", "1")
    # signal once the run is under way (its lock names it), however slow the machine is
    deadline = time.monotonic() + 60
    while not (read_holder(project.warehouse) or {}).get("run_id"):
        assert time.monotonic() < deadline and proc.poll() is None, "the run never started"
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "cancelled" in out
    assert project.query("select * from s.slow order by all") == before
    assert project.query("select status from orchestrator.runs order by run_id") == [
        ("success",),
        ("cancelled",),
    ]
    statuses = {
        s for (s,) in project.query("select status from orchestrator.task_runs where run_id = 2")
    }
    assert statuses == {"cancelled"}
    # retry picks up exactly the cancelled tasks once the model is quick again
    project.model("s.slow", SLOW.format(timeout="1h", value=2, size=1000))
    out = project.cli("retry")
    assert out.returncode == 0, out.stderr
    assert project.query("select distinct v from s.slow") == [(2,)]


def test_cancel_before_the_run_starts_records_nothing(project):
    import threading

    project.model("s.t", "select 1 as x")
    project.cli("run", check=True)
    before = project.files()
    cancel = threading.Event()
    cancel.set()  # as a signal during planning does
    ws = open_workspace(project.root)
    with pytest.raises(RunStopped, match="before the run started; nothing was written"):
        api.run(ws, Selection(), command="test", cancel=cancel)
    assert project.files() == before


def slow_alert_sink(project, seconds: float) -> None:
    """A failing model whose owner's alert command announces itself, then takes `seconds`:
    a signal can be sent while the run delivers alerts, after every task has finished."""
    import json
    import shlex

    script = (
        "import pathlib, sys, time; sys.stdin.read(); "
        f"pathlib.Path('delivering').touch(); time.sleep({seconds})"
    )
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    project.write("orchestrator.toml", f"[owners.ops]\ncommand = {json.dumps(command)}\n")
    project.model("s.ok", "select 1 as x")
    project.model("s.broken", "-- owner: ops\nselect x from raw.nowhere")


def wait_for(path, proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.05)


def test_signal_after_the_tasks_still_records_the_run_cancelled(project):
    slow_alert_sink(project, seconds=2)
    proc = cli_process(project, "run")
    wait_for(project.root / "delivering", proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert project.query("select status from orchestrator.runs") == [("cancelled",)]
    # the tasks had finished: they stay as they ended, and the alert went out
    assert project.query("select model, status from orchestrator.task_runs order by model") == [
        ("s.broken", "failed"),
        ("s.ok", "success"),
    ]
    assert project.query("select delivered from orchestrator.alerts") == [(True,)]


def test_second_signal_stops_at_once_and_the_run_is_recorded_cancelled(project):
    slow_alert_sink(project, seconds=4)
    proc = cli_process(project, "run")
    wait_for(project.root / "delivering", proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 3  # did not wait for the alert command to finish
    assert proc.returncode == 130, out + err
    last = err.strip().splitlines()[-1]  # after the progress lines
    assert last.startswith("error: run 1 stopped at once by a second signal"), err
    assert "orchestrator retry --run 1" in last
    assert project.query("select status, error from orchestrator.runs") == [
        ("cancelled", "stopped at once by a second signal")
    ]
    assert project.query("select x from s.ok") == [(1,)]


def test_retry_reruns_only_what_did_not_succeed(project):
    project.seed(DAILY_SOURCE)
    project.model(
        "s.fact",
        """
        -- kind: incremental
        -- partition_by: event_date
        -- start: 2024-01-01
        select * from raw.events
        where case when event_date = date '2024-01-03' then error('boom') else true end
          and event_date >= {{ start }} and event_date < {{ end }}
    """,
    )
    project.model("s.total", "select count(*) as n from s.fact")
    project.model("s.other", "select 1 as one")
    first = project.cli("run")
    assert first.returncode == 1
    # fix the model; make another model stale: retry must not touch it
    project.model(
        "s.fact",
        """
        -- kind: incremental
        -- partition_by: event_date
        -- start: 2024-01-01
        select * from raw.events where event_date >= {{ start }} and event_date < {{ end }}
    """,
    )
    project.model("s.other", "select 2 as one")
    out = project.cli("retry")
    assert out.returncode == 0, out.stderr
    retried = project.query(
        "select model, partition_key, reason from orchestrator.task_runs "
        "where run_id = 2 order by 1, 2"
    )
    assert retried == [("s.fact", "2024-01-03", "retry"), ("s.total", "all", "retry")]
    assert project.query("select one from s.other") == [(1,)]
    assert project.query("select n from s.total") == [(45,)]
    again = project.cli("retry")
    assert again.returncode == 0 and "nothing to retry" in again.stderr + again.stdout
