"""What a request may touch and the errors in the request itself (`plan.request`): a backfill's
bounds and range, vars not passed. DAGs are loaded from model files in tmp_path."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.errors import UsageError
from orchestrator.core.tasks import Request
from orchestrator.plan.request import (
    check_backfill_points,
    check_backfill_range,
    check_vars,
    scope,
    validate,
)
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader

NOW = datetime(2024, 1, 10, 12)

DAILY = """
-- kind: incremental
-- partition_by: d
-- grain: {grain}
-- start: {start}
select * from {source} where d >= {{{{ start }}}} and d < {{{{ end }}}}
"""


def dag_of(project):
    return dag_mod.build(loader.load(project.root, strict=True))


@pytest.fixture
def chain(project):
    """raw.src -> s.a (daily) -> s.b (daily) -> s.t (table); s.h (hourly) apart."""
    project.model("s.a", DAILY.format(grain="day", start="2024-01-01", source="raw.src"))
    project.model("s.b", DAILY.format(grain="day", start="2024-01-01", source="s.a"))
    project.model("s.t", "select count(*) as n from s.b")
    project.model("s.h", DAILY.format(grain="hour", start="2024-01-01T00", source="raw.src"))
    return dag_of(project)


def test_a_run_touches_its_selection_only_in_dag_order(chain):
    names, affected = scope(chain, Request(frozenset({"s.t", "s.a"}), NOW))
    assert names == ["s.a", "s.t"] and affected == set()


def test_a_backfill_also_touches_what_reads_it_except_the_excluded(chain):
    request = Request(
        frozenset({"s.a"}),
        NOW,
        backfill=(datetime(2024, 1, 2), datetime(2024, 1, 3)),
        excluded=frozenset({"s.t"}),
    )
    names, affected = scope(chain, request)
    assert names == ["s.a", "s.b"] and affected == {"s.b"}


def test_a_backfill_point_inside_a_day_is_refused_with_the_day_to_use(chain):
    with pytest.raises(UsageError) as err:
        check_backfill_points(
            chain, frozenset({"s.a"}), datetime(2024, 1, 2, 10), datetime(2024, 1, 3), now=NOW
        )
    assert str(err.value) == (
        "backfill: --start 2024-01-02 10:00 is not at the start of a day, where the selected "
        "models' partitions begin: use 2024-01-02"
    )
    # hourly models take hours; an end at or past now stops at now, aligned or not
    check_backfill_points(
        chain, frozenset({"s.h"}), datetime(2024, 1, 2, 10), datetime(2024, 1, 3), now=NOW
    )
    check_backfill_points(
        chain, frozenset({"s.a"}), datetime(2024, 1, 2), datetime(2024, 1, 10, 13), now=NOW
    )


def test_a_backfill_wholly_in_the_future_is_refused(chain):
    with pytest.raises(UsageError, match=r"\[2024-01-11, 2024-01-12\) is in the future"):
        check_backfill_points(
            chain, frozenset({"s.a"}), datetime(2024, 1, 11), datetime(2024, 1, 12), now=NOW
        )


def test_a_range_outside_every_selected_model_names_their_bounds(project):
    for name in ("s.a", "s.b", "s.c", "s.d"):
        project.model(name, DAILY.format(grain="day", start="2024-01-01", source="raw.src"))
    dag = dag_of(project)
    with pytest.raises(UsageError) as err:
        check_backfill_range(dag, frozenset(dag.models), datetime(2023, 1, 1), datetime(2023, 2, 1))
    assert str(err.value).endswith(
        "s.a has start 2024-01-01; s.b has start 2024-01-01; s.c has start 2024-01-01; and 1 more"
    )


def test_a_range_inside_one_selected_model_is_no_mistake(chain):
    # s.t has no partitions: the range is s.a's, and the table is simply rebuilt
    check_backfill_range(
        chain, frozenset({"s.a", "s.t"}), datetime(2024, 1, 2), datetime(2024, 1, 3)
    )


def test_a_var_nobody_passed_is_named_with_how_to_pass_it(project):
    project.model("s.r", "select {{ var('region') }} as region")
    dag = dag_of(project)
    with pytest.raises(UsageError) as err:
        check_vars(dag, ["s.r"], {})
    assert str(err.value) == (
        "s.r uses var('region'): pass --var region=VALUE (or set it under [vars] in "
        "orchestrator.toml)"
    )
    check_vars(dag, ["s.r"], {"region": "eu"})
    # a request that only looks (status) does not need them
    validate(dag, Request(frozenset({"s.r"}), NOW, strict_vars=False))
    with pytest.raises(UsageError):
        validate(dag, Request(frozenset({"s.r"}), NOW))
