"""A partition built from a source file (or table rows) that has changed since is stale: the
build records what it read, the next plan compares (issue 10, item 1)."""

from __future__ import annotations

import os

import pytest

NOW = "2026-11-04T06:00"


@pytest.fixture
def orders(project):
    """Daily order files read by partition, an incremental staging model and a mart on it."""

    def setup(immutable: bool = False):
        project.write(
            "orchestrator.toml",
            f"""
            [sources."raw.orders"]
            path = "data/orders/orders_{{date}}.csv"
            read_by_partition = true
            immutable = {str(immutable).lower()}
            """,
        )
        for day, rows in (("01", 2), ("02", 3), ("03", 1)):
            lines = "".join(f"{i},2026-11-{day},10\n" for i in range(rows))
            project.write(f"data/orders/orders_2026-11-{day}.csv", "id,day,amount\n" + lines)
        project.model(
            "staging.stg_orders",
            """
            -- kind: incremental
            -- partition_by: day
            -- start: 2026-11-01
            -- check: row_count(min=1)
            select id, day::date as day, amount from raw.orders
            where day >= {{ start }} and day < {{ end }}
            """,
        )
        project.model(
            "marts.daily",
            """
            -- kind: incremental
            -- partition_by: day
            -- start: 2026-11-01
            select day, count(*) as orders from staging.stg_orders
            where day >= {{ start }} and day < {{ end }} group by day
            """,
        )
        out = project.cli("run", now=NOW)
        assert out.returncode == 0, out.stdout + out.stderr
        return project

    return setup


def _append(project, relpath: str, line: str) -> None:
    path = project.root / relpath
    stat = os.stat(path)
    with open(path, "a") as f:
        f.write(line)
    # a later time, whatever the file system's resolution
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_an_appended_row_makes_its_day_stale_and_run_rebuilds_it_and_downstream(orders):
    project = orders()
    assert "nothing to do" in project.cli("plan", now=NOW).stdout
    _append(project, "data/orders/orders_2026-11-02.csv", "9,2026-11-02,10\n")

    plan = project.cli("plan", now=NOW)
    assert plan.returncode == 0, plan.stderr
    assert "stale: source changed (orders_2026-11-02.csv)" in plan.stdout
    assert "2026-11-01" not in plan.stdout and "2026-11-03" not in plan.stdout

    status = project.cli("status", now=NOW)
    assert "stale" in status.stdout

    run = project.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert project.scalar("select orders from marts.daily where day = '2026-11-02'") == 4
    assert project.scalar("select count(*) from staging.stg_orders") == 7
    reasons = project.query(
        "select model, partition_key, reason from orchestrator.task_runs "
        "where run_id = (select max(run_id) from orchestrator.runs) order by model"
    )
    assert reasons == [
        ("marts.daily", "2026-11-02", "stale: upstream rebuilt"),
        ("staging.stg_orders", "2026-11-02", "stale: source changed (orders_2026-11-02.csv)"),
    ]
    assert "nothing to do" in project.cli("plan", now=NOW).stdout


def test_a_file_touched_but_unchanged_is_not_stale(orders):
    project = orders()
    path = project.root / "data/orders/orders_2026-11-01.csv"
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 5_000_000_000))
    assert "nothing to do" in project.cli("plan", now=NOW).stdout


def test_a_replaced_file_of_the_same_size_is_stale(orders):
    project = orders()
    path = project.root / "data/orders/orders_2026-11-03.csv"
    text = path.read_text().replace(",10\n", ",99\n")
    path.write_text(text)
    plan = project.cli("plan", now=NOW)
    assert "stale: source changed (orders_2026-11-03.csv)" in plan.stdout


def test_an_immutable_source_is_not_fingerprinted(orders):
    project = orders(immutable=True)
    _append(project, "data/orders/orders_2026-11-02.csv", "9,2026-11-02,10\n")
    assert "nothing to do" in project.cli("plan", now=NOW).stdout
    assert (
        project.scalar("select count(*) from orchestrator.partitions where sources is not null")
        == 0
    )


def test_the_build_records_what_it_read(orders):
    project = orders()
    recorded = project.query(
        "select partition_key, sources from orchestrator.partitions "
        "where model = 'staging.stg_orders' order by 1"
    )
    import json

    day2 = json.loads(recorded[1][1])["raw.orders"]
    assert list(day2) == ["data/orders/orders_2026-11-02.csv"]
    size, _mtime, sha = day2["data/orders/orders_2026-11-02.csv"].split(":")
    assert int(size) == (project.root / "data/orders/orders_2026-11-02.csv").stat().st_size
    assert len(sha) == 64
    # the mart reads no source: it records none
    assert (
        project.scalar(
            "select count(*) from orchestrator.partitions where model = 'marts.daily' "
            "and sources is not null"
        )
        == 0
    )


def test_rows_added_to_a_partitioned_table_source_make_that_day_stale(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        partition_by = "day"
        """,
    )
    project.seed(
        "create schema raw; create table raw.events as "
        "select range as id, date '2026-11-01' + (range % 3)::int as day from range(9)"
    )
    project.model(
        "staging.ev",
        """
        -- kind: incremental
        -- partition_by: day
        -- start: 2026-11-01
        select id, day from raw.events where day >= {{ start }} and day < {{ end }}
        """,
    )
    project.model("marts.total", "select count(*) as n from raw.events")
    assert project.cli("run", now=NOW).returncode == 0
    assert "nothing to do" in project.cli("plan", now=NOW).stdout

    project.seed("insert into raw.events values (100, date '2026-11-03')")
    plan = project.cli("plan", now=NOW).stdout
    assert "stale: source changed (2026-11-03)" in plan
    assert "2026-11-01" not in plan and "2026-11-02" not in plan
    # the whole table reading the source is stale too
    assert "marts.total" in plan
    assert project.cli("run", now=NOW).returncode == 0
    assert project.scalar("select n from marts.total") == 10
    assert "nothing to do" in project.cli("plan", now=NOW).stdout
