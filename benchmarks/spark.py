"""SPARK: BACKFILL-N and DAG-N on Spark `local[2]`, against the same statements sent by hand
through one `spark.sql` session (the limit on that engine: no staging, no checks, no state).

    python benchmarks/spark.py backfill-limit ROOT SPEC   per day and model, INSERT OVERWRITE
    python benchmarks/spark.py dag-limit ROOT SPEC        CREATE TABLE AS in dependency order

Spark is expected to be slower than DuckDB on one small machine; what we judge is the ratio to
Spark's own limit. The sources are Parquet files (one per day for the backfill), which both the
orchestrator (a declared source) and the limit (a view over the files) read.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _session(warehouse: Path):
    from pyspark.sql import SparkSession

    from orchestrator.engines.spark.session import session_conf, stderr_to

    builder = SparkSession.builder.master("local[2]").appName("limit")
    for key, value in session_conf(warehouse).items():
        builder = builder.config(key, value)
    with stderr_to(warehouse / "_logs" / "limit.log"):
        return builder.getOrCreate()


def _spark_sql(sql: str) -> str:
    from orchestrator.sql import dialects

    return dialects.to_spark(sql, "<benchmark>")


def backfill_limit(root: str, spec_path: str) -> None:
    """What a careful hand-written Spark backfill does: per day and model, one dynamic
    partition overwrite of the day's rows."""
    spec = json.loads(Path(spec_path).read_text())
    warehouse = Path(root) / "limit-lake"
    spark = _session(warehouse)
    first = date.fromisoformat(spec["first"])
    days = [first + timedelta(days=i) for i in range(spec["days"])]
    spark.sql("CREATE DATABASE IF NOT EXISTS bench")
    spark.sql("CREATE DATABASE IF NOT EXISTS raw")
    spark.sql(
        f"CREATE TABLE raw.events USING parquet LOCATION '{Path(root) / 'data'}' "
        "OPTIONS (pathGlobFilter '*.parquet')"
    )
    for name, sql in spec["models"]:
        never = _spark_sql(sql.format(start="date '0001-01-01'", end="date '0001-01-01'"))
        spark.sql(
            f"CREATE TABLE {name} USING parquet PARTITIONED BY (d) "
            f"LOCATION '{warehouse / name.replace('.', '/')}' AS {never}"
        )
    for day in days:
        window = {"start": f"date '{day}'", "end": f"date '{day + timedelta(days=1)}'"}
        for name, sql in spec["models"]:
            query = _spark_sql(sql.format(**window))
            columns = ", ".join(f"`{c}`" for c in spark.table(name).columns)
            spark.sql(f"INSERT OVERWRITE TABLE {name} SELECT {columns} FROM ({query})")
    spark.stop()


def dag_limit(root: str, spec_path: str) -> None:
    """CREATE TABLE AS of every model in dependency order, in one session."""
    steps = json.loads(Path(spec_path).read_text())
    warehouse = Path(root) / "limit-lake"
    spark = _session(warehouse)
    spark.sql("CREATE DATABASE IF NOT EXISTS raw")
    spark.sql(f"CREATE TABLE raw.events USING parquet LOCATION '{Path(root) / 'data'}'")
    for schema in sorted({name.split(".")[0] for name, _ in steps}):
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    for name, sql in steps:
        spark.sql(
            f"CREATE TABLE {name} USING parquet LOCATION "
            f"'{warehouse / name.replace('.', '/')}' AS {_spark_sql(sql)}"
        )
    spark.stop()


def source_files(root: Path, rows: int, days: int, first: date, per_day: bool) -> None:
    """The benchmark's source as Parquet: one file per day, or one file."""
    import duckdb

    from benchmarks import generate

    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for statement in generate.source_sql(rows, days, first):
        con.execute(statement)
    if per_day:
        for i in range(days):
            day = first + timedelta(days=i)
            con.execute(
                f"COPY (SELECT * FROM raw.events WHERE d = DATE '{day}') "
                f"TO '{data / f'events_{day}.parquet'}' (FORMAT parquet)"
            )
    else:
        con.execute(f"COPY raw.events TO '{data / 'events.parquet'}' (FORMAT parquet)")
    con.close()


def spark_toml(per_day: bool) -> str:
    path = "data/events_{date}.parquet" if per_day else "data/events.parquet"
    partitioned = "read_by_partition = true\n" if per_day else ""
    return (
        f'[sources."raw.events"]\npath = "{path}"\n{partitioned}'
        '[engine]\nkind = "spark"\nmaster = "local[2]"\nwarehouse_dir = "lake"\n'
    )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"backfill-limit": backfill_limit, "dag-limit": dag_limit}[command](*args)
