"""A unit test's rows as written: mappings, CSV text, a query; the names it gives resolved
to relations; the keys each part accepts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import unit_rows
from orchestrator.project.yaml_lines import load

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")


def rows(tmp_path, text: str) -> unit_rows.Rows:
    path = tmp_path / "r.yml"
    path.write_text(text)
    return unit_rows.parse(load(path, "r.yml"), "r.yml", "input")


def test_mappings_keep_their_values_and_name_their_columns_in_order(tmp_path):
    found = rows(
        tmp_path,
        "rows:\n  - {id: 1, d: 2026-10-03}\n  - {id: 2, note: x, tags: [a, 1], s: {k: v}}\n",
    )
    assert found.format == "dict" and not found.texts and found.line == 1
    assert found.columns == ("id", "d", "note", "tags", "s") and found.lines == (2, 3)
    assert found.rows[0] == {"id": 1, "d": date(2026, 10, 3)}
    assert found.rows[1]["tags"] == '["a", 1]' and found.rows[1]["s"] == '{"k": "v"}'


def test_csv_is_text_with_empty_fields_null_and_lines_counted_from_the_block(tmp_path):
    found = rows(tmp_path, "format: csv\nrows: |\n  id, note\n  1, a b\n\n  2,\n")
    assert found.texts and found.columns == ("id", "note")
    assert found.rows == ({"id": "1", "note": "a b"}, {"id": "2", "note": None})
    assert found.lines == (4, 6)


def test_a_query_and_declared_types(tmp_path):
    found = rows(tmp_path, "format: sql\ncolumns: {id: BIGINT}\nrows: select 1 as id;\n")
    assert found.sql == "select 1 as id" and found.types == {"id": "BIGINT"}
    assert unit_rows.parse(load_text(tmp_path, "rows: []\n"), "r.yml", "expect") == unit_rows.Rows(
        line=1
    )


def load_text(tmp_path, text):
    path = tmp_path / "e.yml"
    path.write_text(text)
    return load(path, "e.yml")


@pytest.mark.parametrize(
    "text, message",
    [
        ("format: csv\nrows: |\n", "r.yml:2: rows: the CSV text has no header line"),
        ("format: csv\nrows: |\n  a,\n", "r.yml:3: rows: the CSV header has an empty column name"),
        ("columns: [a]\nrows: []\n", "r.yml:1: columns: a mapping of column names to types"),
        ("columns: {a: 5}\nrows: []\n", "r.yml:1: columns: a: 5 is no type"),
    ],
)
def test_mistakes_name_the_line(tmp_path, text, message):
    with pytest.raises(ProjectError) as info:
        rows(tmp_path, text)
    assert str(info.value).startswith(message), str(info.value)


def test_text_of_writes_what_the_user_meant():
    assert unit_rows.text_of(True) == "true" and unit_rows.text_of(None) == ""
    assert unit_rows.text_of(date(2026, 10, 3)) == "2026-10-03"
    assert unit_rows.text_of(datetime(2026, 10, 3, 7)) == "2026-10-03T07:00:00"
    assert unit_rows.text_of(3) == "3"


NAMES = ["raw.orders", "staging.orders", "marts.daily"]


@pytest.mark.parametrize(
    "text, prefer, found",
    [
        ("marts.daily", (), "marts.daily"),
        ("Marts.Daily", (), "marts.daily"),
        ("warehouse.marts.daily", (), "marts.daily"),
        ("daily", (), "marts.daily"),
        ("orders", ("raw.orders",), "raw.orders"),
    ],
)
def test_a_name_resolves_by_full_or_unique_table_name(text, prefer, found):
    assert unit_rows.resolve(text, NAMES, "unknown", "f.yml", 3, prefer) == found


def test_an_unknown_or_ambiguous_name_is_an_error_with_close_names():
    with pytest.raises(ProjectError, match=r"f.yml:3: unknown \(did you mean: marts.daily"):
        unit_rows.resolve("marts.dayly", NAMES, "unknown", "f.yml", 3)
    with pytest.raises(ProjectError, match="'orders' names raw.orders and staging.orders"):
        unit_rows.resolve("orders", NAMES, "unknown", "f.yml", 3)
