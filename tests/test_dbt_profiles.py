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
