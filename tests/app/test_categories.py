"""app.categories with the planner and a real warehouse: a non-breaking change rebuilds the
model and not its readers (whose data stays), a breaking one rebuilds both, a forward-only one
rebuilds nothing and new partitions take the new SQL; in an environment the same decides what is
copied, and a promoted non-breaking change leaves production's readers current."""

from __future__ import annotations

from datetime import datetime

import pytest
from changes import STAGED, changes_project
from conftest import NOW

from orchestrator.app import building, diffing, environments, promotion
from orchestrator.app.workspace import Selection, open_workspace

ADDED = STAGED.replace(
    "select user_id, event_date, amount", "select user_id, event_date, amount, amount > 20 as big"
)
WITH_NOTE = STAGED.replace(
    "select user_id, event_date, amount", "select user_id, event_date, amount, 'a' as note"
)


@pytest.fixture
def built(project):
    changes_project(project)
    assert project.api_run().status == "success"
    return project


def planned(project, at=NOW):
    return {(t.model, t.why) for t in project.api_plan(at=at).tasks}


def models_of(project, at=NOW):
    return {t.model for t in project.api_plan(at=at).tasks}


def test_adding_a_column_rebuilds_the_model_and_not_its_readers(built):
    daily = built.query("select * from marts.daily order by all")
    built.model("staging.events", ADDED)
    reasons = {why for _, why in planned(built)}
    assert models_of(built) == {"staging.events"}
    assert reasons == {"stale: model changed (non-breaking: adds big; its readers keep their data)"}
    assert built.api_run().status == "success"
    assert built.scalar("select count(*) from staging.events where big") > 0
    assert built.api_plan().tasks == ()  # the readers are current: nothing left to do
    assert built.query("select * from marts.daily order by all") == daily


def test_changing_a_column_no_reader_reads_is_non_breaking(built):
    built.model("staging.events", WITH_NOTE)
    assert built.api_run().status == "success"  # a breaking change: everything rebuilt
    built.model("staging.events", WITH_NOTE.replace("'a' as note", "'b' as note"))
    (why,) = {why for _, why in planned(built)}
    assert "non-breaking: changes note, which no reader reads" in why
    assert models_of(built) == {"staging.events"}


def test_changing_a_column_a_reader_reads_is_breaking(built):
    built.model("staging.events", STAGED.replace("amount from", "amount * 2 as amount from"))
    assert models_of(built) == {"staging.events", "marts.daily", "marts.users"}
    reasons = {why for m, why in planned(built) if m == "staging.events"}
    assert reasons == {"stale: model changed (breaking: changes amount; marts.daily reads amount)"}


def test_a_filter_is_breaking(built):
    built.model(
        "staging.events", STAGED.replace("where event_date", "where amount > 3 and event_date")
    )
    assert "breaking: which rows it holds may change" in " ".join(w for _, w in planned(built))
    assert models_of(built) == {"staging.events", "marts.daily", "marts.users"}


def test_a_forward_only_change_keeps_history_and_builds_new_partitions_with_it(built):
    built.seed(
        "insert into raw.events select 1, date '2024-01-10', 100 union all "
        "select 2, date '2024-01-10', 200"
    )
    changed = STAGED.replace("-- start: 2024-01-01", "-- start: 2024-01-01\n-- forward_only: true")
    built.model("staging.events", changed.replace("amount from", "amount * 10 as amount from"))
    assert built.api_plan().tasks == ()
    assert built.api_plan().forward_only == (("staging.events", 9),)
    later = datetime(2024, 1, 11, 12, 0)  # 2024-01-10 is over: its partition is built now
    result = built.api_run(at=later)
    assert {(o.task.model, o.task.key) for o in result.outcomes} >= {
        ("staging.events", "2024-01-10")
    }
    rows = built.query(
        "select event_date::varchar, sum(amount) from staging.events group by 1 order by 1"
    )
    assert rows[0] == ("2024-01-01", 10)  # history as it was built
    assert rows[-1] == ("2024-01-10", 3000)  # the new partition with the new SQL
    plan_text = built.cli("plan", now=later).stdout
    assert "forward-only: staging.events keeps 9 partitions built by an older version" in plan_text


def test_in_an_environment_a_non_breaking_change_copies_the_model_only(built):
    built.model("staging.events", ADDED)
    ws = environments.environment_workspace(open_workspace(built.root), "dev")
    assert set(ws.env.copies) == {"staging.events"}
    assert building.run(ws, Selection(), command="run", at=NOW, threads=2).status == "success"
    (found,) = diffing.diff(ws)
    assert found.category == "non-breaking" and found.downstream == ()
    promotion.promote(open_workspace(built.root), "dev", at=NOW)
    assert built.api_plan().tasks == ()  # production's readers stay current
    assert built.scalar("select count(*) from staging.events where big") > 0


def test_in_an_environment_a_forward_only_change_is_left_to_production(built):
    changed = STAGED.replace("-- start: 2024-01-01", "-- start: 2024-01-01\n-- forward_only: true")
    built.model("staging.events", changed.replace("amount from", "amount * 10 as amount from"))
    ws = environments.environment_workspace(open_workspace(built.root), "dev")
    assert dict(ws.env.copies) == {}
    assert ws.env.left["staging.events"].startswith("forward-only")
    (found,) = diffing.diff(ws)
    assert found.category == "forward-only" and found.data is None and found.sql_diff


def test_a_changed_star_is_breaking(built):
    built.model("marts.users", "-- kind: table\nselect * from staging.events")
    assert built.api_run().status == "success"
    built.model(
        "marts.users", "-- kind: table\nselect * replace (amount * 2 as amount) from staging.events"
    )
    (why,) = {w for m, w in planned(built) if m == "marts.users"}
    assert "breaking: its * changed" in why


def test_a_seed_whose_file_changed_is_breaking(built):
    built.write("seeds/ref/codes.csv", "code,name\n1,a\n")
    built.model("marts.named", "-- kind: table\nselect * from ref.codes")
    assert built.api_run().status == "success"
    built.write("seeds/ref/codes.csv", "code,name\n1,b\n")
    assert models_of(built) == {"ref.codes", "marts.named"}
