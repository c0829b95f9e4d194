"""dbt's renderer (`sql.dbt.jinja`): a project's and its installed packages' macros loaded over
one namespace, rendered as dbt compiles (`return`, `adapter.dispatch`, generic tests, the native
macros), and every failure named by the file and line where it happened."""

from __future__ import annotations

import pytest

from orchestrator.sql.dbt.builtins import natives
from orchestrator.sql.dbt.errors import MissingMacro, NeedsDatabase, QueriesAtRun
from orchestrator.sql.dbt.jinja import Renderer
from orchestrator.sql.dbt.nodes import RelationName, Rendering, Target
from orchestrator.sql.dbt.project import read
from orchestrator.sql.dbt.yamlfile import ImportProblem

MACROS = """
{# a call in a comment of a macro file is never rendered: {{ never_defined() }} #}
{% macro twice(x) %}{{ x }} * 2{% endmacro %}
{% macro answer() %}{{ return(42) }}{% endmacro %}
{% macro default__greet() %}'default'{% endmacro %}
{% macro duckdb__greet() %}'duckdb'{% endmacro %}
{% macro greet() %}{{ adapter.dispatch('greet')() }}{% endmacro %}
{% macro columns() %}{{ adapter.get_columns_in_relation(this) }}{% endmacro %}
"""


@pytest.fixture
def renderer(project) -> Renderer:
    project.write("dbt_project.yml", "name: p\n")
    project.write("macros/m.sql", MACROS)
    project.write("macros/bad.sql", "{% macro broken( %}\n")
    project.write(
        "tests/generic/positive.sql",
        "{% test positive(model, column_name) %}"
        "select * from {{ model }} where {{ column_name }} < 0{% endtest %}",
    )
    project.write("dbt_packages/pk/dbt_project.yml", "name: pk\n")
    project.write("dbt_packages/pk/macros/h.sql", "{% macro hello() %}hi{% endmacro %}")
    return Renderer(read(project.root), Target("dev", "main"), natives(lambda text: None))


def node() -> Rendering:
    return Rendering("m", "models/m.sql", ["p", "m"], this=RelationName("main", "m"))


def test_macros_of_the_project_packages_and_natives_render(renderer):
    text = (
        "select {{ twice(3) }}, {{ answer() + 1 }}, {{ greet() }}, {{ pk.hello() }}, "
        "{{ hello() }}, {{ dbt.concat(['a', 'b']) }}, {{ test_positive('t', 'v') }}"
    )
    assert renderer.render(text, node()) == (
        "select 3 * 2, 43, 'duckdb', hi, hi, a || b, select * from t where v < 0"
    )
    assert renderer.call_macro("twice", 5) == "5 * 2" and renderer.call_macro("nope") is None


def test_a_return_at_the_top_is_the_rendered_text(renderer):
    assert renderer.render("{{ return('early') }} the rest", node()) == "early"


def test_a_macro_file_that_does_not_load_is_kept_as_a_problem(renderer):
    assert [str(p) for p in renderer.project.macro_problems] == [
        "macros/bad.sql:1: Jinja does not parse: expected token 'name', got '%'"
    ]


def test_the_configs_refs_and_sources_a_node_uses_are_recorded(renderer):
    rendered = node()
    renderer.render(
        "{{ config(materialized='table', tags='a') }}{{ config(tags=['b']) }}"
        "{{ ref('x') }}{{ source('s', 't') }}{{ is_incremental() }}",
        rendered,
    )
    assert rendered.config == {"materialized": "table", "tags": ["a", "b"]}
    assert (rendered.refs, rendered.sources, rendered.used) == (
        [(("x",), {})],
        [("s", "t")],
        {"is_incremental"},
    )


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "select 1\n{{ columns() }}",
            NeedsDatabase,
            "macros/m.sql:7: adapter.get_columns_in_relation() asks the database while compiling",
        ),
        (
            "select 1\n{{ run_query('x') }}",
            QueriesAtRun,
            "models/m.sql:2: run_query() queries the database while compiling",
        ),
        ("{{ dbt_utils.nope() }}", MissingMacro, "models/m.sql:1: dbt_utils.nope"),
        ("select 1\n{{ nope() }}", ImportProblem, "models/m.sql:2: does not render: undefined"),
        ("select 1\n{% if %}", ImportProblem, "models/m.sql:2: Jinja does not parse"),
        ("x\n\n{{ 1/0 }}", ImportProblem, "models/m.sql:3: does not render: division by zero"),
        (
            "x\n{{ exceptions.raise_compiler_error('boom') }}",
            ImportProblem,
            "models/m.sql:2: the project raises a compiler error: boom",
        ),
    ],
)
def test_a_failure_names_the_file_and_line_where_it_happened(renderer, text, error, message):
    with pytest.raises(error) as info:
        renderer.render(text, node())
    assert str(info.value).startswith(message)
