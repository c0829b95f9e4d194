"""`import dbt` on the forms real projects give their sources, tests and macros: sources
declared over seeds (in a custom schema) and over other models, source configs written with
Jinja, `loaded_at_field` as an expression, `freshness: null`, singular tests reading several
models, and files of macros whose comments call a macro. Each project is imported, built by
the real CLI, and its tables read back."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"

SEEDED = {
    "dbt_project.yml": """
        name: kit
        profile: kit
        seeds:
          +schema: raw
        models:
          kit:
            +materialized: table
            marts:
              +schema: marts
        """,
    "profiles.yml": """
        kit:
          target: dev
          outputs:
            dev: {type: duckdb, path: kit.duckdb, schema: main}
        """,
    "seeds/orders.csv": """
        order_id,customer_id,amount,loaded
        1,10,5.5,2024-01-03
        2,11,7.0,2024-01-03
        """,
    "seeds/customers.csv": "customer_id,name\n10,ann\n11,bob\n",
    "models/sources.yml": """
        version: 2
        sources:
          - name: shop
            schema: "{{ target.schema }}_raw"
            loaded_at_field: cast(loaded as timestamp)
            freshness:
              warn_after: {count: 12, period: hour}
            tables:
              - name: orders
              - name: customers
                freshness: null
          - name: marts
            schema: main_marts
            tables:
              - name: customer_orders
          - name: landing
            schema: landing
            tables:
              - name: events
                identifier: "{{ 'ev' ~ 'ents' }}"
                loaded_at_field: "cast(ts as timestamp) + interval 1 hour"
                freshness:
                  error_after: {count: 2, period: day}
        """,
    "macros/helpers.sql": """
        -- ==========================================
        -- Usage: {{ safe_divide('a', 'b') }}
        -- ==========================================
        {% macro safe_divide(a, b) %}
            ({{ a }} / nullif({{ b }}, 0))
        {% endmacro %}
        """,
    "models/stg_orders.sql": """
        select order_id, customer_id, amount from {{ source('shop', 'orders') }}
        """,
    "models/marts/customer_orders.sql": """
        select c.customer_id, c.name, count(o.order_id) as orders,
               {{ safe_divide('sum(o.amount)', 'count(o.order_id)') }} as avg_amount
        from {{ source('shop', 'customers') }} c
        left join {{ ref('stg_orders') }} o using (customer_id)
        group by all
        """,
    "models/report.sql": """
        select name, orders from {{ source('marts', 'customer_orders') }}
        """,
    "models/event_days.sql": """
        select cast(ts as date) as day, count(*) as n from {{ source('landing', 'events') }}
        group by all
        """,
    "tests/orders_all_counted.sql": """
        -- reads an upstream model first: checking it would make a cycle
        select s.order_id from {{ ref('stg_orders') }} s
        where s.customer_id not in (select customer_id from {{ ref('report') }} r
                                    join {{ ref('customer_orders') }} c using (name))
        """,
}

LANDING = """
create schema landing;
create table landing.events as select * from (values
  (timestamp '2024-01-02 10:00'), (timestamp '2024-01-03 22:00')) t(ts);
"""


def _import(tmp_path, files):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in files.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root), now=NOW)
    return ours, done


def test_sources_over_seeds_and_models_are_read_as_those_nodes(tmp_path):
    ours, done = _import(tmp_path, SEEDED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr and "error" not in done.stdout
    toml = (ours.root / "orchestrator.toml").read_text()
    # the seeds' schema comes from the `+schema` above the project's name; their sources are
    # no declared sources of ours (a seed of that name would clash with one)
    assert '[seeds."main_raw.orders"]' in toml and '[seeds."main_raw.customers"]' in toml
    assert '[sources."main_raw.orders"]' not in toml
    assert '[sources."main_marts.customer_orders"]' not in toml
    # a source of nobody's: declared, its identifier and loaded_at as dbt renders them
    assert '[sources."landing.events"]' in toml
    assert 'loaded_at = "cast(ts as timestamp) + interval 1 hour"' in toml
    assert 'error_after = "2d"' in toml
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "`source.kit.shop.orders`" in report and "the seed main_raw.orders" in report
    assert "the model main_marts.customer_orders" in report
    ours.seed(LANDING)
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query("select * from main_marts.customer_orders order by 1") == [
        (10, "ann", 1, 5.5),
        (11, "bob", 1, 7.0),
    ]
    assert ours.query("select * from main.report order by 1") == [("ann", 1), ("bob", 1)]
    # the test that reads three models checks the last of them to be built, after the others
    check = (ours.root / "checks/orders_all_counted.sql").read_text()
    assert check.startswith("-- model: main.report\n")
    assert ours.query(
        "select status from orchestrator.check_results where check_name = 'orders_all_counted'"
    ) == [("pass",)]


def test_loaded_at_as_an_expression_judges_freshness(tmp_path):
    ours, done = _import(tmp_path, SEEDED)
    assert done.returncode == 0, done.stderr
    ours.seed(LANDING)
    # newest load: 2024-01-03 22:00 + 1 hour; at 2024-01-04 06:00 it is 7 hours old
    sources = ours.cli("freshness", now=NOW)
    assert sources.returncode == 0, sources.stdout + sources.stderr
    row = next(line for line in sources.stdout.splitlines() if "landing.events" in line)
    assert "fresh" in row and "2024-01-03 23:00" in row
    late = ours.cli("freshness", now="2024-01-06T00:00")
    row = next(line for line in late.stdout.splitlines() if "landing.events" in line)
    assert "stale" in row


def test_a_loaded_at_that_is_no_expression_is_one_line_naming_the_setting(tmp_path):
    project = ProjectDir(tmp_path / "p")
    project.write(
        "orchestrator.toml",
        """
        [sources."raw.x"]
        loaded_at = "cast(ts as"
        """,
    )
    project.model("main.m", "select * from raw.x")
    done = project.cli("plan")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {project.root / 'orchestrator.toml'}:2: source 'raw.x': ")
    assert "loaded_at 'cast(ts as': not a SQL expression: Expected TYPE after CAST" in line
    assert not project.warehouse.exists()


def test_a_declared_sources_settings_and_what_does_not_carry_over(tmp_path):
    from orchestrator.importers.dbt.convert import convert
    from orchestrator.importers.dbt.profiles import read_target
    from orchestrator.sql.dbt.project import read

    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: p\n")
    dbt.write(
        "models/sources.yml",
        """
        sources:
          - name: raw
            schema: "{{ target.schema }}_raw"
            loaded_at_field: "cast(at\\n  as timestamp)"
            freshness:
              warn_after: {count: 12, period: hour}
              error_after: {count: 1, period: week}
              filter: "at > now() - interval 1 day"
            meta: {owner: ann}
            tables:
              - name: events
                identifier: EVENTS_V2
                meta: {external_location: "data/{identifier}/*.csv"}
          - name: app
            freshness: {warn_after: {count: 1, period: day}}
            tables:
              - name: users
              - name: quiet
                freshness: null
        """,
    )
    project = read(dbt.root)
    out = convert(project, read_target(project, None))
    assert out.sources == {
        "main_raw.events_v2": {
            "path": "data/events_v2/*.csv",
            "loaded_at": "cast(at as timestamp)",
            "warn_after": "12h",
            "owner": "ann",
        },
        "app.users": {},
        "app.quiet": {},
    }
    notes = {o.node: o.notes for o in out.outcomes}
    assert notes["source.p.raw.events"] == [
        "freshness error_after {'count': 1, 'period': 'week'} not understood",
        "the freshness filter is not converted",
    ]
    assert notes["source.p.app.users"] == [
        "freshness without loaded_at_field (dbt asks the warehouse's metadata): not judged; "
        "name the column that says when rows were loaded as loaded_at"
    ]
    assert notes["source.p.app.quiet"] == []  # freshness: null turns its source's off
