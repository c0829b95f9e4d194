"""The values an execution works with (`execution.values`): the retry policy's backoff, an
outcome's window, the one clock, and interrupting every cursor a run has in use."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import duckdb

from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import Reason, Task
from orchestrator.engines import engine
from orchestrator.execution.values import Live, Options, Outcome, Policy, Shared, utcnow
from orchestrator.project.dag import DAG


def test_the_backoff_doubles_and_half_of_it_is_random():
    policy = Policy(retry_delay=timedelta(seconds=4), retry_max_delay=timedelta(minutes=5))
    for attempt, base in ((1, 4), (2, 8), (3, 16)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(base / 2 <= d <= base for d in delays)
        assert max(delays) - min(delays) > base / 10  # jittered: retries do not land together


def test_the_backoff_is_capped_by_the_longest_delay():
    policy = Policy(retry_delay=timedelta(seconds=10), retry_max_delay=timedelta(seconds=15))
    assert all(7.5 <= policy.delay(6) <= 15 for _ in range(100))


def test_an_outcome_takes_its_task_s_window_unless_given_one():
    day = window_for_key("2024-01-02", Grain.DAY)
    other = window_for_key("2024-01-03", Grain.DAY)
    task = Task(1, "s.m", day, Reason.MISSING)
    assert Outcome("s.m", day.key, "success", "missing", task=task).window == day
    assert Outcome("s.m", day.key, "skipped", "x", task=task, window=other).window == other
    assert Outcome("s.t", "all", "success", "missing").window is None


def test_the_clock_starts_at_the_pinned_time(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-10T12:00")
    now = utcnow()
    assert datetime(2024, 1, 10, 12) <= now < datetime(2024, 1, 11, 12)


def test_options_default_to_one_thread_the_default_policy_and_no_cancel():
    options = Options(run_id=7, variables={})
    assert options.threads == 1 and not options.cancel.is_set()
    assert options.policy(None) == Policy(retries=2)


def test_interrupt_all_stops_the_queries_of_every_active_cursor():
    con = engine.memory()
    cur = con.cursor()
    shared = Shared(DAG({}, {}, {}, {}, ()), Live({}, {}), Options(run_id=1, variables={}), {})
    shared.active[1] = cur
    raised: list[BaseException] = []

    def long_query():
        try:
            cur.execute("select count(*) from range(100000000000) r where hash(r.range) = 7")
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=long_query)
    worker.start()
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        shared.interrupt_all()  # an interrupt before the query starts is lost: try until done
        worker.join(0.1)
    assert not worker.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], duckdb.InterruptException)
    con.close()
