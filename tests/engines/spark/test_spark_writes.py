"""The writes of each kind of model on Spark, without a JVM: each write's steps run against a
cursor (the `SparkCursor` protocol) that records its Spark SQL and keeps its tables as real
directories, so what is staged, audited from the files, moved into place and dropped is seen
on disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestrator import state
from orchestrator.core.partitions import Grain, Window
from orchestrator.engines import journal
from orchestrator.engines.spark import writes
from orchestrator.engines.spark.files import STAGE_SCHEMA, parquet_rows, read_layout
from orchestrator.engines.spark.native import Native
from orchestrator.project.model import Kind, Model

DAY = Window(datetime(2024, 1, 2), datetime(2024, 1, 3), Grain.DAY)


class Cursor:
    """A `writes.SparkCursor` whose statements are recorded (`answer` is what a query's
    `fetchone` gives) and whose tables are directories under `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.statements: list[str] = []
        self.names: dict[str, str] = {}
        self.registered: list[tuple[str, str]] = []
        self.columns = [("id", "bigint"), ("d", "date")]
        self.answer: tuple = ()
        self.control = journal.connect(root / "state.duckdb", root / "lake" / "orchestrator")

    @property
    def state(self):
        return self.control

    def execute(self, statement, params=None):
        assert isinstance(statement, Native), statement  # Spark SQL, never transpiled
        self.statements.append(str(statement))
        answer = self.answer

        class Result:
            def fetchone(self):
                return answer

        return Result()

    def describe(self, query):
        return self.columns

    def spark_columns(self, query):
        return self.columns

    def location(self, schema, table):
        return self.root / "lake" / schema / table

    def relations(self):
        return dict(self.names)

    def known(self, name, kind):
        if kind is None:
            self.names.pop(name, None)
        else:
            self.names[name] = kind

    def register_table(self, schema, table):
        self.registered.append((schema, table))

    def data_relation(self, schema, table):
        return f"`{schema}`.`{table}`"

    def drop_table(self, schema, table):
        self.statements.append(f"DROP TABLE IF EXISTS `{schema}`.`{table}`")


def _model(kind=Kind.TABLE, **settings) -> Model:
    return Model("s.t", "s", "t", Path("models/s/t.sql"), "models/s/t.sql", "", kind, **settings)


def _parquet(path: Path, rows: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id FROM range({rows})) TO '{path}' (FORMAT parquet)")
    con.close()


def _run(cur: Cursor, steps) -> None:
    for step in steps:
        step(cur) if callable(step) else cur.execute(step)


def test_a_table_is_staged_counted_from_its_files_and_moved_into_place(tmp_path):
    cur = Cursor(tmp_path)
    old = cur.location("s", "t")
    _parquet(old / "old.parquet")
    write = writes.build(_model(), "select 1 as id -- a comment", None, "table")
    assert write.stage == f'"{STAGE_SCHEMA}"."s__t"' and write.counted_by_audit
    _run(cur, write.statements)
    created = cur.statements[-1]
    assert created.startswith(f"CREATE TABLE `{STAGE_SCHEMA}`.`s__t` USING parquet LOCATION ")
    assert created.endswith("AS SELECT * FROM (\nselect 1 as id -- a comment\n)")
    _parquet(cur.location(*writes.stage_of(_model())) / "part-0.parquet", 3)  # as Spark writes
    assert write.audit(cur) == (3,)
    _run(cur, write.finish)
    assert sorted(p.name for p in old.iterdir()) == ["part-0.parquet"]  # the old files are gone
    assert not cur.location(*writes.stage_of(_model())).exists()
    assert not (old.parent / "t__old").exists()
    assert cur.registered == [("s", "t")]


def test_a_view_is_checked_as_a_temporary_view_then_made_and_remembered(tmp_path):
    cur = Cursor(tmp_path)
    _parquet(cur.location("s", "t") / "part-0.parquet")  # a table stood under the name
    write = writes.build(_model(Kind.VIEW), "select 1 as id;", None, "table")
    assert write.stage == '"orchestrator_check_s__t"'
    _run(cur, write.statements + write.finish)
    assert cur.statements[0].startswith(
        "CREATE OR REPLACE TEMPORARY VIEW `orchestrator_check_s__t`"
    )
    made = "CREATE OR REPLACE VIEW `s`.`t` AS (\nselect 1 as id\n)"
    assert made in cur.statements and cur.statements[-1].startswith("DROP VIEW IF EXISTS")
    assert not cur.location("s", "t").exists()
    assert cur.relations() == {"s.t": "view"}
    assert state.spark_views(cur.state) == {"s.t": made}
    _run(cur, [writes.drop_named("s.t", "view")])
    assert state.spark_views(cur.state) == {} and cur.relations() == {}


def test_a_windows_rows_are_audited_from_its_partition_directories(tmp_path):
    cur = Cursor(tmp_path)
    model = _model(Kind.INCREMENTAL, partition_by="d")
    write = writes.build(model, "select 1", DAY, None)
    _run(cur, write.statements)
    stage = cur.location(*writes.stage_of(model))
    assert read_layout(stage) == {"columns": [["id", "bigint"], ["d", "date"]], "partition_by": "d"}
    _parquet(stage / "d=2024-01-02" / "part-0.parquet", 2)
    made = len(cur.statements)
    assert write.audit(cur) == (0, 2) and len(cur.statements) == made  # no job
    _parquet(stage / "d=2024-01-03" / "part-0.parquet", 1)  # a partition outside the window
    cur.answer = (1, 3)
    assert write.audit(cur) == (1, 3)
    assert "count_if(NOT coalesce(`d` >= CAST('2024-01-02' AS DATE)" in cur.statements[-1]
    assert write.judge((1, 3), 0).startswith("1 row(s) with d outside partition 2024-01-02 ")
    assert write.judge((0, 3), 0) is None


def test_a_window_replaces_its_partitions_and_drops_those_the_stage_no_longer_has(tmp_path):
    cur = Cursor(tmp_path)
    model = _model(Kind.INCREMENTAL, partition_by="d")
    table = cur.location("s", "t")
    for day in ("2024-01-01", "2024-01-02"):
        _parquet(table / f"d={day}" / "part-0.parquet")
    cur.known("s.t", "table")
    write = writes.build(model, "select 1", DAY, "table")
    (cur.location(*writes.stage_of(model))).mkdir(parents=True)  # the window has no rows now
    _run(cur, write.finish)
    assert sorted(p.name for p in table.iterdir()) == ["d=2024-01-01"]  # outside: kept
    assert "ALTER TABLE `s`.`t` DROP IF EXISTS PARTITION (`d` = '2024-01-02')" in cur.statements
    assert f"INSERT OVERWRITE TABLE `s`.`t` SELECT `id`, `d` FROM `{STAGE_SCHEMA}`.`s__t`" in (
        cur.statements
    )
    assert not cur.location(*writes.stage_of(model)).exists()  # the stage is dropped last


def test_a_merge_by_key_audits_null_and_repeated_keys_of_the_staged_rows(tmp_path):
    model = _model(Kind.INCREMENTAL, partition_by="d", unique_key=("id",))
    write = writes.build(model, "select 1", DAY, "table")
    assert write.stage == f'"{STAGE_SCHEMA}"."s__t__merged"'
    assert "count_if(`id` IS NULL), count(*) - count(DISTINCT struct(`id`)), count(*)" in (
        write.audit
    )
    assert write.judge((0, 0, 0, 5), 5) is None
    assert "duplicate" in write.judge((0, 0, 2, 5), 5)
    cur = Cursor(tmp_path)
    cur.known("s.t", "table")
    _run(cur, write.statements)
    combined = cur.statements[-1]
    assert "UNION ALL SELECT t.`id`, t.`d` FROM `s`.`t` t WHERE (" in combined
    assert "NOT EXISTS (SELECT 1 FROM `orchestrator_stage`.`s__t` s WHERE s.`id` <=> t.`id`)" in (
        combined
    )


def test_a_new_column_is_added_and_a_changed_type_refused(tmp_path):
    model = _model(Kind.INCREMENTAL, partition_by="d")
    steps, refusal = writes.evolve(model, "s.t", [("id", "INTEGER")], [("id", "BIGINT")])
    assert steps == [] and refusal.startswith("column type changed (id BIGINT -> INTEGER)")
    assert writes.evolve(model, "s.t", [("id", "BIGINT")], [("id", "BIGINT")]) == ([], None)
    steps, refusal = writes.evolve(
        model, "s.t", [("id", "BIGINT"), ("at", "TIMESTAMP")], [("id", "BIGINT")]
    )
    cur = Cursor(tmp_path)
    _run(cur, steps)
    assert refusal is None
    assert cur.statements == ["ALTER TABLE `s`.`t` ADD COLUMNS (`at` TIMESTAMP_NTZ)"]


def test_dropping_a_table_removes_its_files(tmp_path):
    cur = Cursor(tmp_path)
    _parquet(cur.location("s", "t") / "part-0.parquet")
    cur.known("s.t", "table")
    _run(cur, [writes.drop_relation(_model(), "table")])
    assert not cur.location("s", "t").exists() and cur.relations() == {}
    assert writes.create_schema("s") == "CREATE DATABASE IF NOT EXISTS `s`"
    assert parquet_rows(cur.location("s", "t")) == 0
