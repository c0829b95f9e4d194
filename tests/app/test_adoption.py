"""`orchestrator adopt` on a warehouse another tool built: relations that are what the models
build are recorded (per partition, after their blocking checks) and the next run rebuilds
nothing of them; a relation that differs, a partition with no rows and a failing check are
listed and left for the next run; adopting writes no data."""

from __future__ import annotations

import pytest
from conftest import DAILY_SOURCE, NOW

from orchestrator.app.adoption import Facts, choose
from orchestrator.app.workspace import open_workspace

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, sum(amount) as amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""

TOTAL = """
-- kind: table
-- check: not_null(amount)
select sum(amount) as amount from marts.daily
"""

BUILT_BY_DBT = """
create schema if not exists marts;
create table marts.daily as
  select event_date, sum(amount) as amount from raw.events
  where event_date < date '{until}' group by 1;
create table marts.total as select {total} as amount from marts.daily;
"""


@pytest.fixture
def dbt_built(project):
    project.seed(DAILY_SOURCE)
    project.model("marts.daily", DAILY)
    project.model("marts.total", TOTAL)
    return project


def built(project, until="2024-01-10", total="sum(amount)"):
    project.seed(BUILT_BY_DBT.format(until=until, total=total))


def test_adopt_records_what_is_right_and_the_next_run_builds_nothing(dbt_built):
    built(dbt_built, total="999::HUGEINT")  # a value no build of ours would write
    adopted = dbt_built.cli("adopt")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "not adopted" not in adopted.stdout
    assert adopted.stdout.splitlines()[-1].startswith("adopt 1: 10 adopted")
    days = dbt_built.query(
        "select partition_key from orchestrator.partitions where model = 'marts.daily' order by 1"
    )
    assert [d for (d,) in days] == [f"2024-01-0{i}" for i in range(1, 10)]
    assert dbt_built.scalar("select command from orchestrator.runs") == "adopt"
    # nothing was written: the value there is still the one dbt left
    assert dbt_built.scalar("select amount from marts.total") == 999
    again = dbt_built.api_run()
    assert again.outcomes == ()
    assert dbt_built.scalar("select amount from marts.total") == 999


def test_a_relation_whose_columns_differ_is_listed_and_rebuilt(dbt_built):
    built(dbt_built, total="cast(sum(amount) as VARCHAR)")
    adopted = dbt_built.cli("adopt")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    line = next(x for x in adopted.stdout.splitlines() if "not adopted" in x)
    assert "marts.total" in line and "amount VARCHAR there, HUGEINT here" in line
    assert "`orchestrator run` builds the other 1 model(s)" in adopted.stdout
    result = dbt_built.api_run()
    assert {o.task.model for o in result.outcomes} == {"marts.total"}
    assert dbt_built.query("describe marts.total")[0][1] == "HUGEINT"


def test_partitions_without_rows_are_built_by_the_next_run_and_so_is_what_reads_them(dbt_built):
    built(dbt_built, until="2024-01-06")  # dbt built five days of nine
    adopted = dbt_built.cli("adopt")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "marts.daily  4 partitions with no rows there" in adopted.stdout
    assert (
        dbt_built.scalar("select count(*) from orchestrator.partitions where model = 'marts.daily'")
        == 5
    )
    assert not dbt_built.query("select * from orchestrator.partitions where model = 'marts.total'")
    result = dbt_built.api_run()
    keys = sorted((o.task.model, u.key) for o in result.outcomes for u in o.task.units)
    assert keys[-1][0] == "marts.total"
    assert [k for m, k in keys if m == "marts.daily"] == [f"2024-01-0{i}" for i in range(6, 10)]
    assert dbt_built.scalar("select count(*) from marts.daily") == 9


def test_a_failing_blocking_check_is_not_adopted(dbt_built):
    built(dbt_built, total="null::HUGEINT")
    adopted = dbt_built.cli("adopt")
    assert adopted.returncode != 0
    assert "1 failing their checks" in adopted.stdout
    assert dbt_built.query(
        "select status from orchestrator.partitions where model = 'marts.total'"
    ) == [("check_failed",)]
    result = dbt_built.api_run()
    assert {o.task.model for o in result.outcomes} == {"marts.total"}
    assert dbt_built.scalar("select amount from marts.total") == 45 * 44 // 2


def test_adopt_writes_nothing_when_the_warehouse_holds_nothing(dbt_built):
    adopted = dbt_built.cli("adopt")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "not adopted: not in the warehouse" in adopted.stdout
    assert not dbt_built.query(
        "select * from information_schema.tables where table_schema = 'marts'"
    )


def test_choose_adopts_nothing_that_reads_what_is_rebuilt(dbt_built):
    from orchestrator.app import api
    from orchestrator.app.workspace import Selection

    ws = open_workspace(dbt_built.root)
    plan = api.plan(ws, Selection(), at=NOW)
    columns = {"marts.daily": [("event_date", "DATE"), ("amount", "HUGEINT")]}
    facts = Facts(
        relations={"marts.daily": "table", "marts.total": "table"},
        columns={**columns, "marts.total": [("amount", "HUGEINT")]},
        expected={**columns, "marts.total": [("amount", "HUGEINT")]},
        filled=frozenset({("marts.daily", "2024-01-01")}),
    )
    chosen = choose(plan, ws.dag, facts)
    assert [(t.model, t.units[0].key) for t in chosen.plan.tasks] == [("marts.daily", "2024-01-01")]
    assert len(chosen.empty) == 8
    view = Facts({"marts.daily": "view"}, {}, {})
    assert choose(plan, ws.dag, view).differing[0] == (
        "marts.daily",
        "a view there, a table in this project",
    )


def test_import_dbt_names_dbt_s_warehouse_and_adopt_keeps_what_dbt_built(tmp_path):
    pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")
    from conftest import ProjectDir

    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: a\nprofile: a\nmodels:\n  a:\n    +materialized: table\n")
    dbt.write(
        "profiles.yml",
        "a:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: built.duckdb\n",
    )
    dbt.write("seeds/people.csv", "id,name\n1,ann\n2,bob\n")
    dbt.write("models/names.sql", "select id, upper(name) as name from {{ ref('people') }}")
    built = ProjectDir(dbt.root)
    built.warehouse = dbt.root / "built.duckdb"
    built.seed(
        "create table people as select * from (values (1, 'ann'), (2, 'bob')) t(id, name);"
        "create table names as select id, upper(name) as name from people;"
    )
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 0, done.stdout + done.stderr
    hint = f"orchestrator adopt --warehouse {built.warehouse}"
    assert hint in done.stdout
    assert hint in (ours.root / "orchestrator.toml").read_text()
    adopted = ours.cli("adopt", "--warehouse", str(built.warehouse))
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "not adopted" not in adopted.stdout, adopted.stdout
    again = ours.cli("run", "--warehouse", str(built.warehouse))
    assert "nothing to do" in again.stdout, again.stdout
