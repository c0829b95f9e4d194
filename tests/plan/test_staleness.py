"""Why a built partition must be built again, and whether a failure's cause changed
(`plan.staleness`): markers of what a build read, vars, upstream rebuilds, source files. The
DAG is loaded from model files in tmp_path; snapshots are made by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.core.fingerprints import Holding
from orchestrator.core.partitions import WHOLE, Grain, window_for_key
from orchestrator.core.snapshot import Built, Failure, Snapshot
from orchestrator.core.tasks import Reason, Request, Task
from orchestrator.plan.context import Context
from orchestrator.plan.staleness import (
    input_markers,
    marker,
    since_failure,
    staleness,
    used_vars,
)
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader
from orchestrator.project.model import Model

NOW = datetime(2024, 1, 3, 6)
DAY1 = window_for_key("2024-01-01", Grain.DAY)


@pytest.fixture
def dag(project):
    """raw.src -> s.a (daily) -> s.v (view) -> s.t (table); s.r uses var('region')."""
    project.model(
        "s.a",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select * from raw.src where d >= {{ start }} and d < {{ end }}",
    )
    project.model("s.v", "-- kind: view\nselect * from s.a")
    project.model("s.t", "select count(*) as n from s.v")
    project.model("s.r", "select {{ var('region') }} as region, n from s.t")
    return dag_mod.build(loader.load(project.root, strict=True))


def build(dag, name: str, key: str, run: int, built, **fields) -> Built:
    model = dag.models[name]
    window = None if key == WHOLE else window_for_key(key, model.grain)
    inputs = input_markers(dag, built, name, window)
    return Built(key, model.version, run, model.layout, inputs, **fields)


def current(dag, **vars_) -> dict:
    """What run 1 built of every model, each from what the one before it holds."""
    built: dict = {}
    for name, keys in (("s.a", ["2024-01-01", "2024-01-02"]), ("s.v", [WHOLE]), ("s.t", [WHOLE])):
        built[name] = {}
        for key in keys:
            built[name][key] = build(dag, name, key, 1, built)
    built["s.r"] = {WHOLE: build(dag, "s.r", WHOLE, 1, built, vars=vars_)}
    return built


def context(dag, built, variables=None, **snapshot) -> Context:
    relations = {n: "view" if n == "s.v" else "table" for n in built}
    request = Request(frozenset(dag.models), NOW, vars=variables or {})
    return Context(dag, Snapshot(built=built, relations=relations, **snapshot), request, {})


def test_a_marker_counts_the_partitions_read_and_the_latest_run_that_built_them(dag):
    built = current(dag)
    built["s.a"]["2024-01-02"] = build(dag, "s.a", "2024-01-02", 3, built)
    assert marker(dag, built, "s.a", None) == (2, 3)
    assert marker(dag, built, "s.a", DAY1) == (1, 1)
    # a view stores nothing: its marker folds in those of what it reads
    assert marker(dag, built, "s.v", None) == (3, 3)
    assert input_markers(dag, built, "s.t", None) == {"s.v": (3, 3)}


def test_used_vars_are_the_model_s_own_that_were_passed():
    m = Model("s.m", "s", "m", Path("m.sql"), "m.sql", "", vars=("region", "tier"))
    assert used_vars(m, {"region": "eu", "other": "x"}) == {"region": "eu"}


def test_what_was_built_from_what_is_there_now_is_current(dag):
    built = current(dag, region="eu")
    ctx = context(dag, built, {"region": "eu"})
    for name, key in (("s.a", "2024-01-01"), ("s.t", WHOLE), ("s.r", WHOLE)):
        model = dag.models[name]
        window = DAY1 if name == "s.a" else None
        assert staleness(ctx, model, window, built[name][key]) == (None, "")


def test_each_cause_of_staleness_is_named(dag):
    built = current(dag, region="eu")
    a, t, r = (dag.models[n] for n in ("s.a", "s.t", "s.r"))
    ctx = context(dag, built, {"region": "us"})
    assert staleness(ctx, a, DAY1, None) == (Reason.MISSING, "")
    old = Built("2024-01-01", "old-version", 1, a.layout)
    assert staleness(ctx, a, DAY1, old) == (Reason.MODEL_CHANGED, "")
    assert staleness(ctx, r, None, built["s.r"][WHOLE]) == (Reason.VARS_CHANGED, "")
    # s.a rebuilt by a later run: the table reading it through the view is stale
    built["s.a"]["2024-01-02"] = build(dag, "s.a", "2024-01-02", 2, built)
    assert staleness(context(dag, built), t, None, built["s.t"][WHOLE]) == (
        Reason.UPSTREAM_REBUILT,
        "",
    )


def test_an_upstream_the_plan_rebuilds_makes_its_readers_stale(dag):
    built = current(dag)
    ctx = context(dag, built)
    task = Task(0, "s.a", DAY1, Reason.REQUESTED)
    ctx.publishers["s.a"] = {DAY1.key: task}
    t = dag.models["s.t"]
    assert staleness(ctx, t, None, built["s.t"][WHOLE]) == (Reason.UPSTREAM_REBUILT, "")
    # a view is never stale: it reads its inputs when queried
    v = dag.models["s.v"]
    assert staleness(ctx, v, None, built["s.v"][WHOLE]) == (None, "")


def test_a_changed_source_file_is_named_in_the_detail(dag):
    read = {"raw.src": {"data/src_2024-01-01.csv": "10:1:aa"}}
    built = current(dag)
    built["s.a"]["2024-01-01"] = build(dag, "s.a", "2024-01-01", 1, built, sources=read)
    now_held = Holding("data/src_2024-01-01.csv", "12:2:bb", DAY1.start, DAY1.end)
    ctx = context(dag, built, holdings={"raw.src": (now_held,)})
    part = built["s.a"]["2024-01-01"]
    assert staleness(ctx, dag.models["s.a"], DAY1, part) == (
        Reason.SOURCE_CHANGED,
        "src_2024-01-01.csv",
    )
    # the same print: current
    same = Holding("data/src_2024-01-01.csv", "10:1:aa", DAY1.start, DAY1.end)
    ctx = context(dag, built, holdings={"raw.src": (same,)})
    assert staleness(ctx, dag.models["s.a"], DAY1, part) == (None, "")


def test_a_failure_is_tried_again_only_when_its_cause_may_have_changed(dag):
    built = current(dag)
    ctx = context(dag, built)
    a, t = dag.models["s.a"], dag.models["s.t"]
    unchanged = Failure("failed", 1, None, a.version)
    assert since_failure(ctx, a, DAY1, unchanged) == (None, "")
    changed = Failure("failed", 1, None, "old-version")
    assert since_failure(ctx, a, DAY1, changed) == (Reason.RETRY, "model changed since it failed")
    # s.t failed in run 1; its upstream was rebuilt by run 2 since
    built["s.a"]["2024-01-02"] = build(dag, "s.a", "2024-01-02", 2, built)
    assert since_failure(ctx, t, None, Failure("failed", 1, None, t.version)) == (
        Reason.RETRY,
        "upstream rebuilt since it failed",
    )
