"""Spark SQL as the Spark engine writes it: statements already in Spark SQL (`Native`), column
types in both vocabularies (Spark's, and DuckDB's that the layers above compare), quoting, and
Spark's errors as one line. The engine, its catalog and the writes all speak it, so it lives
below them.
"""

from __future__ import annotations

import re

from ...core.errors import WarehouseError


class Native(str):
    """A statement already in Spark SQL: run as is, never transpiled."""


_SPARK_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "binary": "BLOB",
    "void": "NULL",
}


def duckdb_type(spark_type: str) -> str:
    """A Spark type named as DuckDB names it, so that declared column checks and the schema
    rules above the engine compare one vocabulary."""
    text = spark_type.strip().lower()
    if text.startswith("decimal"):
        return text.upper().replace(" ", "")
    if text.startswith("array<") and text.endswith(">"):
        return duckdb_type(text[6:-1]) + "[]"
    return _SPARK_TYPES.get(text, text.upper())


def spark_type(duckdb_name: str) -> str:
    """A declared (DuckDB) column type as Spark DDL; DuckDB's TIMESTAMP has no time zone."""
    from sqlglot import exp

    built = exp.DataType.build(duckdb_name, dialect="duckdb")
    if built.this == exp.DataType.Type.TIMESTAMP:
        return "TIMESTAMP_NTZ"
    return built.sql("spark")


def ident(name: str) -> str:
    """A name quoted for Spark SQL."""
    return "`" + name.replace("`", "``") + "`"


def literal(value: str) -> str:
    """A string (a path, a partition's value, an option) as a Spark SQL literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkError(WarehouseError):
    """A statement Spark refused or failed; `transient` when the cluster, not the SQL, failed."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


_PERMANENT = (
    "AnalysisException",
    "ParseException",
    "IllegalArgumentException",
    "ArithmeticException",
    "NumberFormatException",
    "SparkRuntimeException",
    "DateTimeException",
    "SparkNumberFormatException",
    "SparkArithmeticException",
    "SparkDateTimeException",
)
"""Spark's exceptions that say the statement is wrong: running it again cannot help."""


def spark_error(exc: BaseException) -> SparkError:
    """Spark's error as one line; analysis and parse errors are permanent, the rest (lost
    executors, I/O) may pass."""
    name = type(exc).__name__
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    message = re.sub(r"\s*SQLSTATE: \w+.*$", "", message)
    permanent = name in _PERMANENT or "USER_RAISED_EXCEPTION" in str(exc)
    return SparkError(message, transient=not permanent)
