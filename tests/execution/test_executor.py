"""Running plans against real DuckDB files: idempotence, the window guard, merges, failure
isolation, threads, full refresh. The warehouse is a file in tmp_path in every test."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import DAILY_SOURCE

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select user_id, event_date, amount
from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""

DAILY_AGG = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, count(*) as n, sum(amount) as total
from marts.fact
where event_date >= {{ start }} and event_date < {{ end }}
group by all
"""


def failing_on(day: str) -> str:
    """FACT, except that building the partition of `day` raises an error inside DuckDB."""
    return FACT.replace(
        "where event_date >= {{ start }}",
        f"where case when event_date = date '{day}' then error('boom ' || event_date) "
        "else true end and event_date >= {{ start }}",
    )


@pytest.fixture
def events(project):
    project.seed(DAILY_SOURCE)
    project.model("marts.fact", FACT)
    project.model("marts.daily", DAILY_AGG)
    project.model("marts.summary", "select count(*) as days, sum(total) as total from marts.daily")
    return project


def dump(project, table: str) -> list[tuple]:
    return project.query(f"select * from {table} order by all")


def test_run_builds_everything_and_records_state(events):
    result = events.api_run()
    assert result.exit_code == 0
    # NOW is 2024-01-10 12:00: days 01..09 are complete
    assert events.scalar("select count(*) from marts.fact") == 45
    assert events.scalar("select count(*) from marts.daily") == 9
    assert events.query("select * from marts.summary") == [(9, sum(range(45)))]
    parts = events.query(
        "select model, count(*), min(partition_key), max(partition_key), bool_and(status = "
        "'success') from orchestrator.partitions group by model order by model"
    )
    assert parts == [
        ("marts.daily", 9, "2024-01-01", "2024-01-09", True),
        ("marts.fact", 9, "2024-01-01", "2024-01-09", True),
        ("marts.summary", 1, "all", "all", True),
    ]
    run = events.query("select run_id, command, status, tasks, succeeded from orchestrator.runs")
    assert run == [(1, "test", "success", 19, 19)]
    inputs = events.scalar(
        "select inputs from orchestrator.partitions where model = 'marts.daily' "
        "and partition_key = '2024-01-03'"
    )
    assert '"model": "marts.fact"' in inputs and '"run": 1' in inputs


def test_second_run_does_nothing(events):
    events.api_run()
    before = dump(events, "orchestrator.partitions")
    result = events.api_run()
    assert result.outcomes == ()
    assert dump(events, "orchestrator.partitions") == before


def test_backfill_twice_gives_identical_tables_and_no_duplicates(events):
    events.api_run()
    original = {t: dump(events, t) for t in ("marts.fact", "marts.daily", "marts.summary")}
    backfill = (datetime(2024, 1, 2), datetime(2024, 1, 6))
    first = events.api_run("fact", backfill=backfill)
    assert first.count("success") == 4 + 4 + 1
    second = events.api_run("fact", backfill=backfill)
    assert second.count("success") == 9
    for table, rows in original.items():
        assert dump(events, table) == rows
    assert (
        events.scalar(
            "select count(*) - count(distinct (user_id, event_date, amount)) from marts.fact"
        )
        == 0
    )


def test_rows_outside_the_window_fail_the_partition_and_write_nothing(events):
    events.api_run()
    before = dump(events, "marts.fact")
    events.model("marts.fact", FACT.replace("and event_date < {{ end }}", ""))
    result = events.api_run("marts.fact")
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert len(failed) == 8  # every day but the last reads later days too
    assert "outside partition 2024-01-01" in next(o.error for o in failed if o.key == "2024-01-01")
    assert "Nothing was written" in failed[0].error
    assert result.exit_code == 1
    assert dump(events, "marts.fact") == before
    status = events.query(
        "select status, count(*) from orchestrator.partitions where model = 'marts.fact' "
        "group by 1 order by 1"
    )
    assert status == [("failed", 8), ("success", 1)]


def test_failure_skips_downstream_and_the_independent_rest_goes_on(events):
    events.model("other.independent", "select 42 as answer")
    events.model("marts.fact", failing_on("2024-01-05"))
    result = events.api_run()
    status = {(o.model, o.key): o.status for o in result.outcomes}
    assert status[("marts.fact", "2024-01-05")] == "failed"
    assert status[("marts.daily", "2024-01-05")] == "skipped"
    assert status[("marts.summary", "all")] == "skipped"
    assert status[("marts.daily", "2024-01-04")] == "success"
    assert status[("other.independent", "all")] == "success"
    skipped = events.query(
        "select reason from orchestrator.task_runs where model = 'marts.summary'"
    )
    assert skipped == [("upstream marts.fact[2024-01-05] failed",)]
    assert not events.query("select 1 from information_schema.tables where table_name = 'summary'")


def test_merge_upserts_by_key_and_is_idempotent(project):
    project.seed("""
        create schema raw;
        create table raw.customers as
        select * from (values (1, 'ann', timestamp '2024-01-01 10:00'),
                              (2, 'bob', timestamp '2024-01-01 11:00'),
                              (1, 'ann v2', timestamp '2024-01-02 09:00')) t(id, name, updated_at)
    """)
    project.model(
        "dim.customers",
        """
        -- kind: incremental
        -- partition_by: updated_at
        -- start: 2024-01-01
        -- unique_key: id
        select id, name, updated_at from raw.customers
        where updated_at >= {{ start }} and updated_at < {{ end }}
    """,
    )
    assert project.api_run().exit_code == 0
    rows = project.query("select id, name from dim.customers order by id")
    assert rows == [(1, "ann v2"), (2, "bob")]
    project.api_run(backfill=(datetime(2024, 1, 1), datetime(2024, 1, 3)))
    assert project.query("select id, name from dim.customers order by id") == rows


def test_merge_refuses_duplicate_and_null_keys(project):
    project.seed(
        "create schema raw; create table raw.k as select * from (values "
        "(1, date '2024-01-01'), (1, date '2024-01-01'), (null, date '2024-01-02')) t(id, d)"
    )
    project.model(
        "s.m",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-03
        -- unique_key: id
        select id, d from raw.k where d >= {{ start }} and d < {{ end }}
    """,
    )
    result = project.api_run()
    errors = {o.key: o.error for o in result.outcomes}
    assert "duplicate unique_key" in errors["2024-01-01"]
    assert "NULL in unique_key" in errors["2024-01-02"]
    assert not project.query("select 1 from information_schema.tables where table_name = 'm'")


def test_key_audit_warn_writes_repeated_and_null_keys_as_delete_and_insert(project):
    project.seed(
        "create schema raw; create table raw.k as select * from (values "
        "(1, 'a', date '2024-01-01'), (1, 'b', date '2024-01-01'), (null, 'c', date '2024-01-02')"
        ") t(id, v, d)"
    )
    model = """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-03
        -- unique_key: id
        -- key_audit: warn
        select id, v, d from raw.k where d >= {{ start }} and d < {{ end }}
    """
    project.model("s.m", model)
    assert project.api_run().exit_code == 0
    assert project.query("select id, v from s.m order by all") == [(1, "a"), (1, "b"), (None, "c")]
    # written again, a key's rows are replaced by the new ones (NULL never matches a key)
    project.seed("update raw.k set v = v || '2' where id = 1 or id is null")
    project.api_run(backfill=(datetime(2024, 1, 1), datetime(2024, 1, 3)))
    assert project.query("select id, v from s.m order by all") == [
        (1, "a2"),
        (1, "b2"),
        (None, "c"),
        (None, "c2"),
    ]


def test_threads_build_a_wide_dag_concurrently(project):
    project.seed("create schema raw; create table raw.n as select range as i from range(200000)")
    for i in range(12):
        project.model(
            f"wide.m{i:02d}", f"select i % {i + 2} as k, sum(i) as s from raw.n group by 1"
        )
    project.model(
        "wide.all",
        " union all ".join(f"select {i} as m, sum(s) as s from wide.m{i:02d}" for i in range(12)),
    )
    result = project.api_run(threads=4)
    assert result.count("success") == 13
    # at least two tasks overlapped in time: the work really ran on several workers
    overlaps = project.scalar("""
        select count(*) from orchestrator.task_runs a join orchestrator.task_runs b
        on a.task_id < b.task_id and a.started < b.finished and b.started < a.finished
    """)
    assert overlaps > 0
    last = project.query("select started from orchestrator.task_runs where model = 'wide.all'")
    first_max = project.scalar(
        "select max(finished) from orchestrator.task_runs where model <> 'wide.all'"
    )
    assert last[0][0] >= first_max  # the join waited for all twelve


def test_failed_table_rebuild_keeps_the_last_good_table(project):
    project.model("s.t", "select 1 as x")
    project.api_run()
    project.model("s.t", "select error('boom') as x")
    result = project.api_run()
    assert result.exit_code == 1
    assert project.query("select * from s.t") == [(1,)]
    assert project.scalar("select status from orchestrator.partitions") == "failed"
    assert project.scalar("select built_run from orchestrator.partitions") == 1


def test_full_refresh_swaps_in_a_complete_table_or_keeps_the_old_one(events):
    events.api_run()
    before = dump(events, "marts.fact")
    # a refresh where one day fails: the published table is untouched, no shadow left behind
    events.model("marts.fact", failing_on("2024-01-07"))
    result = events.api_run("marts.fact", full_refresh=True)
    assert result.exit_code == 1
    assert {o.status for o in result.outcomes if o.key == "2024-01-07"} == {"failed"}
    assert dump(events, "marts.fact") == before
    assert not events.query(
        "select 1 from information_schema.tables where table_name like '%refresh%'"
    )
    # a refresh that succeeds: new content, state rows replaced
    events.model("marts.fact", FACT.replace("amount", "amount * 10 as amount"))
    result = events.api_run("marts.fact+", full_refresh=True)
    assert result.exit_code == 0
    assert events.scalar("select sum(amount) from marts.fact") == 10 * sum(range(45))
    assert events.scalar("select sum(total) from marts.daily") == 10 * sum(range(45))
    assert (
        events.scalar(
            "select count(*) from orchestrator.partitions where model = "
            "'marts.fact' and built_run = 3"
        )
        == 9
    )


def test_kind_change_replaces_the_relation(project):
    project.model("s.x", "select 1 as a")
    project.api_run()
    project.model("s.x", "-- kind: view\nselect 2 as a")
    assert project.api_run().exit_code == 0
    assert project.query(
        "select table_type from information_schema.tables where table_name = 'x'"
    ) == [("VIEW",)]
    project.model(
        "s.x",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-08
        select date '2024-01-08' + range::int as d from range(2)
        where d >= {{ start }} and d < {{ end }}
    """,
    )
    assert project.api_run().exit_code == 0
    assert project.scalar("select count(*) from s.x") == 2


def test_unqualified_names_resolve_like_the_dag(project):
    project.model("main.base", "select 1 as v")
    project.model("marts.base", "select 2 as v")
    project.model("marts.reader", "select v from base")  # same schema wins
    project.model("other.reader", "select v from base")  # falls back to the default schema
    project.api_run()
    assert project.query("select v from marts.reader") == [(2,)]
    assert project.query("select v from other.reader") == [(1,)]


def test_sql_change_rebuilds_the_model_and_what_reads_it(events):
    events.model("other.t", "select 1 as x")
    events.api_run()
    events.model("marts.daily", DAILY_AGG.replace("count(*) as n", "count(*) as n, 1 as v2"))
    result = events.api_run()
    rebuilt = {(o.model, str(o.task.reason)) for o in result.outcomes}
    assert rebuilt == {
        ("marts.daily", "stale: model changed"),
        ("marts.summary", "stale: upstream rebuilt"),
    }
    assert events.scalar("select count(*) from marts.daily where v2 = 1") == 9


def test_upstream_rebuilt_by_another_run_makes_downstream_stale(events):
    events.api_run()
    events.api_run("marts.fact", full_refresh=True)  # rebuilds fact only
    plan = events.api_plan()
    assert {(t.model, str(t.reason)) for t in plan.tasks} == {
        ("marts.daily", "stale: upstream rebuilt"),
        ("marts.summary", "stale: upstream rebuilt"),
    }
    assert len(plan.tasks) == 10
    events.api_run()
    assert events.api_plan().tasks == ()


def test_new_period_builds_only_the_new_partition(events):
    events.api_run()
    later = datetime(2024, 1, 11, 0, 5)  # 2024-01-10 is now complete (no events that day)
    result = events.api_run(at=later)
    assert sorted((o.model, o.key) for o in result.outcomes) == [
        ("marts.daily", "2024-01-10"),
        ("marts.fact", "2024-01-10"),
        ("marts.summary", "all"),
    ]
    assert (
        events.scalar(
            "select rows from orchestrator.partitions where model = 'marts.fact' and "
            "partition_key = '2024-01-10'"
        )
        == 0
    )


def test_sql_change_rebuilds_incremental_table_whole_even_with_new_types(events):
    events.api_run()
    events.model("marts.fact", FACT.replace("amount", "amount::varchar as amount"))
    result = events.api_run("marts.fact")
    assert result.exit_code == 0
    assert {o.task.action for o in result.outcomes} == {"shadow", "swap"}
    assert events.scalar("select typeof(amount) from marts.fact limit 1") == "VARCHAR"


def test_a_run_with_nothing_to_do_rewrites_nothing(events):
    events.api_run()
    before = {t: dump(events, f"orchestrator.{t}") for t in ("models", "partitions", "meta")}
    events.api_run()
    assert {t: dump(events, f"orchestrator.{t}") for t in before} == before


# -- batches: one statement and one transaction for several partitions -----------------------


def _state(project) -> dict:
    """What a run leaves, without ids and times: data, partition rows, check verdicts."""
    return {
        "fact": dump(project, "marts.fact"),
        "daily": dump(project, "marts.daily"),
        "partitions": project.query(
            "select model, partition_key, status, rows, model_version, inputs::varchar "
            "from orchestrator.partitions order by all"
        ),
        "checks": project.query(
            "select model, partition_key, check_name, status, failing_rows "
            "from orchestrator.check_results order by all"
        ),
        "task_rows": project.query(
            "select model, partition_key, status, rows_written from orchestrator.task_runs "
            "order by all"
        ),
    }


def _batched(text: str, size: int) -> str:
    return text.replace("-- start:", f"-- batch_size: {size}\n-- start:")


def test_a_batch_records_and_checks_each_partition_like_single_tasks(project):
    def build(root_name: str, size: int | None):
        from conftest import ProjectDir

        p = ProjectDir(project.root / root_name)
        p.root.mkdir()
        p.seed(DAILY_SOURCE)
        fact = FACT.replace("-- start:", "-- check: not_null(amount)\n-- start:")
        p.model("marts.fact", _batched(fact, size) if size else fact)
        p.model("marts.daily", _batched(DAILY_AGG, size) if size else DAILY_AGG)
        result = p.api_run()
        assert result.exit_code == 0
        return p, result

    single, plain = build("single", None)
    batch, batched = build("batch", 4)
    assert len(batched.plan.tasks) == 6  # 9 days in batches of 4, 4, 1 for each model
    assert len(batched.outcomes) == len(plain.outcomes) == 18
    assert _state(batch) == _state(single)
    # one transaction per batch: its partitions were published together
    published = "select count(distinct built_at) from orchestrator.partitions where model = ?"
    assert batch.scalar(published, ["marts.fact"]) == 3
    assert single.scalar(published, ["marts.fact"]) == 9


def test_a_batch_backfill_is_idempotent(events):
    events.model("marts.fact", _batched(FACT, 30))
    events.api_run()
    before = dump(events, "marts.fact")
    for _ in range(2):
        result = events.api_run(
            "marts.fact", backfill=(datetime(2024, 1, 1), datetime(2024, 1, 10)), batch_size=5
        )
        assert result.exit_code == 0 and [len(t.units) for t in result.plan.tasks][:2] == [5, 4]
    assert dump(events, "marts.fact") == before


def test_a_failing_check_in_a_batch_publishes_the_good_partitions_only(events):
    bad_day = FACT.replace(
        "select user_id, event_date, amount",
        "select user_id, event_date, case when event_date = date '2024-01-04' then -1 "
        "else amount end as amount",
    ).replace("-- start:", "-- check: expression(amount >= 0)\n-- batch_size: 9\n-- start:")
    events.model("marts.fact", bad_day)
    events.model("marts.daily", _batched(DAILY_AGG, 9))
    result = events.api_run()
    status = {(o.model, o.key): o.status for o in result.outcomes}
    assert status[("marts.fact", "2024-01-04")] == "check_failed"
    assert status[("marts.daily", "2024-01-04")] == "skipped"
    assert status[("marts.summary", "all")] == "skipped"
    good = [f"2024-01-0{d}" for d in (1, 2, 3, 5, 6, 7, 8, 9)]
    assert all(status[("marts.fact", k)] == "success" for k in good)
    assert all(status[("marts.daily", k)] == "success" for k in good)
    published = events.query("select distinct event_date::varchar from marts.fact order by 1")
    assert [d for (d,) in published] == good
    reason = next(
        o.reason for o in result.outcomes if o.key == "2024-01-04" and o.status == "skipped"
    )
    assert reason == "upstream marts.fact[2024-01-04] failed a check"
    assert events.query(
        "select status, failing_rows from orchestrator.check_results "
        "where partition_key = '2024-01-04' and status = 'fail'"
    ) == [("fail", 5)]


def test_a_batch_that_fails_fails_every_partition_and_writes_nothing(events):
    events.model("marts.fact", _batched(failing_on("2024-01-03"), 9))
    result = events.api_run("marts.fact")
    assert {o.status for o in result.outcomes} == {"failed"} and len(result.outcomes) == 9
    assert events.query(
        "select count(*) from information_schema.tables where table_name = 'fact'"
    ) == [(0,)]
    assert events.scalar("select count(*) from orchestrator.task_runs where status = 'failed'") == 9


def test_a_batch_reading_a_failed_partition_skips_only_that_partition(events):
    events.model("marts.fact", failing_on("2024-01-06"))  # one task per day
    events.model("marts.daily", _batched(DAILY_AGG, 9))
    result = events.api_run("marts.fact", "marts.daily")
    status = {(o.model, o.key): o.status for o in result.outcomes}
    assert status[("marts.fact", "2024-01-06")] == "failed"
    assert status[("marts.daily", "2024-01-06")] == "skipped"
    assert sum(1 for (m, _), s in status.items() if m == "marts.daily" and s == "success") == 8
    assert events.scalar("select count(*) from marts.daily") == 8


def test_backfill_batch_size_flag_and_plan_output(events):
    events.api_run()
    out = events.cli(
        "backfill",
        "marts.fact",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-10",
        "--batch-size",
        "5",
        "--dry-run",
    )
    assert out.returncode == 0, out.stderr
    assert "plan: 19 tasks over 3 models, 4 batches of several partitions" in out.stdout
    out = events.cli(
        "backfill",
        "marts.fact",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-10",
        "--batch-size",
        "0",
    )
    assert out.returncode == 2 and "--batch-size" in out.stderr
