"""The looking commands (cli.looking: status, runs, compile, dag, sql, check) through the real
CLI in subprocesses: what they show, one-line errors, and `sql` kept read-only."""

from __future__ import annotations

import json

import pytest
import seeded_projects

seeded = seeded_projects.seeded  # the fixture: a daily fact and a total


def test_sql_is_read_only(seeded):
    seeded.cli("run", check=True)
    out = seeded.cli(
        "sql", "select model, count(*) as n from orchestrator.partitions group by 1 order by 1"
    )
    assert out.returncode == 0
    assert "marts.fact" in out.stdout and "9" in out.stdout
    denied = seeded.cli("sql", "drop table marts.fact")
    assert denied.returncode != 0
    assert seeded.scalar("select count(*) from marts.fact") == 45
    as_json = json.loads(seeded.cli("sql", "select 1 as a", "--format", "json").stdout)
    assert as_json == [{"a": 1}]


def test_status_runs_and_dag(seeded):
    seeded.cli("run", check=True)
    status = seeded.cli("status")
    assert "marts.fact" in status.stdout and "up to date" in status.stdout
    runs = seeded.cli("runs")
    assert runs.returncode == 0 and "success" in runs.stdout
    one = seeded.cli("runs", "1")
    assert "marts.fact" in one.stdout and "2024-01-05" in one.stdout
    dag = seeded.cli("dag")
    assert "marts.total" in dag.stdout and "<- marts.fact" in dag.stdout
    assert "raw.events  (external, not declared)" in dag.stdout
    dot = seeded.cli("dag", "--format", "dot")
    assert '"marts.fact" -> "marts.total"' in dot.stdout
    as_json = json.loads(seeded.cli("dag", "--json").stdout)
    assert [m["name"] for m in as_json["models"]] == ["marts.fact", "marts.total"]


def test_status_before_any_run(project):
    project.model("s.t", "select 1 as x")
    out = project.cli("status")
    assert out.returncode == 0
    assert "s.t" in out.stdout and "1 missing" in out.stdout
    runs = project.cli("runs")
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.startswith("no runs yet")
    assert not project.warehouse.exists()


def test_status_owner_suggests_close_names(project):
    project.model("s.t", "-- owner: finance\nselect 1 as x")
    out = project.cli("status", "--owner", "finanse")
    assert out.returncode == 2
    assert "no model has owner 'finanse' (did you mean: finance?)" in out.stderr
    ok = project.cli("status", "--owner", "finance")
    assert ok.returncode == 0 and "s.t" in ok.stdout


@pytest.mark.parametrize("query", ["select * from nope", "create table x(a int)", "selec 1"])
def test_sql_errors_are_one_line(seeded, query):
    out = seeded.cli("sql", query)
    assert out.returncode == 2
    assert out.stderr.startswith("error: query failed:")
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.fixture
def built(project):
    project.model("s.m", "select 1 as x")
    assert project.cli("run").returncode == 0
    return project


@pytest.mark.parametrize("query", ["", "   ", ";", "-- only a comment"])
def test_sql_with_nothing_to_run_says_so_in_one_line(built, query):
    out = built.cli("sql", query)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == "error: nothing to run: the query is empty"


def test_sql_may_begin_with_a_comment_and_take_options_after_it(built):
    out = built.cli("sql", "-- how many?\nselect count(*) as n from s.m", "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout) == [{"n": 1}]


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("copy (select 1) to '{out}'", "COPY"),
        ("export database '{out}'", "EXPORT"),
        ("attach '{out}' as other", "ATTACH"),
        ("select 1; copy (select 1) to '{out}'", "COPY"),
    ],
)
def test_sql_refuses_statements_that_write(built, tmp_path, query, kind):
    target = tmp_path / "written"
    out = built.cli("sql", query.format(out=target))
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (
        f"error: query failed: the sql command is read-only: {kind} statements are refused "
        "(use SELECT, or EXPLAIN a SELECT)"
    )
    assert not target.exists()


def test_runs_counts_waiting_and_blocked_tasks(project):
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        path = "data/events_{date}.csv"
        read_by_partition = true
        """,
    )
    project.write("data/events_2024-01-01.csv", "id,day\n1,2024-01-01\n")
    project.model(
        "s.ev",
        """
        -- kind: incremental
        -- partition_by: day
        -- start: 2024-01-01
        select id, day::date as day from raw.events
        where day >= {{ start }} and day < {{ end }}
        """,
    )
    out = project.cli("run", now="2024-01-03T06:00")
    assert out.returncode == 0, out.stdout + out.stderr
    listing = project.cli("runs")
    header, row = listing.stdout.splitlines()[0], listing.stdout.splitlines()[2]
    assert header.split() == [
        "run_id", "command", "status", "started", "seconds", "tasks", "ok", "failed",
        "skipped", "waiting", "blocked", "who", "env",
    ]  # fmt: skip
    values = dict(zip(header.split(), row.split()[:4] + row.split()[5:], strict=False))
    assert (values["ok"], values["waiting"], values["blocked"]) == ("1", "1", "0")


def test_compile_prints_the_sql_of_a_partition(seeded):
    before = seeded.files()
    out = seeded.cli("compile", "marts.fact", "--partition", "2024-01-05")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("-- marts.fact [2024-01-05] on duckdb\n")
    assert "where event_date >= DATE '2024-01-05' and event_date < DATE '2024-01-06'" in out.stdout
    missing = seeded.cli("compile", "marts.fcat")
    assert missing.returncode == 2
    assert "no model named 'marts.fcat' (did you mean: marts.fact" in missing.stderr
    assert seeded.files() == before


def test_dag_takes_json_or_dot_not_both(seeded):
    out = seeded.cli("dag", "--json", "--format", "dot")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --json and --format dot together: pick one"


def test_check_exits_1_when_published_data_fails_a_blocking_check(project):
    project.model("s.m", "select * from (values (1), (null)) t(x)")
    project.cli("run", check=True)
    project.model("s.m", "-- check: not_null(x)\nselect * from (values (1), (null)) t(x)")
    out = project.cli("check")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not_null(x)" in out.stdout


def test_sql_prints_csv_for_tools(seeded):
    seeded.cli("run", check=True)
    out = seeded.cli("sql", "select 1 as a, 'x,y' as b", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["a,b", '1,"x,y"']
