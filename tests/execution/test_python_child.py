"""execution.python_child: which errors of a model are worth another attempt, and how the rows
a model returns become a relation."""

from __future__ import annotations

import io
import urllib.error

import duckdb
import pytest

from orchestrator.execution import python_child as child


def http_error(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x", code, "said so", {}, io.BytesIO(b""))


@pytest.mark.parametrize(
    "exc, transient",
    [
        (TimeoutError("slow"), True),
        (TimeoutError("slow"), True),
        (ConnectionResetError("reset by peer"), True),
        (urllib.error.URLError(TimeoutError("timed out")), True),
        (http_error(503), True),
        (http_error(429), True),
        (http_error(404), False),
        (http_error(400), False),
        (child.Transient("try later"), True),
        (ValueError("bad row"), False),
        (KeyError("amount"), False),
    ],
)
def test_what_is_worth_another_attempt(exc, transient):
    assert child.is_transient(exc) is transient


def test_an_exception_marked_transient_and_one_raised_from_a_timeout():
    class Flaky(Exception):
        transient = True

    assert child.is_transient(Flaky())
    try:
        try:
            raise TimeoutError("socket")
        except TimeoutError as inner:
            raise RuntimeError("fetch failed") from inner
    except RuntimeError as outer:
        assert child.is_transient(outer)


class Ctx:
    connection = duckdb.connect()


def test_a_list_of_dicts_takes_the_declared_columns():
    rows = child.rows_of(
        [{"id": 1, "name": "a"}, {"id": 2}], Ctx, [["id", "BIGINT"], ["name", "VARCHAR"]]
    )
    assert rows.fetchall() == [(1, "a"), (2, None)]
    assert [t for t in rows.types] == ["BIGINT", "VARCHAR"]


@pytest.mark.parametrize(
    "result, columns, message",
    [
        ([{"id": 1}], [], "declare its `# columns"),
        ([{"id": 1, "x": 2}], [["id", "BIGINT"]], "row 0 has 'x'"),
        ([1, 2], [["id", "BIGINT"]], "row 0 is a int"),
        ({"id": 1}, [["id", "BIGINT"]], "returned a dict"),
    ],
)
def test_what_a_model_may_not_return(result, columns, message):
    with pytest.raises(TypeError, match=message):
        child.rows_of(result, Ctx, columns)
