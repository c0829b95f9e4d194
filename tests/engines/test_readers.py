"""Readers never meet the lock (issue 11): while a run holds the warehouse, `status`, `plan`,
`runs` and `sql` on the state answer from the last state copy and say how old it is, or wait
with --wait; a serving copy gives dashboards the data of the last successful run."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import duckdb
import pytest

from orchestrator.engines.lock import WriteLock


@contextmanager
def held(project):
    """What a run does to the warehouse: the write lock, and the file open for writing."""
    lock = WriteLock(project.warehouse).acquire("run", "someone-else")
    con = duckdb.connect(str(project.warehouse))
    try:
        yield lock
    finally:
        con.close()
        lock.release()


@pytest.fixture
def built(project):
    project.model("s.m", "select 1 as x")
    project.model("s.v", "-- kind: view\nselect x from s.m")
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    return project


def test_readers_answer_from_the_last_state_copy_while_a_run_holds_the_warehouse(built):
    assert (built.root / "warehouse.state.duckdb").exists()
    with held(built):
        status = built.cli("status")
        assert status.returncode == 0, status.stderr
        assert "s.m" in status.stdout and "up to date" in status.stdout
        assert "note: the warehouse is being written by run ?" in status.stderr
        assert "this is its state as of" in status.stderr and "--wait" in status.stderr
        plan = built.cli("plan")
        assert plan.returncode == 0 and "nothing to do" in plan.stdout, plan.stderr
        runs = built.cli("runs")
        assert runs.returncode == 0 and "run" in runs.stdout
        state = built.cli("sql", "select count(*) as n from orchestrator.runs", "--format", "csv")
        assert state.returncode == 0 and state.stdout.splitlines() == ["n", "1"], state.stderr
        data = built.cli("sql", "select * from s.m")
        assert data.returncode == 3
        assert "this query reads the models' data" in data.stderr
        assert "[serve] copy" in data.stderr


def test_a_reader_waits_for_the_run_when_asked(built):
    lock = WriteLock(built.warehouse).acquire("run", "someone-else")
    con = duckdb.connect(str(built.warehouse))

    def finish():
        con.close()
        lock.release()

    threading.Timer(1.0, finish).start()
    out = built.cli("status", "--wait", "30")
    assert out.returncode == 0 and "up to date" in out.stdout
    assert "being written" not in out.stderr  # read the warehouse itself, after the run


def test_the_serving_copy_holds_the_last_successful_run(project):
    project.write(
        "orchestrator.toml",
        """
        [serve]
        copy = "serving.duckdb"
        schemas = ["marts"]
        """,
    )
    project.model("staging.base", "select 1 as x")
    project.model("marts.report", "select x * 10 as y from staging.base")
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert "serving copy:" in out.stderr
    serving = project.root / "serving.duckdb"

    def served():
        con = duckdb.connect(str(serving), read_only=True)
        try:
            tables = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
            return tables, con.execute("select y from marts.report").fetchall()
        finally:
            con.close()

    assert served() == ([("marts.report",)], [(10,)])
    # a failed run leaves the previous copy: the dashboard never sees partial data
    project.model("staging.base", "select 2 as x from nowhere")
    assert project.cli("run").returncode == 1
    assert served()[1] == [(10,)]
    project.model("staging.base", "select 3 as x")
    assert project.cli("run").returncode == 0
    assert served()[1] == [(30,)]
    # while a run holds the warehouse, a query of the data reads the serving copy
    with held(project):
        out = project.cli("sql", "select y from marts.report", "--format", "csv")
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ["y", "30"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[serve]\ncopy = "serving.db"\n', "[serve] copy must be a .duckdb file name"),
        ('[serve]\nschemas = ["marts"]\n', "[serve] schemas needs copy"),
        ('[serve]\ncopy = "s.duckdb"\ntables = []\n', "unknown setting 'tables'"),
    ],
)
def test_bad_serve_settings_name_the_line(project, toml, message):
    project.write("orchestrator.toml", toml)
    project.model("s.m", "select 1 as x")
    out = project.cli("plan")
    assert out.returncode == 2 and message in out.stderr
    assert "orchestrator.toml:" in out.stderr


def test_the_state_copy_keeps_every_shape_and_no_data(project):
    """Models' tables are in the copy with their columns and types (written as DDL in one
    transaction), views as placeholders, the state in full."""
    project.model(
        "s.shapes",
        "select 1::int as i, 2.5::decimal(18,2) as d, {'a': 1} as s, [1, 2] as l, "
        "'x'::enum('x', 'y') as e, 'text' as t",
    )
    project.model("s.v", "-- kind: view\nselect i from s.shapes")
    project.cli("run", check=True)
    con = duckdb.connect(str(project.root / "warehouse.state.duckdb"), read_only=True)
    try:
        types = con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 's' and table_name = 'shapes' order by column_index"
        ).fetchall()
        assert types == [
            ("i", "INTEGER"),
            ("d", "DECIMAL(18,2)"),
            ("s", "STRUCT(a INTEGER)"),
            ("l", "INTEGER[]"),
            ("e", "ENUM('x', 'y')"),
            ("t", "VARCHAR"),
        ]
        assert con.execute("select count(*) from s.shapes").fetchall() == [(0,)]
        assert con.execute("select count(*) from s.v").fetchall() == [(0,)]
        assert con.execute("select count(*) from orchestrator.partitions").fetchall() == [(2,)]
    finally:
        con.close()
