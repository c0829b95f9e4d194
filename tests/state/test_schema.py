"""state.schema: creating the state schema, refusing a newer one, migrating an older one."""

from __future__ import annotations

import pytest

from orchestrator import state
from orchestrator.core.errors import WarehouseError
from orchestrator.engines import engine


@pytest.fixture
def con(tmp_path):
    con = engine.connect(tmp_path / "w.duckdb")
    state.ensure(con)
    yield con
    con.close()


def test_ensure_creates_the_schema_once_and_is_idempotent(con):
    assert state.has_state(con)
    assert state.schema_version(con) == state.SCHEMA_VERSION
    assert state.ensure(con) == []  # nothing to migrate the second time


def test_a_newer_schema_than_this_tool_knows_is_refused(con):
    con.execute(
        f"UPDATE {state.SCHEMA}.meta SET value = ? WHERE key = 'schema_version'",
        [str(state.SCHEMA_VERSION + 1)],
    )
    with pytest.raises(WarehouseError, match="newer than this orchestrator understands"):
        state.ensure(con)


def test_an_older_schema_is_migrated_to_the_current_version(con):
    # a version-1 warehouse: runs had no waiting/blocked counts and no schedule ticks existed
    # and builds recorded no source fingerprints
    con.execute(f"ALTER TABLE {state.SCHEMA}.runs DROP COLUMN waiting")
    con.execute(f"ALTER TABLE {state.SCHEMA}.partitions DROP COLUMN sources")
    con.execute(f"DROP TABLE {state.SCHEMA}.schedule_ticks")
    con.execute(f"UPDATE {state.SCHEMA}.meta SET value = '1' WHERE key = 'schema_version'")
    assert state.ensure(con) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert state.schema_version(con) == state.SCHEMA_VERSION
    columns = {r[0] for r in con.execute(f"DESCRIBE {state.SCHEMA}.runs").fetchall()}
    assert {"waiting", "blocked"} <= columns
    columns = [r[0] for r in con.execute(f"DESCRIBE {state.SCHEMA}.partitions").fetchall()]
    assert columns[-1] == "sources"  # last, where new warehouses have it too
    assert state.open_ticks(con, "nightly") == []


def test_a_warehouse_without_state_has_no_version(tmp_path):
    con = engine.connect(tmp_path / "empty.duckdb")
    try:
        assert state.schema_version(con) is None
        assert not state.has_state(con)
    finally:
        con.close()


def test_a_version_that_is_not_a_number_is_refused(con):
    con.execute(f"UPDATE {state.SCHEMA}.meta SET value = 'x' WHERE key = 'schema_version'")
    with pytest.raises(WarehouseError, match="'x' .* not a version number"):
        state.schema_version(con)
