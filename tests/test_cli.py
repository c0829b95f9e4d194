"""The real CLI in subprocesses: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import sys

import click
import pytest
from conftest import DAILY_SOURCE, NOW, broken_error

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select user_id, event_date, amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""


@pytest.fixture
def seeded(project):
    project.seed(DAILY_SOURCE)
    project.model("marts.fact", FACT)
    project.model("marts.total", "-- tags: report\nselect sum(amount) as total from marts.fact")
    return project


def test_run_then_nothing_to_do(seeded):
    first = seeded.cli("run")
    assert first.returncode == 0, first.stderr
    assert "marts.fact" in first.stdout and "9 partitions" in first.stdout
    assert "run 1 success" in first.stdout
    second = seeded.cli("run")
    assert second.returncode == 0
    assert "nothing to do" in second.stdout
    assert len(second.stdout.splitlines()) == 1


def test_plan_writes_nothing_and_explains(seeded):
    before = seeded.files()
    out = seeded.cli("plan")
    assert out.returncode == 0
    assert "marts.fact" in out.stdout and "missing" in out.stdout
    assert "2024-01-01..2024-01-09" in out.stdout
    assert seeded.files() == before
    plan = json.loads(seeded.cli("plan", "--json").stdout)
    assert {t["reason"] for t in plan["tasks"]} == {"missing"}
    assert len(plan["tasks"]) == 10


def test_failure_exit_code_is_1(seeded):
    seeded.model(
        "marts.fact", FACT.replace("amount from", "amount, error('x' || event_date) as boom from")
    )
    out = seeded.cli("run")
    assert out.returncode == 1
    assert "failed" in out.stdout and "skipped" in out.stdout


def test_backfill_is_idempotent_and_reports(seeded):
    seeded.cli("run", check=True)
    before = seeded.query("select * from marts.fact order by all")
    for _ in range(2):
        out = seeded.cli("backfill", "marts.fact", "--start", "2024-01-03", "--end", "2024-01-06")
        assert out.returncode == 0, out.stderr
        assert "3 partitions 2024-01-03..2024-01-05" in out.stdout
    assert seeded.query("select * from marts.fact order by all") == before
    tasks = seeded.query(
        "select run_id, count(*) from orchestrator.task_runs group by 1 order by 1"
    )
    assert tasks == [(1, 10), (2, 4), (3, 4)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "marts.fcat"], "no model matches 'marts.fcat' (did you mean: marts.fact"),
        (["run", "tag:reprot"], "did you mean: report"),
        (
            ["backfill", "fact", "--start", "2024-01-05", "--end", "2024-01-01"],
            "--end 2024-01-01 must be after --start 2024-01-05",
        ),
        (
            ["backfill", "fact", "--start", "yesterday", "--end", "2024-01-01"],
            "'yesterday' is not a date",
        ),
        (["run", "--var", "no_equals"], "--var expects NAME=VALUE"),
        (["run", "--var", "bad name=1"], "--var expects NAME=VALUE"),
        (["run", "--threads", "0"], "Invalid value for '--threads'"),
        (["run", "--no-such-flag"], "No such option '--no-such-flag'"),
        (["runs", "99"], "no run with id 99"),
        (
            ["backfill", "fact", "--start", "2023-01-01", "--end", "2023-02-01"],
            "[2023-01-01, 2023-02-01) is outside the partitions of the selected models, "
            "nothing would be rebuilt: marts.fact has start 2024-01-01",
        ),
        (["run", "--var", "a=b", "--var", "a=c"], "--var a given twice"),
        (["run", "--var", "v=\udcff"], "--var v: the value is not valid UTF-8 text"),
        (["--project", "/nonexistent/p", "status"], "project directory /nonexistent/p does not"),
        (["status", "--owner", "nobody"], "no model has owner 'nobody'"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_write_nothing(seeded, args, message):
    if args[0] == "runs":
        seeded.cli("run", check=True)
    before = seeded.files()
    out = seeded.cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""
    assert seeded.files() == before


@pytest.mark.parametrize(
    ("relpath", "text", "message"),
    [
        ("models/marts/cyc.sql", "select * from marts.cyc2", "dependency cycle"),
        ("models/marts/more/fact.sql", "select 1 as x", "model marts.fact is defined twice"),
    ],
)
def test_project_errors_exit_2_and_nothing_runs(seeded, relpath, text, message):
    seeded.cli("run", check=True)
    if "cyc" in relpath:
        seeded.write("models/marts/cyc2.sql", "select * from marts.cyc")
    seeded.write(relpath, text)
    before = seeded.files()
    for command in (["run"], ["plan"], ["dag"]):
        out = seeded.cli(*command)
        assert out.returncode == 2
        assert message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert seeded.files() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select a,\n  from where", "models/marts/bad.sql:"),
        ("-- kind: tabel\nselect 1", "models/marts/bad.sql:1: bad value"),
        ("drop table marts.fact", "not a DROP statement"),
    ],
)
def test_a_broken_model_is_held_back_and_the_rest_runs(seeded, text, message):
    """Issue 20, item 1: a model file that does not load is a broken model, not a broken
    project: `plan` and `run` show it (exit 1), nothing of it is written, the rest runs."""
    seeded.write("models/marts/bad.sql", text)
    assert message in broken_error(seeded.cli("plan"))
    run = seeded.cli("run")
    assert message in broken_error(run)
    assert "bad" not in {t for (t,) in seeded.query("select table_name from duckdb_tables()")}
    assert seeded.query("select count(*) from duckdb_tables() where schema_name <> 'orchestrator'")
    dag = seeded.cli("dag")
    assert dag.returncode == 0 and "marts.bad" in dag.stdout


def test_missing_var_is_a_usage_error(project):
    project.model("s.r", "select {{ var('region') }} as region")
    out = project.cli("run")
    assert out.returncode == 2
    assert "s.r uses var('region'): pass --var region=VALUE" in out.stderr
    assert not project.warehouse.exists()
    ok = project.cli("run", "--var", "region=eu'; drop table x; --")
    assert ok.returncode == 0
    assert project.query("select region from s.r") == [("eu'; drop table x; --",)]
    assert project.query("select vars from orchestrator.runs where status = 'success'") == [
        ('{"region": "eu\'; drop table x; --"}',)
    ]


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


def test_a_command_run_in_a_subfolder_finds_the_project(seeded):
    import subprocess
    import sys

    seeded.cli("run", check=True)
    inside = seeded.root / "models" / "marts"
    found = subprocess.run(
        [sys.executable, "-m", "orchestrator", "status"],
        cwd=inside,
        capture_output=True,
        text=True,
        env=seeded.environment(NOW, None),
    )
    assert found.returncode == 0, found.stderr
    assert "marts.fact" in found.stdout and "up to date" in found.stdout
    assert not (inside / "warehouse.duckdb").exists()


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


def test_init_creates_a_runnable_project(tmp_path):
    from conftest import ProjectDir

    project = ProjectDir(tmp_path / "new")
    out = project.cli("init", str(project.root))
    assert out.returncode == 0, out.stderr
    # it says what to run next, as a newcomer would type it
    assert f"cd {project.root}" in out.stdout and "orchestrator run" in out.stdout
    ignored = (project.root / ".gitignore").read_text().splitlines()
    assert {"*.duckdb", "*.duckdb.wal", "*.duckdb.lock", ".orchestrator/", "logs/"} <= set(ignored)
    toml = (project.root / "orchestrator.toml").read_text()
    assert '[sources."raw.orders"]' in toml and 'start = "2024-01-07"' in toml
    assert "owner: analytics" in (project.root / "models/staging/stg_orders.sql").read_text()
    # issue 10, item 24: init then run works out of the box, with a source, checks, an owner
    run = project.cli("run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert project.query("select count(distinct order_date), count(*) from staging.stg_orders") == [
        (3, 15)
    ]
    assert project.scalar("select count(*) from orchestrator.check_results") == 9
    status = project.cli("status")
    assert "up to date" in status.stdout and status.stderr == ""
    assert "nothing to do" in project.cli("plan").stdout


@pytest.mark.parametrize("query", ["select * from nope", "create table x(a int)", "selec 1"])
def test_sql_errors_are_one_line(seeded, query):
    out = seeded.cli("sql", query)
    assert out.returncode == 2
    assert out.stderr.startswith("error: query failed:")
    assert len(out.stderr.strip().splitlines()) == 1


def test_no_models_is_a_clear_error(tmp_path):
    from conftest import ProjectDir

    out = ProjectDir(tmp_path).cli("run")
    assert out.returncode == 2
    assert "no models: add SQL files under" in out.stderr


def test_incremental_model_without_start_says_only_backfill_builds_it(project):
    project.model(
        "m.a",
        """
        -- kind: incremental
        -- partition_by: d
        select date '2024-01-01' as d where d >= {{ start }} and d < {{ end }}
    """,
    )
    project.model("m.c", "select 1 as x")
    hint = "not built: m.a has no start: build it with orchestrator backfill m.a --start"
    plan = project.cli("plan")
    assert hint in plan.stdout and "up to date: m.a" not in plan.stdout
    project.cli("run", check=True)
    run = project.cli("run")
    assert hint in run.stdout
    assert "everything is up to date" not in run.stdout
    status = project.cli("status")
    assert "not built: no start, only backfill builds it" in status.stdout
    project.cli("backfill", "m.a", "--start", "2024-01-01", "--end", "2024-01-02", check=True)
    assert "not built" not in project.cli("plan").stdout


@pytest.mark.parametrize("command", [["status"], ["runs"], ["runs", "1"], ["plan"]])
def test_a_named_warehouse_that_does_not_exist_is_an_error_not_an_empty_state(project, command):
    project.model("s.m", "select 1 as x")
    typo = project.root / "typo.duckdb"
    before = project.files()
    out = project.cli("--warehouse", str(typo), *command)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [
        f"error: no warehouse at {typo}: check --warehouse (or ORCHESTRATOR_WAREHOUSE); "
        "`orchestrator run` creates one"
    ]
    assert not typo.exists() and project.files() == before
    # the same through the environment
    out = project.cli(*command, env={"ORCHESTRATOR_WAREHOUSE": str(typo)})
    assert out.returncode == 2 and "no warehouse at" in out.stderr


def test_the_projects_own_warehouse_may_not_exist_yet(project):
    project.model("s.m", "select 1 as x")
    assert project.cli("status").returncode == 0
    assert project.cli("runs").returncode == 0
    assert project.cli("plan").returncode == 0


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
        "skipped", "waiting", "blocked", "who",
    ]  # fmt: skip
    values = dict(zip(header.split(), row.split()[:4] + row.split()[5:], strict=False))
    assert (values["ok"], values["waiting"], values["blocked"]) == ("1", "1", "0")


def test_listings_do_not_depend_on_the_hash_seed(project):
    # independent models and sources: their order used to follow set iteration
    names = ("a", "b", "c", "d", "e", "f")
    for name in names:
        project.model(f"staging.{name}", f"select 1 as x from raw.src_{name}")
    # one reader of them all: graphlib learns its inputs from a set
    project.model("marts.all", " union all ".join(f"select x from staging.{n}" for n in names))
    project.seed(
        "create schema raw; "
        + " ".join(f"create table raw.src_{n} as select 1 as x;" for n in "abcdef")
    )
    commands = [["dag"], ["dag", "--format", "dot"], ["dag", "--format", "json"], ["plan"]]
    commands += [["status"], ["status", "-p"]]
    for command in commands:
        outputs = {
            project.cli(*command, env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "6", "11")
        }
        assert len(outputs) == 1, command


BACKFILLED = """
-- kind: incremental
-- partition_by: day
-- start: 2024-01-01
select day, 1 as n from (select unnest(generate_series(date '2024-01-01', date '2024-01-09',
    interval 1 day))::date as day) where day >= {{ start }} and day < {{ end }}
"""


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "2024-01-05T10:00",
            "2024-01-06",
            "backfill: --start 2024-01-05 10:00 is not at the start of a day, where the "
            "selected models' partitions begin: use 2024-01-05",
        ),
        (
            "2024-01-05",
            "2024-01-06T06:00",
            "backfill: --end 2024-01-06 06:00 is not at the start of a day, where the "
            "selected models' partitions begin: use 2024-01-06",
        ),
        (
            "2024-02-01",
            "2024-02-05",
            "backfill: [2024-02-01, 2024-02-05) is in the future (now is 2024-01-10 12:00): "
            "there is nothing to build yet",
        ),
    ],
)
def test_backfill_points_must_name_whole_partitions_that_can_exist(project, start, end, message):
    project.model("s.daily", BACKFILLED)
    out = project.cli("backfill", "s.daily", "--start", start, "--end", end)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == f"error: {message}"
    assert not project.warehouse.exists()  # nothing was written


def test_a_point_on_the_finest_selected_grain_is_accepted(project):
    project.model("s.daily", BACKFILLED)
    project.model("s.hourly", BACKFILLED.replace("-- start", "-- grain: hour\n-- start"))
    out = project.cli(
        "backfill", "s.daily", "s.hourly", "--start", "2024-01-05T10:00", "--end", "2024-01-06"
    )
    assert out.returncode == 0, out.stdout + out.stderr
    out = project.cli("backfill", "s.hourly", "--start", "2024-01-05T10:30", "--end", "2024-01-06")
    assert out.returncode == 2 and "is not at the start of an hour" in out.stderr


@pytest.fixture
def layered(project):
    """staging.a -> staging.b -> marts.c -> marts.d, and marts.lonely; a and c tagged daily."""
    project.model("staging.a", "-- tags: daily\nselect 1 as x")
    project.model("staging.b", "select * from staging.a")
    project.model("marts.c", "-- tags: daily\nselect * from staging.b")
    project.model("marts.d", "select * from marts.c")
    project.model("marts.lonely", "-- tags: daily\nselect 2 as y")
    return project


def _dag_names(project, *args: str) -> list[str]:
    out = project.cli("dag", "--format", "json", *args)
    assert out.returncode == 0, out.stderr
    return [m["name"] for m in json.loads(out.stdout)["models"]]


def test_select_option_and_dbt_operators(layered):
    assert _dag_names(layered, "-s", "1+marts.c") == ["staging.b", "marts.c"]
    assert _dag_names(layered, "--select", "staging.a+2") == ["staging.a", "staging.b", "marts.c"]
    assert _dag_names(layered, "-s", "@staging.b") == [
        "staging.a",
        "staging.b",
        "marts.c",
        "marts.d",
    ]
    assert _dag_names(layered, "-s", "tag:daily,marts.*") == ["marts.lonely", "marts.c"]
    # positional and -s together are a union; one -s may hold several space-separated words
    assert sorted(_dag_names(layered, "lonely", "-s", "staging.a marts.d")) == [
        "marts.d",
        "marts.lonely",
        "staging.a",
    ]
    plan = layered.cli("plan", "-s", "tag:daily,marts.*", "--json")
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)  # marts.c waits for its upstream, not selected
    assert [t["model"] for t in planned["tasks"]] == ["marts.lonely"]
    assert [h["model"] for h in planned["held"]] == ["marts.c"]
    plan = layered.cli("plan", "-s", "+marts.c", "--exclude", "tag:daily,schema:staging", "--json")
    held = json.loads(plan.stdout)["held"]  # staging.a is excluded, so its readers wait
    assert sorted(h["model"] for h in held) == ["marts.c", "staging.b"]
    run = layered.cli("run", "-s", "2+marts.c", "-s", "lonely")
    assert run.returncode == 0, run.stderr
    status = layered.cli("status", "-s", "marts.lonely,tag:daily")
    assert status.returncode == 0 and "marts.lonely" in status.stdout
    assert "marts.c" not in status.stdout
    check = layered.cli("check", "--select", "staging.*")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "-s", "tag:daily,staging.b"], "selector 'tag:daily,staging.b' matches no model"),
        (["run", "-s", "@+marts.c"], "'@' already takes the ancestors"),
        (["dag", "-s", "marts.cc"], "no model matches 'marts.cc' (did you mean: marts.c"),
        (["status", "-s", "tags:daily"], "unknown selector method 'tags:' (did you mean: tag?)"),
        (["backfill", "--start", "2024-01-01", "--end", "2024-01-02"], "backfill needs selectors"),
    ],
)
def test_bad_select_options_exit_2_in_one_line(layered, args, message):
    before = layered.files()
    out = layered.cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert layered.files() == before


def test_project_and_warehouse_are_accepted_after_the_command(project, tmp_path):
    """Issue 10, item 19: as people type them; given after the command, they win."""
    project.model("s.m", "select 1 as x")
    elsewhere = tmp_path / "other.duckdb"
    out = project.cli("run", "--warehouse", str(elsewhere))
    assert out.returncode == 0, out.stderr
    assert elsewhere.exists() and not project.warehouse.exists()
    from subprocess import run as run_process

    done = run_process(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "status",
            "-C",
            str(project.root),
            "--warehouse",
            str(elsewhere),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "s.m" in done.stdout and "up to date" in done.stdout
    # the one after the command wins over the one before it
    out = project.cli(
        "--warehouse", str(tmp_path / "typo.duckdb"), "runs", "--warehouse", str(elsewhere)
    )
    assert out.returncode == 0 and "run" in out.stdout
    out = project.cli("status", "-C", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == f"error: the project directory {tmp_path / 'nowhere'} does not exist"
    )


def test_every_option_of_every_command_says_what_it_does():
    from orchestrator.cli import cli

    missing = [
        (name, p.opts)
        for name, command in cli.commands.items()
        for p in command.params
        if isinstance(p, click.Option) and not p.help
    ]
    assert missing == [] and all(c.help for c in cli.commands.values())
    for name in ("retry", "schedule", "prune"):  # no selectors: nothing to place --wait after
        wait = next(p for p in cli.commands[name].params if p.name == "wait")
        assert "selectors" not in wait.help


def test_json_output_of_status_runs_plan_freshness_and_check(seeded):
    """Issue 10, item 20: stable shapes, read with json.loads, times ISO 8601 UTC."""
    seeded.model("marts.fact", FACT.replace("select", "-- check: not_null(amount)\nselect", 1))
    seeded.write(
        "orchestrator.toml",
        """
        [sources."raw.events"]
        """,
    )
    plan = json.loads(seeded.cli("plan", "--json").stdout)
    assert plan["version"] == 1 and plan["as_of"] == "2024-01-10T12:00:00Z"
    assert plan["tasks"][0]["reason"] == "missing" and plan["held"] == []
    assert seeded.cli("run").returncode == 0

    status = json.loads(seeded.cli("status", "--json").stdout)
    assert status["version"] == 1 and status["as_of"] == "2024-01-10T12:00:00Z"
    fact = next(m for m in status["models"] if m["model"] == "marts.fact")
    assert fact == {
        "model": "marts.fact",
        "kind": "incremental",
        "owner": None,
        "partitioned": True,
        "built": 9,
        "rows": fact["rows"],
        "last_built": fact["last_built"],
        "last_run": 1,
        "state": "up to date",
        "remedy": None,
    }
    assert fact["last_built"].startswith("2024-01-10T12:") and fact["last_built"].endswith("Z")
    assert isinstance(fact["rows"], int)
    parts = json.loads(seeded.cli("status", "--partitions", "--json").stdout)["partitions"]
    assert parts[0]["partition"] == "2024-01-01" and parts[0]["built_at"].endswith("Z")

    runs = json.loads(seeded.cli("runs", "--json").stdout)
    assert [r["run_id"] for r in runs["runs"]] == [1]
    assert runs["runs"][0]["started"].startswith("2024-01-10T12:00:")
    detail = json.loads(seeded.cli("runs", "1", "--json").stdout)
    assert detail["run"]["command"] == "run" and detail["run"]["vars"] == {}
    assert {t["status"] for t in detail["tasks"]} == {"success"}

    check = seeded.cli("check", "--json")
    assert check.returncode == 0
    results = json.loads(check.stdout)["results"]
    assert {(r["model"], r["check"], r["status"]) for r in results} == {
        ("marts.fact", "not_null(amount)", "pass")
    }

    fresh = seeded.cli("freshness", "--json")
    assert fresh.returncode == 0, fresh.stderr
    [source] = json.loads(fresh.stdout)["sources"]
    assert source["source"] == "raw.events" and source["checked_at"] == "2024-01-10T12:00:00Z"
    assert set(source) == {
        "source",
        "status",
        "latest_loaded_at",
        "lag_seconds",
        "detail",
        "checked_at",
    }


def test_the_list_of_commands_reads_whole_sentences():
    from orchestrator.cli import cli

    listed = {name: command.get_short_help_str(200) for name, command in cli.commands.items()}
    assert all(text.endswith(".") and "..." not in text for text in listed.values()), listed
