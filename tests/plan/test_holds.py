"""What holds a task back and why (`plan.holds`): a gate from outside, an input not built, held
or failing a check on its published data, a broken upstream, and a rebuild aside held whole."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.core.partitions import WHOLE, Grain, window_for_key
from orchestrator.core.snapshot import Built, Failure, Snapshot
from orchestrator.core.tasks import Gate, Held, Reason, Request, Task
from orchestrator.plan.context import Context
from orchestrator.plan.holds import (
    blocked,
    fails_published,
    missing_input,
    required_keys,
    shadow_held,
)
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader
from orchestrator.project.model import Kind, Model

NOW = datetime(2024, 1, 4, 9, 30)
DAILY = (
    "-- kind: incremental\n-- partition_by: d\n-- grain: {grain}\n-- start: {start}\n"
    "select * from {source} where d >= {{{{ start }}}} and d < {{{{ end }}}}"
)


@pytest.fixture
def dag(project):
    """raw.src -> s.a (daily) -> s.b (daily); s.a -> s.t (table); s.m (monthly) -> s.d (daily)."""
    project.model("s.a", DAILY.format(grain="day", start="2024-01-01", source="raw.src"))
    project.model("s.b", DAILY.format(grain="day", start="2024-01-01", source="s.a"))
    project.model("s.t", "select count(*) as n from s.a")
    project.model("s.m", DAILY.format(grain="month", start="2024-01", source="raw.src"))
    project.model("s.d", DAILY.format(grain="day", start="2024-01-01", source="s.m"))
    return dag_mod.build(loader.load(project.root, strict=True))


def day(key: str):
    return window_for_key(key, Grain.DAY)


def built_days(dag, name: str, *keys: str) -> dict[str, Built]:
    m = dag.models[name]
    return {k: Built(k, m.version, 1, m.layout) for k in keys}


def context(dag, gates=None, **snapshot) -> Context:
    snapshot.setdefault("relations", {n: "table" for n in snapshot.get("built", {})})
    return Context(dag, Snapshot(**snapshot), Request(frozenset(dag.models), NOW), gates or {})


def test_an_input_neither_built_nor_planned_holds_the_reader(dag):
    ctx = context(dag, built={"s.a": built_days(dag, "s.a", "2024-01-01")})
    b = dag.models["s.b"]
    assert blocked(ctx, b, day("2024-01-01")) is None
    assert blocked(ctx, b, day("2024-01-02")) == Gate(
        "skipped", "upstream s.a[2024-01-02] is not built (select +s.b to build it too)"
    )
    ctx.publishers["s.a"] = {"2024-01-02": Task(0, "s.a", day("2024-01-02"), Reason.MISSING)}
    assert blocked(ctx, b, day("2024-01-02")) is None  # the plan builds it first


def test_a_gate_from_outside_holds_the_task_and_the_worst_hold_wins(dag):
    waiting = Gate("waiting", "source raw.src[2024-01-03] has not arrived")
    ctx = context(dag, {("s.a", "2024-01-03"): waiting})
    assert blocked(ctx, dag.models["s.a"], day("2024-01-03")) == waiting
    stale = Gate("blocked", "source raw.src is stale")
    ctx = context(dag, {("s.b", "2024-01-03"): stale})
    # s.a[2024-01-03] is not built either (skipped): blocked needs a person first
    assert blocked(ctx, dag.models["s.b"], day("2024-01-03")) == stale


def test_a_held_input_passes_its_origin_and_cause_down(dag):
    ctx = context(dag)
    held = Held("s.a", day("2024-01-02"), "waiting", "source raw.src[2024-01-02] has not arrived")
    ctx.holds["s.a"] = {"2024-01-02": held}
    gate = missing_input(ctx, "s.a", day("2024-01-02"), "s.b")
    assert gate == Gate(
        "waiting",
        "waits for s.a[2024-01-02]: source raw.src[2024-01-02] has not arrived",
        "s.a[2024-01-02]",
        "source raw.src[2024-01-02] has not arrived",
    )


def test_published_data_failing_a_blocking_check_blocks_its_readers(dag):
    failed = {"s.a": {"2024-01-02": Failure("check_failed", 2, None, "", on_published=True)}}
    ctx = context(dag, built={"s.a": built_days(dag, "s.a", "2024-01-02")}, failed=failed)
    assert fails_published(ctx, "s.a", "2024-01-02")
    assert not fails_published(ctx, "s.a", "2024-01-01")
    gate = missing_input(ctx, "s.a", day("2024-01-02"), "s.b")
    assert (gate.status, gate.reason) == (
        "blocked",
        "upstream s.a[2024-01-02]: its published data fails a blocking check",
    )


def test_required_keys_of_each_kind_of_reader(dag):
    ctx = context(dag, built={"s.a": built_days(dag, "s.a", "2024-01-01", "2024-01-07")})
    a, m, t = dag.models["s.a"], dag.models["s.m"], dag.models["s.t"]
    assert required_keys(ctx, t, day("2024-01-02")) == [WHOLE]
    # a whole reader needs what s.a should have and what it has
    assert required_keys(ctx, a, None) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-07"]
    assert required_keys(ctx, m, day("2024-01-02")) == ["2024-01"]  # a day waits for its month
    assert required_keys(ctx, a, day("2023-12-31")) == []  # before s.a's start


def test_a_whole_reader_of_a_model_with_no_partitions_is_held(project):
    project.model("s.nb", "-- kind: incremental\n-- partition_by: d\nselect date '2024-01-01' as d")
    project.model("s.tot", "select count(*) as n from s.nb")
    dag = dag_mod.build(loader.load(project.root, strict=True))
    assert missing_input(context(dag), "s.nb", None, "s.tot") == Gate(
        "skipped", "upstream s.nb has no partitions built yet"
    )


def test_a_broken_upstream_blocks_its_readers_naming_its_file(project):
    project.model("s.bad", "select x form nowhere")
    project.model("s.reader", "select * from s.bad")
    dag = dag_mod.build(loader.load(project.root))
    gate = missing_input(context(dag), "s.bad", None, "s.reader")
    assert gate.status == "blocked"
    assert gate.reason == "waits for s.bad: broken (models/s/bad.sql:1)"


def test_a_held_rebuild_aside_names_the_holding_windows_and_the_first_cause():
    m = Model("s.a", "s", "a", Path("a.sql"), "a.sql", "", Kind.INCREMENTAL, "d")
    holds = [(day(f"2024-01-0{d}"), Gate("waiting", f"file {d} missing")) for d in (1, 2, 3, 4)]
    gate = shadow_held(m, holds, whole_only=True)
    assert gate.status == "waiting"
    assert gate.reason == (
        "rebuild of s.a held by 2024-01-01, 2024-01-02, 2024-01-03 and 1 more "
        "(waiting: file 1 missing); the table keeps its last build until every partition can "
        "be rebuilt (its layout changed: it is rebuilt whole)"
    )
    assert not shadow_held(m, holds[:1], whole_only=False).reason.endswith("rebuilt whole)")
