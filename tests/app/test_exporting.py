"""app.exporting on real projects: files (Parquet, CSV, JSON) and DuckDB tables written after a
run, read back; again when a partition is rebuilt, not when nothing changed; never for a window
whose blocking check failed; a failure recorded, printed and alerted; a run killed while
exporting leaves no partial export, and the next run exports once."""

from __future__ import annotations

import json
import signal
from datetime import datetime

import duckdb
import pytest

from orchestrator.app import exporting
from orchestrator.app.workspace import open_workspace
from orchestrator.project.model import Export

NOW = datetime(2024, 1, 4, 6, 0)
EVENTS = """
    create schema if not exists raw;
    create or replace table raw.events as
    select day::date as day, amount from (values
        ('2024-01-01', 10), ('2024-01-01', 5), ('2024-01-02', 7), ('2024-01-03', 1)) t(day, amount);
"""
DAILY = """
    -- kind: incremental
    -- partition_by: day
    -- start: 2024-01-01
    -- check: expression(total < 100)
    select day, sum(amount) as total from raw.events
    where day >= {{ start }} and day < {{ end }} group by day
"""
TOML = """
    [owners.default]
    log = "alerts.jsonl"

    [exports.parquet]
    model = "marts.daily"
    path = "out/parquet/{date}.parquet"

    [exports.csv]
    model = "daily"
    path = "out/all.csv"

    [exports.json]
    model = "daily"
    path = "out/json/{date}.json"
    query = "select day, total * 2 as doubled from {{ this }}"

    [exports.table]
    model = "daily"
    database = "reporting.duckdb"
    table = "fin.daily"

    [exports.whole_table]
    model = "daily"
    database = "reporting.duckdb"
    table = "everything"
    per = "whole"
"""


@pytest.fixture
def exported(project):
    project.seed(EVENTS)
    project.model("marts.daily", DAILY)
    project.write("orchestrator.toml", TOML)
    return project


def reporting(project, sql: str) -> list[tuple]:
    con = duckdb.connect(str(project.root / "reporting.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def read(path) -> list[tuple]:
    return duckdb.sql(f"select * from '{path}' order by all").fetchall()


def rows_of(project) -> list[tuple]:
    return project.query(
        "select export, partition_key, built_run, run_id, status, rows from orchestrator.exports "
        "order by export, partition_key, run_id"
    )


def test_a_run_writes_each_export_and_reads_back_what_was_published(exported):
    result = exported.api_run(at=NOW)
    assert result.status == "success"
    out = exported.root / "out"
    assert read(out / "parquet" / "2024-01-02.parquet") == [(datetime(2024, 1, 2).date(), 7)]
    assert len(read(out / "all.csv")) == 3
    assert read(out / "json" / "2024-01-01.json") == [(datetime(2024, 1, 1).date(), 30)]
    assert reporting(exported, "select sum(total) from fin.daily") == [(23,)]
    assert reporting(exported, "select count(*) from everything") == [(3,)]
    assert {d.status for d in result.exports} == {"success"}
    assert len(result.exports) == 3 + 1 + 3 + 3 + 1
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]
    # nothing changed: nothing is written again
    again = exported.api_run(at=NOW)
    assert again.exports == ()
    assert len(rows_of(exported)) == 11


def test_a_rebuilt_partition_is_exported_again_and_only_it(exported):
    exported.api_run(at=NOW)
    exported.seed("update raw.events set amount = 8 where day = date '2024-01-02'")
    result = exported.api_run(
        "marts.daily", at=NOW, backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3))
    )
    assert {(d.export, d.key) for d in result.exports} == {
        ("parquet", "2024-01-02"),
        ("json", "2024-01-02"),
        ("table", "2024-01-02"),
        ("csv", "all"),
        ("whole_table", "all"),
    }
    parquet = exported.root / "out" / "parquet"
    assert read(parquet / "2024-01-02.parquet") == [(datetime(2024, 1, 2).date(), 8)]
    assert reporting(exported, "select day, total from fin.daily order by day")[1][1] == 8
    assert reporting(exported, "select count(*) from fin.daily") == [(3,)]  # replaced, not added
    builds = [r for r in rows_of(exported) if r[0] == "parquet" and r[1] == "2024-01-02"]
    assert [(b[2], b[3]) for b in builds] == [(1, 1), (2, 2)]


def test_no_export_for_a_window_whose_blocking_check_failed(exported):
    exported.seed("insert into raw.events values (date '2024-01-03', 500)")
    result = exported.api_run(at=NOW)
    assert result.status == "failed"
    written = {(d.export, d.key) for d in result.exports}
    assert ("parquet", "2024-01-03") not in written and ("parquet", "2024-01-02") in written
    assert not (exported.root / "out" / "parquet" / "2024-01-03.parquet").exists()
    # the whole exports wait while a partition is not good
    assert not (exported.root / "out" / "all.csv").exists()
    assert reporting(exported, "select count(*) from fin.daily") == [(2,)]
    # fixed and rebuilt: exported then
    exported.seed("delete from raw.events where amount = 500")
    fixed = exported.api_run(at=NOW)
    assert ("parquet", "2024-01-03") in {(d.export, d.key) for d in fixed.exports}
    assert len(read(exported.root / "out" / "all.csv")) == 3


def test_a_failed_export_is_recorded_printed_and_alerted_and_retried_by_the_next_run(exported):
    (exported.root / "reporting.duckdb").mkdir()  # not a database file: ATTACH fails
    done = exported.cli("run", now=NOW)
    assert done.returncode == 0, done.stderr  # the tasks stand
    assert "error: export table failed on 2024-01-01" in done.stderr
    failed = exported.query("select status, error from orchestrator.exports where export = 'table'")
    assert {s for s, _ in failed} == {"failed"} and all(e for _, e in failed)
    alerts = [
        json.loads(line) for line in (exported.root / "alerts.jsonl").read_text().splitlines()
    ]
    sent = [a for a in alerts if "export table" in a["text"]]
    assert sent and "export_failed" in json.dumps(sent)
    status = exported.cli("status", now=NOW)
    assert "export table: marts.daily -> reporting.duckdb:fin.daily: 0 exported" in status.stdout
    assert "3 behind" in status.stdout and "3 failed" in status.stdout
    (exported.root / "reporting.duckdb").rmdir()
    exported.cli("run", now=NOW, check=True)
    assert reporting(exported, "select count(*) from fin.daily") == [(3,)]
    healed = (exported.root / "alerts.jsonl").read_text()
    assert "export table recovered" in healed or "table recovered" in healed


def test_plan_and_status_say_what_the_exports_would_write(exported):
    plan = exported.cli("plan", now=NOW, check=True)
    assert (
        "export parquet: marts.daily -> out/parquet/{date}.parquet (up to 3 partitions"
        in plan.stdout
    )
    shown = json.loads(exported.cli("plan", "--json", now=NOW, check=True).stdout)
    assert {e["export"]: e["partitions"] for e in shown["exports"]}["csv"] == 1
    exported.cli("run", now=NOW, check=True)
    status = json.loads(exported.cli("status", "--json", now=NOW, check=True).stdout)
    parquet = next(e for e in status["exports"] if e["export"] == "parquet")
    assert (parquet["exported"], parquet["behind"], parquet["failed"]) == (3, 0, 0)
    assert "export" not in exported.cli("plan", now=NOW, check=True).stdout


def test_killed_while_exporting_leaves_no_partial_export_and_the_next_run_exports_once(exported):
    # the first moment of a DuckDB run is the first export's file written aside, not renamed
    killed = exported.cli("run", now=NOW, env={"ORCHESTRATOR_KILL_AT": "1"})
    assert killed.returncode == -signal.SIGKILL
    out = exported.root / "out" / "parquet"
    assert not list(out.glob("*.parquet"))  # no export visible, half-written or not
    again = exported.cli("run", now=NOW)
    assert again.returncode == 0, again.stderr
    assert len(list(out.glob("*.parquet"))) == 3 and not list(out.glob(".*"))
    rows = rows_of(exported)
    once = {(e, k, b) for e, k, b, _, s, _ in rows if s == "success"}
    assert len(once) == len([r for r in rows if r[4] == "success"]) == 11


@pytest.mark.parametrize("moment", ["2", "4", "5"])
def test_killed_between_staging_and_swapping_a_table_leaves_the_last_good_table(exported, moment):
    exported.cli("run", now=NOW, check=True)
    before = reporting(exported, "select * from everything order by all")
    exported.seed("update raw.events set amount = 8 where day = date '2024-01-02'")
    args = ("backfill", "marts.daily", "--start", "2024-01-02", "--end", "2024-01-03")
    killed = exported.cli(*args, now=NOW, env={"ORCHESTRATOR_KILL_AT": moment})
    assert killed.returncode == -signal.SIGKILL
    assert reporting(exported, "select * from everything order by all") in (
        before,
        reporting(exported, "select * from everything order by all"),
    )
    assert reporting(exported, "select count(*) from fin.daily") == [(3,)]
    exported.cli("run", now=NOW, check=True)
    assert reporting(exported, "select sum(total) from everything") == [(24,)]
    assert reporting(exported, "select sum(total) from fin.daily") == [(24,)]


def test_exports_never_run_in_an_environment(exported):
    exported.api_run(at=NOW)
    ws = open_workspace(exported.root)
    from dataclasses import replace

    class Env:
        name = "dev"

    result = object()  # not even looked at: nothing is exported, nothing read
    assert exporting.after_run(replace(ws, env=Env()), None, result, 1) is result


def test_what_is_due_per_partition_and_whole():
    from orchestrator.core.partitions import Grain
    from orchestrator.project.model import Kind, Model

    model = Model("m.d", "m", "d", None, "", "", Kind.INCREMENTAL, "day", Grain.DAY)
    each = Export("e", "m.d", path="{date}.csv", per="partition")
    whole = Export("w", "m.d", path="all.csv")
    builds = {
        "a": ("success", 1),
        "b": ("success", 2),
        "c": ("check_failed", 1),
        "d": ("waiting", None),
    }
    assert exporting.due(each, model, builds, {"a": 1}) == [("b", 2)]
    assert exporting.due(whole, model, builds, {}) == []  # c failed: the whole waits
    builds["c"] = ("success", 3)
    assert exporting.due(whole, model, builds, {"all": 2}) == [("all", 3)]
    assert exporting.due(whole, model, builds, {"all": 3}) == []


def test_the_model_page_shows_its_exports(exported):
    from conftest import get, serving

    exported.api_run(at=NOW)
    with serving(exported) as base:
        page = json.loads(get(f"{base}/api/models/marts.daily")[1])
        html = get(f"{base}/models/marts.daily")[1]
    shown = {e["export"]: (e["exported"], e["behind"], e["failed"]) for e in page["exports"]}
    assert shown["parquet"] == (3, 0, 0) and shown["whole_table"] == (1, 0, 0)
    assert "<h2>Exports</h2>" in html and "reporting.duckdb:fin.daily" in html
