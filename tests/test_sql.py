from __future__ import annotations

import pytest
from conftest import broken_error

from orchestrator import sql
from orchestrator.errors import ProjectError, UsageError


def refs(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    analysis = sql.analyze(text, "m.sql")
    return analysis.tables, analysis.files


@pytest.mark.parametrize(
    ("query", "tables"),
    [
        ("select * from a join b.c using (id)", {"a", "b.c"}),
        ("with x as (select * from raw.orders) select * from x", {"raw.orders"}),
        # a CTE named like the table it reads: the inner name is the real table
        ("with orders as (select * from orders) select * from orders", {"orders"}),
        (
            "select * from a where id in (select id from s.b where exists (select 1 from c))",
            {"a", "s.b", "c"},
        ),
        ("select * from a union all select * from b except select * from c", {"a", "b", "c"}),
        ("select * from (select * from (select * from deep.t) q) r", {"deep.t"}),
        ("select *, (select max(x) from scalar_src) from a", {"a", "scalar_src"}),
        ("select * from a, lateral (select * from b where b.id = a.id) l", {"a", "b"}),
        (
            "with a as (select 1), b as (select * from a join real_t using (x)) select * from b",
            {"real_t"},
        ),
        ("select * from generate_series(1, 3) g, unnest([1, 2]) u", set()),
        ("select * from Mixed.CASE_Name", {"mixed.case_name"}),
        ("select * from cat.sch.tbl", {"cat.sch.tbl"}),
        ("from a select x", {"a"}),
        ("select * from a pivot (sum(v) for k in ('x', 'y'))", {"a"}),
    ],
)
def test_references(query, tables):
    assert set(refs(query)[0]) == tables


def test_table_functions_and_file_paths_are_files_not_tables():
    tables, files = refs(
        "select * from read_csv('data/a.csv') a join 'data/b.parquet' b using (id) "
        "join read_parquet(['x.parquet', 'y.parquet']) c using (id) join real_t using (id)"
    )
    assert tables == ("real_t",)
    assert set(files) == {"data/a.csv", "data/b.parquet", "x.parquet", "y.parquet"}


def test_jinja_window_and_vars_render_as_literals_and_are_recorded():
    a = sql.analyze(
        "select * from t where d >= {{ start }} and d < {{ end }} and r = {{ var('region') }}",
        "m.sql",
    )
    assert a.tables == ("t",)
    assert a.vars == ("region",)


def test_full_jinja_is_supported_and_sees_vars():
    text = "select * from {% if var('x') %}a{% endif %} where d >= {{ start }}"
    out = sql.render(text, {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}, {"x": "1"})
    assert out == "select * from a where d >= DATE '2024-01-01'"


@pytest.mark.parametrize(
    "value",
    ["x'; drop table t; --", "'", "''", "a\\'b", "\\", "it's; DELETE FROM t", "$$x$$", "\n;--"],
)
def test_var_values_cannot_escape_their_literal(value):
    import duckdb

    rendered = sql.render(
        "select {{ var('v') }} as v", {"start": "NULL", "end": "NULL"}, {"v": value}
    )
    con = duckdb.connect()
    assert con.execute(rendered).fetchall() == [(value,)]
    # and the parser sees exactly one statement
    assert sql.parse(rendered, "m.sql")[0].key == "select"


def test_missing_var_names_it():
    with pytest.raises(UsageError, match=r"--var region=VALUE"):
        sql.render("select {{ var('region') }}", {"start": "NULL", "end": "NULL"}, {})


def test_hash_ignores_comments_whitespace_and_keyword_case():
    a = sql.analyze("select a, b\nfrom t -- note\nwhere x = 'Hi'", "m.sql").sql_hash
    b = sql.analyze(
        "-- header\nSELECT   a,b FROM t\n\n/* block */ WHERE x = 'Hi'", "m.sql"
    ).sql_hash
    c = sql.analyze("select a, b from t where x = 'hi'", "m.sql").sql_hash
    assert a == b
    assert a != c  # string literals keep their case


def test_hash_tells_start_from_end():
    a = sql.analyze("select * from t where d >= {{ start }}", "m.sql").sql_hash
    b = sql.analyze("select * from t where d >= {{ end }}", "m.sql").sql_hash
    assert a != b


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


def test_template_syntax_error_names_line():
    with pytest.raises(ProjectError) as info:
        sql.analyze("select 1\nfrom t\nwhere {% if %}", "m.sql")
    assert info.value.line == 3


WINDOW = {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}


def test_var_is_a_plain_value_in_jinja_logic():
    text = "select {% if var('r') == 'eu' %}'europe'{% else %}'other'{% endif %} as region"
    assert sql.render(text, WINDOW, {"r": "eu"}) == "select 'europe' as region"
    assert sql.render(text, WINDOW, {"r": "us"}) == "select 'other' as region"
    loop = (
        "select {% for p in var('parts').split(',') %}"
        "{{ p }}{% if not loop.last %}, {% endif %}{% endfor %}"
    )
    assert sql.render(loop, WINDOW, {"parts": "a,b"}) == "select 'a', 'b'"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ var('v') ~ 'x' }}", "'o''kx'"),
        ("{{ 'x' ~ var('v') }}", "'xo''k'"),
        ("{{ var('v')|upper }}", "'O''K'"),
        ("{{ var('v') * 2 }}", "'o''ko''k'"),
        ("{{ start ~ '' }}", "'DATE ''2024-01-01'''"),  # derived from a literal: data again
        ("{{ start }}", "DATE '2024-01-01'"),
        ("{{ 1 + 1 }}", "2"),
        ("{{ 2.5 }}", "2.5"),
        ("{{ 'a b' }}", "'a b'"),
        ("{{ none }}", "NULL"),
        ("{{ true }}", "true"),
    ],
)
def test_every_output_is_a_literal_or_a_number(template, expected):
    out = sql.render("select " + template + " as v", WINDOW, {"v": "o'k"})
    assert out == f"select {expected} as v"


@pytest.mark.parametrize("value", ["x'; drop table t; --", "'", "a\\'b", "1) union select 2 --"])
@pytest.mark.parametrize(
    "template",
    [
        "{{ var('v') }}",
        "{{ var('v') ~ '' }}",
        "{{ '' ~ var('v') ~ '' }}",
        "{{ var('v')|trim }}",
        "{{ var('v')|replace('x', 'y')|replace('y', 'x') }}",
        "{{ var('v') if var('v') else 'no' }}",
        "{% set w = var('v') %}{{ w }}",
        "{{ [var('v')]|join }}",
        "{{ '%s'|format(var('v')) }}",
    ],
)
def test_no_jinja_expression_lets_a_value_out_of_its_literal(value, template):
    import duckdb

    rendered = sql.render(f"select {template} as v", WINDOW, {"v": value})
    assert sql.parse(rendered, "m.sql")[0].key == "select"
    assert duckdb.connect().execute(rendered).fetchall() == [(value,)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 1/0 }}", "ZeroDivisionError"),
        ("{{ var() }}", "var() takes one name"),
        ("{{ var('a', 'b') }}", "var() takes one name"),
        ("{{ range(10**9)|list|length }}", "MAX_RANGE"),
        ("{{ 10 ** 1000000000 }}", "too large"),
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ var.__globals__ }}", "unsafe"),
        ("{{ nope }}", "'nope' is undefined"),
        ("{{ [1][5] }}", "no element 5"),
        ("{{ {}['a'].b }}", "no attribute 'a'"),
        ("{{ 'a' + 1 }}", "TypeError"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
    ],
)
def test_any_template_failure_is_a_project_error_naming_file_and_line(body, message):
    with pytest.raises(ProjectError) as info:
        sql.render(f"select 1\nfrom t\nwhere {body}", WINDOW, {"a": "x"}, path="models/s/m.sql")
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == 3
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def _hash(text: str) -> str:
    return sql.analyze(text, "m.sql").sql_hash


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("select 1 as Foo", "select 1 as foo"),  # an alias names the output column as written
        ("select 1 Foo", "select 1 foo"),
        ('select 1 as "Foo"', 'select 1 as "foo"'),
        ('select "Col" from t', 'select "col" from t'),
        ("select * from range(3) r(Foo)", "select * from range(3) r(foo)"),
        ("with x(Foo) as (select 1) select * from x", "with x(foo) as (select 1) select * from x"),
    ],
)
def test_hash_keeps_the_case_of_aliases_and_quoted_names(a, b):
    assert _hash(a) != _hash(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("select a from t", "select a from t;"),
        ("select a from t", "select a from t ;\n\n-- done\n"),
        ("select A, SUM(x) as s from T group by A", "select a, sum(x) as s from t group by a"),
        ("SELECT a FROM t WHERE b IS NOT NULL", "select a\n  from t\n where b is not null"),
    ],
)
def test_hash_ignores_a_trailing_semicolon_and_the_case_of_names_and_keywords(a, b):
    assert _hash(a) == _hash(b)


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        (
            "select * from t\nwhere name like '%{{ var('q') }}%'",
            2,
            "concatenate instead, e.g. '%' || {{ var('q') }} || '%'",
        ),
        ("select 'it''s {{ var(\"q\") }}' as v", 1, "a var renders as a whole quoted value"),
        ("select 1 as x\n\nwhere d = '{{ start }}'", 3, "write it outside the quotes"),
    ],
)
def test_a_var_inside_a_sql_string_says_so(text, line, hint):
    with pytest.raises(ProjectError) as info:
        sql.analyze(text, "models/s/m.sql")
    assert info.value.line == line
    assert "is inside a SQL string" in str(info.value) and hint in str(info.value)


def test_quotes_in_comments_names_and_jinja_do_not_count_as_strings():
    text = (
        "select {{ var('q') }} as \"it's\" -- don't\n"
        "/* a 'quoted' word */ from t\n"
        "where x = 'it''s' and y = {{ var('q') }} {% if var('q') == \"'\" %}{% endif %}"
    )
    assert sql.analyze(text, "m.sql").vars == ("q",)


MALFORMED = [
    "select ( from t",
    "select * from t where (",
    "select sum( from t",
    "select 1 +",
    "select 1 * from t",
    "with a as (select 1) select * from",
    "select case when 1 then from t",
    "select case when x then 1 else end from t",
    "select * from (select 1",
    "select cast(1 as ) from t",
    "select * from t limit",
    "select * from t where a in (",
    "select * from t where a between 1 and",
    "select * from t where not",
    "select a, from t where",
    "select * from t where a = ",
    "select 1 as from t",
    "select * from t having",
    "select 'unterminated from t",
    'select "unterminated from t',
    "select * from t where a like",
    "select * from t where a is",
    "select 1 || from t",
]


@pytest.mark.parametrize("sql", MALFORMED)
def test_a_syntax_error_is_said_in_the_words_of_the_sql(project, sql):
    """Issue 10, item 11: never sqlglot's internals (class names, tokens, its end marker)."""
    project.model("s.m", f"-- owner: x\n\n{sql}\n")
    message = broken_error(project.cli("plan"))
    assert message.startswith("models/s/m.sql:3: SQL syntax error: "), message
    for internal in ("<class", "sqlglot", "SENTINEL", "Token", "expressions."):
        assert internal not in message, message
    assert "\n" not in message


@pytest.mark.parametrize("expression", ["amount >", "(amount", "amount in (", "case when"])
def test_a_bad_check_expression_is_said_in_the_words_of_the_sql(project, expression):
    project.model("s.m", f"-- check: expression({expression})\nselect 1 as amount\n")
    message = broken_error(project.cli("plan"))
    assert message.startswith("models/s/m.sql:1: bad check: not a SQL expression: ")
    for internal in ("<class", "sqlglot", "SENTINEL", "Token"):
        assert internal not in message, message


def test_sql_nested_too_deeply_is_one_line_not_a_traceback(project):
    project.model("s.m", "select " + "(" * 300 + "1" + ")" * 300 + " as x\n")
    assert broken_error(project.cli("plan")) == (
        "models/s/m.sql: the SQL is nested too deeply to read (hundreds of parentheses "
        "or subqueries): flatten it with CTEs"
    )
