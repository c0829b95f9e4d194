from __future__ import annotations

import pytest

from orchestrator import dag as dag_mod
from orchestrator import project as project_mod
from orchestrator.errors import CycleError, ProjectError


def build(project):
    return dag_mod.build(project_mod.load(project.root))


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
