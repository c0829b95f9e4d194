"""Documentation in our format: a model's `-- description:` and `-- column NAME:` header lines,
`description` and `column_descriptions` of seeds and sources; `import dbt` brings dbt's
(`doc()` blocks resolved); `dag --format json` and the UI's model page show them next to each
column's type. Descriptions never change a model's version (no rebuild)."""

from __future__ import annotations

import json

import pytest
from conftest import ProjectDir, get, serving

ORDERS = """
-- description: One row per order, with what was paid.
-- description:
-- description: Refunds are not subtracted.
-- column order_id: The order's key.
-- column amount: Paid, in EUR.
-- column amount: With tax.
-- Description: a capitalised word starts prose, as before
select 1 as order_id, 9.5 as amount, 'x' as note
"""


def test_descriptions_reach_dag_json_and_the_model_page(tmp_path):
    project = ProjectDir(tmp_path / "p")
    project.write(
        "orchestrator.toml",
        """
        [seeds."main.codes"]
        description = "Country codes."
        column_descriptions = { code = "ISO 3166" }

        [sources."raw.events"]
        description = "Clicks, as the app logs them."
        column_descriptions = { ts = "When, in UTC." }
        """,
    )
    project.write("seeds/main/codes.csv", "code,name\nFR,France\n")
    project.model("main.orders", ORDERS)
    project.model("main.events", "select * from raw.events")
    project.seed("create schema raw; create table raw.events as select now() as ts")
    graph = json.loads(project.cli("dag", "--format", "json", check=True).stdout)
    models = {m["name"]: m for m in graph["models"]}
    assert models["main.orders"]["description"] == (
        "One row per order, with what was paid.\n\nRefunds are not subtracted."
    )
    assert models["main.orders"]["column_descriptions"] == {
        "order_id": "The order's key.",
        "amount": "Paid, in EUR.\nWith tax.",
    }
    assert models["main.codes"]["description"] == "Country codes."
    [source] = graph["sources"]
    assert source["column_descriptions"] == {"ts": "When, in UTC."}
    project.cli("run", check=True)
    # a description changed is no change of the model: nothing to rebuild
    project.model("main.orders", ORDERS.replace("what was paid", "what was paid for it"))
    assert "nothing to do" in project.cli("run", check=True).stdout
    with serving(project) as base:
        page = json.loads(get(f"{base}/api/models/main.orders")[1])["model"]
        assert page["description"].startswith("One row per order, with what was paid for it.")
        described = [{k: c[k] for k in ("name", "type", "description")} for c in page["columns"]]
        assert described == [
            {"name": "order_id", "type": "INTEGER", "description": "The order's key."},
            {"name": "amount", "type": "DECIMAL(2,1)", "description": "Paid, in EUR.\nWith tax."},
            {"name": "note", "type": "VARCHAR", "description": None},
        ]
        html = get(f"{base}/models/main.orders")[1]
        assert "<h2>Columns</h2>" in html and "Paid, in EUR." in html and "DECIMAL(2,1)" in html


@pytest.mark.parametrize(
    "setting,message",
    [
        ('[seeds."main.codes"]\ncolumn_descriptions = "x"', "column_descriptions must map"),
        ('[sources."raw.e"]\ncolumn_descriptions = { a = 1 }', "column_descriptions must map"),
    ],
)
def test_a_bad_description_setting_names_the_line(tmp_path, setting, message):
    project = ProjectDir(tmp_path / "p")
    project.write("orchestrator.toml", setting)
    project.write("seeds/main/codes.csv", "code\nFR\n")
    done = project.cli("plan")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "orchestrator.toml:" in line and message in line


DBT = {
    "dbt_project.yml": "name: shop\nprofile: shop\n",
    "models/docs.md": """
        {% docs status %}
        One of placed, shipped or returned.
        {% enddocs %}
        """,
    "models/schema.yml": """
        version: 2
        sources:
          - name: raw
            description: Loaded nightly.
            tables:
              - name: events
                description: "{{ doc('status') }}"
                columns:
                  - {name: ts, description: When.}
        models:
          - name: orders
            description: Orders, one row each.
            columns:
              - name: status
                description: "{{ doc('status') }}"
        seeds:
          - name: codes
            description: Codes.
            columns:
              - {name: code, description: The code.}
        """,
    "seeds/codes.csv": "code\nFR\n",
    "models/orders.sql": "select 'placed' as status",
}


def test_import_dbt_brings_the_descriptions(tmp_path):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in DBT.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root), check=True)
    model = (ours.root / "models/main/orders.sql").read_text()
    assert model.startswith(
        "-- description: Orders, one row each.\n"
        "-- column status: One of placed, shipped or returned.\n"
    )
    toml = (ours.root / "orchestrator.toml").read_text()
    assert 'description = "Codes."\ncolumn_descriptions = { "code" = "The code." }' in toml
    assert 'description = "One of placed, shipped or returned."' in toml  # the table's own
    assert 'column_descriptions = { "ts" = "When." }' in toml
    graph = json.loads(ours.cli("dag", "--format", "json", check=True).stdout)
    described = {m["name"]: m["column_descriptions"] for m in graph["models"]}
    assert described["main.orders"] == {"status": "One of placed, shipped or returned."}


def test_a_description_in_several_lines_and_a_missing_doc_block(tmp_path):
    from orchestrator.importers.dbt.convert import convert
    from orchestrator.importers.dbt.profiles import read_target
    from orchestrator.sql.dbt.project import read

    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: shop\n")
    dbt.write("models/orders.sql", "select 1 as id, 2 as amount")
    dbt.write(
        "models/schema.yml",
        """
        models:
          - name: orders
            description: "One row per order.   \\n\\nRefunds are not subtracted.\\n"
            columns:
              - {name: ID, description: "{{ doc('nowhere') }}"}
              - {name: Amount, description: "  Paid, {{ 'in' | upper }} EUR.  "}
              - {name: note}
        """,
    )
    project = read(dbt.root)
    out = convert(project, read_target(project, None))
    assert out.files["models/main/orders.sql"].startswith(
        "-- description: One row per order.\n"
        "-- description:\n"
        "-- description: Refunds are not subtracted.\n"
        "-- column amount: Paid, IN EUR.\n"  # a doc() that is not there: no description
        "-- kind: view\n"
    )
    assert [o.status for o in out.outcomes] == ["converted exactly"]
