"""`import dbt` of a project that uses dbt_utils, dbt_expectations, dbt_date and audit_helper
with no `dbt_packages/` installed: their macros and tests are expanded natively, the project
builds, and the tests judge as the packages' would. A package we do not know is reported by
name with the models that use it. (`benchmarks/dbt_compat.py --fixtures` builds this project
with dbt and the real packages too, and compares every relation.)"""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

PACKAGES = {
    "dbt_project.yml": """
        name: pk
        profile: pk
        models:
          pk:
            +materialized: table
        """,
    "packages.yml": """
        packages:
          - package: dbt-labs/dbt_utils
            version: 1.3.3
          - package: calogica/dbt_expectations
            version: 0.10.4
          - package: calogica/dbt_date
            version: 0.10.1
          - package: dbt-labs/audit_helper
            version: 0.12.1
        """,
    "seeds/events.csv": """
        id,kind,amount,email,event_date
        1,click,5,ann@a.com,2024-01-01
        2,view,7,bob@b.org,2024-01-06
        3,click,12,cy@c.net,2024-01-07
        4,buy,40,,2024-02-29
        """,
    "models/dates.sql": """
        {{ dbt_date.get_date_dimension('2023-12-28', '2024-01-09') }}
        """,
    "models/event_days.sql": """
        select
            id,
            {{ dbt_date.day_name('event_date') }} as day_short,
            {{ dbt_date.day_name('event_date', short=false) }} as day_long,
            {{ dbt_date.day_of_week('event_date') }} as iso_dow,
            {{ dbt_date.day_of_week('event_date', isoweek=false) }} as dow,
            {{ dbt_date.week_start('event_date') }} as week_start,
            {{ dbt_date.week_end('event_date') }} as week_end,
            {{ dbt_date.iso_week_start('event_date') }} as iso_week_start,
            {{ dbt_date.iso_week_of_year('event_date') }} as iso_week,
            {{ dbt_date.week_of_year('event_date') }} as week,
            {{ dbt_date.month_name('event_date', short=false) }} as month,
            {{ dbt_date.n_days_ago(3, 'event_date') }} as three_days_before,
            {{ dbt_date.n_days_away(2, 'event_date') }} as two_days_after,
            {{ dbt_date.to_unixtimestamp('cast(event_date as timestamp)') }} as epoch,
            {{ dbt_date.from_unixtimestamp('1700000000') }} as from_epoch,
            {{ dbt_date.round_timestamp("cast(event_date as timestamp) + interval 13 hour") }}
              as rounded,
            {{ dbt_utils.generate_surrogate_key(['id', 'kind']) }} as sk
        from {{ ref('events') }}
        """,
    "models/events_clicks.sql": """
        select * from {{ ref('events') }} where kind = 'click'
        """,
    "models/audit_rows.sql": """
        {{ audit_helper.compare_relations(ref('events'), ref('events_clicks'), primary_key='id',
                                          summarize=false) }}
        """,
    "models/audit_summary.sql": """
        {{ audit_helper.compare_queries("select id, kind from " ~ ref('events'),
                                        "select id, kind from " ~ ref('events_clicks')) }}
        """,
    "models/audit_counts.sql": """
        {{ audit_helper.compare_row_counts(ref('events'), ref('events_clicks')) }}
        """,
    "models/audit_values.sql": """
        {{ audit_helper.compare_column_values(
            "select id, amount from " ~ ref('events'),
            "select id, amount * 2 as amount from " ~ ref('events_clicks'),
            primary_key='id', column_to_compare='amount') }}
        """,
    "models/schema.yml": """
        version: 2
        models:
          - name: event_days
            data_tests:
              - dbt_expectations.expect_table_row_count_to_equal: {value: 4}
              - dbt_expectations.expect_compound_columns_to_be_unique:
                  column_list: [id, day_short]
            columns:
              - name: iso_dow
                data_tests:
                  - dbt_expectations.expect_column_values_to_be_between:
                      min_value: 1
                      max_value: 7
                  - dbt_expectations.expect_column_values_to_be_in_set:
                      value_set: [1, 2, 3, 4, 5, 6, 7]
                      quote_values: false
              - name: day_short
                data_tests:
                  - dbt_expectations.expect_column_values_to_not_be_in_set:
                      value_set: ['Xyz']
                  - dbt_expectations.expect_column_value_lengths_to_equal: {value: 3}
          - name: events_clicks
            columns:
              - name: amount
                data_tests:
                  - dbt_expectations.expect_column_values_to_be_between:
                      min_value: 10
                      row_condition: "id > 1"
                  - dbt_expectations.expect_column_max_to_be_between:
                      max_value: 12
        seeds:
          - name: events
            columns:
              - name: email
                data_tests:
                  - dbt_expectations.expect_column_values_to_match_regex:
                      regex: "^[a-z]+@[a-z]+[.][a-z]+$"
                  - dbt_expectations.expect_column_values_to_not_be_null:
                      config: {severity: warn}
              - name: event_date
                data_tests:
                  - dbt_expectations.expect_row_values_to_have_recent_data:
                      datepart: year
                      interval: 100
        """,
}


def test_packages_expand_natively_and_build(tmp_path):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in PACKAGES.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    run = ours.cli("run", now="2024-03-01T00:00")
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query(
        "select day_short, day_long, iso_dow, dow, week_start, iso_week, week, month "
        "from main.event_days where id = 2"
    ) == [("Sat", "Saturday", 6, 7, _date("2023-12-31"), 1, 1, "January")]
    assert ours.query("select count(*), min(date_day), max(date_day) from main.dates") == [
        (12, _date("2023-12-28"), _date("2024-01-08"))
    ]
    assert ours.query(
        "select day_of_week, week_start_date, week_end_date, iso_week_of_year, month_end_date "
        "from main.dates where date_day = '2024-01-01'"
    ) == [(2, _date("2023-12-31"), _date("2024-01-06"), 1, _date("2024-01-31"))]
    assert ours.query("select in_a, in_b, count from main.audit_summary order by all") == [
        (True, False, 2),
        (True, True, 2),
    ]
    assert ours.query("select id, in_a, in_b from main.audit_rows order by id") == [
        (2, True, False),
        (4, True, False),
    ]
    assert ours.query("select total_records from main.audit_counts order by 1") == [(2,), (4,)]
    assert ours.query("select match_status, count_records from main.audit_values order by all") == [
        ("❌: \u200dvalues do not match", 2),
        ("🤷: missing from b", 2),
    ]
    results = dict(
        ours.query("select check_name, max(status) from orchestrator.check_results group by 1")
    )
    failed = {name: status for name, status in results.items() if status != "pass"}
    # a NULL email passes the regex, as in dbt_expectations; the not-null warning fails on it
    assert failed == {"events__expect_column_values_to_not_be_null_email": "warn"}, results
    assert len(results) == 11


def test_a_package_we_do_not_know_is_reported_by_name(tmp_path):
    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: pk\nprofile: pk\n")
    dbt.write(
        "packages.yml",
        "packages:\n  - package: fivetran/fivetran_utils\n    version: 0.4.0\n",
    )
    dbt.write("models/a.sql", "select {{ fivetran_utils.timestamp_add('day', 1, 'x') }} as y")
    dbt.write("models/b.sql", "select 1 as id")
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: models/a.sql:1: fivetran_utils.timestamp_add: the package fivetran_utils "
        "(packages.yml) is not installed in dbt_packages/ and not one we expand natively: "
        "run `dbt deps` and import again"
    ]
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "## Packages" in report
    assert "| fivetran_utils | not installed, not expanded natively | `model.pk.a` |" in report
    assert (ours.root / "models/main/b.sql").exists()


def _date(text):
    from datetime import date

    return date.fromisoformat(text)
