"""Column lineage across a project (`app.column_lineage`): on a copy of the embedded example, a
source column traced to a reporting column across four models and back; the columns of what a
model reads taken from the warehouse, a declaration, or the upstream model's own SQL; names
resolved as other commands resolve them, and unknown ones refused with close names."""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO, ProjectDir

from orchestrator.app.column_lineage import known_columns, lineage, project_lineage
from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import UsageError


@pytest.fixture
def example(tmp_path) -> ProjectDir:
    for name in ("models", "checks", "examples"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    return ProjectDir(tmp_path)


def path_to(nodes, relation: str, column: str) -> list[str] | None:
    """The columns from the top of a tree down to `relation.column`, if it is in it."""
    for node in nodes:
        here = f"{node.relation}.{node.column}"
        if (node.relation, node.column) == (relation, column):
            return [here]
        below = path_to(node.children, relation, column)
        if below:
            return [here, *below]
    return None


def test_a_reporting_column_is_fed_by_source_columns_four_models_up(example):
    ws = open_workspace(example.root)
    trace = lineage(ws, "reporting.revenue_dashboard.month_to_date")
    assert (trace.relation, trace.column, trace.kind) == (
        "reporting.revenue_dashboard",
        "month_to_date",
        "model",
    )
    assert path_to(trace.fed_by, "raw.payments", "amount") == [
        "marts.revenue_daily.net_revenue",
        "marts.fct_orders.captured_amount",
        "staging.stg_payments.amount",
        "raw.payments.amount",
    ]
    # the window's partition and order columns feed it too
    assert path_to(trace.fed_by, "raw.orders", "order_ts") is not None
    assert [(n.relation, n.column) for n in trace.feeds] == [
        ("reporting.revenue_latest", "month_to_date")
    ]
    assert trace.problems == ()


def test_a_source_column_feeds_down_to_the_last_model(example):
    ws = open_workspace(example.root)
    trace = lineage(ws, "raw.payments.amount")
    assert trace.kind == "source" and trace.fed_by == ()
    assert path_to(trace.feeds, "reporting.revenue_latest", "net_revenue") == [
        "staging.stg_payments.amount",
        "marts.fct_orders.captured_amount",
        "marts.revenue_daily.net_revenue",
        "reporting.revenue_dashboard.net_revenue",
        "reporting.revenue_latest.net_revenue",
    ]
    monthly = path_to(trace.feeds, "marts.revenue_monthly", "net_revenue")
    assert monthly is not None and len(monthly) == 4


def test_depth_cuts_the_trees_and_a_column_met_again_is_shown_once(example):
    ws = open_workspace(example.root)
    trace = lineage(ws, "marts.revenue_daily.net_revenue", depth=1)
    assert all(not n.children for n in trace.fed_by)
    assert all(n.truncated for n in trace.fed_by if n.relation != "staging.stg_refunds")
    full = lineage(ws, "marts.revenue_daily.net_revenue")
    captured, fees = full.fed_by[0], full.fed_by[1]
    assert captured.column == "captured_amount" and fees.column == "processor_fees"
    status = [n for n in fees.children if n.column == "status"]
    assert status and status[0].repeated and not status[0].children  # shown under captured


def test_short_names_resolve_when_unique(example):
    ws = open_workspace(example.root)
    assert lineage(ws, "stg_orders.order_id").relation == "staging.stg_orders"
    assert lineage(ws, "Staging.Stg_Orders.ORDER_ID").column == "order_id"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("revenue_daly.net_revenue", "no model or source named 'revenue_daly' (did you mean: "),
        ("marts.revenue_daily.net_revenu", "has no column 'net_revenu' (did you mean: net_revenue"),
        ("marts.revenue_daily", "names no column: write marts.revenue_daily.COLUMN (its columns: "),
        ("nothing", "'nothing' names no column: write MODEL.COLUMN"),
    ],
)
def test_unknown_names_are_usage_errors_naming_them(example, target, message):
    ws = open_workspace(example.root)
    with pytest.raises(UsageError, match=r"\A[^\n]*\Z") as error:
        lineage(ws, target)
    assert message in str(error.value)
    assert error.value.exit_code == 2


def test_columns_come_from_the_warehouse_then_declarations_then_the_sql(project):
    project.write(
        "orchestrator.toml",
        '[sources."raw.declared"]\npath = "d/*.csv"\ncolumns = { k = "BIGINT", v = "VARCHAR" }\n',
    )
    project.seed("create schema raw; create table raw.loaded (id int, amount double, note text)")
    project.model("staging.a", "select * exclude (note) from raw.loaded")
    project.model("staging.b", "select * from raw.declared")
    project.model("marts.c", "select a.*, b.v from staging.a join staging.b on b.k = a.id")
    ws = open_workspace(project.root)
    known = known_columns(ws)
    assert known["raw.loaded"] == ("id", "amount", "note")
    assert known["raw.declared"] == ("k", "v")
    found = project_lineage(ws)
    assert found.columns["marts.c"] == ("id", "amount", "v")  # through two unbuilt models
    assert found.fed_by("marts.c", "amount") == (("staging.a", "amount"),)
    assert found.feeds("raw.loaded", "id") == (("staging.a", "id"),)
    # only what a model needs is traced: c's inputs are derived, nothing downstream is
    assert set(project_lineage(ws, ["staging.a"]).models) == {"staging.a"}
    assert set(project_lineage(ws, ["marts.c"]).models) == {"staging.a", "staging.b", "marts.c"}


def test_a_built_model_is_read_as_the_warehouse_holds_it(project):
    project.seed(
        "create schema raw; create table raw.t (id int, x int);"
        "create schema staging; create table staging.a (id int, x int, extra int)"
    )
    project.model("staging.a", "select * from raw.t")
    project.model("marts.b", "select * from staging.a")
    ws = open_workspace(project.root)
    found = project_lineage(ws)
    assert found.columns["marts.b"] == ("id", "x", "extra")
    assert found.models["staging.a"].columns == ("id", "x")  # its SQL says two
    assert set(project_lineage(ws, ["marts.b"]).models) == {"marts.b"}  # a is in the warehouse


def test_a_model_that_cannot_be_read_is_a_problem_not_a_failure(project):
    project.seed("create schema raw; create table raw.t (id int)")
    project.model("staging.a", "select id, {{ var('missing') }} as v from raw.t")
    project.model("staging.b", "select t.id, q from raw.t, raw.other")
    ws = open_workspace(project.root)
    found = project_lineage(ws)
    assert found.models["staging.a"].columns == ()
    assert "missing" in found.models["staging.a"].problems[0]
    trace = lineage(ws, "staging.b.id")
    assert trace.fed_by[0].relation == "raw.t"
    assert lineage(ws, "staging.b.q").fed_by[0].relation == "raw.other"


def test_two_models_of_the_same_name_must_be_told_apart(project):
    project.seed("create schema raw; create table raw.t (id int)")
    project.model("staging.orders", "select id from raw.t")
    project.model("marts.orders", "select id from staging.orders")
    ws = open_workspace(project.root)
    with pytest.raises(UsageError, match="'orders' names several models"):
        lineage(ws, "orders.id")
    assert lineage(ws, "marts.orders.id").fed_by[0].relation == "staging.orders"
