"""How an incremental table follows its query's columns (`execution.columns`): new columns are
added, a changed type is refused before anything is written (or by the task's own guard when
only the run can see it), and `plan` binds the SQL it would run."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import DAILY_SOURCE, NOW
from hand_plans import run_plan, task

from orchestrator import state
from orchestrator.core.errors import ProjectError
from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import Action, Plan, Reason, Request, Task
from orchestrator.engines import engine
from orchestrator.execution.columns import column_change, refuse_changed_types, refuse_unbound
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

COPY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select {columns} from raw.events where event_date >= {{{{ start }}}} and event_date < {{{{ end }}}}
"""


def dump(project, table: str) -> list[tuple]:
    return project.query(f"select * from {table} order by all")


@pytest.fixture
def copied(project):
    """s.c: a daily copy of raw.events whose first day is built."""
    project.seed(DAILY_SOURCE)
    project.model("s.c", COPY.format(columns="user_id, event_date, amount"))
    run_plan(project, [task(1, "s.c", key="2024-01-01")])
    return project


def one_task_plan(name: str, key: str | None = None) -> Plan:
    window = window_for_key(key, Grain.DAY) if key else None
    task_ = Task(0, name, window, Reason.MISSING)
    return Plan((task_,), (), (name,), Request(frozenset({name}), NOW))


@pytest.fixture
def warehouse(copied):
    con = engine.connect(copied.warehouse)
    yield con
    con.close()


def test_a_new_column_is_added_and_a_changed_type_is_refused(copied, warehouse):
    model = loader.load(copied.root, strict=True).models["s.c"]
    added = "select user_id, event_date, amount, 1 as extra from raw.events"
    assert column_change(warehouse, model, added) == (
        ['ALTER TABLE "s"."c" ADD COLUMN "extra" INTEGER'],
        None,
    )
    retyped = "select user_id, event_date, amount::varchar as amount from raw.events"
    assert column_change(warehouse, model, retyped) == (
        [],
        "column type changed (amount BIGINT -> VARCHAR): older partitions hold the old type. "
        "Rebuild the table: orchestrator run --full-refresh s.c",
    )


def test_a_changed_type_is_refused_before_the_run_naming_the_file(copied, warehouse):
    copied.model("s.c", COPY.format(columns="user_id, event_date, amount::varchar as amount"))
    dag = dag_mod.build(loader.load(copied.root, strict=True))
    snapshot = state.snapshot(warehouse)
    with pytest.raises(ProjectError) as err:
        refuse_changed_types(one_task_plan("s.c", "2024-01-02"), dag, warehouse, snapshot, {})
    assert err.value.path == "models/s/c.sql"
    assert str(err.value).endswith("--full-refresh s.c (nothing was written)")
    # a rebuild aside is free to change it
    shadow = Task(
        0, "s.c", window_for_key("2024-01-02", Grain.DAY), Reason.MODEL_CHANGED, Action.SHADOW
    )
    aside = Plan((shadow,), (), ("s.c",), Request(frozenset({"s.c"}), NOW))
    refuse_changed_types(aside, dag, warehouse, snapshot, {})


def test_a_column_nothing_read_has_is_named_with_its_line(copied, warehouse):
    copied.model("s.u", "select 1 as a,\n  nope from raw.events")
    dag = dag_mod.build(loader.load(copied.root, strict=True))
    with pytest.raises(ProjectError) as err:
        refuse_unbound(one_task_plan("s.u"), dag, warehouse, {})
    assert (err.value.path, err.value.line) == ("models/s/u.sql", 2)
    assert 'Referenced column "nope" not found' in str(err.value)
    assert str(err.value).endswith("(plan binds the SQL it would run; nothing was written)")


def test_what_cannot_be_bound_yet_is_left_to_the_run(copied, warehouse):
    copied.model("s.base", "select 1 as x")  # a model this run would build first
    copied.model("s.later", "select x from s.base")
    dag = dag_mod.build(loader.load(copied.root, strict=True))
    refuse_unbound(one_task_plan("s.later"), dag, warehouse, {})  # no error: the run says it


def test_upstream_column_changes_are_followed_or_refused(project):
    project.seed(DAILY_SOURCE)
    project.model(
        "marts.copy",
        """
        -- kind: incremental
        -- partition_by: event_date
        -- start: 2024-01-01
        select * from raw.events where event_date >= {{ start }} and event_date < {{ end }}
    """,
    )
    project.api_run()
    # the source gains a column: new partitions carry it, older ones read NULL
    project.seed("alter table raw.events add column note varchar default 'x'")
    assert project.api_run(backfill=(datetime(2024, 1, 9), datetime(2024, 1, 10))).exit_code == 0
    assert project.query("select count(*), count(note) from marts.copy") == [(45, 5)]
    # the source changes a column's type: refused before the run starts (exit 2), naming the
    # file, the column and the command that rebuilds; nothing is written
    project.seed("alter table raw.events alter amount type varchar")
    files = project.files()
    out = project.cli("backfill", "marts.copy", "--start", "2024-01-09", "--end", "2024-01-10")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: models/marts/copy.sql: ")
    assert "amount BIGINT -> VARCHAR" in lines[0]
    assert "orchestrator run --full-refresh marts.copy" in lines[0]
    assert project.files() == files
    dry = project.cli(
        "backfill", "marts.copy", "--start", "2024-01-09", "--end", "2024-01-10", "--dry-run"
    )
    assert dry.returncode == 2 and "amount BIGINT -> VARCHAR" in dry.stderr  # as run would
    # the command it names rebuilds the table with the new type
    assert project.cli("run", "--full-refresh", "marts.copy").returncode == 0
    assert project.scalar("select typeof(amount) from marts.copy limit 1") == "VARCHAR"


def test_a_type_change_seen_only_while_running_fails_the_task(project):
    """The check before the run describes queries against the tables as they are; an upstream
    that the same run rebuilds with another type is caught by the task's own guard."""
    project.seed(DAILY_SOURCE)
    project.model("marts.base", "select * from raw.events")
    project.model(
        "marts.copy",
        """
        -- kind: incremental
        -- partition_by: event_date
        -- start: 2024-01-01
        select * from marts.base where event_date >= {{ start }} and event_date < {{ end }}
    """,
    )
    project.api_run()
    before = dump(project, "marts.copy")
    project.model("marts.base", "select * replace (amount::varchar as amount) from raw.events")
    result = project.api_run()
    assert result.exit_code == 1
    failed = [o for o in result.outcomes if o.model == "marts.copy"]
    assert failed and {o.status for o in failed} == {"failed"}
    assert "amount BIGINT -> VARCHAR" in failed[0].error
    assert "orchestrator run --full-refresh marts.copy" in failed[0].error
    assert dump(project, "marts.copy") == before
