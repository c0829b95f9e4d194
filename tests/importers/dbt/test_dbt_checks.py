"""dbt tests as our checks: a model's generic tests gathered from its properties file (two of a
kind get a check file each), singular tests as check files of the last model they read, and a
test moved to the model that reads its own where checking it first would make a cycle; through
`convert` on small dbt projects written in tmp_path."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

MODELS = {
    "dbt_project.yml": "name: p\nprofile: p\nmodels:\n  p:\n    +materialized: table\n",
    "models/a.sql": "select 1 as id, 2 as n",
    "models/b.sql": "select id from {{ ref('a') }}",
}


def converted(project: ProjectDir, files: dict[str, str]):
    for rel, text in {**MODELS, **files}.items():
        project.write(rel, text)
    dbt = read(project.root)
    return convert(dbt, read_target(dbt, None))


def _outcome(out, node):
    return next(o for o in out.outcomes if o.node == node)


def test_a_singular_test_checks_the_last_model_it_reads(project):
    out = converted(
        project,
        {
            "tests/both.sql": (
                "{{ config(severity='warn') }}\n"
                "select * from {{ ref('b') }} join {{ ref('a') }} using (id) where n < 0"
            ),
            "tests/nothing.sql": "select 1 where false",
        },
    )
    assert out.files["checks/both.sql"] == (
        "-- model: main.b\n-- severity: warn\n/* tests/both.sql, imported from dbt */\n"
        "select * from main.b join main.a using (id) where n < 0\n"
    )
    nothing = _outcome(out, "test.p.nothing")
    assert nothing.status == "needs a hand"
    assert nothing.notes == ["it reads no model: a check belongs to a model"]


def test_two_tests_of_a_kind_on_a_model_get_a_file_each(project):
    out = converted(
        project,
        {
            "models/props.yml": (
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n"
                "          - not_null: {where: 'n > 0'}\n"
                "          - not_null: {where: 'n > 1'}\n"
            )
        },
    )
    assert sorted(k for k in out.files if k.startswith("checks/")) == [
        "checks/a__not_null_id.sql",
        "checks/a__not_null_id_2.sql",
    ]
    assert "where n > 1" in out.files["checks/a__not_null_id_2.sql"]


def test_a_test_reading_a_model_that_reads_its_own_is_checked_with_that_model(project):
    out = converted(
        project,
        {
            "models/props.yml": (
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n"
                "          - relationships: {to: \"ref('b')\", field: id}\n"
            )
        },
    )
    assert "relationships" not in out.files["models/main/a.sql"]  # a cycle there: a <- b
    assert out.files["checks/a__relationships_id.sql"].startswith("-- model: main.b\n")
    moved = _outcome(out, "test.p.relationships_a_id")
    assert moved.status == "converted with notes"
    assert moved.notes == ["checked as b is built (it reads a)"]
    # a model the tested one does not feed: the header check stays
    plain = converted(
        ProjectDir(project.root / "plain"),
        {
            "models/props.yml": (
                "models:\n  - name: b\n    columns:\n      - name: id\n        data_tests:\n"
                "          - relationships: {to: \"ref('a')\", field: id}\n"
            )
        },
    )
    assert "-- check: relationships(id, main.a.id)\n" in plain.files["models/main/b.sql"]


def test_a_disabled_test_is_reported_not_converted(project):
    out = converted(
        project,
        {
            "models/props.yml": (
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n"
                "          - unique:\n              config: {enabled: false}\n"
            )
        },
    )
    assert _outcome(out, "test.p.unique_a_id").notes == ["disabled: not converted"]
