"""The names a dbt template sees (`sql.dbt.context`): `config`, `var`, `env_var`, `this`, `model`,
`adapter`, a package's macros, one that is not installed, and dbt's filters, read from the node
being rendered."""

from __future__ import annotations

import pytest

from orchestrator.sql.dbt.context import as_native, local_md5
from orchestrator.sql.dbt.errors import MissingMacro, MissingPackage, NeedsDatabase
from orchestrator.sql.dbt.jinja import Renderer
from orchestrator.sql.dbt.nodes import RelationName, Rendering, Target
from orchestrator.sql.dbt.project import read
from orchestrator.sql.dbt.yamlfile import ImportProblem


@pytest.fixture
def renderer(project) -> Renderer:
    project.write("dbt_project.yml", "name: p\nvars:\n  region: eu\n")
    project.write("packages.yml", "packages:\n  - package: fivetran/fivetran_utils\n")
    return Renderer(read(project.root), Target("dev", "main"), {"dbt_utils": {"x": lambda: "X"}})


def render(renderer: Renderer, text: str, **settled) -> str:
    this = RelationName("marts", "orders_v2")
    node = Rendering("orders", "models/orders.sql", ["p", "orders"], settled=settled, this=this)
    return renderer.render(text, node)


def test_config_records_and_reads_the_nodes_configs(renderer):
    text = "{{ config(materialized='table') }}{{ config.get('materialized') }}|"
    text += "{{ config.get('x', 1) }}"
    assert render(renderer, text, materialized="view") == "table|1"
    assert render(renderer, "{{ config.require('materialized') }}", materialized="view") == "view"
    with pytest.raises(ImportProblem, match="config 'unique_key' is required here and not set"):
        render(renderer, "{{ config.require('unique_key') }}")


def test_var_and_env_var_give_a_value_a_default_or_say_what_is_missing(renderer, monkeypatch):
    monkeypatch.setenv("SHOP_KEY", "k1")
    assert render(renderer, "{{ var('region') }} {{ var('nope', 'd') }}") == "eu d"
    assert render(renderer, "{{ env_var('SHOP_KEY') }} {{ env_var('SHOP_NONE', 'x') }}") == "k1 x"
    with pytest.raises(ImportProblem, match="var\\('nope'\\) has no value"):
        render(renderer, "{{ var('nope') }}")
    with pytest.raises(ImportProblem, match="env_var\\('SHOP_NONE'\\) is not set"):
        render(renderer, "{{ env_var('SHOP_NONE') }}")


def test_this_and_model_describe_the_node_being_rendered(renderer):
    text = (
        "{{ this }} {{ this.identifier }} {{ model.name }} {{ model.alias }} {{ model.schema }} "
        "{{ model.unique_id }} {{ model.get('nope', '-') }} {{ adapter.quote('a\"b') }}"
    )
    assert render(renderer, text) == (
        'marts.orders_v2 orders_v2 orders orders_v2 marts model.p.orders - "a""b"'
    )


def test_the_adapter_asks_the_database_for_anything_but_dispatch_and_quote(renderer):
    with pytest.raises(NeedsDatabase, match="adapter.get_relation\\(\\) asks the database"):
        render(renderer, "{{ adapter.get_relation('a', 'b', 'c') }}")


def test_packages_give_their_macros_and_one_not_installed_is_named(renderer):
    assert render(renderer, "{{ dbt_utils.x() }}") == "X"
    with pytest.raises(MissingMacro, match="dbt_utils.y"):
        render(renderer, "{{ dbt_utils.y() }}")
    with pytest.raises(MissingPackage, match="fivetran_utils.timestamp_add: the package"):
        render(renderer, "{{ fivetran_utils.timestamp_add('day', 1, 'x') }}")


def test_dbts_filters_read_text_as_python_does():
    assert [as_native(v) for v in (" True ", "FALSE", "[1, 2]", "3.5", "abc", 5)] == [
        True,
        False,
        [1, 2],
        3.5,
        "abc",
        5,
    ]
    assert local_md5("a") == "0cc175b9c0f1b6a831c399e269772661"
