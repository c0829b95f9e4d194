from __future__ import annotations

import pytest

from orchestrator.core.errors import CycleError, ProjectError
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader as project_mod


def build(project):
    return dag_mod.build(project_mod.load(project.root, strict=True))


def test_resolution_same_schema_then_default_then_external(project):
    project.model("main.shared", "select 1 as id")
    project.model("staging.orders", "select * from raw.orders")
    project.model("staging.items", "select * from orders join shared using (id)")
    project.model("marts.f", "select * from staging.items, unknown_t, other.thing")
    d = build(project)
    assert d.upstream["staging.items"] == ("main.shared", "staging.orders")
    assert d.upstream["marts.f"] == ("staging.items",)
    assert d.sources["marts.f"] == ("main.unknown_t", "other.thing")
    assert d.sources["staging.orders"] == ("raw.orders",)
    assert (
        d.order.index("staging.orders") < d.order.index("staging.items") < d.order.index("marts.f")
    )


def test_cycle_reports_the_path_in_data_flow_order(project):
    project.model("s.a", "select * from s.c")
    project.model("s.b", "select * from s.a")
    project.model("s.c", "select * from s.b")
    project.model("s.d", "select 1")
    with pytest.raises(CycleError) as info:
        build(project)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {"s.a", "s.b", "s.c"}
    # each node feeds the next one
    d_edges = {("s.c", "s.a"), ("s.a", "s.b"), ("s.b", "s.c")}
    assert all((cycle[i], cycle[i + 1]) in d_edges for i in range(len(cycle) - 1))
    assert "models/s/a.sql" in str(info.value)


def test_self_reference_is_a_cycle(project):
    project.model("s.a", "select * from s.a")
    with pytest.raises(CycleError, match="s.a -> s.a"):
        build(project)


def test_depends_on_adds_edges_and_unknown_names_fail(project):
    project.model("s.a", "select 1")
    project.model("s.b", "-- depends_on: s.a\nselect 2")
    assert build(project).upstream["s.b"] == ("s.a",)
    project.model("s.c", "-- depends_on: s.aa\nselect 3")
    with pytest.raises(ProjectError, match=r"models/s/c.sql:1: depends_on: no model named 's.aa'"):
        build(project)


def test_a_typo_in_a_model_name_is_an_error_when_the_project_loads(project):
    """Issue 10, item 12: not an external source that fails at run time."""
    project.model("marts.fct_orders", "select 1 as id")
    project.model("marts.report", "-- owner: x\nselect *\nfrom marts.fct_order\n")
    with pytest.raises(ProjectError) as info:
        build(project)
    assert str(info.value) == (
        "models/marts/report.sql:3: 'marts.fct_order' is neither a model nor a declared source "
        "(did you mean: marts.fct_orders?); schema 'marts' is where models are built, so a "
        'table loaded there by something else is declared as [sources."marts.fct_order"] in '
        "orchestrator.toml"
    )


def test_an_unqualified_near_miss_of_a_model_is_an_error(project):
    project.model("marts.fct_orders", "select 1 as id")
    project.model("marts.report", "select * from fct_order")
    with pytest.raises(ProjectError, match=r"'fct_order' is no model \(did you mean: marts"):
        build(project)


def test_what_the_outside_world_loads_may_be_read(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."marts.budget"]
        """,
    )
    project.model("marts.fct_orders", "select 1 as id")
    # a schema no model builds into, a declared source in a model schema, an unrelated name
    project.model("marts.report", "select * from raw.orders, marts.budget, exchange_rates")
    d = build(project)
    assert d.sources["marts.report"] == ("main.exchange_rates", "marts.budget", "raw.orders")
