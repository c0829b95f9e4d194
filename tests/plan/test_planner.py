"""The planner is pure: these tests build DAGs from files and snapshots by hand, no DuckDB."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.errors import ProjectError, UsageError
from orchestrator.core.partitions import WHOLE, Grain, window_for_key
from orchestrator.core.snapshot import Built, Snapshot
from orchestrator.core.tasks import Action, Reason, Request
from orchestrator.plan.planner import plan
from orchestrator.plan.staleness import input_markers
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader as project_mod
from orchestrator.project import selectors as selectors_mod

NOW = datetime(2024, 1, 4, 9, 30)

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
{extra}
select * from {source} where d >= {{{{ start }}}} and d < {{{{ end }}}}
"""


@pytest.fixture
def pipeline(project):
    """raw.src -> s.a (daily) -> s.b (daily) -> s.m (monthly) ; s.b -> s.t (table) -> s.v (view)"""
    project.model("s.a", DAILY.format(source="raw.src", extra=""))
    project.model("s.b", DAILY.format(source="s.a", extra=""))
    project.model(
        "s.m",
        """
        -- kind: incremental
        -- partition_by: d
        -- grain: month
        -- start: 2023-12
        select * from s.b where d >= {{ start }} and d < {{ end }}
    """,
    )
    project.model("s.t", "select count(*) as n from s.b")
    project.model("s.v", "-- kind: view\nselect * from s.t")
    return dag_mod.build(project_mod.load(project.root, strict=True))


def request(dag, *selectors, **kwargs):
    return Request(
        selected=frozenset(selectors_mod.select(dag, selectors)),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def built_everything(dag, now=NOW, run=1):
    """A snapshot where the whole pipeline was built consistently by `run`."""
    from orchestrator.plan.windows import expected_windows

    built: dict[str, dict[str, Built]] = {}
    for name in dag.order:
        model = dag.models[name]
        targets = expected_windows(model, now) if model.partitioned else [None]
        built[name] = {}
        for w in targets:
            inputs = input_markers(dag, built, name, w)
            key = w.key if w else WHOLE
            built[name][key] = Built(key, model.version, run, model.layout, inputs, {}, 1)
    relations = {n: ("view" if dag.models[n].kind == "view" else "table") for n in dag.order}
    return Snapshot(built=built, relations=relations)


def summary(p):
    return sorted((t.model, t.key, str(t.reason)) for t in p.tasks)


def test_fresh_warehouse_builds_everything_up_to_the_last_complete_period(pipeline):
    p = plan(pipeline, Snapshot(), request(pipeline))
    keys = {(t.model, t.key) for t in p.tasks}
    # day 2024-01-04 is not complete at 09:30; month 2024-01 is not complete either
    assert {k for m, k in keys if m == "s.a"} == {"2024-01-01", "2024-01-02", "2024-01-03"}
    assert {k for m, k in keys if m == "s.m"} == {"2023-12"}
    assert all(t.reason is Reason.MISSING for t in p.tasks)
    # the month of 2023-12 needs no day of s.b (s.b starts in 2024), the table needs all of them
    t_task = next(t for t in p.tasks if t.model == "s.t")
    b_ids = {t.id for t in p.tasks if t.model == "s.b"}
    assert set(t_task.deps) == b_ids


def test_partition_deps_follow_windows(pipeline):
    p = plan(pipeline, Snapshot(), request(pipeline))
    by = {(t.model, t.key): t for t in p.tasks}
    assert by[("s.b", "2024-01-02")].deps == (by[("s.a", "2024-01-02")].id,)
    assert by[("s.a", "2024-01-02")].deps == ()


def test_nothing_to_do_when_everything_is_current(pipeline):
    p = plan(pipeline, built_everything(pipeline), request(pipeline))
    assert p.tasks == () and p.held == ()


def test_new_period_builds_only_the_new_partitions_and_what_reads_them(pipeline):
    snap = built_everything(pipeline)
    later = datetime(2024, 1, 5, 1)
    p = plan(pipeline, snap, request(pipeline, now=later))
    assert summary(p) == [
        ("s.a", "2024-01-04", "missing"),
        ("s.b", "2024-01-04", "missing"),
        ("s.t", "all", "stale: upstream rebuilt"),
    ]


def test_model_change_marks_its_partitions_and_everything_downstream(pipeline, project):
    snap = built_everything(pipeline)
    project.model("s.a", DAILY.format(source="raw.src", extra="-- changed") + "\n and 1 = 1")
    changed = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(changed, snap, request(changed))
    reasons = {(t.model, str(t.reason)) for t in p.tasks}
    assert reasons == {
        ("s.a", "stale: model changed"),
        ("s.b", "stale: upstream rebuilt"),
        ("s.t", "stale: upstream rebuilt"),
    }


def test_upstream_rebuilt_in_another_run_is_detected_from_recorded_inputs(pipeline):
    snap = built_everything(pipeline)
    a = dict(snap.built["s.a"])
    a["2024-01-02"] = Built("2024-01-02", a["2024-01-02"].version, 7, a["2024-01-02"].layout)
    snap = Snapshot(built={**snap.built, "s.a": a}, relations=snap.relations)
    p = plan(pipeline, snap, request(pipeline, "s.b"))
    assert summary(p) == [("s.b", "2024-01-02", "stale: upstream rebuilt")]


def test_view_is_transparent_for_staleness(project):
    project.model("s.t", "select 1 as x")
    project.model("s.v", "-- kind: view\nselect * from s.t")
    project.model("s.w", "select * from s.v")
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    snap = built_everything(dag)
    t = Built(WHOLE, dag.models["s.t"].version, 5, dag.models["s.t"].layout)
    snap = Snapshot(built={**snap.built, "s.t": {WHOLE: t}}, relations=snap.relations)
    p = plan(dag, snap, request(dag, "s.v", "s.w"))
    # the view itself needs nothing (views read late); the table behind it is stale
    assert summary(p) == [("s.w", "all", "stale: upstream rebuilt")]


def test_selected_model_with_unbuilt_upstream_is_held_not_run(pipeline):
    p = plan(pipeline, Snapshot(), request(pipeline, "s.b"))
    assert p.tasks == ()
    assert {h.key for h in p.held} == {"2024-01-01", "2024-01-02", "2024-01-03"}
    assert "upstream s.a[2024-01-01] is not built (select +s.b" in p.held[0].reason


def test_hold_propagates_downstream(pipeline):
    p = plan(pipeline, Snapshot(), request(pipeline, "s.b", "s.t", "s.v"))
    held = {(h.model, h.key) for h in p.held}
    assert ("s.t", "all") in held and ("s.v", "all") in held
    assert p.tasks == ()


def test_backfill_requests_range_and_affected_downstream(pipeline):
    snap = built_everything(pipeline)
    r = request(pipeline, "s.a", backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3)))
    p = plan(pipeline, snap, r)
    assert summary(p) == [
        ("s.a", "2024-01-02", "requested"),
        ("s.b", "2024-01-02", "stale: upstream rebuilt"),
        ("s.t", "all", "stale: upstream rebuilt"),
    ]


def test_backfill_clips_to_model_bounds(pipeline):
    r = request(pipeline, "s.a", backfill=(datetime(2023, 12, 30), datetime(2024, 1, 2)))
    p = plan(pipeline, Snapshot(), r)
    assert [t.key for t in p.tasks if t.model == "s.a"] == ["2024-01-01"]


def test_a_far_off_backfill_end_stops_at_now(pipeline):
    """--end 9998-12-31 plans the same as an end at now, without walking millions of days (or
    overflowing past year 9999 at the last window of a coarse grain)."""
    import time

    far = request(pipeline, "s.a", backfill=(datetime(2024, 1, 2), datetime(9998, 12, 31)))
    t0 = time.monotonic()
    p = plan(pipeline, built_everything(pipeline), far)
    assert time.monotonic() - t0 < 2
    near = request(pipeline, "s.a", backfill=(datetime(2024, 1, 2), NOW))
    assert summary(p) == summary(plan(pipeline, built_everything(pipeline), near))


def test_backfill_of_a_coarse_upstream_rebuilds_every_finer_partition_it_feeds(project):
    project.model(
        "s.mon",
        """
        -- kind: incremental
        -- partition_by: d
        -- grain: month
        -- start: 2024-01
        select date '2024-01-15' as d
    """,
    )
    project.model("s.day", DAILY.format(source="s.mon", extra=""))
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    now = datetime(2024, 2, 3)
    snap = built_everything(dag, now=now)
    r = request(dag, "s.mon", now=now, backfill=(datetime(2024, 1, 10), datetime(2024, 1, 11)))
    p = plan(dag, snap, r)
    days = [t.key for t in p.tasks if t.model == "s.day"]
    assert len(days) == 31 and days[0] == "2024-01-01"


def test_full_refresh_of_incremental_builds_a_shadow_then_swaps(pipeline):
    snap = built_everything(pipeline)
    p = plan(pipeline, snap, request(pipeline, "s.a", full_refresh=True))
    shadows = [t for t in p.tasks if t.action is Action.SHADOW]
    swap = [t for t in p.tasks if t.action is Action.SWAP]
    assert len(shadows) == 3 and len(swap) == 1
    assert set(swap[0].deps) == {t.id for t in shadows}


def test_downstream_waits_for_the_swap(pipeline):
    snap = built_everything(pipeline)
    p = plan(pipeline, snap, request(pipeline, "s.a+", full_refresh=True))
    swap = next(t for t in p.tasks if t.model == "s.a" and t.action is Action.SWAP)
    for t in p.tasks:
        if t.model == "s.b" and t.action is Action.SHADOW:
            assert t.deps == (swap.id,)


def test_layout_change_rebuilds_the_table_whole(pipeline, project):
    snap = built_everything(pipeline)
    project.model("s.a", DAILY.format(source="raw.src", extra="-- grain: day\n-- unique_key: d"))
    changed = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(changed, snap, request(changed, "s.a"))
    assert {t.action for t in p.tasks} == {Action.SHADOW, Action.SWAP}
    assert all(t.reason is Reason.MODEL_CHANGED for t in p.tasks)


def test_vars_are_required_and_a_change_makes_partitions_stale(project):
    project.model("s.r", "select {{ var('region') }} as region")
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    with pytest.raises(UsageError, match="s.r uses var\\('region'\\)"):
        plan(dag, Snapshot(), request(dag))
    m = dag.models["s.r"]
    snap = Snapshot(
        built={"s.r": {WHOLE: Built(WHOLE, m.version, 1, m.layout, {}, {"region": "eu"})}},
        relations={"s.r": "table"},
    )
    assert plan(dag, snap, request(dag, vars={"region": "eu"})).tasks == ()
    p = plan(dag, snap, request(dag, vars={"region": "us"}))
    assert summary(p) == [("s.r", "all", "stale: vars changed")]


def test_model_without_start_is_built_only_by_backfill(project):
    project.model("s.x", "-- kind: incremental\n-- partition_by: d\nselect date '2024-01-01' as d")
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    run_plan = plan(dag, Snapshot(), request(dag))
    assert run_plan.tasks == () and run_plan.backfill_only == ("s.x",)
    r = request(dag, backfill=(datetime(2024, 1, 1), datetime(2024, 1, 3)))
    backfill = plan(dag, Snapshot(), r)
    assert [t.key for t in backfill.tasks] == ["2024-01-01", "2024-01-02"]
    assert backfill.backfill_only == ()


def test_backfill_of_a_model_without_start_rebuilds_a_table_reading_it(project):
    project.model("s.x", "-- kind: incremental\n-- partition_by: d\nselect date '2024-01-01' as d")
    project.model("s.t", "select count(*) as n from s.x")
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    r = request(dag, "s.x", backfill=(datetime(2024, 1, 1), datetime(2024, 1, 2)))
    p = plan(dag, Snapshot(), r)
    assert summary(p) == [("s.t", "all", "missing"), ("s.x", "2024-01-01", "requested")]
    assert p.held == ()


def test_end_closes_the_range(project):
    project.model(
        "s.x",
        """
        -- kind: incremental
        -- partition_by: d
        -- grain: hour
        -- start: 2024-01-01T22
        -- end: 2024-01-02T01
        select timestamp '2024-01-01 22:00' as d
    """,
    )
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(dag, Snapshot(), request(dag, now=datetime(2024, 3, 1)))
    assert [t.key for t in p.tasks] == ["2024-01-01T22", "2024-01-01T23", "2024-01-02T00"]
    assert window_for_key("2024-01-01T22", Grain.HOUR).end == datetime(2024, 1, 1, 23)


def test_finer_partition_waits_for_the_unfinished_coarser_one_it_reads(project):
    project.model("s.day", DAILY.format(source="raw.src", extra=""))
    project.model(
        "s.hourly",
        """
        -- kind: incremental
        -- partition_by: d
        -- grain: hour
        -- start: 2024-01-03T00
        select * from s.day where d >= {{ start }} and d < {{ end }}
    """,
    )
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(dag, Snapshot(), request(dag))
    hours = {t.key for t in p.tasks if t.model == "s.hourly"}
    held = {h.key for h in p.held if h.model == "s.hourly"}
    # day 2024-01-03 is built by the plan, so its hours can run; 2024-01-04 is still in progress
    assert hours == {f"2024-01-03T{h:02d}" for h in range(24)}
    assert held == {f"2024-01-04T{h:02d}" for h in range(9)}
    assert "upstream s.day[2024-01-04] is not built" in p.held[0].reason


def test_reader_of_a_model_with_nothing_built_is_held(project):
    project.model("s.nb", "-- kind: incremental\n-- partition_by: d\nselect date '2024-01-01' as d")
    project.model("s.tot", "select count(*) as n from s.nb")
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(dag, Snapshot(), request(dag))
    assert p.tasks == ()
    assert [(h.model, h.status) for h in p.held] == [("s.tot", "skipped")]
    assert "has no partitions built yet" in p.held[0].reason


def test_reader_outside_the_upstream_range_waits_for_its_table_to_exist(project):
    project.model(
        "g.d", DAILY.format(source="raw.src", extra="").replace("2024-01-01", "2024-01-03")
    )
    project.model(
        "g.m",
        """
        -- kind: incremental
        -- partition_by: d
        -- grain: month
        -- start: 2023-11
        select * from g.d where d >= {{ start }} and d < {{ end }}
    """,
    )
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    p = plan(dag, Snapshot(), request(dag))
    d_ids = {t.id for t in p.tasks if t.model == "g.d"}
    for t in p.tasks:
        if t.model == "g.m":
            assert set(t.deps) == d_ids  # needs none of its days, but needs its table


def test_gates_hold_tasks_and_their_downstream_with_their_status(pipeline):
    from orchestrator.core.tasks import Gate

    gates = {("s.a", "2024-01-02"): Gate("waiting", "source raw.src[2024-01-02] has not arrived")}
    p = plan(pipeline, Snapshot(), request(pipeline), gates)
    held = {(h.model, h.key): h.status for h in p.held}
    assert held[("s.a", "2024-01-02")] == "waiting"
    assert held[("s.b", "2024-01-02")] == "waiting"
    assert held[("s.t", "all")] == "waiting"
    assert ("s.a", "2024-01-03") in {(t.model, t.key) for t in p.tasks}


def test_excluded_models_stay_out_of_a_backfill(pipeline):
    snap = built_everything(pipeline)
    r = request(
        pipeline,
        "s.a",
        backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3)),
        excluded=frozenset({"s.t"}),
    )
    assert {t.model for t in plan(pipeline, snap, r).tasks} == {"s.a", "s.b"}


def test_batches_group_consecutive_windows_and_keep_partition_dependencies(pipeline):
    p = plan(
        pipeline,
        built_everything(pipeline),
        request(
            pipeline, "s.a+", batch_size=2, backfill=(datetime(2024, 1, 1), datetime(2024, 1, 4))
        ),
    )
    a = [t for t in p.tasks if t.model == "s.a"]
    assert [t.key for t in a] == ["2024-01-01..2024-01-02", "2024-01-03"]
    assert [u.key for u in p.units if u.model == "s.a"] == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    b = next(t for t in p.tasks if t.model == "s.b" and t.parts)
    # each part of s.b still waits for exactly its own day of s.a
    ids = {u.id: u.key for u in p.units}
    assert [[ids[d] for d in u.deps] for u in b.parts] == [["2024-01-01"], ["2024-01-02"]]
    # the table reads every day of s.b: it waits on all of them, batched or not
    t = next(t for t in p.tasks if t.model == "s.t")
    assert sorted(ids[d] for d in t.deps) == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_full_refresh_batches_the_shadow_build_and_swaps_after_it(pipeline):
    p = plan(
        pipeline,
        built_everything(pipeline),
        request(pipeline, "s.a", full_refresh=True, batch_size=10),
    )
    shadow, swap = p.tasks
    assert shadow.action is Action.SHADOW and len(shadow.parts) == 3
    assert swap.action is Action.SWAP and set(swap.deps) == {u.id for u in shadow.parts}


def test_batch_size_only_for_incremental_models(project):
    project.model("s.t", "-- batch_size: 10\nselect 1 as x")
    with pytest.raises(ProjectError, match="'batch_size' only applies to incremental"):
        project_mod.load(project.root, strict=True)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2023, 1, 1), datetime(2023, 2, 1)),  # wholly before s.a's start
        (datetime(2023, 12, 1), datetime(2024, 1, 1)),  # up to its start, exclusive
    ],
)
def test_backfill_outside_the_models_partitions_is_a_usage_error(pipeline, start, end):
    r = request(pipeline, "s.a", backfill=(start, end))
    with pytest.raises(UsageError, match=r"outside the partitions .* s\.a has start 2024-01-01"):
        plan(pipeline, Snapshot(), r)


def test_backfill_at_or_after_the_end_names_it(project):
    project.model(
        "s.x",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-02-01
        select date '2024-01-01' as d
    """,
    )
    dag = dag_mod.build(project_mod.load(project.root, strict=True))
    r = request(
        dag, backfill=(datetime(2024, 2, 1), datetime(2024, 2, 5)), now=datetime(2025, 1, 1)
    )
    with pytest.raises(
        UsageError, match=r"s\.x has start 2024-01-01, end 2024-02-01 \(exclusive\)"
    ):
        plan(dag, Snapshot(), r)


def test_backfill_outside_one_of_several_models_skips_it(pipeline):
    # s.m starts a month earlier than s.a: the range is s.m's alone, and that is no mistake
    r = request(pipeline, "s.a", "s.m", backfill=(datetime(2023, 12, 1), datetime(2024, 1, 1)))
    p = plan(pipeline, built_everything(pipeline), r)
    assert summary(p) == [("s.m", "2023-12", "requested")]
