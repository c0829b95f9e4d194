"""The same project on Spark (local mode, real pyspark): writes converge, checks hold data back,
the state lives in the warehouse_dir as a journal that Spark SQL reads and that the tool's own
file is rebuilt from."""

from __future__ import annotations

import shutil

import pytest
from conftest import (
    ProjectDir,
    broken_error,
    made_once,
    needs_spark,
    spark_state,
    spark_table,
    spark_toml,
)

pytestmark = [needs_spark, pytest.mark.slow]

NOW = "2024-01-06T12:00"

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-05
-- check: not_null(user_id)
-- check: unique(event_id)
select event_id, user_id, cast(d as date) as d, amount from raw.events
where cast(d as date) >= {{ start }} and cast(d as date) < {{ end }}
"""

TOTALS = """
-- kind: table
-- check: not_null(user_id)
select user_id, sum(amount) as total, count(*) as n from s.daily group by user_id
"""

TOP = """
-- kind: view
select * from s.totals qualify row_number() over (order by total desc, user_id) = 1
"""

LATEST = """
-- kind: incremental
-- partition_by: d
-- unique_key: user_id
-- start: 2024-01-01
-- end: 2024-01-05
-- Per user, the last event of each day (a merge by key inside the day's window).
select user_id, d, max(amount) as amount from s.daily
where d >= {{ start }} and d < {{ end }} group by user_id, d
"""


LEAKY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-05
-- Each day's events a day late: every row lies outside the window it is written for.
select event_id, cast(cast(d as date) + interval 1 day as date) as d from raw.events
where cast(d as date) >= {{ start }} and cast(d as date) < {{ end }}
"""


def events(project: ProjectDir, day: int, rows: list[tuple]) -> None:
    lines = ["event_id,user_id,d,amount"] + [
        f"{e},{'' if u is None else u},2024-01-0{day},{a}" for e, u, a in rows
    ]
    project.write(f"data/events_2024-01-0{day}.csv", "\n".join(lines) + "\n")


def spark_project(project: ProjectDir, extra_toml: str = "") -> ProjectDir:
    project.write(
        "orchestrator.toml",
        spark_toml(extra='[sources."raw.events"]\n')
        + (
            'path = "data/events_{date}.csv"\nread_by_partition = true\n'
            'columns = { event_id = "BIGINT", user_id = "BIGINT", d = "DATE", amount = "DOUBLE" }\n'
        )
        + extra_toml,
    )
    for day in range(1, 5):
        events(project, day, [(day * 10 + i, i % 3, float(day * i)) for i in range(5)])
    project.model("s.daily", DAILY)
    project.model("s.totals", TOTALS)
    project.model("s.top", TOP)
    return project


@pytest.fixture
def built(project, tmp_path_factory) -> ProjectDir:
    """`spark_project` after its first run: built once for the session, copied per test."""

    def make(place):
        assert run(spark_project(ProjectDir(place)), "run").returncode == 0

    shutil.copytree(
        made_once(tmp_path_factory, "spark-engine-built", make), project.root, dirs_exist_ok=True
    )
    return project


def run(project: ProjectDir, *args: str):
    out = project.cli(*args, "--threads", "2", now=NOW)
    assert out.returncode in (0, 1), out.stdout + out.stderr
    return out


def test_builds_reruns_nothing_backfills_to_the_same_rows_and_rebuilds_what_changed(project):
    spark_project(project)
    first = run(project, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "run 1 success" in first.stdout
    daily = spark_table(project.root, "s.daily", "order by event_id")
    assert len(daily) == 20 and len({r[0] for r in daily}) == 20
    totals = spark_table(project.root, "s.totals", "order by user_id")
    assert [r[0] for r in totals] == [0, 1, 2] and sum(r[2] for r in totals) == 20
    # the state, in the warehouse_dir: every partition recorded with its rows
    recorded = spark_state(project.root, "partitions", "where model = 's.daily' order by 2")
    assert [(r[1], r[4], r[10]) for r in recorded] == [
        (f"2024-01-0{d}", "success", 5) for d in range(1, 5)
    ]
    assert "nothing to do" in run(project, "run").stdout
    # a backfill rewrites its windows to exactly what they were
    again = run(project, "backfill", "s.daily", "--start", "2024-01-02", "--end", "2024-01-04")
    assert again.returncode == 0, again.stdout + again.stderr
    assert spark_table(project.root, "s.daily", "order by event_id") == daily
    assert spark_table(project.root, "s.totals", "order by user_id") == totals
    # a file that changes rebuilds its day and what reads it, nothing else
    events(project, 3, [(30, 0, 100.0), (31, 1, 200.0)])
    changed = run(project, "run")
    assert "s.daily" in changed.stdout and "1 partition" in changed.stdout, changed.stdout
    daily = spark_table(project.root, "s.daily", "order by event_id")
    assert len(daily) == 17
    assert [r[:3] for r in daily if r[0] in (30, 31)] == [(30, 0, 100.0), (31, 1, 200.0)]
    assert sum(r[2] for r in spark_table(project.root, "s.totals")) == 17


def test_a_failed_blocking_check_publishes_nothing_and_skips_what_reads_it(built):
    project = built
    before = spark_table(project.root, "s.daily", "order by event_id")
    totals = spark_table(project.root, "s.totals", "order by user_id")
    events(project, 2, [(20, None, 1.0), (21, 1, 2.0)])  # a NULL user: not_null blocks
    # in the same run, a model that forgets its window: its rows outside it are refused
    project.model("s.leaky", LEAKY)
    out = run(project, "run")
    assert out.returncode == 1
    assert "check failed: s.daily[2024-01-02]: not_null(user_id)" in out.stdout
    leaked = spark_state(project.root, "task_runs", "where model = 's.leaky'")
    assert leaked and {r for r in leaked if "outside partition" in str(r)} == set(leaked)
    assert "5 row(s) with d outside partition 2024-01-01" in str(leaked)
    assert spark_table(project.root, "s.leaky") == []
    assert "skipped: s.totals[all]: upstream s.daily[2024-01-02] failed a check" in out.stdout
    # the published partition and the table reading it kept their last good data
    assert spark_table(project.root, "s.daily", "order by event_id") == before
    assert spark_table(project.root, "s.totals", "order by user_id") == totals
    statuses = spark_state(
        project.root, "partitions", "where model = 's.daily' and partition_key = '2024-01-02'"
    )
    assert statuses[0][4] == "check_failed"
    # the failing rows are kept with the check's result, as on DuckDB
    sample = spark_state(
        project.root, "check_results", "where status = 'fail' and model = 's.daily'"
    )
    assert sample and '"event_id":20' in str(sample[0]).replace(" ", "")


def test_the_state_reads_with_spark_sql_and_the_journal_is_the_truth(built):
    project = built
    project.model("s.latest", LATEST)  # new: built by the next run, beside the others
    assert run(project, "run").returncode == 0
    out = project.cli(
        "sql",
        "select model, count(*) as n from orchestrator.partitions where status = 'success' "
        "group by model order by model",
        "--format",
        "csv",
        now=NOW,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "model,n",
        "s.daily,4",
        "s.latest,4",
        "s.top,1",
        "s.totals,1",
    ]
    top = project.cli("sql", "select user_id from s.top", "--format", "csv", now=NOW)
    best = spark_table(project.root, "s.totals", "order by total desc, user_id")[0][0]
    assert top.stdout.splitlines()[1:] == [str(best)]
    refused = project.cli("sql", "drop table s.totals", now=NOW)
    assert refused.returncode == 2 and "read-only" in refused.stderr
    # lose the tool's own file: the journal rebuilds it, and nothing is left to do
    shutil.rmtree(project.root / "lake" / "_orchestrator")
    assert "nothing to do" in run(project, "run").stdout
    # a merge by key inside a window, as DuckDB's MERGE: a new row wins over the current one
    # of its key, the current rows of other keys stay, and no key is there twice
    events(project, 4, [(40, 1, 999.0), (41, 5, 1.0)])
    assert run(project, "run").returncode == 0
    latest = spark_table(project.root, "s.latest", "where d = date '2024-01-04' order by user_id")
    assert [(r[0], r[1]) for r in latest] == [(0, 12.0), (1, 999.0), (2, 8.0), (5, 1.0)]


def test_a_full_refresh_builds_aside_and_swaps(built):
    project = built
    daily = spark_table(project.root, "s.daily", "order by event_id")
    out = run(project, "run", "--full-refresh", "-s", "s.daily")
    assert out.returncode == 0, out.stdout + out.stderr
    assert spark_table(project.root, "s.daily", "order by event_id") == daily
    assert not (project.root / "lake" / "s" / "daily__refresh").exists()
    # what reads the refreshed model is stale now, and only that is built next
    after = run(project, "run").stdout
    assert "s.totals" in after and "s.daily" not in after and "s.top" not in after, after
    # checks of the published data run on Spark too
    checked = project.cli("check", now=NOW)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "s.daily   2 checks on 4 partitions: all passed" in checked.stdout
    assert "9 results, 0 blocking failures" in checked.stdout
    run_id = int(checked.stdout.split("check run ")[1].split(":")[0])
    assert len(spark_state(project.root, "check_results", f"where run_id = {run_id}")) == 9
    # a model gone from the project: prune drops its table (files too) and forgets it
    (project.root / "models" / "s" / "top.sql").unlink()
    (project.root / "models" / "s" / "totals.sql").unlink()
    pruned = project.cli("prune", "--yes", now=NOW)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert pruned.stdout.splitlines() == ["dropped s.top (view)", "dropped s.totals (table)"]
    assert not (project.root / "lake" / "s" / "totals").exists()
    assert spark_state(project.root, "partitions", "where model in ('s.totals', 's.top')") == []
    assert spark_state(project.root, "meta", "where key like 'spark_view:%'") == []


def test_spark_sql_models_and_constructs_refused_when_the_project_loads(project):
    spark_project(project)
    project.model(
        "s.spark_only",
        "-- dialect: spark\nselect user_id, `total` from s.totals where total > 0\n",
    )
    assert run(project, "run").returncode == 0
    assert len(spark_table(project.root, "s.spark_only")) == 3
    on_duckdb = project.cli("--engine", "duckdb", "plan", now=NOW)  # that model is broken there
    assert broken_error(on_duckdb).startswith("models/s/spark_only.sql:1: written in Spark SQL")
    project.model(
        "s.ordered", "-- a list\nselect list(user_id order by total desc) as u\nfrom s.totals\n"
    )
    before = project.files()
    refused = project.cli("run", now=NOW)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: models/s/ordered.sql:2: an ordered aggregate")
    assert project.files() == before


def test_parquet_and_json_sources_and_batches_of_partitions(project):
    import duckdb

    con = duckdb.connect()
    for day in range(1, 5):
        (project.root / "data").mkdir(exist_ok=True)
        con.execute(
            f"copy (select {day} * 10 + i as id, date '2024-01-0{day}' as d, i * 1.5 as x "
            f"from range({day}) t(i)) to '{project.root}/data/p_2024-01-0{day}.parquet'"
        )
    project.write("data/labels.json", '{"id": 10, "label": "a"}\n{"id": 21, "label": "b"}\n')
    project.write(
        "orchestrator.toml",
        spark_toml()
        + '[sources."raw.p"]\npath = "data/p_{date}.parquet"\nread_by_partition = true\n'
        '[sources."raw.labels"]\npath = "data/labels.json"\n',
    )
    project.model(
        "s.batched",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-05
        -- batch_size: 2
        select p.id, p.d, p.x, l.label from raw.p as p left join raw.labels as l on l.id = p.id
        where p.d >= {{ start }} and p.d < {{ end }}
        """,
    )
    out = run(project, "run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "s.batched  4 partitions 2024-01-01..2024-01-04, 10 rows" in out.stdout, out.stdout
    rows = spark_table(project.root, "s.batched", "order by id")
    assert [(r[0], r[2]) for r in rows if r[2] is not None] == [(10, "a"), (21, "b")]
    counted = spark_state(project.root, "partitions", "where model = 's.batched' order by 2")
    assert [(r[1], r[10]) for r in counted] == [(f"2024-01-0{d}", d) for d in range(1, 5)]


def test_arrival_and_drift_hold_partitions_back_on_spark_too(project):
    spark_project(project)
    (project.root / "data" / "events_2024-01-04.csv").unlink()  # not arrived yet
    project.write("data/events_2024-01-03.csv", "event_id,uid,d,amount\n30,1,2024-01-03,1\n")
    out = run(project, "run")
    assert out.returncode == 1, out.stdout + out.stderr
    statuses = {
        r[1]: r[4] for r in spark_state(project.root, "partitions", "where model = 's.daily'")
    }
    assert statuses == {
        "2024-01-01": "success",
        "2024-01-02": "success",
        "2024-01-03": "blocked",
        "2024-01-04": "waiting",
    }
    assert "missing column(s): user_id; unexpected column(s): uid" in out.stdout
    assert len(spark_table(project.root, "s.daily")) == 10  # the two good days only
    events(project, 3, [(30, 1, 1.0)])
    events(project, 4, [(40, 2, 2.0)])
    assert run(project, "run").returncode == 0
    assert len(spark_table(project.root, "s.daily")) == 12
