"""The session catalog the Spark engine keeps of the warehouse_dir, without a JVM: a catalog
whose statements are recorded instead of run shows what each directory, layout, source and
remembered view is registered as, and what the engine then knows each name to be."""

from __future__ import annotations

import duckdb

from orchestrator import state
from orchestrator.engines import journal
from orchestrator.engines.spark import files
from orchestrator.engines.spark.catalog import READS_STATE, Catalog, Shared
from orchestrator.engines.spark.native import SparkError
from orchestrator.project.model import EngineSettings, Source


class Recorded(Catalog):
    """A catalog whose statements are kept in order; those containing a word of `refuse`
    fail as Spark would fail them."""

    def __init__(self, root, sources=None, control=None, refuse=()):
        settings = EngineSettings(kind="spark", warehouse_dir=str(root / "lake"))
        self.shared = Shared(None, settings, root, sources or {}, control)
        self.statements: list[str] = []
        self.refuse = refuse

    def execute(self, statement, params=None):
        if any(word in statement for word in self.refuse):
            raise SparkError(f"refused: {statement}")
        self.statements.append(str(statement))


def _parquet(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS i) TO '{path}' (FORMAT parquet)")
    con.close()


def test_a_table_directory_is_registered_over_its_files(tmp_path):
    cat = Recorded(tmp_path)
    place = cat.location("S", "T")
    assert place == (tmp_path / "lake" / "s" / "t").resolve()
    _parquet(place / "d=2024-01-01" / "part-0.parquet")
    cat.register_table("s", "t")
    assert cat.statements == [
        "DROP TABLE IF EXISTS `s`.`t`",
        f"CREATE TABLE `s`.`t` USING parquet OPTIONS (mergeSchema 'true') LOCATION '{place}'",
        "ALTER TABLE `s`.`t` RECOVER PARTITIONS",
    ]
    assert cat.relations() == {"s.t": "table"}
    assert cat.data_relation("s", "t") == "`s`.`t`"


def test_a_partitioned_table_with_a_layout_is_a_view_in_the_selects_order(tmp_path):
    cat = Recorded(tmp_path)
    place = cat.location("s", "t")
    files.write_layout(place, [("b", "STRING"), ("d", "DATE")], "d")  # no rows yet
    cat.register_table("s", "t")
    data = f"{files.DATA_SCHEMA}.`s__t`"
    assert f"CREATE TABLE {data} (`b` STRING, `d` DATE) USING parquet PARTITIONED BY (`d`) " in (
        "\n".join(cat.statements)
    )
    assert cat.statements[-1] == f"CREATE OR REPLACE VIEW `s`.`t` AS SELECT `b`, `d` FROM {data}"
    assert cat.data_relation("s", "t") == data  # writes go to the table, not the view
    assert cat.relations() == {"s.t": "table"}
    cat.statements.clear()
    cat.drop_table("s", "t")
    assert cat.statements == ["DROP VIEW IF EXISTS `s`.`t`", f"DROP TABLE IF EXISTS {data}"]
    assert cat.data_relation("s", "t") == "`s`.`t`"


def test_a_directory_spark_cannot_read_counts_as_missing(tmp_path):
    cat = Recorded(tmp_path)
    cat.known("s.t", "table")
    (cat.location("s", "t") / "_temporary").mkdir(parents=True)  # a write cut short
    _parquet(cat.location("s", "t") / "_temporary" / "part-0.parquet")
    cat.register_table("s", "t")
    assert cat.relations() == {} and cat.statements == ["DROP TABLE IF EXISTS `s`.`t`"]
    refusing = Recorded(tmp_path, refuse=("CREATE TABLE",))
    _parquet(refusing.location("s", "u") / "part-0.parquet")
    refusing.register_table("s", "u")  # Spark refuses it: dropped, not known
    assert refusing.relations() == {}


def test_a_file_source_is_a_table_over_its_files_once_it_has_some(tmp_path):
    source = Source("raw.events", path="data/*.csv", format="csv", columns=(("id", "BIGINT"),))
    cat = Recorded(tmp_path, sources={"raw.events": source})
    cat.register_source(source)
    assert cat.statements == [] and cat.relations() == {}  # no file yet: its readers wait
    cat.shared.patterns["raw.events"] = "/data/e*.csv"
    cat.register_source(source)
    assert cat.statements[-1] == (
        "CREATE TABLE `raw`.`events` (`id` BIGINT) USING csv OPTIONS ('path' '/data/e*.csv', "
        "'header' 'true', 'enforceSchema' 'false')"
    )
    assert cat.relations() == {"raw.events": "view"}
    untyped = Source("raw.other", path="x.csv", format="csv")
    cat.shared.patterns["raw.other"] = "/x.csv"
    cat.register_source(untyped)
    assert "'inferSchema' 'true'" in cat.statements[-1]


def test_the_catalog_registers_tables_and_views_in_an_order_that_binds(tmp_path):
    lake = tmp_path / "lake"
    _parquet(lake / "s" / "t" / "part-0.parquet")
    _parquet(lake / files.STAGE_SCHEMA / "s__t" / "part-0.parquet")  # a stage: not registered
    control = journal.connect(tmp_path / "state.duckdb", lake / "orchestrator")
    # v2 reads v1: registered first it fails, and is tried again once v1 is there
    state.remember_spark_view(control, "s.v2", "CREATE VIEW s.v2 AS SELECT * FROM s.v1")
    state.remember_spark_view(control, "s.v1", "CREATE VIEW s.v1 AS SELECT * FROM s.t")
    state.remember_spark_view(control, "s.gone", "CREATE VIEW s.gone AS SELECT * FROM s.nope")

    class Binding(Recorded):
        def execute(self, statement, params=None):
            for name in ("s.v1", "s.nope"):
                if f"FROM {name}" in statement and not any(
                    f"VIEW {name} " in s for s in self.statements
                ):
                    raise SparkError("TABLE_OR_VIEW_NOT_FOUND")
            super().execute(statement)

    cat = Binding(tmp_path, control=control)
    cat.register_catalog()
    assert cat.statements[0] == "CREATE DATABASE IF NOT EXISTS `s`"
    assert not any(files.STAGE_SCHEMA in s for s in cat.statements)
    views = [s for s in cat.statements if s.startswith("CREATE VIEW")]
    assert views == [
        "CREATE VIEW s.v1 AS SELECT * FROM s.t",
        "CREATE VIEW s.v2 AS SELECT * FROM s.v1",
    ]
    assert cat.relations() == {"s.t": "table", "s.v1": "view", "s.v2": "view"}
    control.close()


def test_the_state_views_are_registered_before_the_first_statement_that_reads_them(tmp_path):
    lake = tmp_path / "lake"
    control = journal.connect(tmp_path / "state.duckdb", lake / "orchestrator")
    control.execute("INSERT INTO orchestrator.meta VALUES ('k', 'v')")
    assert READS_STATE.search("select * from `orchestrator`.partitions")
    assert READS_STATE.search("SELECT * FROM orchestrator.meta")
    assert not READS_STATE.search("select * from my_orchestrator.meta")
    assert not READS_STATE.search("select x.orchestrator.y from t")
    cat = Recorded(tmp_path, control=control)
    cat._state_on_first_read("select * from s.t")
    assert cat.statements == []
    cat._state_on_first_read("select * from orchestrator.meta")
    assert cat.statements[0] == "CREATE DATABASE IF NOT EXISTS orchestrator"
    assert any(
        s.startswith("CREATE OR REPLACE VIEW orchestrator.`meta` AS SELECT * EXCEPT")
        for s in cat.statements
    )
    made = len(cat.statements)
    cat._state_on_first_read("select * from orchestrator.meta")  # once per engine
    assert len(cat.statements) == made
    control.close()
