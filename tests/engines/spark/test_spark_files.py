"""The Spark engine's tables as files, read without Spark: which files are committed data (none
under `_` or `.`), which directories are tables and schemas, partition directories, the layout
of a partitioned table, and the moves that publish a directory."""

from __future__ import annotations

import duckdb

from orchestrator import state
from orchestrator.engines import journal
from orchestrator.engines.spark import files
from orchestrator.project.model import EngineSettings


def _parquet(path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS i FROM range({rows})) TO '{path}' (FORMAT parquet)")
    con.close()


def test_files_under_underscore_or_dot_are_no_committed_data(tmp_path):
    table = tmp_path / "t"
    _parquet(table / "part-0.parquet", 3)
    _parquet(table / "d=2024-01-01" / "part-1.parquet", 2)
    _parquet(table / "_temporary" / "0" / "part-2.parquet", 5)  # a commit in progress
    _parquet(table / ".hidden.parquet", 7)
    (table / "_SUCCESS").write_text("")
    assert [p.relative_to(table).as_posix() for p in files.committed_files(table)] == [
        "d=2024-01-01/part-1.parquet",
        "part-0.parquet",
    ]
    assert files.parquet_rows(table) == 5  # from the footers: 3 + 2
    assert files.parquet_rows(tmp_path / "missing") == 0
    assert files.committed_files(tmp_path / "missing") == []


def test_table_and_schema_directories(tmp_path):
    _parquet(tmp_path / "s" / "built" / "part-0.parquet", 1)
    _parquet(tmp_path / "s" / "cut_short" / "_temporary" / "part-0.parquet", 1)
    files.write_layout(tmp_path / "s" / "empty", [("i", "bigint"), ("d", "date")], "d")
    _parquet(tmp_path / "s" / "t__old" / "part-0.parquet", 1)  # moved aside by a publish
    kinds = {p.name: files.is_table_dir(p) for p in (tmp_path / "s").iterdir()}
    assert kinds == {"built": True, "cut_short": False, "empty": True, "t__old": False}
    for name in ("orchestrator", files.STAGE_SCHEMA, files.DATA_SCHEMA, "_logs", ".x"):
        (tmp_path / name).mkdir()
        assert not files.is_schema_dir(tmp_path / name), name
    assert files.is_schema_dir(tmp_path / "s")


def test_the_relations_on_disk_are_the_table_directories_and_the_remembered_views(tmp_path):
    settings = EngineSettings(kind="spark", warehouse_dir=str(tmp_path / "lake"))
    assert files.warehouse_of(settings, tmp_path) == (tmp_path / "lake").resolve()
    assert (
        files.warehouse_of(EngineSettings(kind="spark"), tmp_path)
        == (tmp_path / "spark-warehouse").resolve()
    )
    lake = tmp_path / "lake"
    _parquet(lake / "Sales" / "Orders" / "part-0.parquet", 2)
    _parquet(lake / files.STAGE_SCHEMA / "sales__orders" / "part-0.parquet", 2)
    control = journal.connect(tmp_path / "state.duckdb", lake / "orchestrator")
    state.remember_spark_view(control, "sales.Top", "CREATE VIEW sales.top AS SELECT 1")
    assert files.relations_on_disk(settings, tmp_path, control) == {
        "sales.orders": "table",
        "sales.top": "view",
    }
    assert files.table_files(settings, tmp_path, "Sales.Orders") == []  # the path is lowercased
    assert files.table_files(settings, tmp_path, "missing.table") == []
    control.close()


def test_partition_directories_map_values_to_their_names(tmp_path):
    for name in ("d=2024-01-01", "D=2024-01-02", "d=a%3Ab", "other=1", "d=2024-01-03.txt"):
        (tmp_path / name).mkdir(exist_ok=True)
    (tmp_path / "d=file").write_text("")  # a file, not a partition
    assert files.partition_dirs(tmp_path, "d") == {
        "2024-01-01": "d=2024-01-01",
        "2024-01-02": "D=2024-01-02",
        "a:b": "d=a%3Ab",  # unquoted as Spark escapes it
        "2024-01-03.txt": "d=2024-01-03.txt",
    }
    assert files.partition_dirs(tmp_path / "missing", "d") == {}


def test_a_layout_is_written_whole_and_read_back(tmp_path):
    place = tmp_path / "t"
    assert files.read_layout(place) is None
    files.write_layout(place, [("b", "string"), ("d", "date")], "d")
    assert files.read_layout(place) == {
        "columns": [["b", "string"], ["d", "date"]],
        "partition_by": "d",
    }
    assert sorted(p.name for p in place.iterdir()) == [files.LAYOUT]  # nothing left aside
    (place / files.LAYOUT).write_text("{not json")
    assert files.read_layout(place) is None


def test_move_and_remove_tree(tmp_path):
    source, target = tmp_path / "stage", tmp_path / "table"
    _parquet(source / "part-0.parquet", 1)
    files.move(source, target)
    assert not source.exists() and files.parquet_rows(target) == 1
    files.remove_tree(target)
    assert not target.exists()
    files.remove_tree(target)  # nothing there: no error
