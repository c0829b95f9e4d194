"""Spark reads what DuckDB reads: table sources are probed where Spark keeps them, a model with
no rows is built all the same, a partitioned model keeps its SELECT's column order, and SQL that
Spark cannot resolve is refused before anything is written."""

from __future__ import annotations

import duckdb
import pytest
from conftest import ProjectDir, needs_spark, spark_state, spark_table, spark_toml

pytestmark = [needs_spark, pytest.mark.slow]

NOW = "2024-01-06T12:00"


def orders_table(project: ProjectDir) -> None:
    """A table source as an external loader leaves it in the warehouse_dir: Parquet files."""
    place = project.root / "lake" / "raw" / "orders"
    place.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        "copy (select i as order_id, 'c' || (i % 3) as customer, i * 1.5 as amount, "
        "date '2024-01-01' + cast(i % 3 as integer) as order_date from range(9) t(i)) "
        f"to '{place / 'part-0.parquet'}'"
    )
    con.close()


def test_table_sources_are_probed_and_empty_partitions_count_as_built(project):
    project.write(
        "orchestrator.toml",
        spark_toml() + '[sources."raw.orders"]\npartition_by = "order_date"\n',
    )
    orders_table(project)
    project.model(
        "s.orders",
        """
        -- kind: incremental
        -- partition_by: order_date
        -- start: 2024-01-01
        -- end: 2024-01-05
        select order_id, order_date, customer, amount from raw.orders
        where order_date >= {{ start }} and order_date < {{ end }}
        """,
    )
    project.model(
        "s.refunds",
        """
        -- kind: incremental
        -- partition_by: order_date
        -- start: 2024-01-01
        -- end: 2024-01-04
        select order_id, order_date from raw.orders
        where amount < 0 and order_date >= {{ start }} and order_date < {{ end }}
        """,
    )
    first = project.cli("run", "--threads", "2", now=NOW)
    # the table's three days arrived (it holds rows there); the fourth has not
    assert first.returncode == 0, first.stdout + first.stderr
    statuses = {
        (r[0], r[1]): r[4]
        for r in spark_state(project.root, "partitions", "where model = 's.orders'")
    }
    assert statuses == {
        ("s.orders", "2024-01-01"): "success",
        ("s.orders", "2024-01-02"): "success",
        ("s.orders", "2024-01-03"): "success",
        ("s.orders", "2024-01-04"): "waiting",
    }
    assert len(spark_table(project.root, "s.orders")) == 9
    refunds = spark_state(project.root, "partitions", "where model = 's.refunds' order by 2")
    assert [(r[1], r[4], r[10]) for r in refunds] == [
        (f"2024-01-0{d}", "success", 0) for d in range(1, 4)
    ]
    # nothing changed: nothing to rebuild, the empty model included
    again = project.cli("run", "--threads", "2", now=NOW)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "s.refunds" not in again.stdout, again.stdout
    # a partitioned model reads in its SELECT's order, as on DuckDB (Spark stores the
    # partition column last), with rows or without
    read = project.cli(
        "sql",
        "select * from s.orders where order_id = 4 union all select order_id, order_date, "
        "'none', 0 from s.refunds",
        "--format",
        "csv",
        now=NOW,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines() == [
        "order_id,order_date,customer,amount",
        "4,2024-01-02,c1,6.0",
    ]


def test_spark_analyses_a_run_before_writing_and_table_functions_carry_over(project):
    project.write("orchestrator.toml", spark_toml())
    project.model("s.numbers", "select i, i % 7 as k from range(1, 3001) t(i)")
    project.model("s.series", "select g, x from generate_series(1, 3) s(g), unnest([10, 20]) u(x)")
    # a DuckDB function Spark does not have, over a model this run would build first
    project.model(
        "s.sums",
        "-- a reduce\nselect k, list_reduce(list(i), (a, b) -> a + b) as total\n"
        "from s.numbers group by k\n",
    )
    refused = project.cli("run", now=NOW)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith("error: models/s/sums.sql: Spark cannot run"), refused.stderr
    assert "UNRESOLVED_ROUTINE" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert not (project.root / "lake" / "s").exists()
    assert spark_state(project.root, "runs") == []
    (project.root / "models" / "s" / "sums.sql").unlink()
    out = project.cli("run", now=NOW)
    assert out.returncode == 0, out.stdout + out.stderr
    numbers = spark_table(project.root, "s.numbers", "order by i")
    assert len(numbers) == 3000 and numbers[0] == (1, 1) and numbers[-1] == (3000, 3000 % 7)
    assert spark_table(project.root, "s.series", "order by g, x") == [
        (g, x) for g in (1, 2, 3) for x in (10, 20)
    ]
