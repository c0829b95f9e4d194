"""Column lineage of one query (`sql.column_lineage`): which upstream columns feed each output
column, through `*`, CTEs, subqueries, joins, aggregates, CASE, window functions and set
operations; its output columns as DuckDB names them; and every column it reads. Where meaning
matters the answer is checked against DuckDB itself: the output names against DESCRIBE, and
`columns_read` by dropping each column from the tables and binding the query again."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.sql.column_lineage import column_lineage, columns_read, output_columns

SCHEMA = {
    "s.orders": ["id", "customer_id", "amount", "status", "ts"],
    "s.customers": ["id", "name", "region", "status"],
    "s.refunds": ["id", "order_id", "amount"],
}
PATH = ["s"]


def upstream(sql: str, column: str) -> set[tuple[str, str]]:
    return set(column_lineage(sql, SCHEMA, PATH).upstream[column])


def test_a_star_resolves_to_every_column_in_order():
    assert output_columns("select * from orders", SCHEMA, PATH) == tuple(SCHEMA["s.orders"])
    assert upstream("select * from orders", "amount") == {("s.orders", "amount")}


def test_a_qualified_star_and_exclude_and_replace():
    sql = (
        "select o.* exclude (ts) replace (o.amount * 2 as amount), c.name "
        "from orders as o join customers as c on c.id = o.customer_id"
    )
    found = column_lineage(sql, SCHEMA, PATH)
    assert found.columns == ("id", "customer_id", "amount", "status", "name")
    assert found.upstream["amount"] == {("s.orders", "amount")}
    assert found.upstream["name"] == {("s.customers", "name")}
    assert "ts" in found.reads["s.orders"]  # EXCLUDE (ts) fails without it


def test_through_ctes_and_subqueries():
    sql = """
        with paid as (select id, amount * 1.1 as gross from orders where status = 'paid'),
             big as (select * from paid where gross > 10)
        select t.id, t.gross from (select * from big) as t
    """
    assert upstream(sql, "gross") == {("s.orders", "amount")}
    assert upstream(sql, "id") == {("s.orders", "id")}


def test_the_same_column_name_on_both_sides_of_a_join():
    qualified = (
        "select o.status, c.status as customer_status "
        "from orders o join customers c on c.id = o.customer_id"
    )
    assert upstream(qualified, "status") == {("s.orders", "status")}
    assert upstream(qualified, "customer_status") == {("s.customers", "status")}
    # USING: the unqualified key is either side's (DuckDB coalesces them)
    using = "select id, name from orders join customers using (id)"
    assert upstream(using, "id") == {("s.orders", "id"), ("s.customers", "id")}
    # a star over a join: the second `status` is numbered as DuckDB numbers it
    star = "select * from orders join customers using (id)"
    assert column_lineage(star, SCHEMA, PATH).columns == (
        "id", "customer_id", "amount", "status", "ts", "name", "region", "status_1",
    )  # fmt: skip
    assert upstream(star, "status_1") == {("s.customers", "status")}


def test_an_unqualified_column_two_sources_have_is_a_problem_not_a_guess():
    found = column_lineage(
        "select status from orders o join customers c on c.id = o.id", SCHEMA, PATH
    )
    assert found.upstream["status"] == frozenset()
    assert any("status" in p for p in found.problems)


def test_aggregates_case_and_filter():
    sql = """
        select customer_id,
               count(*) as orders,
               count(*) filter (where status = 'paid') as paid,
               sum(case when status = 'paid' then amount else 0 end) as revenue
        from orders group by all having max(ts) > now()
    """
    assert upstream(sql, "orders") == set()  # a count of rows: no column
    assert upstream(sql, "paid") == {("s.orders", "status")}
    assert upstream(sql, "revenue") == {("s.orders", "status"), ("s.orders", "amount")}
    assert columns_read(sql, SCHEMA, PATH)["s.orders"] == {"customer_id", "status", "amount", "ts"}


def test_window_functions_inline_and_named():
    sql = """
        select id,
               sum(amount) over (partition by customer_id order by ts) as running,
               rank() over w as place
        from orders window w as (partition by status order by amount)
    """
    assert upstream(sql, "running") == {
        ("s.orders", "amount"),
        ("s.orders", "customer_id"),
        ("s.orders", "ts"),
    }
    assert upstream(sql, "place") == {("s.orders", "status"), ("s.orders", "amount")}


def test_union_by_position_and_by_name():
    sql = "select id, amount from orders union all select order_id, -amount from refunds"
    assert column_lineage(sql, SCHEMA, PATH).columns == ("id", "amount")
    assert upstream(sql, "id") == {("s.orders", "id"), ("s.refunds", "order_id")}
    by_name = "select id, amount from orders union by name select amount, order_id from refunds"
    found = column_lineage(by_name, SCHEMA, PATH)
    assert found.columns == ("id", "amount", "order_id")
    assert found.upstream["amount"] == {("s.orders", "amount"), ("s.refunds", "amount")}


def test_scalar_and_correlated_subqueries_and_lateral():
    sql = """
        select o.id,
               (select sum(r.amount) from refunds r where r.order_id = o.id) as refunded,
               l.region
        from orders o,
             lateral (select c.region from customers c where c.id = o.customer_id) as l
    """
    found = column_lineage(sql, SCHEMA, PATH)
    assert found.upstream["refunded"] == {("s.refunds", "amount")}
    assert found.upstream["region"] == {("s.customers", "region")}
    assert found.reads["s.orders"] == {"id", "customer_id"}
    assert found.reads["s.refunds"] == {"amount", "order_id"}


def test_unnest_comes_from_its_argument():
    found = column_lineage("select u.v from orders, unnest([status]) as u(v)", SCHEMA, PATH)
    assert found.upstream["v"] == {("s.orders", "status")}


def test_search_path_catalog_and_unknown_relations():
    # an unqualified name is looked up in the search path's schemas in order
    assert upstream("select amount from orders", "amount") == {("s.orders", "amount")}
    assert upstream("select amount from wh.s.orders", "amount") == {("s.orders", "amount")}
    # a relation nobody knows the columns of: what is named is still traced, a star is not
    found = column_lineage("select x.k, o.* from raw.x join orders o using (id)", SCHEMA, PATH)
    assert found.upstream["k"] == {("raw.x", "k")}
    assert found.columns[:2] == ("k", "id")
    star = column_lineage("select * from raw.x", SCHEMA, PATH)
    assert star.columns == ()
    assert star.reads == {"raw.x": {"*"}}
    assert star.problems == ("the columns of raw.x are unknown: its * is unresolved",)


def test_a_relation_of_unknown_columns_has_those_the_query_names():
    # an alias named like a column of a relation sqlglot knows nothing of: it would give up
    sql = "select min(id) as id, grp, sum(amount) as amount from raw.e where id > 0 group by grp"
    found = column_lineage(sql, {}, PATH)
    assert found.upstream == {
        "id": {("raw.e", "id")},
        "grp": {("raw.e", "grp")},
        "amount": {("raw.e", "amount")},
    }
    assert found.reads == {"raw.e": {"id", "grp", "amount"}} and found.problems == ()
    joined = column_lineage("select x.k, o.id from raw.x join orders o using (id)", SCHEMA, PATH)
    assert joined.upstream["k"] == {("raw.x", "k")} and joined.reads["raw.x"] == {"id", "k"}
    # unresolved names go where the DAG looks for them: the search path's last schema
    assert column_lineage("select a from nowhere", {}, PATH).upstream["a"] == {("s.nowhere", "a")}


def test_a_table_function_has_no_upstream_relation():
    found = column_lineage("select * from read_csv('f.csv')", SCHEMA, PATH)
    assert found.columns == () and found.reads == {}
    assert found.problems == ("the columns of READ_CSV('f.csv') are unknown",)


def test_sql_that_is_not_one_query_is_a_project_error():
    with pytest.raises(ProjectError, match="syntax error"):
        column_lineage("select from where", SCHEMA, PATH)


QUERIES = [
    "select * from orders",
    "select o.* exclude (ts), c.name from orders o join customers c on c.id = o.customer_id",
    "select * from orders join customers using (id)",
    "select id, amount from orders union all select order_id, amount from refunds",
    "select customer_id, sum(amount) as total, count(*) as n from orders group by all",
    "with t as (select * from orders where status = 'x') select t.id, c.* from t, customers c",
    "select id, rank() over (partition by status order by ts) as r from orders qualify r = 1",
    "select o.id, (select max(r.amount) from refunds r where r.order_id = o.id) as m from orders o",
    "select * replace (upper(status) as status) from customers where region <> 'x' order by name",
    "select status, status as again from orders",
    "with t as (select * from orders) select count(*) as n from t",
    "with u as (select * from orders union all select * from orders) select u.amount from u",
    "select o.id from orders o where exists (select * from refunds r where r.order_id = o.id)",
    "select o.id, l.* from orders o, lateral (select * from refunds r where r.order_id = o.id) l",
    "select id, sum(amount) over w as s from orders window w as (partition by status)",
]

ROWS_DEPEND_ON_EVERY_COLUMN = [
    # which rows there are depends on columns the output does not show: they are read
    "with t as (select distinct * from orders) select count(*) as n from t",
    "with t as (select * from customers group by all) select t.name from t",
    "with u as (select id, status from orders union select id, status from customers) "
    "select u.id from u",
    "with u as (select * from refunds union by name select * from refunds) select u.id from u",
    "select * from orders natural join customers",
]


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute("create schema s")
    yield con
    con.close()


TYPES = {"name": "varchar", "status": "varchar", "region": "varchar", "ts": "timestamp"}


def _create(con, relation: str, columns: list[str]) -> None:
    typed = ", ".join(f"{c} {TYPES.get(c, 'integer')}" for c in columns)
    con.execute(f"create or replace table {relation} ({typed})")


@pytest.mark.parametrize("sql", QUERIES)
def test_output_columns_are_those_duckdb_names(warehouse, sql):
    for relation, columns in SCHEMA.items():
        _create(warehouse, relation, columns)
    warehouse.execute("set search_path = 's'")
    described = tuple(r[0] for r in warehouse.execute(f"describe {sql}").fetchall())
    warehouse.execute(f"create table s.out as {sql}")
    stored = tuple(r[0] for r in warehouse.execute("describe s.out").fetchall())
    assert output_columns(sql, SCHEMA, PATH) == stored
    assert len(described) == len(stored)


@pytest.mark.parametrize("sql", QUERIES + ROWS_DEPEND_ON_EVERY_COLUMN)
def test_a_column_not_read_can_be_dropped_without_changing_the_query(warehouse, sql):
    """What `columns_read` promises: dropping any other column of a relation leaves the
    query binding, with the same output columns; and (where only the columns shown decide
    the rows) dropping one it reads does not."""
    exact = sql in QUERIES
    read = columns_read(sql, SCHEMA, PATH)
    warehouse.execute("set search_path = 's'")
    for relation, columns in SCHEMA.items():
        for dropped in columns:
            for other, theirs in SCHEMA.items():
                kept = [c for c in theirs if other != relation or c != dropped]
                _create(warehouse, other, kept)
            try:
                shape = warehouse.execute(f"describe {sql}").fetchall()
            except duckdb.BinderException:
                shape = None
            for other, theirs in SCHEMA.items():
                _create(warehouse, other, theirs)
            full = warehouse.execute(f"describe {sql}").fetchall()
            unread = dropped not in read.get(relation, ())
            assert shape == full if unread else (shape != full or not exact), (relation, dropped)


def test_an_output_column_without_a_name_is_a_problem():
    found = column_lineage("select amount + 1, count(*), 1 from orders group by all", SCHEMA, PATH)
    assert found.problems == (
        "output column 1 has no name (amount + 1): name it with AS",
        "output column 2 has no name (COUNT(*)): name it with AS",
    )
