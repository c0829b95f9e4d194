"""profiles.yml as dbt reads it: Jinja in its values rendered (`var` from `--vars` only,
`env_var` from the environment), and a target schema no model lives in never breaks a run."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")


def _project(root, profile: str, models: str = "") -> ProjectDir:
    folder = ProjectDir(root)
    folder.write(
        "dbt_project.yml",
        f"""
        name: prof
        version: "1.0"
        profile: prof
        vars:
          schema_id: from_the_project
        models:
          prof:
            +materialized: table
        {models}
        """,
    )
    folder.write("profiles.yml", profile)
    folder.write("models/a.sql", "select 1 as x")
    folder.write("models/b.sql", "select x + 1 as y from {{ ref('a') }}")
    return folder


def _import_and_run(tmp_path, dbt: ProjectDir, *args, env=None):
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root), *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = out.cli("run", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return out


def _tables(out: ProjectDir) -> set[str]:
    return {
        f"{s}.{t}"
        for s, t in out.query(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('orchestrator', 'information_schema')"
        )
    }


JINJA_PROFILE = """
    prof:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: "{{ env_var('PROF_PATH', './warehouse/dev.duckdb') }}"
          schema: "{{ var('schema_id', 'analytics_dev') }}"
          threads: 4
"""


def test_profile_values_are_rendered_with_the_var_default_not_the_project_var(tmp_path):
    # dbt renders profiles.yml before the project: `var` sees --vars only, so the default
    out = _import_and_run(tmp_path, _project(tmp_path / "dbt", JINJA_PROFILE))
    assert _tables(out) == {"analytics_dev.a", "analytics_dev.b"}
    assert out.scalar("SELECT y FROM analytics_dev.b") == 2


def test_vars_given_to_the_import_reach_the_profile_and_the_models(tmp_path):
    dbt = _project(tmp_path / "dbt", JINJA_PROFILE)
    dbt.write("models/c.sql", "select '{{ var(\"schema_id\") }}' as v")
    out = _import_and_run(tmp_path, dbt, "--vars", "{schema_id: pr_7}")
    assert _tables(out) == {"pr_7.a", "pr_7.b", "pr_7.c"}
    assert out.scalar("SELECT v FROM pr_7.c") == "pr_7"


def test_env_var_in_the_profile_reads_the_environment(tmp_path):
    profile = """
        prof:
          target: dev
          outputs:
            dev:
              type: duckdb
              schema: "{{ env_var('PROF_SCHEMA', 'main') }}"
    """
    dbt = _project(tmp_path / "dbt", profile)
    out = _import_and_run(tmp_path, dbt, env={"PROF_SCHEMA": "from_env"})
    assert _tables(out) == {"from_env.a", "from_env.b"}


def test_a_target_schema_no_model_lives_in_does_not_fail_the_run(tmp_path):
    # every model is in analytics_stg: the default schema analytics is in the search path
    # of each model, and has to exist before the first one runs
    profile = """
        prof:
          target: dev
          outputs:
            dev:
              type: duckdb
              schema: analytics
    """
    dbt = _project(tmp_path / "dbt", profile, models="    +schema: stg")
    out = _import_and_run(tmp_path, dbt)
    assert _tables(out) == {"analytics_stg.a", "analytics_stg.b"}
    assert out.scalar("SELECT y FROM analytics_stg.b") == 2


# -- the profile's parts as functions: --vars, rendering, the target --------------------------


def test_vars_parse_as_a_yaml_mapping():
    from orchestrator.importers.dbt.profiles import parse_vars
    from orchestrator.sql.dbt.yamlfile import ImportProblem

    assert parse_vars(None) == {} and parse_vars("") == {} and parse_vars("~") == {}
    assert parse_vars("{schema: dev, n: 2}") == {"schema": "dev", "n": 2}
    assert parse_vars('{"a": [1]}') == {"a": [1]}
    with pytest.raises(ImportProblem, match="--vars must be a mapping"):
        parse_vars("[1, 2]")
    with pytest.raises(ImportProblem, match="--vars does not parse as YAML"):
        parse_vars("{a: [")


def test_profile_values_render_with_vars_and_env_vars(monkeypatch):
    from orchestrator.importers.dbt.profiles import render
    from orchestrator.sql.dbt.yamlfile import ImportProblem

    monkeypatch.setenv("PROFILE_TEST_SCHEMA", "from_env")
    profile = {
        "schema": "{{ env_var('PROFILE_TEST_SCHEMA') }}",
        "paths": ["{{ var('dir', 'data') }}/x", 3],
        "plain": "no jinja",
    }
    assert render(profile, {"dir": "cli"}) == {
        "schema": "from_env",
        "paths": ["cli/x", 3],
        "plain": "no jinja",
    }
    assert render("{{ var('dir', 'data') }}", {}) == "data"
    with pytest.raises(ImportProblem, match="var\\('dir'\\) has no value"):
        render("{{ var('dir') }}", {})
    monkeypatch.delenv("PROFILE_TEST_SCHEMA")
    with pytest.raises(ImportProblem, match="env_var\\('PROFILE_TEST_SCHEMA'\\) is not set"):
        render("{{ env_var('PROFILE_TEST_SCHEMA') }}", {})


def test_the_target_is_the_profiles_or_duckdbs_default(tmp_path):
    from orchestrator.importers.dbt.profiles import read_target
    from orchestrator.sql.dbt.project import read
    from orchestrator.sql.dbt.yamlfile import ImportProblem

    dbt = ProjectDir(tmp_path)
    dbt.write("dbt_project.yml", "name: p\nprofile: p\n")
    target = read_target(read(tmp_path), None)
    assert (target.name, target.schema, target.profile_name) == ("dev", "main", "p")
    dbt.write(
        "profiles.yml",
        """
        p:
          target: dev
          outputs:
            dev: {type: duckdb, path: data/shop.duckdb, schema: analytics, threads: "{{ 2 + 2 }}"}
        """,
    )
    target = read_target(read(tmp_path), None)
    assert (target.schema, target.database, target.threads, target.path) == (
        "analytics",
        "shop",
        4,  # rendered to '4', as in dbt, and read as a number
        "data/shop.duckdb",
    )
    with pytest.raises(ImportProblem, match="no target 'prod' in profile 'p' \\(it has dev\\)"):
        read_target(read(tmp_path), "prod")
