"""DuckDB SQL as Spark SQL: what differs between the engines is fixed in the tree or refused
with its line and a rewrite; `orchestrator compile` prints what will run."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.sql.dialects import to_spark


def spark(sql: str) -> str:
    return " ".join(to_spark(sql, "m.sql").split())


def test_date_plus_interval_stays_a_timestamp_on_spark():
    assert spark("select d + interval 1 day as x from t") == (
        "SELECT CAST(d AS TIMESTAMP_NTZ) + INTERVAL '1' DAY AS x FROM t"
    )
    assert spark("select interval 2 hour + d as x from t") == (
        "SELECT INTERVAL '2' HOUR + CAST(d AS TIMESTAMP_NTZ) AS x FROM t"
    )
    # already a timestamp: not cast twice
    assert spark("select cast(t as timestamp) - interval 1 hour as x from t") == (
        "SELECT CAST(t AS TIMESTAMP_NTZ) - INTERVAL '1' HOUR AS x FROM t"
    )


def test_day_of_week_numbers_follow_duckdb():
    # DuckDB: dayofweek Sunday = 0; isodow Monday = 1 .. Sunday = 7. Spark: dayofweek Sunday = 1
    assert spark("select dayofweek(d) as a, isodow(d) as b from t") == (
        "SELECT ( DAYOFWEEK(d) - 1 ) AS a, ( ( ( DAYOFWEEK(d) + 5 ) % 7 ) + 1 ) AS b FROM t"
    )
    for spark_day, iso in ((1, 7), (2, 1), (7, 6)):  # Sunday, Monday, Saturday
        assert ((spark_day + 5) % 7) + 1 == iso


def test_an_ascending_ordered_list_keeps_its_order_and_its_nulls():
    # collect_list alone drops the order and the NULLs: pairs are collected, sorted, unpacked
    assert spark("select list(x order by y) as xs from t") == (
        "SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(y AS k, x AS v))), s -> s.v) AS xs FROM t"
    )


def test_whole_row_json_and_unordered_row_numbers_are_spark_sql():
    assert spark("select to_json(f) as j, row_number() over (partition by k) as n from t f") == (
        "SELECT TO_JSON(STRUCT(f.*)) AS j, ROW_NUMBER() OVER (PARTITION BY k ORDER BY 1 NULLS "
        "LAST) AS n FROM t AS f"
    )
    # a column that is not a row is left alone
    assert spark("select to_json(x) as j from t f") == "SELECT TO_JSON(x) AS j FROM t AS f"


@pytest.mark.parametrize(
    ("sql", "line", "words"),
    [
        ("select\n  list(x order by y desc) as xs\nfrom t", 2, "does not keep the order"),
        ("select *\nfrom read_csv('data/*.csv')", 2, "declare the files as a source"),
        ("select *\nfrom read_parquet('x.parquet')", 2, "declare the files as a source"),
    ],
)
def test_what_spark_would_read_differently_is_refused_with_its_line(sql, line, words):
    with pytest.raises(ProjectError) as caught:
        to_spark(sql, "models/s/m.sql")
    assert str(caught.value).startswith(f"models/s/m.sql:{line}: ")
    assert words in str(caught.value)


def test_compile_prints_the_sql_of_a_partition_for_either_engine(project):
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select d, d + interval 1 day as next_day, isodow(d) as iso
        from (select date '2024-01-01' + range::int as d from range(9))
        where d >= {{ start }} and d < {{ end }}
        """,
    )
    out = project.cli("compile", "s.daily", "--partition", "2024-01-03")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("-- s.daily [2024-01-03] on duckdb\n-- kind: incremental\n")
    assert "d >= DATE '2024-01-03' and d < DATE '2024-01-04'" in out.stdout
    out = project.cli("compile", "s.daily", "--engine", "spark")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("-- s.daily [2024-01-09] on spark\nSELECT\n")  # the latest
    assert "CAST(d AS TIMESTAMP_NTZ) + INTERVAL '1' DAY AS next_day" in out.stdout
    assert "-- kind" not in out.stdout  # our header is not the engine's
    project.model("s.listed", "-- a list\nselect list(x order by y desc) as xs from s.daily")
    out = project.cli("compile", "s.listed", "--engine", "spark")
    assert out.returncode == 2
    assert out.stderr.startswith("error: models/s/listed.sql:2: an ordered aggregate")
    bad = project.cli("compile", "s.dayly")
    assert bad.returncode == 2 and "did you mean: s.daily?" in bad.stderr


def test_duckdb_table_functions_mean_the_same_on_spark():
    # range excludes its end, generate_series includes it; both are Spark's range (BIGINT,
    # empty when the bounds say so), named as DuckDB names them when the query does not
    assert spark("select i from range(1, 3001) t(i)") == "SELECT i FROM RANGE(1, 3001) AS t(i)"
    assert spark("select * from range(5)") == "SELECT * FROM RANGE(0, 5) AS `range`(`range`)"
    assert spark("select i from generate_series(10, 1, -2) t(i)") == (
        "SELECT i FROM RANGE(10, 1 - 1, -2) AS t(i)"
    )
    assert spark("select * from unnest([1, 2])") == (
        "SELECT * FROM EXPLODE(ARRAY(1, 2)) AS `unnest`(`unnest`)"
    )
    # a lambda's index counts from 1 in DuckDB, from 0 in Spark
    assert spark("select list_transform(xs, (x, i) -> x * i) as l from t") == (
        "SELECT TRANSFORM(xs, (x, i) -> x * ( i + 1 )) AS l FROM t"
    )
    with pytest.raises(ProjectError) as caught:
        to_spark(
            "select d\nfrom range(date '2024-01-01', date '2024-02-01', interval 1 day) t(d)",
            "m.sql",
        )
    assert str(caught.value).startswith("m.sql:2: range(...) over dates or times")
    assert "from range(0, 31) t(i)" in str(caught.value)
