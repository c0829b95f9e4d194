"""app.environments on a real warehouse: an environment builds the changed model and what
reads it into its own relations, reads the rest from production in place, leaves production's
tables and state as they were, gates with checks as production does, and is listed and
dropped."""

from __future__ import annotations

import pytest
from changes import STAGED_DOUBLED, changes_project, production_state
from conftest import NOW

from orchestrator.app import building, environments
from orchestrator.app.views import status
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import UsageError


@pytest.fixture
def built(project):
    changes_project(project)
    assert project.api_run().status == "success"
    return project


def env_ws(project, name="dev"):
    return environments.environment_workspace(open_workspace(project.root), name)


def env_run(project, name="dev", *selectors):
    return building.run(
        env_ws(project, name), Selection(tuple(selectors)), command="run", at=NOW, threads=2
    )


def test_nothing_differs_right_after_production_built(built):
    ws = env_ws(built)
    assert dict(ws.env.copies) == {}
    assert building.plan(ws, Selection(), at=NOW).empty  # nothing to do, not an error
    with pytest.raises(UsageError, match="nothing to build in environment 'dev' for marts.users"):
        building.plan(ws, Selection(("marts.users",)), at=NOW)


def test_an_edit_builds_the_model_and_its_readers_and_leaves_production_as_it_was(built):
    before = production_state(built)
    built.model("staging.events", STAGED_DOUBLED)
    ws = env_ws(built)
    assert ws.env.reasons == {
        "staging.events": "changed: changes amount; marts.daily reads amount",
        "marts.daily": "reads staging.events",
        "marts.users": "reads staging.events",
    }
    assert ws.env.categories == {"staging.events": "breaking"}
    result = building.run(ws, Selection(), command="run", at=NOW, threads=2)
    assert result.status == "success"
    assert {o.task.model for o in result.outcomes} == {
        "staging__dev.events",
        "marts__dev.daily",
        "marts__dev.users",
    }
    assert production_state(built) == before
    # the copies hold the change; production does not
    assert built.scalar("select sum(amount) from staging__dev.events") == 990 + 100
    assert built.scalar("select sum(amount) from staging.events") == 990
    assert built.scalar("select sum(amount) from marts__dev.users") == 1090
    # the run says which environment it built; its rows name the copies
    assert built.query("select env from orchestrator.runs order by run_id") == [(None,), ("dev",)]
    assert (
        built.scalar(
            "select count(*) from orchestrator.partitions where model = 'staging__dev.events'"
        )
        == 9
    )
    # a second run in the environment has nothing to do
    assert env_run(built).outcomes == ()


def test_an_unchanged_upstream_is_read_from_production_in_place(built):
    built.model(
        "marts.users",
        "-- kind: table\nselect user_id, max(amount) as amount from staging.events group by 1",
    )
    ws = env_ws(built)
    assert set(ws.env.copies) == {"marts.users"}
    assert env_run(built).status == "success"
    # no copy of staging.events: the copy read production's table
    assert built.query(
        "select count(*) from information_schema.tables where table_schema = 'staging__dev'"
    ) == [(0,)]
    assert built.scalar("select max(amount) from marts__dev.users") == 44


def test_a_failing_blocking_check_holds_the_copys_readers_and_not_production(built):
    before = production_state(built)
    built.model(
        "staging.events",
        STAGED_DOUBLED.replace(
            "select user_id,", "select case when amount = 20 then null else user_id end as user_id,"
        ),
    )
    result = env_run(built)
    assert result.status == "failed"
    statuses = {(o.task.model, o.status) for o in result.outcomes}
    assert ("staging__dev.events", "check_failed") in statuses
    assert ("marts__dev.users", "skipped") in statuses
    assert production_state(built) == before


def test_status_in_an_environment_lists_its_copies(built):
    built.model("staging.events", STAGED_DOUBLED)
    env_run(built)
    rows = status(env_ws(built))
    assert [r.model for r in rows] == [
        "staging__dev.events",
        "marts__dev.daily",
        "marts__dev.users",
    ]


def test_list_and_drop(built):
    built.model("staging.events", STAGED_DOUBLED)
    env_run(built, "dev")
    env_run(built, "other", "+marts.users")
    ws = open_workspace(built.root)
    found = {e.name: e for e in environments.list_environments(ws)}
    assert set(found) == {"dev", "other"}
    assert found["dev"].partitions == 9 + 9 + 1
    assert set(found["other"].relations) == {"marts__other.users", "staging__other.events"}
    before = production_state(built)
    gone = environments.drop_environment(ws, "dev")
    assert len(gone.relations) == 3
    assert [e.name for e in environments.list_environments(ws)] == ["other"]
    assert built.query(
        "select count(*) from information_schema.schemata where schema_name like '%__dev'"
    ) == [(0,)]
    assert (
        built.scalar("select count(*) from orchestrator.partitions where model like '%__dev.%'")
        == 0
    )
    # its runs stay in the history: production may hold what one of them built
    assert built.scalar("select count(*) from orchestrator.runs where env = 'dev'") == 1
    assert production_state(built) == before
    with pytest.raises(UsageError, match="no environment named 'dev'"):
        environments.drop_environment(ws, "dev")


def test_a_model_new_to_production_is_built_there(built):
    built.model("marts.extra", "-- kind: table\nselect 1 as x from marts.users limit 1")
    ws = env_ws(built)
    assert ws.env.reasons == {"marts.extra": "new: production has not built it"}


def test_prune_leaves_an_environments_copies(built):
    from orchestrator.app import maintenance

    built.model("staging.events", STAGED_DOUBLED)
    env_run(built)
    assert maintenance.removed_models(open_workspace(built.root)) == []


def test_a_failure_in_an_environment_pages_no_owner(built):
    built.write(
        "orchestrator.toml",
        """
        [owners.data]
        log = "alerts.jsonl"
        """,
    )
    built.model(
        "staging.events",
        "-- owner: data\n" + STAGED_DOUBLED.replace("from raw.events", "from raw.events_gone"),
    )
    assert env_run(built).status == "failed"
    assert not (built.root / "alerts.jsonl").exists()
    assert built.scalar("select count(*) from orchestrator.alerts") == 0


def test_on_spark_an_environment_is_refused_before_anything_runs(built):
    built.write("orchestrator.toml", '[engine]\nkind = "spark"\nmaster = "local[1]"\n')
    built.model("staging.events", STAGED_DOUBLED)
    with pytest.raises(UsageError, match="environments run on DuckDB only"):
        env_ws(built)


def test_dropping_an_environment_never_touches_a_production_schema_named_like_one(built):
    built.model("raw__dev.keep", "-- kind: table\nselect 1 as x")
    assert built.api_run().status == "success"
    built.model("staging.events", STAGED_DOUBLED)
    env_run(built)
    environments.drop_environment(open_workspace(built.root), "dev")
    assert built.scalar("select x from raw__dev.keep") == 1
    assert (
        built.scalar("select count(*) from orchestrator.partitions where model = 'raw__dev.keep'")
        == 1
    )


def test_a_copys_remedy_is_run_in_its_environment(built):
    built.model(
        "staging.events",
        STAGED_DOUBLED.replace(
            "select user_id,", "select case when amount = 20 then null else user_id end user_id,"
        ),
    )
    env_run(built)
    rows = {r.model: r for r in status(env_ws(built))}
    remedy = rows["staging__dev.events"].remedy
    assert remedy.endswith("orchestrator run +staging.events --env dev"), remedy
    assert "staging__dev" not in remedy
