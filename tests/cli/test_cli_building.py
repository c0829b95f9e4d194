"""The building commands (cli.building: plan, run, backfill, retry) through the real CLI in
subprocesses: what they print, their exit codes, and nothing written on bad input."""

from __future__ import annotations

import json

import pytest
import seeded_projects
from conftest import broken_error
from seeded_projects import FACT

seeded = seeded_projects.seeded  # the fixture: a daily fact and a total


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


def test_a_job_runs_its_own_selection_and_takes_no_other(project):
    project.write("orchestrator.toml", '[jobs.nightly]\ncron = "0 6 * * *"\nselect = "s.a"\n')
    project.model("s.a", "select 1 as x")
    out = project.cli("run", "--job", "nightly", "s.a")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "--job runs the job's own selection and vars" in out.stderr
    assert not project.warehouse.exists()


def test_retry_before_any_run_says_so(project):
    project.model("s.a", "select 1 as x")
    out = project.cli("retry")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: no run to retry yet"


def test_a_retry_dry_run_names_the_run_and_writes_nothing(seeded):
    seeded.model("marts.total", "select no_such_column from marts.fact")
    assert seeded.cli("run").returncode == 1
    seeded.model("marts.total", "select sum(amount) as total from marts.fact")
    before = seeded.files()
    out = seeded.cli("retry", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("retry of run 1, without writing anything:\n")
    assert "marts.total" in out.stdout and "marts.fact" not in out.stdout
    assert seeded.files() == before
    retried = seeded.cli("retry")
    assert retried.returncode == 0 and "run 2 success" in retried.stdout
