"""project.environments: names, and the copies an environment adds (what they read, what their
checks read), with no I/O."""

from __future__ import annotations

import pytest
from changes import changes_project

from orchestrator.core.errors import UsageError
from orchestrator.project import dag as dag_mod
from orchestrator.project import environments as envs
from orchestrator.project import loader


@pytest.mark.parametrize("name", ["pr-1", "dev", "a-b-c9", "x" * 40])
def test_good_names_pass(name):
    assert envs.check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Dev", "1pr", "a_b", "a--b", "a-", "-a", "prod", "x" * 41, "a b", "a.b"]
)
def test_bad_names_are_one_line_usage_errors(name):
    with pytest.raises(UsageError, match="bad environment name"):
        envs.check_name(name)


def test_a_copy_lives_in_its_own_schema():
    assert envs.copy_name("pr-7", "marts.daily") == "marts__pr_7.daily"


def test_copies_read_copies_of_what_changed_and_production_for_the_rest(project):
    changes_project(project)
    project.model(
        "marts.both",
        "-- kind: table\nselect * from marts.users u join marts.source_only s on true",
    )
    base = loader.load(project.root)
    derived = envs.with_copies(base, "dev", {"marts.users", "marts.both"})
    both = derived.models["marts__dev.both"]
    assert both.home == "marts.both" and both.schema == "marts__dev"
    assert both.relations == {
        "marts.users": '"marts__dev"."users"',
        "marts.source_only": '"marts"."source_only"',
    }
    assert both.version == base.models["marts.both"].version  # the same SQL: the same version
    graph = dag_mod.build(derived)
    assert graph.upstream["marts__dev.both"] == ("marts.source_only", "marts__dev.users")
    assert graph.upstream["marts.both"] == ("marts.source_only", "marts.users")  # untouched
    assert both.lookup_schema == "marts"


def test_a_copys_checks_read_the_copies_they_name(project):
    changes_project(project)
    project.model(
        "marts.users",
        "-- kind: table\n-- check: relationships(user_id, staging.events.user_id)\n"
        "select user_id, sum(amount) as amount from staging.events group by 1",
    )
    derived = envs.with_copies(loader.load(project.root), "dev", {"staging.events", "marts.users"})
    check = derived.models["marts__dev.users"].checks[0]
    assert check.reference == "staging__dev.events"
