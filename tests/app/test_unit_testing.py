"""Unit tests run: each on its own in-memory DuckDB, the model's SQL rendered as a run renders
it, its rows compared with the expected ones, a failure shown as the rows that differ."""

from __future__ import annotations

import pytest

from orchestrator.app import unit_testing
from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import UsageError
from orchestrator.core.row_diff import MISSING, SAME, UNEXPECTED, table

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

ORDERS = """
-- kind: incremental
-- partition_by: order_date
-- start: 2026-10-01
select order_id, cast(order_ts as date) as order_date, amount, upper(currency) as currency
from raw.orders
where cast(order_ts as date) >= {{ start }} and cast(order_ts as date) < {{ end }}
"""

LEAKY = """
-- kind: incremental
-- partition_by: order_date
-- start: 2026-10-01
select order_id, cast(order_ts as date) as order_date from raw.orders
"""

MERGE = """
-- kind: incremental
-- unique_key: id
select id, name, updated_at from raw.customers
{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}
"""


@pytest.fixture
def shop(project):
    project.write(
        "orchestrator.toml",
        '[vars]\nregion = "us"\n\n[sources."raw.orders"]\n'
        'columns = { order_id = "BIGINT", order_ts = "TIMESTAMP", amount = "DECIMAL(18,2)" }\n',
    )
    project.model("staging.orders", ORDERS)
    project.model("staging.leaky", LEAKY)
    project.model(
        "marts.daily",
        "select order_date, count(*) as orders, sum(amount) as revenue, "
        "{{ var('region') }} as region from staging.orders group by all",
    )
    project.model("marts.customers", MERGE)
    project.write("seeds/fx.csv", "currency,rate\nUSD,1.0\nEUR,1.1\n")
    project.model(
        "marts.converted",
        "select o.order_id, o.amount * f.rate as usd from staging.orders o "
        "join fx f using (currency)",
    )
    return project


def run(project, text: str, *words: str) -> unit_testing.Report:
    project.write("unit_tests/shop.yml", text)
    return unit_testing.run(open_workspace(project.root), words)


def only(project, text: str) -> unit_testing.Result:
    (result,) = run(project, text).results
    return result


WINDOW = """
unit_tests:
  - name: keeps_its_day
    model: orders
    window: 2026-10-03
    given:
      - input: raw.orders
        format: csv
        rows: |
          order_id,order_ts,amount,currency
          1,2026-10-02 23:59:59,1.00,usd
          2,2026-10-03 00:00:00,2.50,eur
          3,2026-10-04 00:00:00,9.00,usd
    expect:
      rows:
        - {order_id: 2, order_date: "2026-10-03", amount: 2.5, currency: EUR}
"""


def test_a_passing_test_renders_the_window_and_compares_with_coercion(shop):
    report = run(shop, WINDOW)
    (result,) = report.results
    assert result.passed and result.error is None and result.notes == ()
    assert result.diff.matched == 1 and report.exit_code == 0
    assert 0 < result.millis < 1000 and report.millis >= result.millis
    assert not shop.warehouse.exists()  # nothing written: not even a warehouse


def test_a_failing_test_shows_the_rows_that_differ(shop):
    result = only(shop, WINDOW.replace("currency: EUR}", "currency: eur}\n        - {order_id: 9}"))
    assert not result.passed and result.error is None and result.diff.matched == 0
    assert table(result.diff) == [
        "  order_id  order_date  amount  currency",
        "- 2         2026-10-03  2.50    eur",
        "+ 2         2026-10-03  2.50    EUR",
        "- 9         NULL        NULL    NULL",
    ]
    assert unit_testing.Report((result,), 1.0).exit_code == 1


def test_rows_a_run_would_refuse_outside_the_window_fail_the_test(shop):
    result = only(
        shop,
        """
        unit_tests:
          - name: leaks
            model: leaky
            window: 2026-10-03
            given:
              - input: raw.orders
                rows:
                  - {order_id: 1, order_ts: 2026-10-03 10:00:00}
                  - {order_id: 2, order_ts: 2026-10-05 10:00:00}
            expect:
              rows:
                - {order_id: 1}
                - {order_id: 2}
        """,
    )
    assert result.diff.passed and not result.passed
    (note,) = result.notes
    assert note.startswith("unit_tests/shop.yml:2: 1 row(s) outside the partition 2026-10-03")
    assert "(order_date 2026-10-05): a run would refuse them" in note


def test_vars_of_the_test_win_over_the_projects_and_types_coerce(shop):
    text = """
    unit_tests:
      - name: daily
        model: daily
        vars: {region: eu}
        given:
          - input: staging.orders
            rows:
              - {order_id: 1, order_date: 2026-10-03, amount: 1}
              - {order_id: 2, order_date: 2026-10-03, amount: 2.5}
        expect:
          rows:
            - {order_date: "2026-10-03", orders: 2.0, revenue: "3.5", region: eu}
    """
    assert only(shop, text).passed
    assert not only(shop, text.replace("vars: {region: eu}", "vars: {}")).passed


def test_a_seed_left_out_is_read_from_its_file(shop):
    result = only(
        shop,
        """
        unit_tests:
          - name: converted
            model: converted
            given:
              - input: staging.orders
                rows: [{order_id: 1, amount: 10, currency: EUR}]
            expect:
              rows: [{order_id: 1, usd: 11}]
        """,
    )
    assert result.passed, result


def test_a_merge_model_merging_reads_its_own_table_as_this(shop):
    text = """
    unit_tests:
      - name: only_newer_rows
        model: customers
        is_incremental: true
        ordered: true
        given:
          - input: raw.customers
            rows:
              - {id: 1, name: a, updated_at: 2026-10-01 10:00:00}
              - {id: 2, name: b, updated_at: 2026-10-03 10:00:00}
          - input: this
            format: sql
            rows: select 1 as id, 'a' as name, timestamp '2026-10-02' as updated_at
        expect:
          format: sql
          rows: select 2 as id, 'b' as name
    """
    assert only(shop, text).passed
    full = only(shop, text.replace("is_incremental: true", "is_incremental: false"))
    assert full.diff.lines == ((UNEXPECTED, (1, "a")), (SAME, (2, "b")))


def test_a_query_that_fails_is_one_line_naming_the_test(shop):
    shop.model("marts.broken_sql", "select nope from staging.orders")
    result = only(
        shop,
        """
        unit_tests:
          - name: fails
            model: broken_sql
            given: [{input: staging.orders, rows: [{order_id: 1}]}]
            expect: {rows: []}
        """,
    )
    assert not result.passed and result.diff is None
    assert result.error.startswith("unit_tests/shop.yml:2: marts.broken_sql fails: Binder Error")
    assert "\n" not in result.error


@pytest.mark.parametrize(
    "expect, message",
    [
        (
            "{rows: [{nope: 1}]}",
            "unit_tests/shop.yml:6: expect: marts.daily returns no column "
            "nope (it returns: order_date, orders, revenue, region)",
        ),
        ("{format: sql, rows: select nope}", "unit_tests/shop.yml:6: expect: Binder Error"),
    ],
)
def test_an_expectation_the_model_cannot_meet_names_its_line(shop, expect, message):
    result = only(
        shop,
        "unit_tests:\n  - name: t\n    model: daily\n    given:\n"
        f"      - {{input: staging.orders, rows: []}}\n    expect: {expect}\n",
    )
    assert result.error.startswith(message), result.error


def test_a_value_that_is_no_value_of_the_returned_type_is_named(shop):
    result = only(
        shop,
        "unit_tests:\n  - name: t\n    model: daily\n    given:\n"
        "      - {input: staging.orders, rows: [{order_date: 2026-10-03}]}\n"
        "    expect:\n      rows:\n        - {order_date: soon}\n",
    )
    assert not result.passed
    assert result.notes == ("unit_tests/shop.yml:8: 'soon' in order_date is no DATE",)
    assert (MISSING, ("soon",)) in result.diff.lines


def test_a_model_that_does_not_load_fails_its_tests(shop):
    shop.model("marts.bad", "-- kind: sometimes\nselect 1 as x")
    result = only(shop, "unit_tests:\n  - {name: t, model: bad, expect: {rows: []}}\n")
    assert result.error.startswith(
        "unit_tests/shop.yml:2: marts.bad does not load: models/marts/bad.sql:1: "
    ), result.error


def test_tests_are_chosen_by_selector_or_by_name(shop):
    text = (
        WINDOW
        + """
  - name: daily_sum
    model: daily
    given: [{input: staging.orders, rows: []}]
    expect: {rows: []}
"""
    )
    names = lambda *words: [r.test.name for r in run(shop, text, *words).results]  # noqa: E731
    assert names() == ["keeps_its_day", "daily_sum"]
    assert names("marts.*") == ["daily_sum"]
    assert names("keeps_its_day") == ["keeps_its_day"]
    assert names("orders+") == ["keeps_its_day", "daily_sum"]
    assert names("converted") == []
    with pytest.raises(UsageError, match="no model matches 'dayly'"):
        names("dayly")


def test_a_column_no_input_has_says_where_columns_come_from(shop):
    shop.model("marts.notes", "select upper(note) as shout from staging.orders")
    result = only(
        shop,
        """
        unit_tests:
          - name: shouts
            model: notes
            given: [{input: staging.orders, rows: [{order_id: 1}]}]
            expect: {rows: [{shout: HI}]}
        """,
    )
    assert "Binder Error" in result.error and result.error.endswith(
        f"({unit_testing.COLUMNS_HINT})"
    )
    given = "[{input: staging.orders, rows: [{order_id: 1, note: hi}]}]"
    assert only(shop, _shouts(given)).passed


def _shouts(given: str) -> str:
    return (
        "unit_tests:\n  - name: shouts\n    model: notes\n"
        f"    given: {given}\n    expect: {{rows: [{{shout: HI}}]}}\n"
    )


def test_a_name_with_the_warehouses_catalog_in_front_reads_the_given_rows(shop):
    shop.model("marts.full_name", "select count(*) as n from warehouse.staging.orders")
    result = only(
        shop,
        "unit_tests:\n  - name: t\n    model: full_name\n"
        "    given: [{input: staging.orders, rows: [{order_id: 1}, {order_id: 2}]}]\n"
        "    expect: {rows: [{n: 2}]}\n",
    )
    assert result.passed, result


def test_an_expected_number_the_model_rounds_away_fails(project):
    project.model("s.m", "-- kind: table\nselect round(x, 0)::decimal(18, 0) as x from s.src")
    project.model("s.src", "-- kind: table\nselect 12.5 as x")
    project.write(
        "unit_tests/m.yml",
        """
        unit_tests:
          - name: keeps_cents
            model: s.m
            given:
              - input: s.src
                rows:
                  - {x: 12.50}
            expect:
              rows:
                - {x: 12.50}
        """,
    )
    result = project.cli("test")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout
