"""Sources: arrival per partition (waiting, then published), drift (blocked, naming columns),
freshness thresholds, and the example scenario end to end through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from conftest import REPO

from orchestrator.app import api
from orchestrator.app.workspace import open_workspace
from orchestrator.project.config import parse_duration

DAY_MODEL = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
select cast(id as bigint) as id, cast(d as date) as d from raw.events
where cast(d as date) >= {{ start }} and cast(d as date) < {{ end }}
"""


def write_day(project, day: str, header: str = "id,d", rows: int = 2) -> None:
    lines = [header] + [f"{i},{day}" for i in range(rows)]
    project.write(f"data/events_{day}.csv", "\n".join(lines) + "\n")


@pytest.fixture
def files(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        columns = { id = "BIGINT", d = "DATE" }
    """,
    )
    project.model("s.daily", DAY_MODEL)
    project.model("s.total", "select count(*) as n from s.daily")
    for day in ("2024-01-01", "2024-01-02", "2024-01-04"):
        write_day(project, day)
    return project


NOW = datetime(2024, 1, 5, 6)


def test_late_partition_waits_then_publishes_on_a_later_run(files):
    result = files.api_run(at=NOW)
    status = {(o.model, o.key): o.status for o in result.outcomes}
    assert status[("s.daily", "2024-01-03")] == "waiting"
    assert status[("s.daily", "2024-01-04")] == "success"
    assert status[("s.total", "all")] == "waiting"
    assert result.exit_code == 0  # waiting alone does not fail a run
    reason = next(o.reason for o in result.outcomes if o.key == "2024-01-03")
    assert "raw.events[2024-01-03] has not arrived: no file matches data/events_2024-01-03.csv" in (
        reason
    )
    assert files.query("select waiting, status from orchestrator.runs") == [(2, "success")]
    write_day(files, "2024-01-03")
    later = files.api_run(at=NOW)
    assert sorted((o.model, o.key, o.status) for o in later.outcomes) == [
        ("s.daily", "2024-01-03", "success"),
        ("s.total", "all", "success"),
    ]
    assert files.query("select n from s.total") == [(8,)]


def test_drifted_file_blocks_its_partition_naming_the_columns(files):
    write_day(files, "2024-01-03", header="id,event_day")
    result = files.api_run(at=NOW)
    by = {(o.model, o.key): o for o in result.outcomes}
    assert by[("s.daily", "2024-01-03")].status == "blocked"
    assert (
        "missing column(s): d; unexpected column(s): event_day"
        in by[("s.daily", "2024-01-03")].reason
    )
    assert by[("s.daily", "2024-01-02")].status == "success"
    assert result.exit_code == 1
    out = files.cli("status", now="2024-01-05T06:00")
    assert "1 blocked" in out.stdout


def test_plan_shows_waiting_without_writing(files):
    before = files.files()
    out = files.cli("plan", now="2024-01-05T06:00")
    assert "waiting" in out.stdout and "data/events_2024-01-03.csv" in out.stdout
    assert files.files() == before


def test_table_source_arrival_by_rows_and_freshness_by_loaded_at(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        partition_by = "d"
        loaded_at = "loaded"
        warn_after = "6h"
        error_after = "1d"
    """,
    )
    project.model("s.daily", DAY_MODEL)
    project.seed("""
        create schema raw;
        create table raw.events as select 1 as id, date '2024-01-01' as d,
            timestamp '2024-01-05 04:00' as loaded
    """)
    result = project.api_run(at=NOW)  # loaded 2h ago: fresh
    assert {o.key: o.status for o in result.outcomes} == {
        "2024-01-01": "success",
        "2024-01-02": "waiting",
        "2024-01-03": "waiting",
        "2024-01-04": "waiting",
    }
    fresh = project.query("select status, lag_seconds from orchestrator.freshness")
    assert fresh == [("fresh", 7200.0)]
    # 10 hours later: late (warn) but not stale: waiting partitions are still only waiting
    result = project.api_run(at=NOW + timedelta(hours=8))
    assert {o.status for o in result.outcomes} == {"waiting"}
    assert project.query(
        "select status from orchestrator.freshness order by run_id desc limit 1"
    ) == [("warn",)]
    # two days later with new rows for the 2nd but no new load: stale, everything blocked
    project.seed(
        "insert into raw.events values (2, date '2024-01-02', timestamp '2024-01-05 04:00')"
    )
    result = project.api_run(at=NOW + timedelta(days=2))
    assert {o.status for o in result.outcomes} == {"blocked"}
    assert "is stale: last loaded 2024-01-05 04:00 UTC, 2d2h ago (error_after 1d)" in (
        result.outcomes[0].reason
    )
    assert result.exit_code == 1


def test_freshness_command_records_and_exits_by_status(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.files"]
        path = "data/*.csv"
        warn_after = "1h"
        error_after = "2h"
    """,
    )
    project.model("s.m", "select * from raw.files")
    project.write("data/a.csv", "x\n1\n")
    old = datetime.now().timestamp() - 3 * 3600
    os.utime(project.root / "data" / "a.csv", (old, old))
    out = project.cli("freshness", now=None)
    assert out.returncode == 1
    assert "stale" in out.stdout and "raw.files" in out.stdout
    os.utime(project.root / "data" / "a.csv")
    out = project.cli("freshness", now=None)
    assert out.returncode == 0 and "fresh" in out.stdout
    assert project.query("select status from orchestrator.freshness order by run_id") == [
        ("stale",),
        ("fresh",),
    ]


def test_missing_files_mean_waiting_not_a_crash(project):
    project.write("orchestrator.toml", '[sources."raw.x"]\npath = "data/*.csv"\n')
    project.model("s.m", "select * from raw.x")
    project.model("s.other", "select 1 as one")
    result = project.api_run()
    assert {o.model: o.status for o in result.outcomes} == {"s.m": "waiting", "s.other": "success"}
    assert "has no data yet: no file matches data/*.csv" in result.outcomes[0].reason


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[sources."raw.x"]\nwarn_after = "soon"\npath = "x.csv"', "is not a duration"),
        ('[sources."raw.x"]\nerror_after = "1h"', "error_after needs loaded_at"),
        (
            '[sources."raw.x"]\nwarn_after = "2h"\nerror_after = "1h"\npath = "x.csv"',
            "error_after must not be shorter",
        ),
        ('[sources."raw.x"]\ngrain = "week"\npartition_by = "d"', "grain must be one of"),
        ('[sources."raw.x"]\ncolumns = { id = 1 }', "columns must map column names to types"),
    ],
)
def test_bad_source_settings_point_at_the_line(project, toml, message):
    project.write("orchestrator.toml", "# sources\n" + toml)
    project.model("s.m", "select 1 as one")
    out = project.cli("plan")
    assert out.returncode == 2
    assert "orchestrator.toml:" in out.stderr and message in out.stderr


def test_durations():
    assert parse_duration("1h30m") == timedelta(hours=1, minutes=30)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError):
        parse_duration("3 weeks")


def test_status_owner_filter(files):
    files.model("s.mine", "-- owner: ana\nselect 1 as one")
    out = files.cli("status", "--owner", "ana", now="2024-01-05T06:00")
    assert "s.mine" in out.stdout and "s.daily" not in out.stdout


@pytest.mark.slow
def test_example_scenario_end_to_end(tmp_path):
    target = tmp_path / "scenario"
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "late_data_scenario.py"), "--keep", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "blocked: staging.stg_refunds[2026-10-21]: source raw.refunds[2026-10-21] drifted" in out
    assert "missing column(s): amount, reason" in out
    assert (
        "waiting: staging.stg_payments[2026-10-20]: source raw.payments[2026-10-20] has not "
        "arrived" in out
    )
    assert "first run exit 1 (a blocked source needs someone), second run exit 0" in out
    ws = open_workspace(target)
    columns, rows = api.query(ws.warehouse, "select count(*) from marts.revenue_daily")
    assert rows == [(21,)]


@pytest.mark.parametrize("by_partition", [True, False])
def test_read_by_partition_reads_only_the_windows_files(project, by_partition):
    project.write(
        "orchestrator.toml",
        f"""
        [sources."raw.events"]
        path = "data/events_{{date}}.csv"
        read_by_partition = {str(by_partition).lower()}
    """,
    )
    project.model("s.daily", DAY_MODEL)
    project.model("s.everything", "select count(*) as n from raw.events")
    write_day(project, "2024-01-01")
    # the file of the 2nd also carries a straggler dated the 1st
    project.write("data/events_2024-01-02.csv", "id,d\n7,2024-01-02\n8,2024-01-01\n")
    project.api_run(at=datetime(2024, 1, 3))
    first_day = project.scalar("select count(*) from s.daily where d = date '2024-01-01'")
    assert first_day == (2 if by_partition else 3)
    # other readers, and people querying the view, always see every file
    assert project.query("select n from s.everything") == [(4,)]
    con_rows = api.query(project.warehouse, "select count(*) from raw.events")[1]
    assert con_rows == [(4,)]


def test_a_table_reading_a_source_with_a_drifted_file_is_blocked(files):
    files.model("s.whole", "select id, d from raw.events")
    write_day(files, "2024-01-03", header="id,dd")
    result = files.api_run(at=NOW)
    by = {(o.model, o.key): o for o in result.outcomes}
    assert by[("s.whole", "all")].status == "blocked"
    assert "events_2024-01-03.csv: missing column(s): d" in by[("s.whole", "all")].reason
    assert by[("s.daily", "2024-01-02")].status == "success"  # other days still publish
    out = files.cli("freshness", now="2024-01-05T06:00")
    assert out.returncode == 1 and "drifted" in out.stdout


def test_sources_read_through_a_view_gate_its_readers(files):
    files.model(
        "s.v",
        "-- kind: view\nselect cast(id as bigint) as id, cast(d as date) as d from raw.events",
    )
    files.model("s.via", DAY_MODEL.replace("raw.events", "s.v"))
    result = files.api_run("s.v", "s.via", at=NOW)
    assert {o.key: o.status for o in result.outcomes if o.model == "s.via"}["2024-01-03"] == (
        "waiting"
    )


def test_blocked_wins_over_waiting(files):
    files.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        columns = { id = "BIGINT", d = "DATE" }

        [sources."raw.more"]
        path = "more/more_{date}.csv"
        columns = { id = "BIGINT", d = "DATE" }
    """,
    )
    files.model(
        "s.both",
        DAY_MODEL.replace("from raw.events", "from raw.events union all select * from raw.more"),
    )
    files.write("more/more_2024-01-03.csv", "id,x\n1,2\n")  # events of the 3rd are missing
    result = files.api_run("s.both", at=NOW)
    assert {o.key: o.status for o in result.outcomes}["2024-01-03"] == "blocked"


def test_a_drifted_file_with_loaded_at_blocks_only_its_day(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        columns = { id = "BIGINT", d = "DATE", loaded = "TIMESTAMP" }
        loaded_at = "loaded"
        error_after = "3d"
    """,
    )
    project.model("s.daily", DAY_MODEL)
    for day in ("2024-01-01", "2024-01-02"):
        project.write(f"data/events_{day}.csv", f"id,d,loaded\n1,{day},{day} 23:00:00\n")
    project.write("data/events_2024-01-03.csv", "id,dd,loaded\n1,2024-01-03,2024-01-03 23:00\n")
    project.write("data/events_2024-01-04.csv", "id,d,loaded\n1,2024-01-04,2024-01-04 23:00\n")
    result = project.api_run(at=NOW)
    assert {o.key: o.status for o in result.outcomes} == {
        "2024-01-01": "success",
        "2024-01-02": "success",
        "2024-01-03": "blocked",
        "2024-01-04": "success",
    }


def test_placeholders_set_the_grain(project):
    project.write(
        "orchestrator.toml", '[sources."raw.h"]\npath = "d/{date}/h_{hour}.csv"\ngrain = "day"\n'
    )
    project.model("s.m", "select 1 as one")
    out = project.cli("plan")
    assert out.returncode == 2
    assert 'each file one hour: use grain = "hour"' in out.stderr


def test_unreadable_arrival_blocks_instead_of_crashing(project):
    project.write("orchestrator.toml", '[sources."raw.events"]\npartition_by = "nope"\n')
    project.seed(
        "create schema raw; create table raw.events as select 1 as id, date '2024-01-01' as d"
    )
    project.model("s.daily", DAY_MODEL)
    out = project.cli("run", now="2024-01-02T01:00")
    assert out.returncode == 1
    assert "raw.events[2024-01-01] cannot be read" in out.stdout


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo", "UTC"])
def test_loaded_at_with_a_time_zone_is_read_as_utc(project, zone):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        loaded_at = "loaded"
        error_after = "1h"
    """,
    )
    project.seed(
        "create schema raw; create table raw.events as select 1 as id, "
        "date '2024-01-01' as d, timestamptz '2024-01-05 05:30:00+00' as loaded"
    )
    project.model("s.daily", DAY_MODEL)
    out = project.cli("freshness", now="2024-01-05T06:00", env={"TZ": zone})
    assert out.returncode == 0, out.stdout
    assert "30m" in out.stdout


def test_declared_csv_types_are_read_as_declared(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        read_by_partition = true
        columns = { id = "VARCHAR", d = "DATE" }
    """,
    )
    project.model("s.daily", DAY_MODEL.replace("cast(id as bigint)", "id"))
    project.write("data/events_2024-01-01.csv", "id,d\n007,2024-01-01\n")
    project.write("data/events_2024-01-02.csv", "id,d\n8,2024-01-02\n")
    assert project.api_run(at=datetime(2024, 1, 3)).exit_code == 0
    assert project.query("select id from s.daily order by d") == [("007",), ("8",)]


def test_readiness_view_judges_upstream_and_sources(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        loaded_at = "loaded"
        error_after = "1h"
    """,
    )
    project.seed(
        "create schema raw; create table raw.events as select 1 as id, "
        "date '2024-01-01' as d, now()::timestamp as loaded"
    )
    project.model("s.t", "select id from raw.events")
    project.model("s.top", "select count(*) as n from s.t")
    project.cli("run", now=None, check=True)
    assert project.query("select model, state from orchestrator.readiness") == [
        ("s.t", "complete"),
        ("s.top", "complete"),
    ]
    project.seed("update raw.events set loaded = loaded - interval 3 hour")
    project.cli("freshness", now=None)
    rows = project.query(
        "select model, state, own_state, upstream_issue, stale_sources from orchestrator.readiness"
    )
    assert rows == [
        ("s.t", "stale", "stale", None, ["raw.events"]),
        ("s.top", "stale", "complete", "s.t is stale", None),
    ]


def test_pointing_a_source_at_other_files_makes_its_readers_stale(project):
    project.write("orchestrator.toml", '[sources."raw.files"]\npath = "old/*.csv"\n')
    project.model("s.m", "select sum(x) as total from raw.files")
    project.write("old/a.csv", "x\n1\n")
    project.write("new/a.csv", "x\n5\n")
    assert project.cli("run").returncode == 0
    assert project.scalar("select total from s.m") == 1
    project.write("orchestrator.toml", '[sources."raw.files"]\npath = "new/*.csv"\n')
    plan = project.cli("plan")
    assert "stale: model changed" in plan.stdout, plan.stdout
    assert project.cli("run").returncode == 0
    assert project.scalar("select total from s.m") == 5


ISSUE_SOURCE = """
[sources."raw.payments"]
loaded_at = "_loaded_at"
warn_after = "6h"
error_after = "24h"
partition_by = "payment_date"
grain = "day"
columns = { payment_id = "BIGINT", amount = "DECIMAL(18,2)", payment_date = "DATE" }
owner = "payments"
"""


def test_loaded_at_and_partition_by_columns_are_not_unexpected(project):
    # the issue's example: columns lists neither _loaded_at nor (here) payment_date
    project.write("orchestrator.toml", ISSUE_SOURCE.replace(', payment_date = "DATE"', ""))
    project.seed(
        "create schema raw; create table raw.payments as select 1::bigint as payment_id, "
        "2.5::decimal(18,2) as amount, date '2024-01-01' as payment_date, "
        "timestamp '2024-01-02 05:00' as _loaded_at"
    )
    project.model(
        "s.pay",
        """
        -- kind: incremental
        -- partition_by: payment_date
        -- start: 2024-01-01
        -- end: 2024-01-02
        select payment_id, amount, payment_date from raw.payments
        where payment_date >= {{ start }} and payment_date < {{ end }}
    """,
    )
    out = project.cli("freshness", now="2024-01-02T06:00")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "fresh" in out.stdout and "unexpected" not in out.stdout
    run = project.cli("run", now="2024-01-02T06:00")
    assert run.returncode == 0, run.stdout + run.stderr
    assert project.query("select payment_id from s.pay") == [(1,)]
    # another column still counts as drift
    project.seed("alter table raw.payments add column note varchar")
    out = project.cli("freshness", now="2024-01-02T06:00")
    assert out.returncode == 1 and "unexpected column(s): note" in out.stdout


def test_a_declared_loaded_at_column_is_still_type_checked(project):
    project.write("orchestrator.toml", ISSUE_SOURCE.replace(" }", ', _loaded_at = "DATE" }'))
    project.seed(
        "create schema raw; create table raw.payments as select 1::bigint as payment_id, "
        "2.5::decimal(18,2) as amount, date '2024-01-01' as payment_date, "
        "timestamp '2024-01-02 05:00' as _loaded_at"
    )
    project.model("s.all", "select * from raw.payments")
    out = project.cli("freshness", now="2024-01-02T06:00")
    assert out.returncode == 1 and "_loaded_at is TIMESTAMP, expected DATE" in out.stdout


def test_a_file_source_with_an_undeclared_loaded_at_column_is_not_drifted(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        columns = { id = "BIGINT", d = "DATE" }
        loaded_at = "_loaded_at"
        error_after = "3d"
    """,
    )
    project.model("s.daily", DAY_MODEL)
    for day in ("2024-01-01", "2024-01-02"):
        project.write(f"data/events_{day}.csv", f"id,d,_loaded_at\n1,{day},{day} 23:00:00\n")
    result = project.api_run(at=datetime(2024, 1, 3))
    assert {o.key: o.status for o in result.outcomes} == {
        "2024-01-01": "success",
        "2024-01-02": "success",
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "data/x_{day}.csv",
            "unknown placeholder {day} in path 'data/x_{day}.csv'; "
            "placeholders: {date}, {month}, {year}, {hour}",
        ),
        ("data/{Date}/x.csv", "unknown placeholder {Date}"),
        ("data/x_{hour}.csv", "has {hour} but no {date}: an hour's file must name its day too"),
        ("data/{month}/x_{hour}.csv", "has {hour} but no {date}"),
    ],
)
def test_bad_path_placeholders_are_refused_naming_the_line(project, path, message):
    project.write(
        "orchestrator.toml",
        f'# a path = "{{day}}" here is only a comment\n[sources."raw.x"]\npath = "{path}"\n',
    )
    project.model("s.m", "select * from raw.x")
    before = project.files()
    out = project.cli("run")
    assert out.returncode == 2
    assert "orchestrator.toml:3: source 'raw.x': " in out.stderr and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert project.files() == before


def test_hourly_files_with_a_date_are_accepted(project):
    project.write("orchestrator.toml", '[sources."raw.h"]\npath = "d/{date}/h_{hour}.csv"\n')
    project.model("s.m", "select 1 as one")
    assert project.cli("plan").returncode == 0


def test_bad_reader_options_are_reported_and_block_the_readers(project):
    project.write(
        "orchestrator.toml",
        '[sources."raw.x"]\npath = "data/x_{date}.csv"\noptions = { nosuchopt = 1 }\n',
    )
    project.write("data/x_2024-01-01.csv", "id,d\n1,2024-01-01\n")
    project.model("s.daily", DAY_MODEL.replace("raw.events", "raw.x"))
    project.model("s.whole", "select count(*) as n from raw.x")
    out = project.cli("freshness", now="2024-01-02T06:00")
    assert out.returncode == 1
    assert "drifted" in out.stdout and 'Invalid named parameter "nosuchopt"' in out.stdout
    out = project.cli("run", now="2024-01-02T06:00")
    assert out.returncode == 1 and "CatalogException" not in out.stdout
    reasons = dict(
        project.query(
            "select model, reason from orchestrator.task_runs where run_id = 2 "
            "and status = 'blocked'"
        )
    )
    assert set(reasons) == {"s.daily", "s.whole"}
    assert reasons["s.whole"].startswith("source raw.x is drifted: cannot be read: Binder Error")
    assert 'Invalid named parameter "nosuchopt"' in reasons["s.daily"]


def test_a_source_whose_view_cannot_be_made_blocks_its_readers(project):
    project.write("orchestrator.toml", '[sources."raw.x"]\npath = "data/*.csv"\n')
    project.write("data/a.csv", "id\n1\n")
    (project.root / "data" / "b.csv").write_bytes(b"\xff\xfe\x00garbage\n\x00\x01")
    project.model("s.m", "select * from raw.x")
    result = project.api_run()
    assert [(o.model, o.status) for o in result.outcomes] == [("s.m", "blocked")]
    assert "source raw.x is drifted: cannot be read: " in result.outcomes[0].reason
    assert project.query("select status from orchestrator.freshness") == [("drifted",)]


def readme_query(comment: str) -> str:
    """The SQL under `-- comment` in the README's examples, up to its `;`."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"-- {comment}")
    return text[start : text.index(";", start)]


def test_readme_freshness_query_picks_the_latest_evaluation_of_a_pinned_clock(project):
    # with ORCHESTRATOR_NOW pinned, two evaluations share checked_at: the run decides
    project.write(
        "orchestrator.toml", '[sources."raw.events"]\nloaded_at = "loaded"\nerror_after = "1h"\n'
    )
    project.seed(
        "create schema raw; create table raw.events as select 1 as id, "
        "timestamp '2024-01-05 05:30' as loaded"
    )
    project.model("s.m", "select id from raw.events")
    for expected in ("fresh", "stale", "fresh", "stale"):
        if expected == "stale":
            project.seed("update raw.events set loaded = timestamp '2024-01-05 01:00'")
        else:
            project.seed("update raw.events set loaded = timestamp '2024-01-05 05:30'")
        project.cli("freshness", now="2024-01-05T06:00")
    query = readme_query("how fresh is each source, by its latest evaluation")
    assert [r[:2] for r in project.query(query)] == [("raw.events", "stale")]


def test_an_unknown_column_type_is_refused_naming_the_line(project):
    project.write(
        "orchestrator.toml",
        '[sources."raw.x"]\npath = "x.csv"\n# columns are checked\ncolumns = { a = "NOTATYPE" }\n',
    )
    project.model("s.m", "select 1 as one")
    out = project.cli("plan")
    assert out.returncode == 2
    assert (
        "orchestrator.toml:4: source 'raw.x': columns: a = 'NOTATYPE': Catalog Error: "
        "Type with name NOTATYPE does not exist!" in out.stderr
    )


def _orders_with_a_bad_body(
    project, bad: bytes, columns: bool = True, by_partition: bool = True
) -> None:
    declared = 'columns = { id = "BIGINT", amount = "DECIMAL(18,2)", day = "DATE" }'
    project.write(
        "orchestrator.toml",
        f"""
        [owners.sales]
        log = "alerts.jsonl"

        [sources."raw.orders"]
        path = "data/orders_{{date}}.csv"
        owner = "sales"
        read_by_partition = {str(by_partition).lower()}
        {declared if columns else ""}
        """,
    )
    project.write("data/orders_2024-01-01.csv", "id,amount,day\n1,2.50,2024-01-01\n")
    (project.root / "data/orders_2024-01-02.csv").write_bytes(bad)
    project.write("data/orders_2024-01-03.csv", "id,amount,day\n3,4.00,2024-01-03\n")
    project.model(
        "s.orders",
        """
        -- kind: incremental
        -- partition_by: day
        -- start: 2024-01-01
        select id, amount, day from raw.orders where day >= {{ start }} and day < {{ end }}
        """,
    )


@pytest.mark.parametrize(
    "bad, columns, telling",
    [
        # a value the declared type cannot hold, under a good header
        (
            b"id,amount,day\n2,3.00,2024-01-02\n1041,12.50 EUR,2024-01-02\n",
            True,
            ['Could not convert string "12.50 EUR"', 'column "amount"', "orders_2024-01-02.csv"],
        ),
        # mixed line endings: DuckDB's sniffer cannot tell the dialect
        (
            b"id,amount,day\r\n2,3.00,2024-01-02\n3,1.0,2024-01-02\r\n4,1.5,2024-01-02\n",
            False,
            ["orders_2024-01-02.csv"],
        ),
    ],
)
def test_a_file_with_a_good_header_and_an_unreadable_body_is_drifted(
    project, bad, columns, telling
):
    """Issue 10, item 2: the window is read as its task will read it; such a day is blocked
    with DuckDB's message, the others are built, and the source's owner is alerted."""
    _orders_with_a_bad_body(project, bad, columns)
    plan = project.cli("plan", now="2024-01-04T06:00")
    assert "blocked" in plan.stdout and "cannot be read" in plan.stdout, plan.stdout

    run = project.cli("run", now="2024-01-04T06:00")
    assert run.returncode == 1, run.stdout + run.stderr
    statuses = dict(
        project.query(
            "select partition_key, status from orchestrator.task_runs where model = 's.orders'"
        )
    )
    assert statuses == {"2024-01-01": "success", "2024-01-02": "blocked", "2024-01-03": "success"}
    reason = project.scalar(
        "select reason from orchestrator.task_runs where partition_key = '2024-01-02'"
    )
    for text in telling:
        assert text in reason, reason
    assert "\n" not in reason
    alert = project.query("select event, subject, owner from orchestrator.alerts")
    assert alert == [("source_blocked", "raw.orders", "sales")]

    # the newest file is fine, yet freshness of the whole source stays honest when it is not
    os.utime(project.root / "data/orders_2024-01-02.csv")
    fresh = project.cli("freshness", now="2024-01-04T06:00")
    assert fresh.returncode == 1 and "drifted" in fresh.stdout and "cannot be read" in fresh.stdout


def test_without_read_by_partition_every_reader_of_an_unreadable_file_is_blocked(project):
    _orders_with_a_bad_body(
        project, b"id,amount,day\n1041,12.50 EUR,2024-01-02\n", by_partition=False
    )
    run = project.cli("run", now="2024-01-04T06:00")
    assert run.returncode == 1
    statuses = project.query("select distinct status from orchestrator.task_runs")
    assert statuses == [("blocked",)]  # each day's task reads the view over every file


def test_a_whole_table_reading_every_file_is_blocked_by_an_unreadable_old_file(project):
    _orders_with_a_bad_body(project, b"id,amount,day\n1041,12.50 EUR,2024-01-02\n", columns=True)
    project.model("s.all_orders", "select count(*) as n from raw.orders")
    out = project.cli("plan", "s.all_orders", now="2024-01-04T06:00")
    assert "s.all_orders" in out.stdout and "blocked" in out.stdout, out.stdout
    assert "12.50 EUR" in out.stdout
