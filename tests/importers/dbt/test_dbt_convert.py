"""`convert`, the two passes over a whole dbt project: every node gets one outcome, each kind
becomes its files, a source over the project's own seed is read as that seed, the project's
problems are carried, and a model that queries the warehouse while compiling brings what its
rendering at run time needs; on small dbt projects written in tmp_path."""

from __future__ import annotations

import json

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

PROJECT = {
    "dbt_project.yml": 'name: p\nprofile: p\non-run-start: "create schema if not exists x"\n',
    "models/src.yml": (
        "sources:\n  - name: raw\n    tables: [{name: e}]\n"
        "  - name: mine\n    schema: main\n    tables: [{name: codes}]\n"
    ),
    "models/a.sql": "select * from {{ source('raw', 'e') }} join {{ source('mine', 'codes') }}",
    "seeds/codes.csv": "code\nFR\n",
    "tests/a_empty.sql": "select * from {{ ref('a') }} where false",
}


def converted(project: ProjectDir, files: dict[str, str]):
    for rel, text in files.items():
        project.write(rel, text)
    dbt = read(project.root)
    return convert(dbt, read_target(dbt, None))


def test_every_node_gets_one_outcome_and_each_kind_its_files(project):
    out = converted(project, PROJECT)
    assert sorted(o.node for o in out.outcomes) == [
        "model.p.a",
        "operation.p.p-on-run-start-0",
        "seed.p.codes",
        "source.p.mine.codes",
        "source.p.raw.e",
        "test.p.a_empty",
    ]
    assert sorted(out.files) == ["checks/a_empty.sql", "models/main/a.sql", "seeds/main/codes.csv"]
    assert list(out.sources) == ["raw.e"]  # the other source is the project's own seed
    assert out.files["models/main/a.sql"].endswith("select * from raw.e join main.codes\n")
    assert out.hooks == {"on_run_start": ["create schema if not exists x"]}
    assert out.problems == [] and out.default_schema == "main"


def test_a_properties_file_that_does_not_parse_is_a_problem_and_the_rest_converts(project):
    out = converted(
        project, {**PROJECT, "models/bad.yml": "models:\n  - name: a\n    columns: [\n"}
    )
    assert any(p.startswith("models/bad.yml:4: YAML does not parse") for p in out.problems)
    assert "models/main/a.sql" in out.files


def test_a_model_that_queries_the_warehouse_brings_its_rendering_context(project):
    out = converted(
        project,
        {
            **PROJECT,
            "models/q.sql": ("{% set r = run_query('select 1') %}select * from {{ ref('a') }}"),
        },
    )
    assert out.rendered_at_run == ["q"]
    assert "-- renderer: dbt\n-- depends_on: main.a\n" in out.files["models/main/q.sql"]
    context = json.loads(out.files["dbt/context.json"])
    assert context["refs"] == {"a": "main.a", "codes": "main.codes", "q": "main.q"}
    assert context["sources"] == {"mine.codes": "main.codes", "raw.e": "raw.e"}
    assert "dbt/dbt_project.yml" in out.files
