"""A dbt model as ours: the header its configs become (view, microbatch as partitions, merge by
unique_key with its key audit, owner and tags), notes on what does not carry over, ephemeral
models inlined as CTEs, SQL that would not load; through `convert` on small dbt projects
written in tmp_path, and merges by key through the real CLI."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"


def converted(project: ProjectDir, files: dict[str, str]):
    for rel, text in {"dbt_project.yml": "name: p\nprofile: p\n", **files}.items():
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


def _notes(out, name):
    return next(o for o in out.outcomes if o.node == f"model.p.{name}").notes


def test_a_microbatch_model_is_partitioned_by_its_event_time_from_begin(project):
    out = converted(
        project,
        {
            "models/mb.sql": (
                "{{ config(materialized='incremental', incremental_strategy='microbatch', "
                "event_time='ts', batch_size='hour', begin='2024-01-01 05:00:00', lookback=2) }}"
                "select ts from {{ ref('plain') }} p"
            ),
            "models/plain.sql": "select now() as ts",
        },
    )
    text = out.files["models/main/mb.sql"]
    assert text.startswith(
        "-- kind: incremental\n-- partition_by: ts\n-- grain: hour\n-- start: 2024-01-01T05\n"
    )
    assert text.endswith(") as batch\nwhere ts >= {{ start }} and ts < {{ end }}\n")
    assert _notes(out, "mb") == [
        "its inputs have no event_time: each partition reads them whole and keeps the rows "
        "of its window",
        "lookback 2: not converted (rebuild late windows with backfill)",
    ]


def test_a_merge_models_key_is_audited_as_dbt_writes_it(project):
    out = converted(
        project,
        {
            "models/keyed.sql": (
                "{{ config(materialized='incremental', unique_key=['a', 'b'], "
                "incremental_strategy='append') }}select 1 as a, 2 as b"
            ),
        },
    )
    assert out.files["models/main/keyed.sql"].startswith(
        "-- kind: incremental\n-- unique_key: a, b\n-- key_audit: warn\n"
        "-- check warn: unique(a, b)\n"
    )
    assert "incremental_strategy append: merged by unique_key instead" in _notes(out, "keyed")


def test_configs_with_no_equivalent_are_noted(project):
    out = converted(
        project,
        {
            "models/plain.sql": (
                "{{ config(materialized='materialized_view', database='other', "
                "contract={'enforced': true}) }}select 1 as x"
            ),
            "models/inc.sql": (
                "{{ config(materialized='incremental') }}select 1 as x\n"
                "{% if is_incremental() %}where x > 0{% endif %}"
            ),
        },
    )
    assert _notes(out, "plain") == [
        "materialized 'materialized_view' is not ours: built as a table",
        "database 'other' ignored: everything is in one warehouse",
        "contract not enforced here: add a columns(...) check",
    ]
    assert out.files["models/main/inc.sql"].endswith("select 1 as x\n")  # the full SELECT
    assert "its is_incremental() branch is not used: the full SELECT runs" in _notes(out, "inc")


def test_ephemeral_models_are_inlined_in_order_before_the_models_own_ctes(project):
    out = converted(
        project,
        {
            "models/a.sql": "select 1 as id",
            "models/e1.sql": "{{ config(materialized='ephemeral') }}select * from {{ ref('a') }}",
            "models/e2.sql": "{{ config(materialized='ephemeral') }}select * from {{ ref('e1') }}",
            "models/c.sql": "-- lead\nwith x as (select 1 as y)\nselect * from {{ ref('e2') }}, x",
        },
    )
    assert out.files["models/main/c.sql"].endswith(
        "-- lead\nwith\n__dbt__cte__e1 as (\nselect * from main.a\n),\n"
        "__dbt__cte__e2 as (\nselect * from __dbt__cte__e1\n),\n"
        "x as (select 1 as y)\nselect * from __dbt__cte__e2, x\n"
    )


def test_sql_that_would_not_load_needs_a_hand(project):
    out = converted(project, {"models/bad.sql": "select from where"})
    assert out.files == {}
    [problem] = out.problems
    assert problem.startswith("models/bad.sql: renders SQL that does not parse (")


MERGE = {
    "dbt_project.yml": "name: merged\nmodels:\n  merged:\n    +materialized: table\n",
    "models/sources.yml": """
        sources:
          - name: raw
            tables: [{name: customers}]
        """,
    "models/customers.sql": """
        {{ config(materialized='incremental', unique_key='id') }}
        select id, name, updated_at from {{ source('raw', 'customers') }}
        {% if is_incremental() %}
        where updated_at > (select max(updated_at) from {{ this }})
        {% endif %}
        """,
}


def test_an_incremental_model_with_unique_key_merges_by_key(tmp_path):
    _, ours, done = imported(tmp_path, MERGE)
    assert done.returncode == 0, done.stderr
    text = (ours.root / "models/main/customers.sql").read_text()
    assert text.startswith(
        "-- kind: incremental\n-- unique_key: id\n-- key_audit: warn\n-- check warn: unique(id)\n"
    )
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "NULL or repeated id are written as dbt writes them (key_audit: warn" in report
    assert "to refuse them, remove the key_audit line" in report
    assert "{% if is_incremental() %}" in text and "from main.customers" in text
    ours.seed(
        "create schema raw; create table raw.customers as "
        "select * from (values (1, 'a', 1), (2, 'b', 1)) t(id, name, updated_at)"
    )
    assert ours.cli("run", now=NOW).returncode == 0
    ours.seed("insert into raw.customers values (2, 'B', 2), (3, 'c', 2)")
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    # merged: id 2 updated, id 3 added, id 1 kept (only the new rows were read)
    assert ours.query("select * from main.customers order by id") == [
        (1, "a", 1),
        (2, "B", 2),
        (3, "c", 2),
    ]
    # a full refresh reads everything again: both rows of id 2, written as dbt writes them,
    # and the warning check says so
    full = ours.cli("run", "--full-refresh", now=NOW)
    assert full.returncode == 0, full.stdout + full.stderr
    assert ours.query("select id, name from main.customers order by all") == [
        (1, "a"),
        (2, "B"),
        (2, "b"),
        (3, "c"),
    ]
    assert ours.query(
        "select status, failing_rows from orchestrator.check_results "
        "where check_name = 'unique(id)' order by run_id desc limit 1"
    ) == [("warn", 2)]
    # a merge then replaces every row of a key it holds (a delete and an insert, as dbt)
    ours.seed("insert into raw.customers values (2, 'BB', 3)")
    assert ours.cli("run", now=NOW).returncode == 0
    assert ours.query("select id, name from main.customers order by all") == [
        (1, "a"),
        (2, "BB"),
        (3, "c"),
    ]


def test_a_merge_model_whose_key_dbt_tests_refuses_repeated_keys(tmp_path):
    files = {
        **MERGE,
        "models/schema.yml": "models:\n  - name: customers\n    columns:\n"
        "      - name: id\n        data_tests: [unique]\n",
    }
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 0, done.stderr
    text = (ours.root / "models/main/customers.sql").read_text()
    assert "key_audit" not in text and "-- check: unique(id)" in text
    ours.seed(
        "create schema raw; create table raw.customers as "
        "select * from (values (1, 'a', 1), (1, 'b', 1)) t(id, name, updated_at)"
    )
    run = ours.cli("run", now=NOW)
    assert run.returncode == 1
    assert "1 duplicate unique_key (id) value(s)" in run.stdout
    assert ours.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'main' and table_name = 'customers'"
    ) == [(0,)]
