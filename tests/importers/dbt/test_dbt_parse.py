"""The first pass over a dbt project: each model's configs in dbt's precedence (folder tree,
then properties file, then its own `config()`), disabled and Python models, and every model's
relation named as dbt's generate_schema_name / generate_alias_name would (or as the project's
own macros do); through `convert` on small dbt projects written in tmp_path."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

PROJECT = """
name: p
profile: p
models:
  p:
    +materialized: table
    +tags: [project]
    marts:
      +schema: marts
      +materialized: view
"""


def converted(project: ProjectDir, files: dict[str, str], schemas: str = "dbt"):
    for rel, text in {"dbt_project.yml": PROJECT, **files}.items():
        project.write(rel, text)
    dbt = read(project.root)
    return convert(dbt, read_target(dbt, None), schemas)


def _outcome(out, node):
    return next(o for o in out.outcomes if o.node == node)


def test_configs_follow_dbts_precedence_and_tags_accumulate(project):
    out = converted(
        project,
        {
            "models/marts/a.sql": "{{ config(tags=['own'], materialized='table') }}select 1 as x",
            "models/props.yml": (
                "models:\n  - name: a\n    config:\n      materialized: incremental\n"
                "      tags: [props]\n      meta: {owner: ann}\n"
            ),
        },
    )
    # config() beats the properties file, which beats the folder tree
    assert out.files["models/main_marts/a.sql"].startswith(
        "-- owner: ann\n-- tags: project, props, own\n/* models/marts/a.sql"
    )


def test_schemas_are_dbts_target_prefixed_or_custom_as_asked(project):
    files = {
        "models/marts/a.sql": "select 1 as x",
        "models/b.sql": "{{ config(alias='bee') }}select 1 as x",
    }
    out = converted(project, files)
    assert sorted(out.files) == ["models/main/bee.sql", "models/main_marts/a.sql"]
    assert ("main_marts.a (models/marts/a.sql)", "main_marts.a") in out.relations
    custom = converted(ProjectDir(project.root / "custom"), files, schemas="custom")
    assert sorted(custom.files) == ["models/main/bee.sql", "models/marts/a.sql"]
    # what dbt builds is still named as dbt names it
    assert ("main_marts.a (models/marts/a.sql)", "marts.a") in custom.relations


def test_the_projects_own_naming_macros_name_the_relations(project):
    out = converted(
        project,
        {
            "models/marts/a.sql": "select 1 as x",
            "macros/naming.sql": (
                "{% macro generate_schema_name(custom, node) %}"
                "{{ 'core' if custom is none else custom | trim }}{% endmacro %}\n"
                "{% macro generate_alias_name(custom, node) %}"
                "{{ node.name ~ '_' ~ node.resource_type }}{% endmacro %}\n"
            ),
            "models/b.sql": "select 1 as x",
        },
    )
    assert sorted(out.files) == ["models/core/b_model.sql", "models/marts/a_model.sql"]


def test_disabled_and_python_models_are_reported_not_converted(project):
    out = converted(
        project,
        {
            "models/off.sql": "{{ config(enabled=false) }}select 1 as x",
            "models/p.py": "def model(dbt, session):\n    return None\n",
            "models/rendered.yml": (
                "models:\n  - name: later\n    config:\n"
                "      enabled: \"{{ target.name == 'prod' }}\"\n"
            ),
            "models/later.sql": "select 1 as x",
        },
    )
    assert out.files == {}
    off = _outcome(out, "model.p.off")
    assert off.status == "converted exactly" and off.notes[0].startswith("disabled")
    assert _outcome(out, "model.p.later").notes[0].startswith("disabled")  # Jinja in YAML
    python = _outcome(out, "model.p.p")
    assert python.status == "needs a hand"
    assert python.notes == ["Python models are not converted: rewrite it as a SELECT"]


def test_two_models_on_one_relation_or_of_one_name_are_problems(project):
    out = converted(
        project,
        {
            "models/x1.sql": "{{ config(alias='same') }}select 1 as x",
            "models/x2.sql": "{{ config(alias='same') }}select 2 as x",
            "models/dup.sql": "select 1 as x",
            "models/sub/dup.sql": "select 2 as x",
        },
    )
    assert "models/x2.sql: models 'x1' and 'x2' both build main.same" in out.problems
    assert _outcome(out, "model.p.x2").status == "needs a hand"
    assert out.files["models/main/same.sql"].endswith("select 1 as x\n")
    assert "models/sub/dup.sql: a second model named 'dup' (the first is models/dup.sql)" in (
        out.problems
    )
