"""YAML read with its lines: every mapping and sequence knows where it stands, a repeated key
and a date that is no date are caught, a file that does not parse names its line."""

from __future__ import annotations

import sys
from datetime import date, datetime

import pytest

from orchestrator.core.errors import ProjectError, UsageError
from orchestrator.project import yaml_lines

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")


def read(tmp_path, text: str):
    path = tmp_path / "f.yml"
    path.write_text(text)
    return yaml_lines.load(path, "f.yml")


def test_mappings_and_sequences_know_their_lines(tmp_path):
    doc = read(
        tmp_path, "a:\n  - {x: 1}\n  - 5\n  -\n    y: 2\nb: 2026-10-03\nc: 2026-10-03 07:00:00\n"
    )
    assert isinstance(doc, yaml_lines.Lined) and doc.line == 1
    assert doc.lines == {"a": 1, "b": 6, "c": 7} and doc.line_of("b") == 6
    items = doc["a"]
    assert isinstance(items, yaml_lines.LinedList) and items.lines == [2, 3, 5]
    assert items.line_of(1) == 3 and items.line_of(9) == items.line == 2
    assert items[0].line == 2 and items[2].line == 5 and items[2].line_of("missing") == 5
    assert doc["b"] == date(2026, 10, 3) and doc["c"] == datetime(2026, 10, 3, 7)
    assert yaml_lines.line_of(items, 99) == 2 and yaml_lines.line_of("text", 99) == 99


def test_an_empty_file_is_none_and_a_date_that_is_none_stays_text(tmp_path):
    assert read(tmp_path, "") is None
    assert read(tmp_path, "d: 2026-02-30\n") == {"d": "2026-02-30"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: 1\nb: 2\na: 3\n", "f.yml:3: 'a' is given twice in one mapping"),
        ("a: [1,\nb: 2\n", "f.yml:3: YAML does not parse: while parsing a flow sequence"),
        ("a: b: c\n", "f.yml:1: YAML does not parse: mapping values are not allowed"),
    ],
)
def test_mistakes_name_the_line(tmp_path, text, message):
    with pytest.raises(ProjectError) as info:
        read(tmp_path, text)
    assert str(info.value).startswith(message), str(info.value)


def test_an_unreadable_file_is_one_error(tmp_path):
    (tmp_path / "f.yml").write_bytes(b"a: \xff\n")
    with pytest.raises(ProjectError, match="f.yml: cannot read it"):
        yaml_lines.load(tmp_path / "f.yml", "f.yml")


def test_without_pyyaml_the_error_says_what_to_install(monkeypatch):
    yaml_lines._loader.cache_clear()
    monkeypatch.setitem(sys.modules, "yaml", None)
    try:
        with pytest.raises(UsageError, match=r"pip install 'orchestrator\[dbt\]'"):
            yaml_lines._loader()
    finally:
        yaml_lines._loader.cache_clear()


def test_text_reads_as_a_file_would():
    doc = yaml_lines.loads("a:\n  b: 1\n", "t.yml")
    assert doc["a"].line == 2 and doc.line_of("a") == 1
    with pytest.raises(ProjectError, match="t.yml:2: 'b' is given twice"):
        yaml_lines.loads("b: 1\nb: 2\n", "t.yml")
