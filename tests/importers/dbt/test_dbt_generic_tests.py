"""One generic dbt test as our check: a header check line where one of ours says the same, a
check file with the failing rows' query where it filters, judges the table as a whole, or is
the project's own generic test, and why a test is not converted; through `convert` on a small
dbt project written in tmp_path."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")


def converted(project: ProjectDir, tests: str):
    """The model `a` (id, s, n) with the column tests `tests` (YAML, on `id`) converted."""
    files = {
        "dbt_project.yml": "name: p\nprofile: p\nmodels:\n  p:\n    +materialized: table\n",
        "models/a.sql": "select 1 as id, 'x' as s, 2 as n",
        "models/props.yml": "models:\n  - name: a\n    columns:\n      - name: id\n"
        "        data_tests:\n" + "".join(f"          {line}\n" for line in tests.splitlines()),
        "tests/generic/even.sql": (
            "{% test even(model, column_name) %}"
            "select * from {{ model }} where {{ column_name }} % 2 <> 0{% endtest %}"
        ),
    }
    for rel, text in files.items():
        project.write(rel, text)
    dbt = read(project.root)
    out = convert(dbt, read_target(dbt, None))
    header = [line for line in out.files["models/main/a.sql"].splitlines() if "check" in line]
    checks = {k: v for k, v in out.files.items() if k.startswith("checks/")}
    return header, checks, [o for o in out.outcomes if o.node.startswith("test.")]


def test_row_tests_become_header_checks(project):
    header, checks, outcomes = converted(
        project,
        "- not_null\n"
        "- accepted_values: {values: [1, 2], quote: false}\n"
        "- dbt_utils.accepted_range: {min_value: 0, max_value: 9, inclusive: false}\n"
        "- dbt_utils.not_empty_string\n"
        "- dbt_expectations.expect_column_values_to_be_in_set: {value_set: [1, 2]}\n"
        "- unique: {config: {severity: warn}}",
    )
    assert header == [
        "-- check: not_null(id)",
        "-- check: accepted_values(id, 1, 2)",
        "-- check: expression(id is null or (id > 0 and id < 9))",
        "-- check: expression(id is null or trim(id) <> '')",
        "-- check: expression(id is not null and id in ('1', '2'))",
        "-- check warn: unique(id)",
    ]
    assert checks == {} and all(o.status == "converted exactly" for o in outcomes)


def test_a_filtered_test_becomes_a_check_file_of_the_rows_it_keeps(project):
    header, checks, _ = converted(
        project,
        "- not_null:\n    config: {where: 'n > 0', severity: warn}\n- unique: {where: 'n > 1'}",
    )
    assert header == []
    assert checks == {
        "checks/a__not_null_id.sql": "-- model: main.a\n-- severity: warn\nselect * from "
        "(select * from main.a where n > 0) as filtered where id is null\n",
        "checks/a__unique_id.sql": "-- model: main.a\nselect id, count(*) as n from "
        "(select * from main.a where n > 1) as filtered where id is not null group by id "
        "having count(*) > 1\n",
    }


def test_table_tests_and_the_projects_own_generic_tests_become_check_files(project):
    _, checks, _ = converted(
        project,
        "- dbt_utils.not_constant\n- dbt_utils.at_least_one: {where: 'n > 0'}\n- even",
    )
    assert checks == {
        "checks/a__not_constant_id.sql": "-- model: main.a\n"
        "select 1 as failing from main.a having count(distinct id) <= 1\n",
        "checks/a__at_least_one_id.sql": "-- model: main.a\n"
        "select 1 as failing from (select * from main.a where n > 0) as filtered "
        "having count(id) = 0\n",
        "checks/a__even_id.sql": "-- model: main.a\nselect * from main.a where id % 2 <> 0\n",
    }


def test_what_does_not_convert_says_why(project):
    _, _, outcomes = converted(
        project,
        "- unknown_thing\n"
        "- dbt_expectations.expect_nothing_we_know\n"
        "- relationships: {to: \"ref('a')\", field: 'not a column'}\n"
        "- not_null: {error_if: '>10'}",
    )
    why = {o.node.removeprefix("test.p."): (o.status, o.notes) for o in outcomes}
    assert why["unknown_thing_a_id"] == (
        "needs a hand",
        [
            "test 'unknown_thing' has no equivalent among our checks and is no generic test of "
            "the project: write it as a check file"
        ],
    )
    assert why["expect_nothing_we_know_a_id"][1][0].startswith(
        "test 'dbt_expectations.expect_nothing_we_know' is not one we expand natively"
    )
    assert why["relationships_a_id"] == (
        "needs a hand",
        ["relationships: field 'not a column' is not a column name"],
    )
    assert why["not_null_a_id"] == (
        "converted with notes",
        ["error_if >10 not converted: any failing row counts"],
    )
