"""Snapshots (`-- kind: snapshot`): every version of every row, kept as dbt keeps them, run by
the real CLI over a source table that changes between runs. A rerun over unchanged input adds
nothing; a bad header is one line naming the file and line."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import ProjectDir, broken_error

T1, T2, T3 = "2024-01-02T00:00", "2024-01-03T00:00", "2024-01-04T00:00"

TIMESTAMP = """
-- kind: snapshot
-- unique_key: id
-- strategy: timestamp
-- updated_at: updated_at
-- hard_deletes: invalidate
select id, name, updated_at from raw.customers
"""

CHECK = """
-- kind: snapshot
-- unique_key: id
-- strategy: check
-- check_cols: name
select id, name from raw.customers
"""

RAW = """
create schema raw;
create table raw.customers as select * from (values
  (1, 'ann', timestamp '2024-01-01'), (2, 'bob', timestamp '2024-01-01')) t(id, name, updated_at);
"""

CHANGES = """
update raw.customers set name = 'ANN', updated_at = timestamp '2024-01-02' where id = 1;
delete from raw.customers where id = 2;
insert into raw.customers values (3, 'cy', timestamp '2024-01-02');
"""


def _project(tmp_path) -> ProjectDir:
    project = ProjectDir(tmp_path / "p")
    project.write("orchestrator.toml", '[sources."raw.customers"]\n')
    project.model("hist.customers", TIMESTAMP)
    project.model("hist.names", CHECK)
    project.model("main.current", "select id, name from hist.customers where dbt_valid_to is null")
    project.seed(RAW)
    return project


def _history(project: ProjectDir, table: str, columns: str) -> list[tuple]:
    """The snapshot's rows; its times to the minute (the snapshot's time is its task's, on a
    pinned clock that ticks)."""
    exprs = [
        f"date_trunc('minute', {c})" if c.startswith("dbt_valid_") else c
        for c in (c.strip() for c in columns.split(","))
    ]
    order = "id, dbt_valid_from, dbt_valid_to nulls last"
    return project.query(f"select {', '.join(exprs)} from hist.{table} order by {order}")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_snapshot_keeps_each_version_and_closes_changed_and_deleted_rows(tmp_path):
    project = _project(tmp_path)
    project.cli("run", now=T1, check=True)
    first = _history(project, "customers", "id, name, dbt_valid_from, dbt_valid_to")
    assert first == [(1, "ann", _at("2024-01-01"), None), (2, "bob", _at("2024-01-01"), None)]
    project.seed(CHANGES)
    run = project.cli("run", now=T2, check=True)
    assert "hist.customers" in run.stdout
    assert _history(project, "customers", "id, name, dbt_valid_from, dbt_valid_to") == [
        (1, "ann", _at("2024-01-01"), _at("2024-01-02")),  # closed when it changed
        (1, "ANN", _at("2024-01-02"), None),
        (2, "bob", _at("2024-01-01"), _at(T2)),  # deleted: closed at the snapshot's time
        (3, "cy", _at("2024-01-02"), None),
    ]
    # the check strategy: versions start at the snapshot's time; a deletion is ignored
    assert _history(project, "names", "id, name, dbt_valid_from, dbt_valid_to") == [
        (1, "ann", _at(T1), _at(T2)),
        (1, "ANN", _at(T2), None),
        (2, "bob", _at(T1), None),
        (3, "cy", _at(T2), None),
    ]
    # the version columns are dbt's: its scd id is the md5 of the key and the updated_at
    assert project.query(
        "select count(*) from hist.customers "
        "where dbt_scd_id = md5(cast(id as varchar) || '|' || cast(updated_at as varchar)) "
        "and dbt_updated_at = updated_at"
    ) == [(4,)]
    assert project.query("select * from main.current order by id") == [(1, "ANN"), (3, "cy")]
    # rerun with unchanged input: nothing to do; forced, it adds nothing either
    again = project.cli("run", now=T3, check=True)
    assert "nothing to do" in again.stdout
    # a full refresh keeps a snapshot's history, as dbt does, and adds nothing
    project.cli("run", "--full-refresh", "hist.customers", now=T3, check=True)
    assert project.scalar("select count(*) from hist.customers") == 4
    assert project.scalar("select count(*) from hist.names") == 4
    assert project.query(
        "select model, state from orchestrator.readiness where model like 'hist.%' order by 1"
    ) == [("hist.customers", "complete"), ("hist.names", "complete")]


def test_a_key_that_returns_is_a_new_version_and_a_new_column_is_added(tmp_path):
    project = _project(tmp_path)
    project.cli("run", now=T1, check=True)
    project.seed("delete from raw.customers where id = 2")
    project.cli("run", now=T2, check=True)
    project.seed(
        "alter table raw.customers add column tier varchar;"
        "insert into raw.customers values (2, 'bob', timestamp '2024-01-03', 'gold')"
    )
    project.model("hist.customers", TIMESTAMP.replace("updated_at from", "updated_at, tier from"))
    project.cli("run", now=T3, check=True)
    assert _history(project, "customers", "id, name, tier, dbt_valid_to") == [
        (1, "ann", None, None),
        (2, "bob", None, _at(T2)),
        (2, "bob", "gold", None),
    ]
    columns = [r[0] for r in project.query("describe hist.customers")]
    assert columns == [
        "id",
        "name",
        "updated_at",
        "dbt_scd_id",
        "dbt_updated_at",
        "dbt_valid_from",
        "dbt_valid_to",
        "tier",
    ]


def test_duplicate_keys_write_nothing_and_keep_the_history(tmp_path):
    project = _project(tmp_path)
    project.cli("run", now=T1, check=True)
    project.seed("insert into raw.customers values (1, 'twin', timestamp '2024-01-02')")
    run = project.cli("run", now=T2)
    assert run.returncode == 1
    assert "duplicate unique_key (id) value(s)" in run.stdout
    assert project.scalar("select count(*) from hist.customers") == 2  # as it was


@pytest.mark.parametrize(
    "header,line,message",
    [
        ("-- kind: snapshot\n-- strategy: check\n-- check_cols: all", 1, "needs 'unique_key'"),
        ("-- kind: snapshot\n-- unique_key: id", 1, "needs 'strategy'"),
        ("-- kind: snapshot\n-- unique_key: id\n-- strategy: timestamp", 3, "needs 'updated_at"),
        ("-- kind: snapshot\n-- unique_key: id\n-- strategy: check", 3, "needs 'check_cols"),
        ("-- kind: snapshot\n-- unique_key: id\n-- strategy: often", 3, "'often' is not one of"),
        ("-- kind: table\n-- strategy: check", 2, "only applies to snapshots"),
        (
            "-- kind: snapshot\n-- unique_key: id\n-- strategy: check\n-- check_cols: nme",
            4,
            "no column 'nme'",
        ),
        (
            "-- kind: snapshot\n-- unique_key: id\n-- strategy: check\n-- check_cols: all\n"
            "-- partition_by: id",
            5,
            "does not apply to a snapshot",
        ),
    ],
)
def test_a_bad_snapshot_header_names_the_line(tmp_path, header, line, message):
    project = ProjectDir(tmp_path / "p")
    project.model("hist.s", f"{header}\nselect 1 as id, 'a' as name")
    error = broken_error(project.cli("plan"))
    assert error.startswith(f"models/hist/s.sql:{line}: ")
    assert message in error
    assert not project.warehouse.exists()
