"""probes: the statements that look at a source, executed on a real DuckDB file against real CSV
and Parquet files: arrival (rows in a window, partition values), the latest loaded_at, columns."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from orchestrator.core.partitions import Grain, Window
from orchestrator.project.model import Source
from orchestrator.sources import probes


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


@pytest.fixture
def csv_files(tmp_path):
    """Two days of events, each row stamped with when it was loaded."""
    paths = []
    for day, loaded in (
        ("2024-01-01", "2024-01-01 06:00:00"),
        ("2024-01-02", "2024-01-02 07:30:00"),
    ):
        path = tmp_path / f"events_{day}.csv"
        path.write_text(f"id,d,loaded\n1,{day},{loaded}\n2,{day},{loaded}\n")
        paths.append(str(path))
    return paths


def scalar(con, statement, *params):
    return con.execute(statement, *params).fetchone()[0]


def test_files_list_is_a_list_duckdb_reads(con, csv_files):
    assert con.execute(f"SELECT {probes.files_list(csv_files)}").fetchone()[0] == csv_files
    quoted = probes.files_list(["it's.csv"])
    assert con.execute(f"SELECT {quoted}").fetchone()[0] == ["it's.csv"]


def test_reader_reads_every_file_with_the_declared_types(con, csv_files):
    source = Source("raw.events", path="events_*.csv", columns=(("id", "VARCHAR"),))
    target = probes.reader(source, csv_files)
    assert scalar(con, f"SELECT count(*) FROM {target}") == 4
    # the declared type wins over the type sniffed from the data
    assert scalar(con, probes.type_of(target, "id")) == "VARCHAR"


def test_reader_of_a_table_source_is_its_relation(con):
    con.execute('CREATE SCHEMA raw; CREATE TABLE raw."my table" AS SELECT 1 AS id')
    source = Source("raw.my table")
    assert probes.reader(source, []) == '"raw"."my table"'
    assert con.execute(probes.select_all(probes.reader(source, []))).fetchall() == [(1,)]


def test_table_exists(con):
    source = Source("raw.orders")
    assert scalar(con, *probes.table_exists(source)) == 0
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.orders (id INT)")
    assert scalar(con, *probes.table_exists(source)) == 1


def test_latest_loaded_at_of_csv_files(con, csv_files):
    source = Source("raw.events", path="events_*.csv", loaded_at="loaded")
    target = probes.reader(source, csv_files)
    assert scalar(con, probes.type_of(target, "loaded")) == "TIMESTAMP"
    assert scalar(con, probes.latest(target, "loaded", with_zone=False)) == datetime(
        2024, 1, 2, 7, 30
    )


def test_latest_loaded_at_with_a_zone_is_read_as_utc(con, tmp_path):
    path = str(tmp_path / "loads.parquet")
    con.execute("SET TimeZone = 'Europe/Paris'")
    con.execute(
        "COPY (SELECT 1 AS id, TIMESTAMPTZ '2024-01-02 09:30:00+02' AS loaded "
        "UNION ALL SELECT 2, TIMESTAMPTZ '2024-01-01 23:00:00+00') "
        f"TO '{path}' (FORMAT parquet)"
    )
    source = Source("raw.loads", path="loads.parquet", format="parquet", loaded_at="loaded")
    target = probes.reader(source, [path])
    assert "TIME ZONE" in scalar(con, probes.type_of(target, "loaded"))
    # 09:30 at +02 is 07:30 UTC, whatever the session's zone
    assert scalar(con, probes.latest(target, "loaded", with_zone=True)) == datetime(
        2024, 1, 2, 7, 30
    )


def test_rows_in_a_window_tell_arrival(con, csv_files):
    source = Source("raw.events", path="events_*.csv", partition_by="d")
    target = probes.reader(source, csv_files)
    day = Window.containing(datetime(2024, 1, 2), Grain.DAY)
    later = Window.containing(datetime(2024, 1, 3), Grain.DAY)
    assert scalar(con, probes.rows_in(target, "d", day)) == 2
    assert scalar(con, probes.rows_in(target, "d", later)) == 0
    hour = Window.containing(datetime(2024, 1, 1, 0), Grain.HOUR)
    assert scalar(con, probes.rows_in(target, "d", hour)) == 2


def test_partition_values_of_a_parquet_source(con, tmp_path):
    path = str(tmp_path / "orders.parquet")
    con.execute(
        "COPY (SELECT * FROM (VALUES (1, DATE '2024-03-01'), (2, DATE '2024-03-01'), "
        f"(3, DATE '2024-03-04')) t(id, d)) TO '{path}' (FORMAT parquet)"
    )
    source = Source("raw.orders", path="orders.parquet", format="parquet", partition_by="d")
    target = probes.reader(source, [path])
    values = sorted(v for (v,) in con.execute(probes.partition_values(target, "d")).fetchall())
    assert values == [datetime(2024, 3, 1), datetime(2024, 3, 4)]


def test_plain_reader_shows_the_columns_the_files_really_have(con, tmp_path):
    path = str(tmp_path / "orders.parquet")
    con.execute(f"COPY (SELECT 1::BIGINT AS id, 'x' AS note) TO '{path}' (FORMAT parquet)")
    source = Source("raw.orders", path="orders.parquet", format="parquet")
    described = con.execute(f"DESCRIBE {probes.select_all(probes.plain_reader(source, [path]))}")
    assert [row[:2] for row in described.fetchall()] == [("id", "BIGINT"), ("note", "VARCHAR")]


def test_untyped_reader_binds_the_options_on_one_file(con, csv_files):
    good = Source("raw.events", path="events_*.csv", options={"delim": ","})
    assert scalar(con, f"SELECT count(*) FROM {probes.untyped_reader(good, csv_files[0])}") == 2
    bad = Source("raw.events", path="events_*.csv", options={"no_such_option": 1})
    with pytest.raises(duckdb.Error):
        con.execute(f"DESCRIBE {probes.select_all(probes.untyped_reader(bad, csv_files[0]))}")
