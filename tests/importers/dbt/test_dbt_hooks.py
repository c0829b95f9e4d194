"""dbt hooks as ours: model pre-/post-hooks as header lines and on-run-start / on-run-end as
[hooks], rendered at import; grants, several statements and hooks that only log are reported
instead; through `convert` on a small dbt project written in tmp_path, and run by the real
CLI."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"

RUN_HOOKS = """
name: p
profile: p
on-run-start:
  - "create table if not exists main.x (n int);"
  - "grant usage on schema main to role r"
  - "{{ log('hi') }}"
  - "select 1; select 2"
on-run-end: "insert into main.x values ({{ 1 + 1 }})"
"""


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


def test_run_hooks_become_ours_or_say_why_not(project):
    out = converted(project, {"dbt_project.yml": RUN_HOOKS, "models/a.sql": "select 1 as x"})
    assert out.hooks == {
        "on_run_start": ["create table if not exists main.x (n int)"],
        "on_run_end": ["insert into main.x values (2)"],
    }
    hooks = [o for o in out.outcomes if o.node.startswith("operation.")]
    assert [o.node for o in hooks][-2:] == [
        "operation.p.p-on-run-start-3",
        "operation.p.p-on-run-end-0",
    ]
    assert [(o.status, o.notes) for o in hooks] == [
        ("converted exactly", []),
        (
            "converted with notes",
            [
                "on-run-start hook not converted: DuckDB has no grants (grant usage on schema main "
                "to role r)"
            ],
        ),
        ("converted exactly", ["only logs"]),
        (
            "needs a hand",
            [
                "on-run-start hook not converted: several statements in one hook "
                "(select 1; select 2)"
            ],
        ),
        ("converted exactly", []),
    ]


def test_model_hooks_are_header_lines_rendered_for_the_model(project):
    out = converted(
        project,
        {
            "dbt_project.yml": "name: p\nprofile: p\n",
            "models/t.sql": (
                "{{ config(materialized='table', pre_hook='delete from main.log where m = "
                "\\'{{ this }}\\'', post_hook=['grant select on {{ this }} to r', "
                "'{{ log(\"x\") }}', 'select 1; select 2']) }}\nselect 1 as x"
            ),
        },
    )
    assert out.files["models/main/t.sql"].startswith(
        "-- pre_hook: delete from main.log where m = 'main.t'\n/* models/t.sql"
    )
    assert out.outcomes[0].notes == [
        "post-hook not converted: DuckDB has no grants (grant select on main.t to r)",
        "post-hook not converted: several statements in one hook (select 1; select 2)",
    ]


HOOKS = {
    "dbt_project.yml": """
        name: hooked
        on-run-start:
          - "create table if not exists main.runs_seen (n int)"
          - "grant usage on schema main to role reporter"
        on-run-end: "insert into main.runs_seen values (1)"
        models:
          hooked:
            +materialized: table
            +post-hook:
              - "grant select on {{ this }} to role reporter"
        """,
    "models/t.sql": """
        {{ config(pre_hook="create table if not exists main.audit (model varchar, n int)",
                  post_hook=["insert into main.audit select '{{ this }}', count(*) from {{ this }}",
                             "{{ log('built', info=True) }}"]) }}
        select * from (values (1), (2)) v(x)
        """,
}


def test_hooks_run_where_they_are_sql_and_grants_are_reported(tmp_path):
    _, ours, done = imported(tmp_path, HOOKS)
    assert done.returncode == 0, done.stderr
    text = (ours.root / "models/main/t.sql").read_text()
    assert "-- pre_hook: create table if not exists main.audit (model varchar, n int)\n" in text
    assert "-- post_hook: insert into main.audit select 'main.t', count(*) from main.t\n" in text
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "post-hook not converted: DuckDB has no grants (grant select on main.t" in report
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query("select * from main.audit") == [("main.t", 2)]
    assert ours.query("select * from main.runs_seen") == [(1,)]  # on-run-start and -end ran
    assert "on-run-start hook not converted: DuckDB has no grants" in report
