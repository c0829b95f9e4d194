"""The SQL a model runs for one window (`sql.model_sql`): our template rendered by ours, a model
imported with `-- renderer: dbt` by dbt's renderer over the project's `dbt/` folder, its
queries answered by the warehouse; its failures are ProjectErrors naming the file and line."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project.model import Model
from orchestrator.sql.model_sql import cursor_query, project_root, render_model

WINDOW = {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}


@pytest.fixture
def dbt_project(project):
    """A project with the `dbt/` folder `import dbt` writes: a macro, and `ref('raw')`."""
    project.write("dbt/dbt_project.yml", "name: p\n")
    project.write("dbt/macros/twice.sql", "{% macro twice(x) %}{{ x }} * 2{% endmacro %}\n")
    target = {"name": "dev", "schema": "main", "database": "main", "threads": 1}
    context = {"target": {**target, "profile_name": "p"}, "refs": {"raw": "s.raw"}, "sources": {}}
    project.write("dbt/context.json", json.dumps(context))
    return project


def model(root, template: str, renderer: str = "ours") -> Model:
    return Model(
        name="s.m",
        schema="s",
        table="m",
        path=root / "models/s/m.sql",
        relpath="models/s/m.sql",
        template=template,
        renderer=renderer,
    )


def test_the_project_root_is_the_folder_above_the_models(project):
    assert project_root(model(project.root, "select 1")) == project.root


def test_our_template_is_rendered_by_ours(project):
    m = model(project.root, "select {{ var('r') }} as r where d >= {{ start }}")
    assert render_model(m, WINDOW, {"r": "eu"}) == "select 'eu' as r where d >= DATE '2024-01-01'"


def test_a_dbt_model_renders_with_the_warehouse_answering_its_queries(dbt_project):
    con = duckdb.connect()
    con.execute("create schema s; create table s.raw as select 21 as v")
    m = model(
        dbt_project.root,
        "{% set top = run_query('select max(v) from ' ~ ref('raw')).columns[0].values()[0] %}"
        "select {{ twice(top) }} as v from {{ this }}",
        renderer="dbt",
    )
    rendered = render_model(m, {**WINDOW, "this": "s.m"}, {}, cursor_query(con))
    assert rendered == "select 21 * 2 as v from s.m"


def test_a_dbt_model_cannot_be_rendered_without_the_warehouse(dbt_project):
    m = model(dbt_project.root, "select 1", renderer="dbt")
    with pytest.raises(ProjectError, match="its SQL exists only when it runs") as info:
        render_model(m, WINDOW, {})
    assert info.value.path == "models/s/m.sql"


def test_a_failing_dbt_render_names_the_file_and_line(dbt_project):
    m = model(dbt_project.root, "select 1\nfrom {{ ref('nope') }}", renderer="dbt")
    with pytest.raises(ProjectError) as info:
        render_model(m, WINDOW, {}, cursor_query(duckdb.connect()))
    assert (info.value.path, info.value.line) == ("models/s/m.sql", 2)
    assert "dbt rendering: ref('nope'): not a model the import knew" in str(info.value)


def test_cursor_query_gives_the_names_and_rows_of_a_result():
    query = cursor_query(duckdb.connect())
    assert query("select 1 as a, 'x' as b union all select 2, 'y'") == (
        ["a", "b"],
        [(1, "x"), (2, "y")],
    )
