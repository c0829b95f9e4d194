"""The column types dbt gives a seed, read from the CSV as agate does: numbers, dates,
date-times, booleans and text; which texts are NULL; the two departures the report names; and
files that are no CSV a seed can be."""

from __future__ import annotations

import pytest

from orchestrator.importers.dbt.seedtypes import dbt_types


def test_seed_types_follow_dbt_on_numbers_dates_and_spelled_nulls(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "a,b,c,d,e,f,g\n"
        "1.0,2024-01-02T11:30:00,2024-01-02 11:30,True,1.5,null,2024-01-01\n"
        "1e3,2024-01-03T11:30:00Z,2024-01-03 11:30,false,2,7,2024-13-01\n"
    )
    types, notes, nulls = dbt_types(path)
    assert types == {
        "a": "INTEGER",  # whole numbers, however written
        "b": "TIMESTAMP",  # ISO 8601 with T (and Z)
        "c": "VARCHAR",  # no seconds: no date-time format takes it
        "d": "BOOLEAN",
        "e": "DOUBLE",
        "f": "INTEGER",  # 'null' is NULL in a typed column
        "g": "VARCHAR",  # one value is no date
    }
    assert nulls == ["", "null"] and notes == []


def test_a_text_column_holding_null_keeps_it_as_text_and_so_do_typed_ones(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("name,n\nnull,null\nann,2\n")
    types, notes, nulls = dbt_types(path)
    assert types == {"name": "VARCHAR", "n": "VARCHAR"}
    assert nulls == [""]  # only the empty field is NULL
    assert notes == ["n: holds 'null' beside a text column that does: loaded as text"]


def test_numbers_dbt_would_not_load_as_we_do_are_noted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('big,money,empty\n3000000000,"1,000",\n1,$5,\n')
    types, notes, _ = dbt_types(path)
    assert types == {"big": "BIGINT", "money": "VARCHAR", "empty": "INTEGER"}
    assert notes == [
        "big: whole numbers beyond INTEGER: BIGINT (dbt's INTEGER would overflow)",
        "money: numbers with separators or currency signs kept as text (dbt reads numbers)",
    ]


def test_a_delimiter_and_dates(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("d;ts\n2024-01-01;2024-01-01 10:00:00\n2024-02-29;2024-01-02 11:30:00\n")
    assert dbt_types(path, ";")[0] == {"d": "DATE", "ts": "TIMESTAMP"}


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "an empty file: a seed needs a header row"),
        ("a,a\n1,2\n", "repeated column names in the header: ['a', 'a']"),
        (b"a\n\xff\xfe\n", "cannot read it as CSV"),
    ],
)
def test_a_file_that_is_no_seed_is_refused(tmp_path, content, message):
    path = tmp_path / "t.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        dbt_types(path)
