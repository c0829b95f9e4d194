"""Rendering a model's template (`sql.template`): the window and vars written as SQL literals so no
value changes the shape of the query, Jinja in a sandbox, every failure a ProjectError naming
the file and line, a var inside a SQL string refused, and where the window is first read."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import ProjectError, UsageError
from orchestrator.sql import parse as sql
from orchestrator.sql.template import Literal, quote_literal, render, sql_value, window_use


def test_full_jinja_is_supported_and_sees_vars():
    text = "select * from {% if var('x') %}a{% endif %} where d >= {{ start }}"
    out = render(text, {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}, {"x": "1"})
    assert out == "select * from a where d >= DATE '2024-01-01'"


@pytest.mark.parametrize(
    "value",
    ["x'; drop table t; --", "'", "''", "a\\'b", "\\", "it's; DELETE FROM t", "$$x$$", "\n;--"],
)
def test_var_values_cannot_escape_their_literal(value):
    import duckdb

    rendered = render("select {{ var('v') }} as v", {"start": "NULL", "end": "NULL"}, {"v": value})
    con = duckdb.connect()
    assert con.execute(rendered).fetchall() == [(value,)]
    # and the parser sees exactly one statement
    assert sql.parse(rendered, "m.sql")[0].key == "select"


def test_missing_var_names_it():
    with pytest.raises(UsageError, match=r"--var region=VALUE"):
        render("select {{ var('region') }}", {"start": "NULL", "end": "NULL"}, {})


def test_template_syntax_error_names_line():
    with pytest.raises(ProjectError) as info:
        sql.analyze("select 1\nfrom t\nwhere {% if %}", "m.sql")
    assert info.value.line == 3


WINDOW = {"start": "DATE '2024-01-01'", "end": "DATE '2024-01-02'"}


def test_var_is_a_plain_value_in_jinja_logic():
    text = "select {% if var('r') == 'eu' %}'europe'{% else %}'other'{% endif %} as region"
    assert render(text, WINDOW, {"r": "eu"}) == "select 'europe' as region"
    assert render(text, WINDOW, {"r": "us"}) == "select 'other' as region"
    loop = (
        "select {% for p in var('parts').split(',') %}"
        "{{ p }}{% if not loop.last %}, {% endif %}{% endfor %}"
    )
    assert render(loop, WINDOW, {"parts": "a,b"}) == "select 'a', 'b'"


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
    out = render("select " + template + " as v", WINDOW, {"v": "o'k"})
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

    rendered = render(f"select {template} as v", WINDOW, {"v": value})
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
        render(f"select 1\nfrom t\nwhere {body}", WINDOW, {"a": "x"}, path="models/s/m.sql")
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == 3
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


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


def test_this_incremental_and_a_var_function_are_seen_by_the_template():
    window = {**WINDOW, "this": '"s"."m"', "incremental": "true"}
    text = "select * from {{ this }}{% if is_incremental() %} where x = {{ var('r') }}{% endif %}"
    rendered = render(text, window, lambda name: name.upper())
    assert rendered == 'select * from "s"."m" where x = \'R\''


def test_a_nul_in_a_var_value_is_refused():
    with pytest.raises(UsageError, match="NUL"):
        quote_literal("a\x00b")


def test_sql_value_writes_literals_as_they_are_and_odd_floats_as_strings():
    assert sql_value(Literal('"s"."t"')) == '"s"."t"'
    assert sql_value(False) == "false"
    assert sql_value(float("nan")) == "'nan'"  # no bare NaN in SQL


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("select 1\nwhere d < {{ end }} and d >= {{ start }}", ("end", 2)),
        ("select 1\n{% if true %}\nwhere d < {{ end }}{% endif %}", ("end", 3)),
        ("{% set start = 1 %}select {{ start }}", None),  # a name of its own, not the window
        ("select {{ var('x') }}", None),
        ("select 1", None),
    ],
)
def test_window_use_finds_the_first_read_of_the_window(text, found):
    assert window_use(text) == found
