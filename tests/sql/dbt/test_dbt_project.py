"""A dbt project as it lies on disk (`sql.dbt.project`): what `read` finds (nodes, properties,
packages, docs blocks, versions), the config dbt's folder tree gives a node, and vars as dbt
resolves them; a folder that is no dbt project is refused."""

from __future__ import annotations

import pytest

from orchestrator.sql.dbt.project import read
from orchestrator.sql.dbt.yamlfile import ImportProblem

DBT_PROJECT = """
name: shop
profile: shop
vars:
  region: eu
  day: 1
  shop:
    region: us
models:
  +tags: all
  shop:
    +materialized: view
    marts:
      +materialized: table
      +tags: [marts]
      schema: analytics
"""


@pytest.fixture
def dbt(project):
    project.write("dbt_project.yml", DBT_PROJECT)
    project.write("models/staging/stg.sql", "select 1 as id")
    project.write("models/marts/orders.sql", "select * from {{ ref('stg') }}")
    project.write(
        "models/marts/schema.yml",
        "models:\n  - name: orders\n    description: '{{ doc(\"orders\") }}'\n"
        "  - name: dim\n    latest_version: 2\n    versions:\n      - v: 1\n      - v: 2\n"
        "sources:\n  - name: raw\n    tables: [{name: events}]\n",
    )
    project.write("models/docs.md", "{% docs orders %}\nOne row per order.\n{% enddocs %}\n")
    project.write("seeds/countries.csv", "code\nfr\n")
    project.write(
        "snapshots/snap.sql",
        "-- history\n{% snapshot orders_snap %}\nselect * from {{ ref('orders') }}\n"
        "{% endsnapshot %}\n",
    )
    project.write("tests/generic/positive.sql", "{% test positive(model) %}{% endtest %}")
    project.write("tests/no_negatives.sql", "select 1 where false")
    project.write(
        "packages.yml", "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"
    )
    return project


def test_read_finds_every_node_with_its_fqn(dbt):
    found = read(dbt.root)
    nodes = {(n.kind, n.name): n for n in found.nodes}
    assert set(nodes) == {
        ("model", "stg"),
        ("model", "orders"),
        ("seed", "countries"),
        ("snapshot", "orders_snap"),
        ("test", "no_negatives"),
    }
    assert nodes[("model", "orders")].fqn == ["shop", "marts", "orders"]
    assert nodes[("model", "orders")].template() == "select * from {{ ref('stg') }}"
    # a snapshot's body keeps its lines in the file, so errors name the file's line
    assert nodes[("snapshot", "orders_snap")].template().startswith("\n\nselect * from")


def test_read_finds_properties_sources_docs_versions_and_packages(dbt):
    found = read(dbt.root)
    assert found.property_files["orders"] == "models/marts/schema.yml"
    assert [s["name"] for s in found.sources] == ["raw"]
    assert found.sources[0]["_file"] == "models/marts/schema.yml"
    assert found.docs == {"orders": "One row per order."}
    assert found.versions["dim"] == (2, {1: "dim_v1", 2: "dim_v2"})
    assert found.declared_packages == ["dbt_utils"]
    assert found.packages == [] and found.problems == []


def test_the_tree_config_deeper_folders_win_and_tags_accumulate(dbt):
    found = read(dbt.root)
    assert found.tree_config("models", ["shop", "marts", "orders"]) == {
        "tags": ["all", "marts"],
        "materialized": "table",
        "schema": "analytics",
    }
    assert found.tree_config("models", ["shop", "staging", "stg"]) == {
        "tags": ["all"],
        "materialized": "view",
    }


def test_vars_resolve_from_the_command_then_the_project_scope_then_global(dbt):
    found = read(dbt.root, {"day": 7})
    assert (found.var("day"), found.var("region")) == (7, "us")
    assert found.has_var("day") and not found.has_var("nope")
    with pytest.raises(KeyError):
        found.var("nope")


def test_a_folder_that_is_no_dbt_project_is_refused(tmp_path):
    with pytest.raises(ImportProblem, match="no such folder"):
        read(tmp_path / "missing")
    with pytest.raises(ImportProblem, match="no dbt_project.yml in .*: is it a dbt project"):
        read(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("profile: x\n")
    with pytest.raises(ImportProblem, match=r"^dbt_project\.yml: it needs a 'name'"):
        read(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("name: x\nmodel-paths: 3\n")
    with pytest.raises(ImportProblem, match="'model-paths' must be a list of folder names"):
        read(tmp_path)


def test_a_properties_file_that_does_not_parse_is_a_problem_not_a_failure(dbt):
    dbt.write("models/staging/bad.yml", "models: [\n")
    found = read(dbt.root)
    assert [p.path for p in found.problems] == ["models/staging/bad.yml"]
    assert {n.name for n in found.nodes} >= {"stg", "orders"}
