"""Parsing a model (`sql.parse`): exactly one SELECT, read into what the project needs to know
(`Analysis`), errors naming the file and line; and a query retargeted to another relation."""

from __future__ import annotations

import duckdb
import pytest
from conftest import broken_error

from orchestrator.core.errors import ProjectError
from orchestrator.sql import parse as sql


def test_jinja_window_and_vars_render_as_literals_and_are_recorded():
    a = sql.analyze(
        "select * from t where d >= {{ start }} and d < {{ end }} and r = {{ var('region') }}",
        "m.sql",
    )
    assert a.tables == ("t",)
    assert a.vars == ("region",)


def test_syntax_error_names_file_and_line():
    with pytest.raises(ProjectError) as info:
        sql.analyze("-- kind: table\nselect a,\n  b from t where\n  x = = 1", "models/s/m.sql")
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == 4
    assert "syntax error" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "create table x as select 1",
        "insert into t select 1",
        "delete from t",
        "drop table t",
        "update t set a = 1",
        "select 1; select 2",
        "attach 'x.db'",
    ],
)
def test_only_one_select_is_a_model(text):
    with pytest.raises(ProjectError, match="one SELECT"):
        sql.analyze(text, "m.sql")


def test_empty_model_is_an_error():
    with pytest.raises(ProjectError, match="no SQL"):
        sql.analyze("-- kind: table\n\n", "m.sql")


def test_sql_nested_too_deeply_is_one_line_not_a_traceback(project):
    project.model("s.m", "select " + "(" * 300 + "1" + ")" * 300 + " as x\n")
    assert broken_error(project.cli("plan")) == (
        "models/s/m.sql: the SQL is nested too deeply to read (hundreds of parentheses "
        "or subqueries): flatten it with CTEs"
    )


def test_analysis_says_the_output_columns_and_where_the_window_is_first_read():
    a = sql.analyze("select a, b as c\nfrom t\nwhere d >= {{ start }}", "m.sql")
    assert a.columns == ("a", "c")
    assert a.window_use == ("start", 3)
    assert sql.analyze("select * from t", "m.sql").window_use is None


def test_this_is_not_a_relation_the_model_reads():
    assert sql.analyze("select * from {{ this }} join t using (id)", "m.sql").tables == ("t",)


def test_an_unterminated_string_names_its_line():
    with pytest.raises(ProjectError, match="unterminated") as info:
        sql.parse("select 1\nfrom t\nwhere x = 'oops", "m.sql")
    assert info.value.line == 3


def test_retarget_reads_another_relation_under_the_old_name():
    query = "select * from s.t join u using (id) where x in (select y from s.t)"
    retargeted = sql.retarget(query, {"s.t"}, 'tmp."t_new"')
    assert retargeted == (
        "SELECT * FROM tmp.t_new AS t JOIN u USING (id) WHERE x IN (SELECT y FROM tmp.t_new AS t)"
    )
    # an alias is kept, and a name not in `names` is left alone
    assert sql.retarget("select a.x from s.t a, v", {"s.t"}, "tmp.n") == (
        "SELECT a.x FROM tmp.n AS a, v"
    )


def test_a_retargeted_check_judges_the_new_relation():
    con = duckdb.connect()
    con.execute("create schema s; create table s.t as select 1 as id")
    con.execute("create schema tmp; create table tmp.n as select 2 as id")
    check = sql.retarget("select t.id from s.t where t.id > 1", {"s.t"}, "tmp.n")
    assert con.execute(check).fetchall() == [(2,)]
