"""`Conversion`, the state both passes share: `ref()` to a model, a version of it, an ephemeral
model or a package's model, `source()`, what reads what; through `convert` on small dbt
projects written in tmp_path, and (the versioned refs, a missing model) through the real CLI."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.conversion import Conversion
from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"

MINI = {
    "dbt_project.yml": "name: mini\nprofile: mini\n",
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select id from {{ ref('a') }}",
}


def converted(project: ProjectDir, files: dict[str, str]):
    for rel, text in files.items():
        project.write(rel, text)
    dbt = read(project.root)
    return convert(dbt, read_target(dbt, None))


def imported(tmp_path, files, *args):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in files.items():
        dbt.write(rel, text)
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root), *args, now=NOW)
    return dbt, out, done


def test_refs_and_sources_become_our_relation_names(project):
    out = converted(
        project,
        {
            **MINI,
            "models/c.sql": "select * from {{ ref('mini', 'b') }} join {{ source('raw', 'e') }}",
            "models/d.sql": "select * from {{ ref('other_package', 'a') }}",
            "models/f.sql": "select * from {{ source('raw', 'ee') }}",
            "models/src.yml": "sources:\n  - name: raw\n    tables: [{name: e}]\n",
        },
    )
    assert out.files["models/main/c.sql"].endswith("select * from main.b join raw.e\n")
    assert "models/d.sql:1: ref('a'): no such model (did you mean 'a'?)" in out.problems
    assert (
        "models/f.sql:1: source('raw', 'ee'): no such source (did you mean 'raw.e'?)"
        in out.problems
    )
    assert "models/main/d.sql" not in out.files and "models/main/f.sql" not in out.files


def test_an_ephemeral_model_is_read_as_its_cte(project):
    out = converted(
        project,
        {
            **MINI,
            "models/e.sql": "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('a') }}",
            "models/g.sql": "select * from {{ ref('e') }}",
        },
    )
    assert "select * from __dbt__cte__e" in out.files["models/main/g.sql"]
    assert "models/main/e.sql" not in out.files


def test_a_model_reaches_what_it_reads_through_others(project):
    for rel, text in MINI.items():
        project.write(rel, text)
    dbt = read(project.root)
    conv = Conversion(dbt, read_target(dbt, None))
    conv.reads = {"c": {"b"}, "b": {"a"}, "a": set()}
    assert conv.reaches("c", "a") and conv.reaches("a", "a")
    assert not conv.reaches("a", "c")
    assert not conv.reaches("unknown", "a")


VERSIONED = {
    "dbt_project.yml": "name: versioned\nmodels:\n  versioned:\n    +materialized: table\n",
    "models/dims.yml": """
        models:
          - name: dim_customers
            latest_version: 2
            columns:
              - name: id
                data_tests: [unique]
            versions:
              - v: 1
              - v: 2
        """,
    "models/dim_customers_v1.sql": "select 1 as id, 'old' as shape",
    "models/dim_customers_v2.sql": "select 1 as id, 'new' as shape",
    "models/latest.sql": "select shape from {{ ref('dim_customers') }}",
    "models/pinned.sql": "select shape from {{ ref('dim_customers', v=1) }}",
    "models/missing.sql": "select shape from {{ ref('dim_customers', version=3) }}",
}


def test_versioned_refs_name_the_version_or_the_latest(tmp_path):
    _, ours, done = imported(tmp_path, VERSIONED)
    assert done.returncode == 1  # the ref to a version that does not exist
    assert "models/missing.sql:1: ref('dim_customers', v=3): no such version (it has 1, 2)" in (
        done.stderr
    )
    assert ours.cli("run", now=NOW).returncode == 0
    assert ours.query("select shape from main.latest") == [("new",)]
    assert ours.query("select shape from main.pinned") == [("old",)]
    assert "-- check: unique(id)" in (ours.root / "models/main/dim_customers_v1.sql").read_text()


def test_a_ref_to_a_missing_model_names_the_file_line_and_close_name(tmp_path):
    files = {**MINI, "models/c.sql": "-- reads a\n\nselect * from {{ ref('aa') }}"}
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: models/c.sql:3: ref('aa'): no such model (did you mean 'a'?)"
    )
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "## Needs a hand (1)" in report and "`model.mini.c`" in report
    assert (ours.root / "models/main/b.sql").exists() and not (
        ours.root / "models/main/c.sql"
    ).exists()
