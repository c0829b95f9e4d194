"""app.diffing on a real warehouse: the diff of an environment finds exactly the rows a planted
change alters (by key and by whole rows, per partition), the columns it adds, removes or
retypes, the SQL diff against what production built, and what it rebuilds downstream."""

from __future__ import annotations

import pytest
from changes import STAGED, STAGED_DOUBLED, changes_project
from conftest import NOW

from orchestrator.app import building, diffing, environments
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import UsageError


@pytest.fixture
def built(project):
    changes_project(project)
    assert project.api_run().status == "success"
    return project


def env_ws(project, name="dev"):
    return environments.environment_workspace(open_workspace(project.root), name)


def build_env(project, name="dev"):
    result = building.run(env_ws(project, name), Selection(), command="run", at=NOW, threads=2)
    assert result.status == "success"


def by_model(found):
    return {d.model: d for d in found}


def test_a_planted_change_is_found_row_for_row(built):
    built.model("staging.events", STAGED_DOUBLED)
    build_env(built)
    found = by_model(diffing.diff(env_ws(built)))
    staged = found["staging.events"]
    assert staged.category == "breaking" and staged.copy == "staging__dev.events"
    # amounts 0..44 over 9 days, 5 a day: 0, 10, 20, 30, 40 are doubled (0 stays 0)
    data = staged.data
    assert data.key == ()  # no unique_key and no unique check: whole rows
    assert (data.total("only_env"), data.total("only_prod"), data.total("changed")) == (4, 4, 0)
    assert [p.partition for p in data.partitions if p.differs] == [
        "2024-01-03",
        "2024-01-05",
        "2024-01-07",
        "2024-01-09",
    ]
    columns, rows = data.samples["env"]
    assert columns == ("user_id", "event_date", "amount")
    assert sorted(r[2] for r in rows) == [20, 40, 60, 80]
    assert "-select user_id, event_date, amount from raw.events" in staged.sql_diff
    assert staged.downstream == (("marts.daily", 9), ("marts.users", 1))
    daily = found["marts.daily"]
    assert daily.category == "rebuilt" and daily.data.key == ("event_date",)
    assert (daily.data.total("changed"), daily.data.total("only_env")) == (4, 0)
    columns, rows = daily.data.samples["changed"]
    assert columns == ("event_date", "column", "production", "environment")
    assert {r[1] for r in rows} == {"amount"}  # events per day did not change
    assert sorted(after - before for _, _, before, after in rows) == [10, 20, 30, 40]


def test_a_unique_check_keys_the_comparison(built):
    built.model(
        "marts.users",
        "-- kind: table\n-- check: unique(user_id)\n"
        "select user_id, sum(amount) + case when user_id = 3 then 1 else 0 end as amount "
        "from staging.events where user_id <> 7 group by 1",
    )
    build_env(built)
    (users,) = diffing.diff(env_ws(built))
    assert users.data.key == ("user_id",)
    assert (users.data.total("changed"), users.data.total("only_prod")) == (1, 1)
    assert users.data.samples["prod"] == (("user_id", "amount"), [(7, 141)])
    assert users.data.samples["changed"][1] == [(3, "amount", 161, 162)]


def test_columns_added_removed_and_retyped(built):
    built.model(
        "marts.users",
        "-- kind: table\nselect user_id::varchar as user_id, count(*) as events "
        "from staging.events group by 1",
    )
    build_env(built)
    (users,) = diffing.diff(env_ws(built))
    assert {(c.column, c.change) for c in users.columns} == {
        ("events", "added"),
        ("amount", "removed"),
        ("user_id", "retyped"),
    }
    assert users.data.compared == ("user_id",)


def test_an_unchanged_result_is_identical(built):
    built.model("staging.events", STAGED.replace("select user_id,", "select  user_id ,  "))
    # the same query written differently parses to the same SQL: nothing differs
    assert dict(env_ws(built).env.copies) == {}
    same = "select user_id, event_date, amount + 0 as amount"
    built.model("staging.events", STAGED.replace("select user_id, event_date, amount", same))
    build_env(built)
    found = by_model(diffing.diff(env_ws(built), ["staging.events"]))
    assert found["staging.events"].data.identical


def test_diff_needs_an_environment_and_a_model_it_builds(built):
    with pytest.raises(UsageError, match="give --env NAME"):
        diffing.diff(open_workspace(built.root))
    built.model("staging.events", STAGED_DOUBLED)
    with pytest.raises(UsageError, match="builds none of marts.source_only"):
        diffing.diff(env_ws(built), ["marts.source_only"])
