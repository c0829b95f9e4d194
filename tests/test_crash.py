"""SIGKILL at many moments of a real multi-partition run and backfill: after every kill the
warehouse holds no partial partition, no duplicate row, and state that agrees with the data;
the next process marks the dead run abandoned and finishes the work."""

from __future__ import annotations

import signal
import subprocess
import time

import duckdb
import pytest
from conftest import ProjectDir

DAYS = 24
ROWS_PER_DAY = 60_000

FACT = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-25
select id, d, amount, md5(id::varchar) as h from raw.events
where d >= {{ start }} and d < {{ end }}
"""

AGG = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-25
select d, count(*) as n, sum(amount) as total from s.fact
where d >= {{ start }} and d < {{ end }} group by d
"""


def start(project: ProjectDir, *args: str) -> subprocess.Popen:
    return project.cli_background(*args, "--threads", "2", now="2024-02-01T00:00", output=False)


def check_invariants(project: ProjectDir) -> dict:
    con = duckdb.connect(str(project.warehouse), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        if "orchestrator.partitions" not in tables:
            assert "s.fact" not in tables  # killed before the state schema existed
            return {"fact": 0}
        if "s.fact" not in tables:
            assert (
                con.execute(
                    "select count(*) from orchestrator.partitions where model = "
                    "'s.fact' and built_run is not null"
                ).fetchone()[0]
                == 0
            )
            return {"fact": 0}
        dupes = con.execute("select count(*) - count(distinct id) from s.fact").fetchone()[0]
        assert dupes == 0, "duplicate rows"
        # state agrees with data: every published partition holds exactly the rows recorded,
        # and no rows exist outside published partitions
        mismatched = con.execute("""
            with actual as (select strftime(d, '%Y-%m-%d') as k, count(*) as n
                            from s.fact group by 1),
                 recorded as (select partition_key as k, rows as n from orchestrator.partitions
                              where model = 's.fact' and built_run is not null)
            select count(*) from actual full join recorded using (k)
            where actual.n is distinct from recorded.n
        """).fetchone()[0]
        assert mismatched == 0, "state disagrees with data"
        if "s.agg" in tables:
            wrong = con.execute("""
                select count(*) from s.agg a join (select d, count(*) as n from s.fact
                group by d) f using (d) where a.n <> f.n
            """).fetchone()[0]
            assert wrong == 0, "aggregate disagrees with its input"
            agg_state = con.execute("""
                select count(*) from (select strftime(d, '%Y-%m-%d') as k, count(*) as n
                                      from s.agg group by 1) a
                full join (select partition_key as k from orchestrator.partitions
                           where model = 's.agg' and built_run is not null) p using (k)
                where a.k is null or p.k is null
            """).fetchone()[0]
            assert agg_state == 0, "aggregate state disagrees with data"
        return {"fact": con.execute("select count(*) from s.fact").fetchone()[0]}
    finally:
        con.close()


@pytest.mark.slow
def test_kill_at_many_points_leaves_consistent_state(project):
    project.seed(f"""
        create schema raw;
        create table raw.events as
        select range as id, date '2024-01-01' + (range // {ROWS_PER_DAY})::int as d,
               (range % 97)::double as amount
        from range({DAYS * ROWS_PER_DAY});
    """)
    project.model("s.fact", FACT)
    project.model("s.agg", AGG)
    project.model("s.total", "select count(*) as n from s.agg")
    # calibrate: how long does a whole build take here?
    t0 = time.monotonic()
    full = start(project, "run")
    assert full.wait(timeout=300) == 0
    duration = time.monotonic() - t0
    expected = project.query("select * from s.fact order by id")
    project.seed("drop schema s cascade; drop schema orchestrator cascade")  # start over

    kills = 0
    points = [0.15 + i * (duration / 20) for i in range(20)]
    for i, delay in enumerate(points):
        args = (
            ("run",)
            if i % 2 == 0
            else ("backfill", "s.fact", "--start", "2024-01-01", "--end", "2024-01-25")
        )
        # a run after earlier kills has less left to do: when it finished before its kill
        # point, try again earlier, so that the kills land whatever the machine's speed
        for _ in range(4):
            proc = start(project, *args)
            time.sleep(delay)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            check_invariants(project)
            if killed:
                kills += 1
                break
            delay /= 2
    assert kills >= 16  # nearly every point landed while a run was working

    final = project.cli("run", now="2024-02-01T00:00")
    assert final.returncode == 0, final.stdout + final.stderr
    state = check_invariants(project)
    assert state["fact"] == DAYS * ROWS_PER_DAY
    assert project.query("select * from s.fact order by id") == expected
    assert project.query("select n from s.total") == [(DAYS,)]
    statuses = {s for (s,) in project.query("select status from orchestrator.runs")}
    assert "running" not in statuses and "abandoned" in statuses
    again = project.cli("run", now="2024-02-01T00:00")
    assert "nothing to do" in again.stdout


def seed_events(project: ProjectDir) -> None:
    project.seed(f"""
        create schema raw;
        create table raw.events as
        select range as id, date '2024-01-01' + (range // {ROWS_PER_DAY})::int as d,
               (range % 97)::double as amount
        from range({DAYS * ROWS_PER_DAY});
    """)


def flip_source(project: ProjectDir) -> None:
    """A new version of every source row: amounts below 1000 are one version, above another."""
    project.seed(
        "update raw.events set amount = "
        "case when amount >= 1000 then amount - 1000 else amount + 1000 end"
    )


def kill_points(project: ProjectDir, args: tuple[str, ...], count: int, before, after) -> int:
    """Time one uninterrupted `args` run, then start it `count` times more and SIGKILL it at
    moments spread over that time; `before()` runs ahead of each start, `after()` (with
    check_invariants) after each kill. Returns how many starts were killed mid-way."""
    before()
    t0 = time.monotonic()
    assert start(project, *args).wait(timeout=300) == 0
    duration = time.monotonic() - t0
    kills = 0
    for i in range(count):
        before()
        proc = start(project, *args)
        delay = 0.3 + i * duration / count
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        else:
            # this run was quicker than the timed one (a busy machine went idle): aim the
            # next kills within it, not after it
            duration = 0.9 * (delay - 0.3) * count / max(count - 1, 1)
        proc.wait(timeout=60)
        check_invariants(project)
        after()
    return kills


@pytest.mark.slow
def test_kill_during_a_full_refresh_leaves_the_old_table_or_the_new_one(project):
    seed_events(project)
    project.model("s.fact", FACT)
    assert start(project, "run").wait(timeout=300) == 0

    def one_version():
        con = duckdb.connect(str(project.warehouse), read_only=True)
        try:
            # the whole table is the old one or the new one, never a mix, and so is its state
            assert con.execute(
                "select count(*), count(distinct amount >= 1000) from s.fact"
            ).fetchone() == (DAYS * ROWS_PER_DAY, 1)
            assert con.execute(
                "select count(*), count(distinct built_run) from orchestrator.partitions "
                "where model = 's.fact' and built_run is not null"
            ).fetchone() == (DAYS, 1)
        finally:
            con.close()

    args = ("run", "--full-refresh")
    kills = kill_points(project, args, 6, lambda: flip_source(project), one_version)
    assert kills >= 3
    final = project.cli("run", "--full-refresh", now="2024-02-01T00:00")
    assert final.returncode == 0, final.stdout + final.stderr
    one_version()
    assert project.query(
        "select count(*) from s.fact f join raw.events e using (id) where f.amount <> e.amount"
    ) == [(0,)]
    assert "s.fact__refresh" not in {
        r[0] for r in project.query("select schema_name || '.' || table_name from duckdb_tables()")
    }
    statuses = {s for (s,) in project.query("select status from orchestrator.runs")}
    assert "running" not in statuses and "abandoned" in statuses


MERGED = """
-- kind: incremental
-- partition_by: d
-- unique_key: id
-- start: 2024-01-01
-- end: 2024-01-25
select id, d, amount from raw.events where d >= {{ start }} and d < {{ end }}
"""


@pytest.mark.slow
def test_kill_during_merges_leaves_no_duplicate_key_and_no_half_merged_partition(project):
    seed_events(project)
    project.model("s.fact", MERGED)
    assert start(project, "run").wait(timeout=300) == 0

    def whole_partitions():
        con = duckdb.connect(str(project.warehouse), read_only=True)
        try:
            assert con.execute("select count(*) - count(distinct id) from s.fact").fetchone() == (
                0,
            )
            # a partition's MERGE commits whole: its rows are all of one version
            assert con.execute(
                "select count(*) from (select d from s.fact group by d "
                "having count(distinct amount >= 1000) > 1 or count(*) <> ?)",
                [ROWS_PER_DAY],
            ).fetchone() == (0,)
        finally:
            con.close()

    args = ("backfill", "s.fact", "--start", "2024-01-01", "--end", "2024-01-25")
    kills = kill_points(project, args, 6, lambda: flip_source(project), whole_partitions)
    assert kills >= 3
    final = project.cli(*args, now="2024-02-01T00:00")
    assert final.returncode == 0, final.stdout + final.stderr
    whole_partitions()
    check_invariants(project)
    assert project.query(
        "select count(*) from s.fact f full join raw.events e using (id) "
        "where f.amount is distinct from e.amount"
    ) == [(0,)]
