"""The hash that versions a model (`sql.sql_hash`): comments, whitespace, a trailing `;` and the
case of keywords and names do not change it; strings, quoted names, aliases and the window
bound read do."""

from __future__ import annotations

import pytest

from orchestrator.sql import parse as sql


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


def test_a_changed_query_changes_the_hash():
    assert _hash("select a from t") != _hash("select b from t")
    assert _hash("select a from t where x = 1") != _hash("select a from t where x = 2")
