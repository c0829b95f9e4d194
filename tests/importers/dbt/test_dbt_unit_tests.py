"""dbt's unit tests as ours: imported by the real CLI into `unit_tests/`, their refs and sources
named as the import names them elsewhere, run by `orchestrator test`; what ours cannot say
reported with the reason, and a test our loader would refuse never written."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt import unit_tests
from orchestrator.project.yaml_lines import loads

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"

SHOP = {
    "dbt_project.yml": """
        name: shop
        profile: shop
        vars:
          region: us
        models:
          shop:
            +materialized: table
            marts:
              +schema: marts
        """,
    "profiles.yml": """
        shop:
          target: dev
          outputs:
            dev: {type: duckdb, path: shop.duckdb, schema: main}
        """,
    "seeds/raw_orders.csv": "id,customer,amount,ordered_at\n1,ann,10.5,2024-01-02\n",
    "models/sources.yml": """
        version: 2
        sources:
          - name: crm
            schema: crm
            tables: [{name: customers}]
        """,
    "models/stg_orders.sql": """
        select id as order_id, customer, amount, cast(ordered_at as date) as order_date
        from {{ ref('raw_orders') }}
        """,
    "models/cheap.sql": """
        {{ config(materialized='ephemeral') }}
        select * from {{ ref('stg_orders') }} where amount < 5
        """,
    "models/marts/big_orders.sql": """
        select order_id, amount from {{ ref('stg_orders') }} where amount >= 10
        """,
    "models/marts/customers.sql": """
        {{ config(materialized='incremental', unique_key='id') }}
        select id, name, updated_at from {{ source('crm', 'customers') }}
        {% if is_incremental() %}
        where updated_at > (select max(updated_at) from {{ this }})
        {% endif %}
        """,
    "models/marts/cheap_count.sql": "select count(*) as n from {{ ref('cheap') }}",
    "models/marts/regional.sql": "select '{{ var(\"region\") }}' as region, count(*) as n "
    "from {{ ref('stg_orders') }}",
    "tests/fixtures/two_orders.csv": "id,customer,amount,ordered_at\n1,a,1,2024-01-01\n"
    "2,b,2,2024-01-02\n",
    "models/marts/schema.yml": """
        version: 2
        unit_tests:
          - name: keeps_big_orders
            model: big_orders
            description: Only orders of 10 or more.
            given:
              - input: ref('stg_orders')
                rows:
                  - {order_id: 1, amount: 12.0}
                  - {order_id: 2, amount: 3}
            expect:
              rows:
                - {order_id: 1, amount: 12}
          - name: merges_only_newer
            model: customers
            overrides:
              macros:
                is_incremental: true
            given:
              - input: source('crm', 'customers')
                format: csv
                rows: |
                  id,name,updated_at
                  1,ann,2024-01-01 00:00:00
                  2,bob,2024-01-03 00:00:00
              - input: this
                format: sql
                rows: "select 1 as id, 'ann' as name, timestamp '2024-01-02' as updated_at"
            expect:
              format: sql
              rows: "select 2 as id, 'bob' as name"
          - name: fails_on_purpose
            model: big_orders
            given:
              - input: ref('stg_orders')
                rows: [{order_id: 1, amount: 12.0}]
            expect:
              rows: [{order_id: 1, amount: 13}]
          - name: reads_an_ephemeral
            model: cheap_count
            given:
              - input: ref('cheap')
                format: sql
                rows: select 1 as order_id
            expect: {rows: [{n: 1}]}
          - name: stands_in_for_a_macro
            model: big_orders
            overrides:
              macros: {current_timestamp: "'2024-01-01'"}
            given: [{input: "ref('stg_orders')", rows: []}]
            expect: {rows: []}
          - name: another_region
            model: regional
            overrides:
              vars: {region: eu}
            given: [{input: "ref('stg_orders')", rows: []}]
            expect: {rows: []}
          - name: leaves_an_input_out
            model: regional
            given: []
            expect: {rows: []}
          - name: turned_off
            model: regional
            config: {enabled: false}
            given: []
            expect: {rows: []}
        """,
    "models/schema.yml": """
        version: 2
        unit_tests:
          - name: keeps_big_orders
            model: stg_orders
            overrides:
              vars: {unused: 1}
            given:
              - input: ref('raw_orders')
                format: csv
                fixture: two_orders
            expect:
              rows:
                - {order_id: 1, customer: a, amount: 1.0, order_date: 2024-01-01}
                - {order_id: 2, customer: b, amount: 2.0, order_date: "2024-01-02"}
        """,
}


def imported(tmp_path, files=SHOP):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in files.items():
        dbt.write(rel, text)
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root), now=NOW)
    return dbt, out, done


def row(report: str, test: str) -> str:
    """The report's row of `model.name`."""
    return next(line for line in report.splitlines() if f"`unit_test.shop.{test}`" in line)


def test_unit_tests_are_converted_run_and_what_cannot_be_is_reported(tmp_path):
    dbt, ours, done = imported(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # some need a hand
    files = sorted(p.name for p in (ours.root / "unit_tests").iterdir())
    assert files == ["models_marts_schema.yml", "models_schema.yml"]  # one stem: paths
    marts = (ours.root / "unit_tests/models_marts_schema.yml").read_text()
    assert marts.startswith("# dbt's unit tests, converted by `orchestrator import dbt`")
    tests = loads(marts, "x")["unit_tests"]
    assert [t["name"] for t in tests] == [
        "keeps_big_orders",
        "merges_only_newer",
        "fails_on_purpose",
    ]
    first, merge, _ = tests
    assert first["model"] == "main_marts.big_orders" and first["description"]
    assert first["given"] == [
        {
            "input": "main.stg_orders",
            "rows": [{"order_id": 1, "amount": 12.0}, {"order_id": 2, "amount": 3}],
        }
    ]
    assert merge["is_incremental"] is True and merge["given"][0]["input"] == "crm.customers"
    assert merge["given"][0]["format"] == "csv" and merge["given"][1]["input"] == "this"
    staging = loads((ours.root / "unit_tests/models_schema.yml").read_text(), "y")["unit_tests"]
    assert staging[0]["name"] == "stg_orders__keeps_big_orders"  # the name is taken
    assert staging[0]["given"][0]["rows"].startswith("id,customer,amount,ordered_at\n1,a,1")

    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "unit_tests/models_marts_schema.yml: keeps_big_orders" in row(
        report, "big_orders.keeps_big_orders"
    )
    staged = row(report, "stg_orders.keeps_big_orders")
    assert "unit_tests/models_schema.yml: stg_orders__keeps_big_orders" in staged
    assert "renamed stg_orders__keeps_big_orders: another model's test has its name" in staged
    assert "overrides var unused: dropped, the model does not read it" in staged
    assert "input ref('cheap'): an ephemeral model, inlined into ours as a CTE" in row(
        report, "cheap_count.reads_an_ephemeral"
    )
    assert "overrides macros current_timestamp: ours stand in for is_incremental only" in row(
        report, "big_orders.stands_in_for_a_macro"
    )
    assert "overrides var region: the import rendered the model with the project's value" in row(
        report, "regional.another_region"
    )
    hand = row(report, "regional.leaves_an_input_out")
    assert (
        "not kept: our unit tests refuse it: given: main_marts.regional reads main.stg_orders"
        in hand
    )
    assert "turned_off" not in report

    out = ours.cli("test", now=NOW)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ok   keeps_big_orders ")
    assert lines[1].startswith("ok   merges_only_newer ")
    assert lines[2].startswith("FAIL fails_on_purpose ")
    assert lines[4:7] == [
        "         order_id  amount",
        "       - 1         13.0",
        "       + 1         12.0",
    ]
    assert lines[7].startswith("ok   stg_orders__keeps_big_orders ")
    assert lines[-1].startswith("4 unit tests: 3 passed, 1 failed")


def test_a_reimport_replaces_the_unit_tests_it_wrote(tmp_path):
    files = {k: v for k, v in SHOP.items() if k != "models/schema.yml"}
    _, ours, done = imported(tmp_path, files)
    assert (ours.root / "unit_tests/schema.yml").exists()
    dbt = ProjectDir(tmp_path / "dbt")
    (dbt.root / "models/marts/schema.yml").unlink()
    again = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root), "--force", now=NOW)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not (ours.root / "unit_tests").exists()


def test_a_packages_unit_tests_are_its_own(tmp_path):
    files = {
        "dbt_project.yml": "name: p\nprofile: p\n",
        "models/m.sql": "select 1 as x",
        "dbt_packages/lib/dbt_project.yml": "name: lib\n",
        "dbt_packages/lib/models/l.sql": "select 2 as y",
        "dbt_packages/lib/models/schema.yml": "unit_tests:\n  - {name: t, model: l, given: [], "
        "expect: {rows: [{y: 2}]}}\n",
        "models/schema.yml": "unit_tests:\n  - {name: u, model: m, given: [], "
        "expect: {rows: [{x: 1}]}}\n",
    }
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in (ours.root / "unit_tests").iterdir()] == ["schema.yml"]
    assert ours.cli("test").returncode == 0


def test_file_names_and_inputs():
    assert unit_tests._file_names(["a/schema.yml", "b/schema.yml", "c/x.yml"]) == {
        "a/schema.yml": "a_schema",
        "b/schema.yml": "b_schema",
        "c/x.yml": "x",
    }
    dumped = unit_tests.dump(
        [{"name": "t", "given": [{"input": "a.b", "format": "csv", "rows": "a\n1\n"}]}]
    )
    assert "rows: |\n      a\n      1\n" in dumped
