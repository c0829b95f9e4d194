"""The operating commands (cli.operating: adopt, schedule, freshness, verify, prune, ui, report)
through the real CLI in subprocesses: what they print, their exit codes, and what they refuse
before touching anything."""

from __future__ import annotations

import socket

STALE = """
[sources."raw.events"]
loaded_at = "loaded"
error_after = "1d"
"""


def test_freshness_with_no_declared_source_says_where_to_declare_one(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("freshness")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no declared sources (see [sources] in orchestrator.toml)"


def test_freshness_exits_1_for_a_stale_source(project):
    project.write("orchestrator.toml", STALE)
    project.seed(
        "create schema raw; create table raw.events as "
        "select 1 as id, timestamp '2024-01-05 04:00' as loaded"
    )
    project.model("s.m", "select id from raw.events")
    out = project.cli("freshness")
    assert out.returncode == 1, out.stdout + out.stderr
    header, _, row = out.stdout.splitlines()[:3]
    assert header.split() == ["source", "status", "latest_loaded_at", "lag", "detail"]
    assert row.split()[:2] == ["raw.events", "stale"]


def test_prune_lists_without_yes_and_drops_with_it(project):
    project.model("s.kept", "select 1 as x")
    project.model("s.gone", "select 2 as y")
    project.cli("run", check=True)
    (project.root / "models/s/gone.sql").unlink()
    listed = project.cli("prune")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "would drop s.gone (table)",
        "run `orchestrator prune --yes` to drop them",
    ]
    assert project.query("select count(*) from duckdb_tables() where table_name = 'gone'") == [(1,)]
    dropped = project.cli("prune", "--yes")
    assert dropped.returncode == 0 and dropped.stdout.strip() == "dropped s.gone (table)"
    again = project.cli("prune", "--yes")
    assert again.stdout.strip().startswith("prune: nothing to drop")


def test_adopt_records_a_relation_that_is_what_the_model_builds(project):
    project.model("s.m", "select 1 as x")
    project.seed("create schema s; create table s.m as select 1 as x")
    out = project.cli("adopt")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1] == "adopt 1: 1 adopted"
    assert "nothing to do" in project.cli("run").stdout


def test_schedule_without_jobs_is_a_usage_error(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("schedule", "--once")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: no jobs: add [jobs.NAME] tables to orchestrator.toml"


def test_verify_takes_start_and_end_together(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("verify", "--start", "2024-01-01")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: verify: give --start and --end together, or neither"


def test_report_writes_one_html_file(project):
    project.model("s.m", "select 1 as x")
    project.cli("run", check=True)
    target = project.root / "out" / "state.html"
    target.parent.mkdir()
    out = project.cli("report", "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"wrote {target} (") and out.stdout.strip().endswith("1 models)")
    assert target.read_text().lstrip().lower().startswith("<!doctype html>")
    unwritable = project.cli("report", "-o", str(project.root / "no" / "such" / "r.html"))
    assert unwritable.returncode == 2 and "error: cannot write " in unwritable.stderr


def test_ui_on_a_port_in_use_says_so_in_one_line(project):
    project.model("s.m", "select 1 as x")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = project.cli("ui", "--port", str(port), timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert len(out.stderr.strip().splitlines()) == 1
