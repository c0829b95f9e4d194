"""Why each window runs and how a model is rebuilt (`plan.reasons`): in place, or whole into a
shadow table when its SQL or layout changed or a full refresh asks it; and the past troubles a
current build settles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.snapshot import Built, Failure, Snapshot
from orchestrator.core.tasks import Reason, Request
from orchestrator.plan.context import Context
from orchestrator.plan.reasons import Rebuild, layout_changed, rebuild, window_reason
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

NOW = datetime(2024, 1, 4, 9, 30)
DAY2 = window_for_key("2024-01-02", Grain.DAY)


@pytest.fixture
def dag(project):
    project.model(
        "s.a",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select * from raw.src where d >= {{ start }} and d < {{ end }}",
    )
    return dag_mod.build(loader.load(project.root, strict=True))


def parts(model, version=None, layout=None) -> dict[str, Built]:
    keys = ("2024-01-01", "2024-01-02", "2024-01-03")
    return {
        k: Built(k, version or model.version, 1, model.layout if layout is None else layout)
        for k in keys
    }


def context(dag, built, relation="table", **request) -> Context:
    snapshot = Snapshot(
        built={"s.a": built}, relations={"s.a": relation}, **request.pop("snap", {})
    )
    return Context(dag, snapshot, Request(frozenset({"s.a"}), NOW, **request), {})


def test_a_current_table_is_rebuilt_in_place(dag):
    a = dag.models["s.a"]
    how = rebuild(context(dag, parts(a)), a, parts(a), downstream_only=False)
    assert how == Rebuild(False, False, False, False, False) and not how.whole


def test_changed_sql_rewrites_every_partition_into_a_shadow(dag):
    a = dag.models["s.a"]
    old = parts(a, version="before")
    how = rebuild(context(dag, old), a, old, downstream_only=False)
    assert (how.rewrite, how.relayout, how.shadow, how.whole) == (True, False, True, True)
    # a retry reruns exactly what failed, a backfill its range: neither rewrites the rest
    retry = context(dag, old, retry={"s.a": frozenset({"2024-01-02"})})
    assert not rebuild(retry, a, old, downstream_only=False).rewrite
    backfill = context(dag, old, backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3)))
    assert not rebuild(backfill, a, old, downstream_only=False).rewrite


def test_a_changed_layout_or_a_relation_that_is_no_table_is_relaid_whole(dag):
    a = dag.models["s.a"]
    assert not layout_changed(Snapshot(relations={"s.a": "table"}), a, parts(a))
    assert layout_changed(Snapshot(relations={"s.a": "table"}), a, parts(a, layout="x"))
    assert layout_changed(Snapshot(relations={"s.a": "view"}), a, parts(a))
    assert layout_changed(Snapshot(relations={"s.a": "table"}), a, {})  # not built by us
    how = rebuild(context(dag, parts(a), relation="view"), a, parts(a), downstream_only=False)
    assert how.relayout and how.shadow and how.whole


def test_a_full_refresh_goes_through_a_shadow_unless_it_is_a_backfill(dag):
    a = dag.models["s.a"]
    how = rebuild(context(dag, parts(a), full_refresh=True), a, parts(a), False)
    assert how.full_refresh and how.shadow and not how.whole
    backfill = (datetime(2024, 1, 2), datetime(2024, 1, 3))
    ctx = context(dag, parts(a), full_refresh=True, backfill=backfill)
    assert not rebuild(ctx, a, parts(a), False).shadow


@pytest.mark.parametrize(
    ("request_", "how", "reason"),
    [
        ({}, {"rewrite": True}, Reason.MODEL_CHANGED),
        ({}, {"downstream_only": True}, Reason.UPSTREAM_REBUILT),
        ({"retry": {"s.a": frozenset()}}, {}, Reason.RETRY),
        ({"backfill": (datetime(2024, 1, 2), datetime(2024, 1, 3))}, {}, Reason.REQUESTED),
        ({}, {"full_refresh": True}, Reason.FULL_REFRESH),
    ],
)
def test_the_request_and_the_rebuild_say_the_reason_first(dag, request_, how, reason):
    a = dag.models["s.a"]
    plain = Rebuild(False, False, False, False, False)
    verdict = window_reason(
        context(dag, parts(a), **request_), a, DAY2, parts(a), replace(plain, **how)
    )
    assert verdict.reason is reason


def test_a_window_downstream_of_a_backfill_not_built_yet_is_missing(dag):
    a = dag.models["s.a"]
    how = Rebuild(False, False, False, False, downstream_only=True)
    assert window_reason(context(dag, {}), a, DAY2, {}, how).reason is Reason.MISSING


def test_a_current_build_settles_a_hold_and_a_failure_whose_cause_changed(dag):
    a = dag.models["s.a"]
    plain = Rebuild(False, False, False, False, False)
    failed = {"s.a": {"2024-01-02": Failure("failed", 1, None, "before")}}
    snap = {"held": {"s.a": frozenset({"2024-01-02"})}, "failed": failed}
    verdict = window_reason(context(dag, parts(a), snap=snap), a, DAY2, parts(a), plain)
    assert verdict.reason is None and verdict.settles == ("held", "failed")


def test_a_failed_partition_outside_what_run_keeps_waits_for_a_change(dag):
    a = dag.models["s.a"]
    plain = Rebuild(False, False, False, False, False)
    later = window_for_key("2024-01-09", Grain.DAY)  # after now: never expected
    failed = {"s.a": {"2024-01-09": Failure("failed", 1, None, a.version)}}
    ctx = context(dag, parts(a), snap={"failed": failed})
    assert window_reason(ctx, a, later, parts(a), plain).reason is None
    changed = {"s.a": {"2024-01-09": Failure("failed", 1, None, "before")}}
    ctx = context(dag, parts(a), snap={"failed": changed})
    assert window_reason(ctx, a, later, parts(a), plain)[:3] == (
        Reason.RETRY,
        "model changed since it failed",
        (),
    )
