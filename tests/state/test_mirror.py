"""state.mirror: the state copy (the state in full, everything else as its shape) and the
serving copy (the data) of a real DuckDB warehouse, opened as a reader would."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from orchestrator import state
from orchestrator.core.snapshot import Publication
from orchestrator.engines import engine

AT = datetime(2024, 1, 10, 12, 0)


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.orders AS SELECT 1 AS id, 9.5::DECIMAL(9, 2) AS amount")
    con.execute("CREATE VIEW marts.big AS SELECT * FROM marts.orders WHERE amount > 5")
    publication = Publication("marts.orders", "all", None, None, "v1", "", {}, {}, 1, 1, AT)
    state.publish_partitions(con, [publication])
    yield con
    con.close()


def read(path: Path, sql: str) -> list[tuple]:
    copy = duckdb.connect(str(path), read_only=True)
    try:
        return copy.execute(sql).fetchall()
    finally:
        copy.close()


def test_the_state_copy_lives_beside_the_warehouse():
    assert state.state_copy_path(Path("/w/warehouse.duckdb")) == Path("/w/warehouse.state.duckdb")
    assert state.state_copy_path(Path("/w/warehouse")) == Path("/w/warehouse.state.duckdb")


def test_the_state_copy_holds_the_state_rows_and_only_the_shape_of_the_rest(con, tmp_path):
    target = tmp_path / "w.state.duckdb"
    state.write_state_copy(con, target)
    assert read(target, f"SELECT model, model_version FROM {state.SCHEMA}.partitions") == [
        ("marts.orders", "v1")
    ]
    assert read(target, "SELECT count(*) FROM marts.orders") == [(0,)]
    assert read(target, "DESCRIBE marts.orders")[1][:2] == ("amount", "DECIMAL(9,2)")
    assert read(target, "SELECT * FROM marts.big") == []  # a placeholder, no data behind it
    # the state's own views are made again over the copied tables
    assert read(target, f"SELECT model FROM {state.SCHEMA}.readiness") == []
    assert not target.with_name(target.name + ".tmp").exists()


def test_a_new_copy_replaces_the_old_one(con, tmp_path):
    target = tmp_path / "w.state.duckdb"
    state.write_state_copy(con, target)
    con.execute(f"DELETE FROM {state.SCHEMA}.partitions")
    state.write_state_copy(con, target)
    assert read(target, f"SELECT count(*) FROM {state.SCHEMA}.partitions") == [(0,)]


def test_the_serving_copy_holds_the_data_and_views_as_tables(con, tmp_path):
    target = tmp_path / "serve.duckdb"
    assert state.write_serving_copy(con, target) == 2
    assert read(target, "SELECT id, amount FROM marts.orders") == [(1, 9.5)]
    assert read(target, "SELECT id FROM marts.big") == [(1,)]
    kinds = read(target, "SELECT table_name, table_type FROM information_schema.tables ORDER BY 1")
    assert kinds == [("big", "BASE TABLE"), ("orders", "BASE TABLE")]  # no state in it


def test_the_serving_copy_of_listed_schemas_only(con, tmp_path):
    target = tmp_path / "serve.duckdb"
    assert state.write_serving_copy(con, target, ["nothing"]) == 0
    assert read(target, "SELECT count(*) FROM information_schema.tables") == [(0,)]
