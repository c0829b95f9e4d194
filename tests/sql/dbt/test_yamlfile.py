"""Reading a dbt project's YAML (`sql.dbt.yamlfile`): a document, {} for an empty file, and an
ImportProblem naming the file and line when it does not parse or cannot be read."""

from __future__ import annotations

import pytest

from orchestrator.sql.dbt.yamlfile import ImportProblem, as_list, load


def test_a_document_is_read_and_an_empty_file_is_an_empty_dict(tmp_path):
    (tmp_path / "a.yml").write_text("name: p\nvars:\n  x: [1, 2]\n")
    (tmp_path / "empty.yml").write_text("# nothing\n")
    assert load(tmp_path / "a.yml", "a.yml") == {"name": "p", "vars": {"x": [1, 2]}}
    assert load(tmp_path / "empty.yml", "empty.yml") == {}


def test_yaml_that_does_not_parse_names_the_file_and_line(tmp_path):
    (tmp_path / "bad.yml").write_text("name: p\nmodels:\n  - a\n  b: [\n")
    with pytest.raises(ImportProblem, match=r"^models/bad\.yml:\d+: YAML does not parse") as info:
        load(tmp_path / "bad.yml", "models/bad.yml")
    assert info.value.path == "models/bad.yml" and info.value.line in (3, 4)


def test_a_file_that_cannot_be_read_says_so(tmp_path):
    (tmp_path / "bin.yml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ImportProblem, match=r"^bin\.yml: cannot read it"):
        load(tmp_path / "bin.yml", "bin.yml")
    with pytest.raises(ImportProblem, match="cannot read it"):
        load(tmp_path / "missing.yml", "missing.yml")


def test_an_import_problem_says_where_it_can():
    assert str(ImportProblem("x", "a.yml", 3)) == "a.yml:3: x"
    assert str(ImportProblem("x", "a.yml")) == "a.yml: x"
    assert str(ImportProblem("x")) == "x"


def test_as_list_takes_one_item_or_several():
    assert (as_list(None), as_list("a"), as_list(("a", "b"))) == ([], ["a"], ["a", "b"])
