"""Spark SQL as the Spark engine writes it, without Spark: types named in both vocabularies,
quoting of names and literals, and Spark's errors as one line, permanent or transient."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import WarehouseError
from orchestrator.engines.spark.native import (
    Native,
    SparkError,
    duckdb_type,
    ident,
    literal,
    spark_error,
    spark_type,
)


@pytest.mark.parametrize(
    "spark,duckdb",
    [
        ("string", "VARCHAR"),
        (" BIGINT ", "BIGINT"),
        ("int", "INTEGER"),
        ("decimal(10, 2)", "DECIMAL(10,2)"),
        ("timestamp", "TIMESTAMP WITH TIME ZONE"),  # Spark's timestamp has a zone
        ("timestamp_ntz", "TIMESTAMP"),
        ("array<string>", "VARCHAR[]"),
        ("array<array<int>>", "INTEGER[][]"),
        ("void", "NULL"),
    ],
)
def test_spark_types_are_named_as_duckdb_names_them(spark, duckdb):
    assert duckdb_type(spark) == duckdb


@pytest.mark.parametrize(
    "duckdb,spark",
    [
        ("TIMESTAMP", "TIMESTAMP_NTZ"),  # DuckDB's TIMESTAMP has no zone
        ("VARCHAR", "STRING"),
        ("DECIMAL(10,2)", "DECIMAL(10, 2)"),
        ("INTEGER[]", "ARRAY<INT>"),
        ("BIGINT", "BIGINT"),
    ],
)
def test_declared_types_become_spark_ddl(duckdb, spark):
    assert spark_type(duckdb) == spark


def test_names_and_literals_are_quoted_for_spark_sql():
    assert ident("a`b") == "`a``b`"
    assert ident("schema.table") == "`schema.table`"  # one name, never split
    assert literal("it's c:\\x") == "'it\\'s c:\\\\x'"
    assert isinstance(Native("select 1"), str)


class AnalysisException(Exception):
    """Named as pyspark names the error of a statement Spark cannot analyse."""


class Py4JNetworkError(Exception):
    """Named as py4j names a lost connection to the JVM."""


def test_an_analysis_error_is_one_permanent_line_without_its_sqlstate():
    error = spark_error(
        AnalysisException(
            "[TABLE_OR_VIEW_NOT_FOUND] The table `s`.`x` cannot be found. SQLSTATE: 42P01; "
            "line 1 pos 14\n== SQL ==\nselect * from s.x"
        )
    )
    assert isinstance(error, SparkError) and isinstance(error, WarehouseError)
    assert str(error) == "[TABLE_OR_VIEW_NOT_FOUND] The table `s`.`x` cannot be found."
    assert not error.transient


def test_a_failure_of_the_cluster_may_pass_and_a_raised_error_may_not():
    lost = spark_error(Py4JNetworkError("Answer from Java side is empty\ntrace"))
    assert (str(lost), lost.transient) == ("Answer from Java side is empty", True)
    assert str(spark_error(Py4JNetworkError(""))) == "Py4JNetworkError"  # no message: its name
    raised = spark_error(RuntimeError("[USER_RAISED_EXCEPTION] too many rows"))
    assert not raised.transient
