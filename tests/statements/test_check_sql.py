"""statements.check_sql: the SQL that finds a check's failing rows, run on a real DuckDB table,
and the judging of what it returns, per partition of the scope."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from orchestrator.core.partitions import Grain, Window
from orchestrator.project.checks import parse
from orchestrator.statements import check_sql
from orchestrator.statements.check_sql import Scope

DAYS = tuple(Window.containing(datetime(2024, 1, d), Grain.DAY) for d in (1, 2))
SCOPE = Scope('"s"."t"', "d", Grain.DAY, DAYS)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA s")
    con.execute(
        "CREATE TABLE s.t AS SELECT * FROM (VALUES "
        "(1, 'ok', DATE '2024-01-01'), (2, NULL, DATE '2024-01-01'), "
        "(2, 'late', DATE '2024-01-02'), (4, 'ok', DATE '2024-01-03')) v(id, status, d)"
    )
    con.execute("CREATE TABLE s.dim AS SELECT 1 AS id UNION ALL SELECT 2")
    yield con
    con.close()


def check(text: str, severity: str = "block"):
    return parse(text, severity, "models/s/t.sql", 1)


def judged(con, text: str, scope: Scope = SCOPE, severity: str = "block"):
    c = check(text, severity)
    if c.kind == "relationships":
        c = check_sql.with_reference(c, '"s"."dim"')
    failing = check_sql.failing_rows_sql(c, scope)
    rows = con.execute(check_sql.grouped_failures_sql(failing, scope)).fetchall()
    return {r.key: (r.status, r.failing) for r in check_sql.judge_failures(c, scope, rows)}


def test_a_scope_reads_only_its_windows():
    assert SCOPE.keys == ["2024-01-01", "2024-01-02"]
    assert SCOPE.where() == "\"d\" >= DATE '2024-01-01' AND \"d\" < DATE '2024-01-03'"
    assert Scope('"s"."t"').where() == "true" and Scope('"s"."t"').keys == ["all"]
    assert SCOPE.outer == Window(DAYS[0].start, DAYS[1].end, Grain.DAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not_null(status)", {"2024-01-01": ("fail", 1), "2024-01-02": ("pass", 0)}),
        ("unique(id)", {"2024-01-01": ("fail", 1), "2024-01-02": ("fail", 1)}),
        ("accepted_values(status, 'ok')", {"2024-01-01": ("pass", 0), "2024-01-02": ("fail", 1)}),
        ("expression(id < 2)", {"2024-01-01": ("fail", 1), "2024-01-02": ("fail", 1)}),
        ("relationships(id, s.dim.id)", {"2024-01-01": ("pass", 0), "2024-01-02": ("pass", 0)}),
    ],
)
def test_row_level_checks_count_the_failing_rows_of_each_partition(con, text, expected):
    # the row of 2024-01-03 is outside the scope: its id 4 is not in s.dim, and it is not judged
    assert judged(con, text) == expected


def test_a_warning_check_warns_and_the_whole_table_is_one_key(con):
    assert judged(con, "not_null(status)", Scope('"s"."t"'), "warn") == {"all": ("warn", 1)}


def test_failing_rows_are_sampled_as_json(con):
    c = check("not_null(status)")
    failing = check_sql.failing_rows_sql(c, SCOPE)
    rows = con.execute(check_sql.grouped_failures_sql(failing, SCOPE)).fetchall()
    (result,) = [r for r in check_sql.judge_failures(c, SCOPE, rows) if r.failing]
    assert result.sample == ({"id": 2, "status": None, "d": "2024-01-01"},)


def test_an_aggregate_check_is_not_row_level():
    with pytest.raises(ValueError, match="row_count is not a row-level check"):
        check_sql.failing_rows_sql(check("row_count(min=1)"), SCOPE)


def test_row_counts_are_judged_against_their_bounds(con):
    counts = dict(con.execute(check_sql.counts_sql(SCOPE)).fetchall())
    assert counts == {"2024-01-01": 2, "2024-01-02": 1}
    results = check_sql.judge_row_count(check("row_count(min=2, max=5)"), SCOPE, counts)
    assert [(r.key, r.status, r.message) for r in results] == [
        ("2024-01-01", "pass", "2 rows"),
        ("2024-01-02", "fail", "1 rows, expected >= 2 and <= 5"),
    ]
    whole = check_sql.partition_counts_sql('"s"."t"', "d", Grain.MONTH)
    assert con.execute(whole).fetchall() == [("2024-01", 4)]


def test_a_row_count_change_compares_with_the_previous_partitions():
    c = check("row_count_change(max_pct=50, partitions=2)")
    counts = {"2024-01-01": 10, "2024-01-02": 30}
    results = check_sql.judge_row_count_change(c, SCOPE, counts, [("2023-12-31", 10)])
    assert [(r.status, r.message) for r in results] == [
        ("pass", "10 rows vs 10.0 on average over the previous 1: 0.0% change (max 50%)"),
        ("fail", "30 rows vs 10.0 on average over the previous 2: 200.0% change (max 50%)"),
    ]
    first = check_sql.judge_row_count_change(c, SCOPE, counts, [])[0]
    assert (first.status, first.message) == ("pass", "10 rows, no earlier partitions")


def test_a_columns_check_names_each_difference():
    c = check("columns(id INTEGER, status VARCHAR, gone DATE)")
    actual = [("id", "BIGINT"), ("status", "VARCHAR")]
    (result,) = check_sql.judge_columns(c, Scope('"s"."t"'), actual)
    assert (result.status, result.failing) == ("fail", 2)
    assert result.message == "missing column(s): gone; id is BIGINT, expected INTEGER"
