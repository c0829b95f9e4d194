"""`orchestrator import dbt` on dbt projects the tests write themselves: converted, built by
the real CLI, and the tables checked row by row; bad input is one line naming the file and
line, with the exit codes the README gives. What each module of the importer does on its own is
tested beside this file (test_dbt_<module>.py)."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

SHOP = {
    "dbt_project.yml": """
        name: shop
        version: "1.0"
        profile: shop
        vars:
          min_amount: 0
          shop:
            currency: EUR
        models:
          shop:
            +materialized: table
            staging:
              +materialized: view
              +schema: stg
              +tags: ["staging"]
            marts:
              +meta:
                owner: finance
        """,
    "profiles.yml": """
        shop:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: shop.duckdb
              schema: analytics
            prod:
              type: duckdb
              path: prod.duckdb
              schema: prod
        """,
    "models/staging/_sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: raw
            loaded_at_field: _loaded_at
            freshness:
              warn_after: {count: 12, period: hour}
              error_after: {count: 1, period: day}
            tables:
              - name: orders
                config:
                  event_time: order_date
              - name: customers
                freshness: null
        models:
          - name: stg_orders
            config:
              event_time: order_date
            columns:
              - name: order_id
                data_tests: [unique, not_null]
              - name: status
                data_tests:
                  - accepted_values:
                      values: ['placed', 'shipped', 'returned']
              - name: customer_id
                data_tests:
                  - relationships:
                      to: ref('stg_customers')
                      field: customer_id
                      config:
                        severity: warn
              - name: amount
                data_tests:
                  - not_null:
                      config:
                        where: "status <> 'returned'"
                  - dbt_utils.accepted_range:
                      min_value: 0
          - name: customer_totals
            data_tests:
              - dbt_utils.unique_combination_of_columns:
                  combination_of_columns: [customer_id, name]
              - dbt_utils.expression_is_true:
                  expression: "placed_amount >= 0"
        """,
    "models/staging/stg_orders.sql": """
        -- Orders, cleaned.
        select id as order_id, customer_id, status, amount, order_date
        from {{ source('raw', 'orders') }}
        where amount >= {{ var('min_amount') }}
        """,
    "models/staging/stg_customers.sql": """
        {{ config(alias='customers') }}
        select id as customer_id, {{ cents_to_units('balance_cents') }} as balance, name,
               '{{ var("currency") }}' as currency
        from {{ source('raw', 'customers') }}
        """,
    "models/staging/int_paid.sql": """
        {{ config(materialized='ephemeral') }}
        select * from {{ ref('stg_orders') }} where status <> 'returned'
        """,
    "models/staging/int_big.sql": """
        {{ config(materialized='ephemeral') }}
        with x as (select * from {{ ref('int_paid') }})
        select * from x where amount > 10
        """,
    "macros/money.sql": """
        {% macro cents_to_units(col) -%}
          ({{ col }} / 100.0)::decimal(18, 2)
        {%- endmacro %}
        {% macro statuses() %}{{ return(['placed', 'shipped']) }}{% endmacro %}
        {% macro shout(x) %}{{ return(adapter.dispatch('shout')(x)) }}{% endmacro %}
        {% macro default__shout(x) %}upper({{ x }}){% endmacro %}
        """,
    "models/marts/revenue_daily.sql": """
        {{ config(materialized='incremental', incremental_strategy='microbatch',
                  event_time='order_date', begin='2024-01-01', batch_size='day') }}
        select order_date, count(*) as orders, sum(amount) as revenue
        from {{ ref('stg_orders') }} o
        group by order_date
        """,
    "models/marts/customer_totals.sql": """
        {% set kinds = statuses() %}
        with big as (select * from {{ ref('int_big') }})
        select c.customer_id, {{ shout('c.name') }} as name,
        {% for k in kinds %}
          sum(case when o.status = '{{ k }}' then o.amount else 0 end) as {{ k }}_amount
          {%- if not loop.last %},{% endif %}
        {% endfor %}
        from {{ ref('stg_customers') }} c left join big o on o.customer_id = c.customer_id
        group by all
        """,
    "tests/no_negative_revenue.sql": """
        {{ config(severity='warn') }}
        select * from {{ ref('revenue_daily') }} where revenue < 0
        """,
}

RAW = """
create schema raw;
create table raw.orders as select * from (values
  (1, 10, 'placed', 25.0, date '2024-01-01', timestamp '2024-01-03 23:00'),
  (2, 10, 'shipped', 5.0, date '2024-01-01', timestamp '2024-01-03 23:00'),
  (3, 11, 'returned', 40.0, date '2024-01-02', timestamp '2024-01-03 23:00'),
  (4, 11, 'placed', 60.0, date '2024-01-03', timestamp '2024-01-03 23:00'))
  t(id, customer_id, status, amount, order_date, _loaded_at);
create table raw.customers as select * from (values
  (10, 12345, 'ann', timestamp '2024-01-03 23:00'),
  (11, 500, 'bob', timestamp '2024-01-03 23:00'))
  t(id, balance_cents, name, _loaded_at);
"""

NOW = "2024-01-04T06:00"


def dbt_project(root, files: dict[str, str]):
    folder = ProjectDir(root)
    for rel, text in files.items():
        folder.write(rel, text)
    return folder


def imported(tmp_path, files=SHOP, *args):
    dbt = dbt_project(tmp_path / "shop", files)
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root), *args, now=NOW)
    return dbt, out, done


def test_a_dbt_project_imports_and_builds_the_same_tables(tmp_path):
    dbt, ours, done = imported(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "converted exactly" in done.stdout and "next: cd " in done.stdout
    assert sorted(p.relative_to(ours.root).as_posix() for p in ours.root.rglob("*.sql")) == [
        "checks/no_negative_revenue.sql",
        "checks/stg_orders__not_null_amount.sql",
        "models/analytics/customer_totals.sql",
        "models/analytics/revenue_daily.sql",
        "models/analytics_stg/customers.sql",
        "models/analytics_stg/stg_orders.sql",
    ]
    ours.seed(RAW)
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query("select * from analytics.revenue_daily order by 1") == [
        (d, n, r)
        for d, n, r in [
            (_date("2024-01-01"), 2, 30.0),
            (_date("2024-01-02"), 1, 40.0),
            (_date("2024-01-03"), 1, 60.0),
        ]
    ]
    assert ours.query("select * from analytics.customer_totals order by 1") == [
        (10, "ANN", 25.0, 0.0),  # the ephemeral chain drops returned and small orders
        (11, "BOB", 60.0, 0.0),
    ]
    assert ours.query("select balance, currency from analytics_stg.customers order by 1") == [
        (_dec("5.00"), "EUR"),
        (_dec("123.45"), "EUR"),
    ]
    # views stay views; the microbatch model is partitioned by day from `begin`
    assert ours.query(
        "select table_schema || '.' || table_name, table_type from information_schema.tables "
        "where table_schema like 'analytics%' order by 1"
    ) == [
        ("analytics.customer_totals", "BASE TABLE"),
        ("analytics.revenue_daily", "BASE TABLE"),
        ("analytics_stg.customers", "VIEW"),
        ("analytics_stg.stg_orders", "VIEW"),
    ]
    assert ours.query(
        "select partition_key from orchestrator.partitions "
        "where model = 'analytics.revenue_daily' order by 1"
    ) == [("2024-01-01",), ("2024-01-02",), ("2024-01-03",)]
    # the tests became checks, and ran
    assert ours.query(
        "select check_name, max(status) from orchestrator.check_results group by 1 order by 1"
    ) == [
        ("accepted_values(status, 'placed', 'shipped', 'returned')", "pass"),
        ("expression(amount is null or (amount >= 0))", "pass"),  # dbt_utils.accepted_range
        ("expression(placed_amount >= 0)", "pass"),  # dbt_utils.expression_is_true
        ("no_negative_revenue", "pass"),  # a singular test
        ("not_null(order_id)", "pass"),
        ("relationships(customer_id, analytics_stg.customers.customer_id)", "pass"),
        ("stg_orders__not_null_amount", "pass"),  # not_null with `where`: a check file
        ("unique(customer_id, name)", "pass"),  # unique_combination_of_columns
        ("unique(order_id)", "pass"),
    ]
    model = (ours.root / "models/analytics_stg/stg_orders.sql").read_text()
    assert "-- check warn: relationships(customer_id, " in model  # severity: warn
    assert "-- severity: warn" in (ours.root / "checks/no_negative_revenue.sql").read_text()
    # the microbatch model reads its inputs filtered to the partition, with the alias kept
    daily = (ours.root / "models/analytics/revenue_daily.sql").read_text()
    assert "order_date < {{ end }}) o\n" in daily
    assert "-- owner: finance\n" in daily  # meta.owner from the folder's +meta
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "| `model.shop.stg_customers` | `models/staging/stg_customers.sql` | " in report
    assert "| stg.customers (models/staging/stg_customers.sql) |" not in report
    assert "| analytics_stg.customers (models/staging/stg_customers.sql) | " in report
    # the dbt project is untouched
    assert sorted(p.name for p in dbt.root.iterdir()) == [
        "dbt_project.yml",
        "macros",
        "models",
        "profiles.yml",
        "tests",
    ]


def _date(text):
    from datetime import date

    return date.fromisoformat(text)


def _dec(text):
    from decimal import Decimal

    return Decimal(text)


MINI = {
    "dbt_project.yml": "name: mini\nprofile: mini\n",
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select id from {{ ref('a') }}",
}


def test_no_dbt_project_is_one_line_and_nothing_is_written(tmp_path):
    (tmp_path / "empty").mkdir()
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(tmp_path / "empty"), "--out", str(out.root))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: no dbt_project.yml in {tmp_path / 'empty'}: is it a dbt project?"
    ]
    assert not out.root.exists()


def test_yaml_that_does_not_parse_names_the_file_and_line(tmp_path):
    _, ours, done = imported(tmp_path, {"dbt_project.yml": "name: x\nmodels:\n  - [oops\n"})
    assert done.returncode == 2
    assert done.stderr.startswith("error: dbt_project.yml:4: YAML does not parse")
    assert len(done.stderr.strip().splitlines()) == 1 and not ours.root.exists()
    # in a properties file: that file is reported, the models are still converted
    files = {**MINI, "models/schema.yml": "models:\n  - name: a\n    columns: [\n"}
    _, ours, done = imported(tmp_path / "2", files)
    assert done.returncode == 1
    assert "error: models/schema.yml:4: YAML does not parse" in done.stderr
    assert (ours.root / "models/main/b.sql").exists()
    assert (
        "models/schema.yml:4: YAML does not parse" in (ours.root / "IMPORT_REPORT.md").read_text()
    )


def test_a_macro_that_fails_names_its_own_file_and_line(tmp_path):
    files = {
        **MINI,
        "macros/m.sql": (
            "{% macro boom() %}\n  {{ exceptions.raise_compiler_error('no way') }}\n{% endmacro %}"
        ),
        "models/c.sql": "select {{ boom() }} as x",
        "models/d.sql": "select {{ not_defined_anywhere }} as x",
    }
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 1
    lines = sorted(done.stderr.strip().splitlines())
    assert lines == [
        "error: macros/m.sql:2: the project raises a compiler error: no way",
        "error: models/d.sql:1: does not render: undefined: 'not_defined_anywhere' is undefined",
    ]


def test_what_needs_the_database_or_another_language_needs_a_hand(tmp_path):
    files = {
        **MINI,
        "models/q.sql": "{% set r = run_query('select 1') %}select 1 as x",
        "models/p.py": "def model(dbt, session):\n    return None\n",
        "snapshots/s.sql": "{% snapshot s %}select 1{% endsnapshot %}",
    }
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 1
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "run_query() queries the database while compiling" in report
    assert "Python models are not converted" in report
    # a snapshot with no unique_key (dbt refuses it too) is named, with why
    assert (
        "| `snapshot.mini.s` | `snapshots/s.sql` |  | snapshots/s.sql: a snapshot needs a "
        "unique_key (dbt refuses it without one too) |" in report
    )
    # only what cannot be converted: exit 2
    _, _, done = imported(tmp_path / "2", {"dbt_project.yml": "name: p\n", "models/p.py": ""})
    assert done.returncode == 2


def test_schemas_follow_the_target_the_custom_mode_and_the_projects_own_macro(tmp_path):
    _, ours, done = imported(tmp_path, SHOP, "--target", "prod")
    assert done.returncode == 0, done.stderr
    assert (ours.root / "models/prod_stg/customers.sql").exists()
    _, ours, done = imported(tmp_path / "2", SHOP, "--schemas", "custom")
    assert (ours.root / "models/stg/customers.sql").exists()
    assert (ours.root / "models/analytics/revenue_daily.sql").exists()
    own = {
        **SHOP,
        "macros/schemas.sql": """
            {% macro generate_schema_name(custom_schema_name, node) -%}
              {{ custom_schema_name | trim if custom_schema_name else 'core' }}
            {%- endmacro %}
            """,
    }
    _, ours, done = imported(tmp_path / "3", own)
    assert done.returncode == 0, done.stderr
    assert (ours.root / "models/stg/customers.sql").exists()
    assert (ours.root / "models/core/revenue_daily.sql").exists()
    _, _, done = imported(tmp_path / "4", SHOP, "--target", "qa")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: profiles.yml: no target 'qa' in profile 'shop' (it has dev, prod)"
    )


UTILS = {
    "dbt_project.yml": (
        "name: u\nmodels:\n  u:\n    +materialized: table\n  mypkg:\n    +schema: pkg\n"
    ),
    "models/base.sql": """
        select * from (values (1, 'x', 'placed', 10, 'hidden'), (2, null, 'shipped', 5, 'h'),
                              (3, 'z', 'placed', 7, 'h')) t(id, code, status, amount, secret)
        """,
    "models/other.sql": "select 4 as id, 'w' as code, 'placed' as status, 1 as amount",
    "models/keys.sql": """
        select id, {{ dbt_utils.generate_surrogate_key(['id', 'code']) }} as sk,
               {{ dbt_utils.surrogate_key(['id', 'code']) }} as old_sk,
               {{ dbt_utils.safe_cast("length(code)", dbt.type_int()) }} as code_int,
               {{ dbt.dateadd('day', 2, "date '2024-01-30'") }} as later,
               {{ dbt.datediff("date '2024-01-01'", "date '2024-03-01'", 'month') }} as months,
               {{ dbt.concat(["'a'", "code"]) }} as joined
        from {{ ref('base') }}
        """,
    "models/starred.sql": "select {{ dbt_utils.star(from=ref('base'), except=['secret']) }} "
    "from {{ ref('base') }}",
    "models/unioned.sql": "{{ dbt_utils.union_relations([ref('starred'), ref('other')]) }}",
    "models/pivoted.sql": """
        select code, {{ dbt_utils.pivot('status', ['placed', 'shipped']) }}
        from {{ ref('base') }} {{ dbt_utils.group_by(1) }}
        """,
    "models/spine.sql": """
        {{ dbt_utils.date_spine('day', "cast('2024-01-01' as date)",
                                "cast('2024-01-04' as date)") }}
        """,
    "models/long.sql": """
        {{ dbt_utils.unpivot(ref('other'), exclude=['id'], field_name='f', value_name='v') }}
        """,
    "models/tests.yml": """
        models:
          - name: base
            columns:
              - name: code
                data_tests: [dbt_utils.at_least_one, dbt_utils.not_empty_string]
              - name: status
                data_tests:
                  - dbt_utils.not_constant
                  - dbt_utils.cardinality_equality:
                      to: ref('starred')
                      field: status
              - name: amount
                data_tests:
                  - positive:
                      allow_zero: true
                  - is_even:
                      config:
                        severity: warn
              - name: id
                data_tests:
                  - dbt_utils.relationships_where:
                      to: ref('starred')
                      field: id
                      from_condition: "id < 3"
                  - relationships:
                      to: ref('starred')
                      field: id
          - name: starred
            data_tests:
              - dbt_utils.equal_rowcount:
                  compare_model: ref('base')
          - name: keys
            columns:
              - name: later
                data_tests:
                  - dbt_utils.recency:
                      datepart: day
                      field: later
                      interval: 1
                      config:
                        severity: warn
        """,
    "tests/generic/is_even.sql": """
        {% test is_even(model, column_name) %}
        select * from {{ model }} where {{ column_name }} % 2 <> 0
        {% endtest %}
        """,
    "macros/positive.sql": """
        {% test positive(model, column_name, allow_zero=false) -%}
        select * from {{ model }} where {{ column_name }} {{ '<' if allow_zero else '<=' }} 0
        {%- endtest %}
        """,
    "dbt_packages/mypkg/dbt_project.yml": (
        "name: mypkg\nmodels:\n  mypkg:\n    +materialized: view\n"
    ),
    "dbt_packages/mypkg/models/pkg_numbers.sql": "select 1 as n",
    "models/from_pkg.sql": "select n from {{ ref('mypkg', 'pkg_numbers') }}",
    "dbt_packages/mypkg/macros/twice.sql": "{% macro twice(x) %}({{ x }} * 2){% endmacro %}",
    "models/packaged.sql": "select {{ mypkg.twice(2) }} as a, {{ twice(3) }} as b",
    "models/needs_data.sql": """
        {% set values = dbt_utils.get_column_values(ref('base'), 'status') %}
        select 1 as x
        """,
}


def test_dbt_utils_and_cross_database_macros_are_expanded_natively(tmp_path):
    _, ours, done = imported(tmp_path, UTILS)
    assert done.returncode == 0, done.stdout + done.stderr
    # get_column_values reads the data: rendered when the model runs
    assert "-- renderer: dbt" in (ours.root / "models/main/needs_data.sql").read_text()
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query(
        "select id, sk = md5('1-x'), old_sk = md5('1-x'), code_int, later, months, joined "
        "from main.keys order by id"
    ) == [
        (1, True, True, 1, _ts("2024-02-01"), 2, "ax"),
        (2, False, False, None, _ts("2024-02-01"), 2, None),
        (3, False, False, 1, _ts("2024-02-01"), 2, "az"),
    ]
    assert ours.scalar("select sk from main.keys where id = 2") == ours.scalar(
        "select md5('2-_dbt_utils_surrogate_key_null_')"
    )
    assert ours.scalar("select old_sk from main.keys where id = 2") == ours.scalar(
        "select md5('2-')"
    )
    assert [
        c
        for (c,) in ours.query(
            "select column_name from information_schema.columns where table_name = 'starred' "
            "order by ordinal_position"
        )
    ] == ["id", "code", "status", "amount"]
    assert ours.query("select id, _dbt_source_relation from main.unioned order by id") == [
        (1, '"main"."main"."starred"'),
        (2, '"main"."main"."starred"'),
        (3, '"main"."main"."starred"'),
        (4, '"main"."main"."other"'),
    ]
    assert ours.query("select * from main.pivoted order by code nulls last") == [
        ("x", 1, 0),
        ("z", 1, 0),
        (None, 0, 1),
    ]
    assert ours.scalar("select count(*) from main.spine") == 3
    assert ours.query("select f, v from main.long order by f") == [
        ("amount", "1"),
        ("code", "w"),
        ("status", "placed"),
    ]
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "union_relations: columns matched by name" in report
    assert ours.query("select a, b from main.packaged") == [(4, 6)]  # an installed package
    assert ours.query("select * from main.from_pkg") == [(1,)]  # and its model, a view
    assert (ours.root / "models/main_pkg/pkg_numbers.sql").read_text().startswith("-- kind: view")
    assert "relationships" not in (ours.root / "models/main/base.sql").read_text()
    assert (
        "-- model: main.starred\n" in (ours.root / "checks/base__relationships_id.sql").read_text()
    )
    assert "checked as starred is built (it reads base)" in report
    assert dict(ours.query("select check_name, status from orchestrator.check_results")) == {
        "base__at_least_one_code": "pass",
        "expression(code is null or trim(code) <> '')": "pass",
        "base__not_constant_status": "pass",
        "base__cardinality_equality_status": "pass",
        "base__relationships_where_id": "pass",
        "base__relationships_id": "pass",  # starred reads base: checked as starred is built
        "starred__equal_rowcount": "pass",
        "keys__recency_later": "warn",  # 2024-02-01 is long ago
        "base__positive_amount": "pass",  # the project's own generic tests
        "base__is_even_amount": "warn",
    }


def _ts(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


CONFIGS = {
    "dbt_project.yml": """
        name: configs
        models:
          configs:
            +materialized: table
            legacy:
              +enabled: "{{ target.name == 'prod' }}"
            reporting:
              +schema: "{{ target.name }}_reports"
        """,
    "models/reporting/board.sql": "select 1 as x",
    "models/sources.yml": """
        sources:
          - name: files
            meta:
              external_location: "data/{name}.csv"
            tables:
              - name: events
        models:
          - name: owned
            config:
              group: growth
              tags: ["daily"]
        """,
    "models/owned.sql": """
        {{ config(tags=['kpi']) }}
        select '{{ env_var("IMPORT_TEST_REGION", "eu") }}' as region, count(*) as n
        from {{ source('files', 'events') }}
        """,
    "models/legacy/old.sql": "select * from {{ ref('nope_this_is_off') }}",
    "data/events.csv": "id\n1\n2\n",
}


def test_configs_env_vars_disabled_models_groups_and_external_sources(tmp_path):
    dbt = dbt_project(tmp_path / "configs", CONFIGS)
    out = ProjectDir(tmp_path / "ours")
    args = ("import", "dbt", str(dbt.root), "--out", str(out.root))
    done = out.cli(*args, env={"IMPORT_TEST_REGION": "us"})
    assert done.returncode == 0, done.stderr  # the disabled model's bad ref is never read
    text = (out.root / "models/main/owned.sql").read_text()
    assert "-- owner: growth\n-- tags: daily, kpi\n" in text  # tags accumulate
    assert "select 'us' as region" in text
    assert not (out.root / "models/main/old.sql").exists()  # enabled only on prod
    assert (out.root / "models/main_dev_reports/board.sql").exists()  # Jinja in YAML, rendered
    report = (out.root / "IMPORT_REPORT.md").read_text()
    assert "disabled (enabled: false)" in report
    assert "env_var('IMPORT_TEST_REGION') rendered as its value at import time" in report
    assert (
        '[sources."files.events"]\npath = "data/{name}.csv"'
        not in (out.root / "orchestrator.toml").read_text()
    )
    assert (
        '[sources."files.events"]\npath = "data/events.csv"'
        in (out.root / "orchestrator.toml").read_text()
    )
    (out.root / "data").mkdir()
    (out.root / "data/events.csv").write_text("id\n1\n2\n")
    run = out.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.query("select * from main.owned") == [("us", 2)]


def test_dbt_filters_as_bool_as_number_as_text(tmp_path):
    files = {
        "dbt_project.yml": "name: f\nprofile: f\nvars:\n  flag: 'False'\n  n: '3'\n",
        "models/off.sql": "{{ config(enabled=var('flag') | as_bool) }}\nselect 1 as x",
        "models/kept.sql": (
            "select {{ var('n') | as_number + 1 }} as n, '{{ 5 | as_text }}' as t, "
            "{{ 'true' | as_native }} as b"
        ),
    }
    _, ours, done = imported(tmp_path, files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (ours.root / "models/main/off.sql").exists()
    assert ours.cli("run", now=NOW).returncode == 0
    assert ours.query("select * from main.kept") == [(4, "5", True)]
