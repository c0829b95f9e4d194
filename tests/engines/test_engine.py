"""The engine: opening the warehouse (session settings that must not depend on the machine),
transactions, and describing queries."""

from __future__ import annotations

import pytest

HOURLY_TZ = """
-- kind: incremental
-- partition_by: ts
-- grain: hour
-- start: 2024-01-01 00
select ts, 1 as n
from (select unnest(generate_series(timestamptz '2024-01-01 00:00:00+00',
                                    timestamptz '2024-01-01 05:59:00+00',
                                    interval 30 minute)) as ts)
where ts >= {{ start }} and ts < {{ end }}
"""


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_timestamptz_partitions_do_not_depend_on_the_machine_time_zone(project, zone):
    project.model("m.ev", HOURLY_TZ)
    out = project.cli("run", env={"TZ": zone}, now="2024-01-01T06:00")
    assert out.returncode == 0, out.stdout + out.stderr
    # every hour holds its own two half-hour rows, as it does in UTC
    assert project.query("select partition_key, rows from orchestrator.partitions order by 1") == [
        (f"2024-01-01T0{h}", 2) for h in range(6)
    ]
    assert project.scalar("select count(*) from m.ev") == 12
    plan = project.cli("plan", env={"TZ": zone}, now="2024-01-01T06:00")
    assert "nothing to do" in plan.stdout


# -- transaction(): the construct behind "a publish is one transaction" -------------------------


def _engine(tmp_path):
    from orchestrator.engines import engine

    return engine.connect(tmp_path / "w.duckdb")


def test_a_transaction_commits_when_its_block_ends(tmp_path):
    con = _engine(tmp_path)
    with con.transaction():
        con.execute("create table t as select 1 as x")
        con.execute("insert into t values (2)")
    assert con.execute("select sum(x) from t").fetchone() == (3,)


def test_a_transaction_rolls_back_everything_when_its_block_raises(tmp_path):
    con = _engine(tmp_path)
    con.execute("create table t as select 1 as x")
    with pytest.raises(ValueError, match="boom"), con.transaction():
        con.execute("delete from t")
        con.execute("create table u as select 1 as y")
        raise ValueError("boom")
    assert con.execute("select count(*) from t").fetchone() == (1,)
    assert con.execute(
        "select count(*) from duckdb_tables() where table_name = 'u'"
    ).fetchone() == (0,)


def test_an_early_rollback_is_not_done_twice(tmp_path):
    import duckdb

    con = _engine(tmp_path)
    con.execute("create table t as select 1 as x")
    with pytest.raises(LookupError), con.transaction() as tx:
        con.execute("delete from t")
        tx.rollback()  # as the window guard does, to count outside the aborted transaction
        assert con.execute("select count(*) from t").fetchone() == (1,)
        raise LookupError("reported after the early rollback")
    with con.transaction():  # no transaction was left open
        con.execute("insert into t values (2)")
    assert con.execute("select count(*) from t").fetchone() == (2,)
    with pytest.raises(duckdb.Error):
        con.execute("rollback")  # nothing open: the engine did not leave one behind


def test_the_original_error_survives_a_failed_rollback(tmp_path):
    con = _engine(tmp_path)
    with pytest.raises(ValueError, match="the real cause") as raised, con.transaction():
        con.execute("rollback")  # whatever ends the transaction behind the engine's back
        raise ValueError("the real cause")
    assert any("the rollback failed too" in note for note in raised.value.__notes__)


def test_describe_binds_a_query_without_running_it(tmp_path):
    con = _engine(tmp_path)
    described = con.describe("select 1::int as a, 'x' as b -- a trailing comment;")
    assert described == [("a", "INTEGER"), ("b", "VARCHAR")]


def test_a_writer_waits_for_a_reader_that_holds_the_file_for_a_moment(tmp_path):
    import subprocess
    import sys
    import threading

    import duckdb

    from orchestrator.engines import engine

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    # the reader holds the file until it is told to let go, one second after the writer began
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(path)!r}, read_only=True)\n"
            "print('open', flush=True)\n"
            "sys.stdin.readline()\n"
            "con.close()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        threading.Timer(1.0, lambda: (reader.stdin.write("go\n"), reader.stdin.flush())).start()
        con = engine.connect(path)  # without the grace period: WarehouseBusy at once
        con.execute("create table t as select 1 as x")
        assert con.execute("select x from t").fetchall() == [(1,)]
        con.close()
    finally:
        reader.wait(timeout=30)
