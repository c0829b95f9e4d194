"""sqlglot's parse errors in the words of the SQL (`sql.syntax`): what is incomplete, where the SQL
ends, never sqlglot's class names, tokens or end marker; and a check's expression validated."""

from __future__ import annotations

import pytest
from conftest import broken_error

from orchestrator.sql.syntax import syntax_problem, validate_expression

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


@pytest.mark.parametrize(
    ("description", "said"),
    [
        (
            "Required keyword: 'this' missing for <class 'sqlglot.expressions.Limit'>",
            "incomplete LIMIT: a value, a column or a query is missing",
        ),
        (
            "Required keyword: 'expression' missing for <class 'sqlglot.expressions.GTE'>",
            "incomplete operator: a value, a column or a query is missing",
        ),
        (
            "Required keyword: 'this' missing for <class 'sqlglot.expressions.WindowSpec'>",
            "incomplete window spec: a value, a column or a query is missing",
        ),
        (
            "Invalid expression / Unexpected token. Line 1, Col: 5. <Token token_type: "
            "TokenType.FROM, text: from, line: 1, col: 9, start: 5, end: 8, comments: []>",
            "Invalid expression / Unexpected token. Line 1, Col: 5. 'from'",
        ),
        ("Expected <class 'sqlglot.expressions.Table'> here", "Expected Table here"),
        ("Expected table name but got 'SENTINEL'", "Expected table name but the SQL ends there"),
    ],
)
def test_syntax_problem_says_a_parse_error_without_sqlglot_internals(description, said):
    assert syntax_problem(description) == said


def test_a_valid_expression_passes():
    validate_expression("amount > 1 and coalesce(b, 'x') in ('x', 'y')")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount >", "not a SQL expression: incomplete operator"),
        ("(amount", "not a SQL expression: "),
        ("(" * 400 + "1" + ")" * 400, "not a SQL expression: it is nested too deeply to read"),
    ],
)
def test_an_invalid_expression_is_a_value_error_in_the_words_of_the_sql(text, message):
    with pytest.raises(ValueError, match=r"^not a SQL expression: ") as info:
        validate_expression(text)
    assert str(info.value).startswith(message)
    assert "sqlglot" not in str(info.value) and "<class" not in str(info.value)
