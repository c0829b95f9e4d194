"""The audit of write-audit-publish (`execution.audit`): checks judged per partition on a real
DuckDB table, a custom check retargeted to the data built aside, a check that cannot run, and
blocking checks that reject a task's data after the warnings judged it too."""

from __future__ import annotations

import pytest
from conftest import NOW

from orchestrator import state
from orchestrator.core.errors import CheckFailed
from orchestrator.core.partitions import Grain, Window, window_for_key
from orchestrator.core.tasks import Reason, Task
from orchestrator.engines import engine
from orchestrator.execution.audit import blocking_checks, evaluate_checks, warn_checks
from orchestrator.execution.context import TaskContext
from orchestrator.execution.values import Live, Options, Shared
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader
from orchestrator.statements.check_sql import Scope

DAY1, DAY2 = (window_for_key(k, Grain.DAY) for k in ("2024-01-01", "2024-01-02"))

MODEL = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- check: not_null(id)
-- check: unique(id)
-- check warn: row_count(min=2)
select id, d from raw.src where d >= {{ start }} and d < {{ end }}
"""

ROWS = """
create schema if not exists s;
create table s.m as select * from (values
    (1, date '2024-01-01'), (1, date '2024-01-01'), (null, date '2024-01-01'),
    (2, date '2024-01-02'), (3, date '2024-01-02')
) v(id, d);
create table s.m__refresh as select * from (values (-1, date '2024-01-01')) v(id, d);
"""


@pytest.fixture
def checked(project):
    """s.m with two days: 01-01 has a NULL and a duplicate id, 01-02 is good; a custom check
    refuses negative ids."""
    project.model("s.m", MODEL)
    project.write("checks/no_negative.sql", "-- model: s.m\nselect * from s.m where id < 0")
    dag = dag_mod.build(loader.load(project.root, strict=True))
    con = engine.connect(project.warehouse)
    state.ensure(con)
    con.execute(ROWS)
    yield dag, con
    con.close()


def verdicts(results) -> list[tuple[str, str, str, int]]:
    return [(r.check.name, r.key, r.status, r.failing) for r in results]


def two_days(relation: str) -> Scope:
    return Scope(relation, "d", Grain.DAY, (DAY1, DAY2))


def test_each_check_is_judged_per_partition(checked):
    dag, con = checked
    model = dag.models["s.m"]
    results = evaluate_checks(con, dag, model, model.checks, two_days(model.relation), {})
    assert verdicts(results) == [
        ("not_null(id)", "2024-01-01", "fail", 1),
        ("not_null(id)", "2024-01-02", "pass", 0),
        ("unique(id)", "2024-01-01", "fail", 2),
        ("unique(id)", "2024-01-02", "pass", 0),
        ("row_count(min=2)", "2024-01-01", "pass", 0),
        ("row_count(min=2)", "2024-01-02", "pass", 0),
        ("no_negative", "all", "pass", 0),  # a custom check's rows need no partition column
    ]


def test_a_custom_check_judges_the_data_built_aside_when_the_scope_is_there(checked):
    dag, con = checked
    model = dag.models["s.m"]
    custom = [c for c in model.checks if c.kind == "custom"]
    scope = Scope('"s"."m__refresh"', "d", Grain.DAY, (DAY1,))
    assert verdicts(evaluate_checks(con, dag, model, custom, scope, {})) == [
        ("no_negative", "2024-01-01", "fail", 1)
    ]


def test_a_check_that_cannot_run_is_an_error_and_stops_the_rest_inside_a_transaction(checked):
    dag, con = checked
    model = dag.models["s.m"]
    scope = Scope('"s"."gone"', "d", Grain.DAY, (DAY1, DAY2))
    results = evaluate_checks(con, dag, model, model.checks, scope, {})
    assert {r.status for r in results} == {"error"} and len(results) == 8
    assert results[0].message.startswith(
        "the check could not run: CatalogException: Catalog Error: Table with name gone does not"
    )
    inside = evaluate_checks(con, dag, model, model.checks, scope, {}, in_transaction=True)
    assert verdicts(inside) == [
        ("not_null(id)", "2024-01-01", "error", 0),
        ("not_null(id)", "2024-01-02", "error", 0),
    ]


def context(dag, con, window: Window) -> TaskContext:
    shared = Shared(dag, Live({}, {}), Options(run_id=1, variables={}, now=lambda: NOW), {})
    return TaskContext(Task(7, "s.m", window, Reason.MISSING), shared, con.cursor())


def test_a_failing_blocking_check_rejects_the_data_after_the_warnings_judged_it(checked):
    dag, con = checked
    ctx = context(dag, con, DAY1)
    with pytest.raises(CheckFailed) as err:
        blocking_checks(ctx)
    assert str(err.value) == (
        "not_null(id) failed on 2024-01-01: 1 failing row; "
        "unique(id) failed on 2024-01-01: 2 failing rows"
    )
    # every check of the attempt has its verdict, the warning's too
    assert [r.check.name for r in ctx.results] == [
        "not_null(id)",
        "unique(id)",
        "no_negative",
        "row_count(min=2)",
    ]
    passing = context(dag, con, DAY2)
    blocking_checks(passing)  # nothing fails: no error
    assert {r.status for r in passing.results} == {"pass"}


def test_warnings_judge_what_was_published_and_are_recorded(checked):
    dag, con = checked
    ctx = context(dag, con, DAY2)
    warn_checks(ctx)
    assert verdicts(ctx.results) == [("row_count(min=2)", "2024-01-02", "pass", 0)]
    recorded = con.execute(
        "select model, partition_key, check_name, status from orchestrator.check_results"
    ).fetchall()
    assert recorded == [("s.m", "2024-01-02", "row_count(min=2)", "pass")]
