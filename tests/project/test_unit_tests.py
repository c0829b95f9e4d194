"""Unit test files as values: what each key becomes, and every mistake one error naming the
file and line (before anything runs)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import unit_tests

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

TOML = """
[sources."raw.orders"]
columns = { order_id = "BIGINT", order_ts = "TIMESTAMP", amount = "DECIMAL(18,2)" }
"""

ORDERS = """
-- kind: incremental
-- partition_by: order_date
-- start: 2026-10-01
select order_id, cast(order_ts as date) as order_date, amount from raw.orders
where cast(order_ts as date) >= {{ start }} and cast(order_ts as date) < {{ end }}
"""

MERGE = """
-- kind: incremental
-- unique_key: id
select id, name, updated_at from raw.customers
{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}
"""


@pytest.fixture
def shop(project):
    project.write("orchestrator.toml", TOML)
    project.model("staging.orders", ORDERS)
    project.model(
        "marts.daily", "select order_date, sum(amount) as revenue from staging.orders group by 1"
    )
    project.model("marts.customers", MERGE)
    project.model(
        "marts.snap",
        "-- kind: snapshot\n-- unique_key: id\n-- strategy: check\n-- check_cols: all\n"
        "select id, name from raw.customers",
    )
    project.model(
        "marts.monthly",
        "-- kind: incremental\n-- partition_by: m\n-- grain: month\n"
        "select date_trunc('month', order_date) as m from staging.orders",
    )
    project.write("seeds/countries.csv", "code,name\nUSD,United States\n")
    project.model("marts.priced", "select o.order_id, c.name from staging.orders o, countries c")
    return project


def load(project, text: str):
    from orchestrator.app.workspace import open_workspace

    project.write("unit_tests/shop.yml", text)
    ws = open_workspace(project.root)
    return unit_tests.load(ws.project, ws.dag)


def error(project, text: str) -> str:
    with pytest.raises(ProjectError) as info:
        load(project, text)
    return str(info.value)


GOOD = """
unit_tests:
  - name: keeps_its_day
    model: orders
    description: one day only
    window: 2026-10-03
    vars: {region: eu, n: 3, flag: true}
    given:
      - input: raw.orders
        format: csv
        columns: {amount: "DECIMAL(18,2)"}
        rows: |
          order_id,order_ts,amount
          1,2026-10-03 10:00:00,2.50
          2,2026-10-04 10:00:00,
    expect:
      rows:
        - {order_id: 1, order_date: 2026-10-03}
  - name: merges_the_new
    model: marts.customers
    is_incremental: true
    ordered: true
    given:
      - input: raw.customers
        rows:
          - {id: 1, name: a, tags: [x, y]}
      - input: this
        format: sql
        rows: select 1 as id
    expect:
      format: csv
      rows: |
        id,name
        1,a
"""


def test_a_file_becomes_tests_with_their_rows_window_and_vars(shop):
    first, second = load(shop, GOOD)
    assert (first.name, first.model, first.path, first.line) == (
        "keeps_its_day",
        "staging.orders",
        "unit_tests/shop.yml",
        2,
    )
    assert first.where == "unit_tests/shop.yml:2" and first.description == "one day only"
    assert first.window.start == datetime(2026, 10, 3) and first.window.key == "2026-10-03"
    assert first.vars == {"region": "eu", "n": "3", "flag": "true"}
    (given,) = first.given
    assert given.relation == "raw.orders" and given.data.format == "csv"
    assert given.data.columns == ("order_id", "order_ts", "amount")
    assert given.data.rows[1] == {
        "order_id": "2",
        "order_ts": "2026-10-04 10:00:00",
        "amount": None,
    }
    assert given.data.lines == (13, 14) and given.data.types == {"amount": "DECIMAL(18,2)"}
    assert first.expect.rows == ({"order_id": 1, "order_date": date(2026, 10, 3)},)
    assert second.is_incremental and second.ordered and second.window is None
    customers, this = second.given
    assert customers.data.rows == ({"id": 1, "name": "a", "tags": '["x", "y"]'},)
    assert this.relation == "marts.customers" and this.data.sql == "select 1 as id"
    assert second.expect.rows == ({"id": "1", "name": "a"},)


def test_a_seed_left_out_is_read_from_its_file_and_no_file_means_no_tests(shop):
    (test,) = load(
        shop,
        """
        unit_tests:
          - name: priced
            model: priced
            given:
              - {input: orders, rows: []}
            expect: {rows: []}
        """.replace("\n        ", "\n"),
    )
    assert [g.relation for g in test.given] == ["staging.orders"]
    (shop.root / "unit_tests/shop.yml").write_text("")
    assert load(shop, "") == ()


def test_a_short_name_the_model_reads_wins_over_another_of_that_name(shop):
    shop.model("other.orders", "select 1 as x")
    (test,) = load(
        shop,
        "unit_tests:\n  - {name: t, model: daily, given: [{input: orders, rows: []}], "
        "expect: {rows: []}}\n",
    )
    assert test.given[0].relation == "staging.orders"


def _test(model="orders", window="window: 2026-10-03", given=None, extra="", expect="{rows: []}"):
    given = given if given is not None else "- {input: raw.orders, rows: []}"
    return (
        f"unit_tests:\n  - name: t\n    model: {model}\n    {window}\n{extra}"
        f"    given:\n      {given}\n    expect: {expect}\n"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            _test(model="marts.dayly", window=""),
            "shop.yml:3: model: no model named 'marts.dayly' (did you mean: marts.daily",
        ),
        (_test(model="orderz"), ":3: model: no model named 'orderz' (did you mean: "),
        (_test(model="snap", window=""), ":3: model: marts.snap is a snapshot: it keeps history"),
        (_test(model="countries", window=""), ":3: model: main.countries is a seed"),
        (
            _test(given="- {input: raw.ordes, rows: []}"),
            ":6: input: no model or source named 'raw.ordes' (did you mean: raw.orders",
        ),
        (
            _test(model="daily", window="", given="- {input: raw.orders, rows: []}"),
            ":6: input: marts.daily does not read raw.orders (it reads: staging.orders)",
        ),
        (
            _test(model="daily", given="- {input: orders, rows: []}"),
            ":4: window: marts.daily is not partitioned (kind: table): it has no window",
        ),
        (_test(window=""), ":2: window: missing: staging.orders is built one day at a time"),
        (_test(window="window: 2026-13-03"), ":4: window: '2026-13-03' is not a valid date"),
        (_test(window="window: soon"), ":4: window: 'soon' is not a date"),
        (
            _test(
                model="monthly", window="window: 2026-10-03", given="- {input: orders, rows: []}"
            ),
            ":4: window: '2026-10-03' is not the start of a month",
        ),
        (
            _test(given="- {input: raw.orders, rows: [1]}"),
            ":6: a row is a mapping of columns to values, not 1",
        ),
        (_test(given="- {input: raw.orders, rows: {a: 1}}"), ":6: rows: a list of mappings"),
        (_test(given="- {input: raw.orders}"), ":6: input: rows: missing (rows: [] for none)"),
        (
            _test(given="- {input: raw.orders, rows: [], format: json}"),
            ":6: format: 'json' is not one of dict, csv, sql",
        ),
        (
            _test(given="- {input: raw.orders, rows: [], columns: {a: NOTATYPE}}"),
            ":6: columns: a: Catalog Error: Type with name NOTATYPE does not exist",
        ),
        (
            _test(given="- {input: raw.orders, format: csv, rows: [1]}"),
            ":6: rows: format: csv takes CSV text",
        ),
        (
            _test(given='- {input: raw.orders, format: csv, rows: "a,a\\n1,2"}'),
            ":7: rows: the CSV header names a twice",
        ),  # text in quotes: the next line
        (
            _test(given='- {input: raw.orders, format: sql, rows: ""}'),
            ":6: rows: format: sql takes a query as text",
        ),
        (
            _test(given="- {input: raw.orders, rows: [], row: []}"),
            ":6: an input: unknown key 'row' (did you mean: rows?)",
        ),
        (_test(given="- raw.orders"), ":6: an input is a mapping (input, rows)"),
        (
            _test(given="[]"),
            ":5: given: staging.orders reads raw.orders, which the test gives "
            "no rows for: add `- input: raw.orders` with its rows (rows: [] for none)",
        ),
        (
            _test(given="- {input: raw.orders, rows: []}\n      - {input: orders, rows: []}"),
            ":7: input: raw.orders is given twice (first at line 6)",
        ),  # the one it reads
        (
            _test(given="- {input: raw.orders, rows: []}\n      - {input: raw.orders, rows: []}"),
            ":7: input: raw.orders is given twice (first at line 6)",
        ),
        (
            _test(given="- {input: this, rows: []}"),
            ":6: input: this: staging.orders is no merge model, so it never reads its own table",
        ),
        (
            _test(extra="    is_incremental: true\n"),
            ":5: is_incremental: staging.orders is no merge model",
        ),
        (
            _test(extra="    ordered: yes please\n"),
            ":5: ordered: 'yes please' is not true or false",
        ),
        (
            _test(extra="    expected: {rows: []}\n"),
            ":5: a unit test: unknown key 'expected' (did you mean: expect?)",
        ),
        (_test(expect="[]"), ":7: expect: is a mapping with the rows the model must return"),
        (_test(expect="{rows: [], order: true}"), ":7: expect: unknown key 'order'"),
        (_test(extra="    vars: [a]\n"), ":5: vars: is a mapping of names to values"),
        ("unit_tests:\n  - name: t\n    name: u\n", ":3: 'name' is given twice in one mapping"),
        ("unit_tests:\n  - {name: [\n", ":3: YAML does not parse"),
        ("tests: []\n", ":1: a unit test file: unknown key 'tests'"),
        ("- a\n", ":1: a unit test file is a mapping with a `unit_tests:` list"),
        ("unit_tests: {a: 1}\n", ":1: unit_tests: is a list of tests"),
        ("unit_tests: [a]\n", ":1: a unit test is a mapping (name, model, given, expect)"),
        ("unit_tests:\n  - {model: orders}\n", ":2: name: missing"),
    ],
)
def test_each_mistake_is_one_error_naming_the_file_and_line(shop, text, message):
    found = error(shop, text)
    assert found.startswith("unit_tests/shop.yml:"), found
    assert message in found, found


def test_two_tests_of_one_name_are_an_error_naming_both_places(shop):
    shop.write("unit_tests/a.yml", _test())
    found = error(shop, _test())
    assert found.startswith(
        "unit_tests/shop.yml:2: a unit test named 't' is already defined at unit_tests/a.yml:2"
    ), found


def test_an_ambiguous_short_name_asks_for_the_full_one(shop):
    shop.model("other.daily", "select 1 as x")
    found = error(shop, _test(model="daily", window=""))
    assert "shop.yml:3: 'daily' names marts.daily and other.daily: write the full name" in found


def test_files_are_every_yml_under_unit_tests_in_order_without_hidden_ones(project):
    for rel in (
        "unit_tests/b.yml",
        "unit_tests/a/x.yaml",
        "unit_tests/.hidden/y.yml",
        "unit_tests/notes.txt",
    ):
        project.write(rel, "")
    found = [p.relative_to(project.root).as_posix() for p in unit_tests.files(project.root)]
    assert found == ["unit_tests/a/x.yaml", "unit_tests/b.yml"]
    assert unit_tests.files(project.root / "nowhere") == []
