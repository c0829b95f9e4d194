"""The parse cache: warm loads give exactly what a cold parse gives, a changed file or another
tool version is never answered from the cache, and a broken cache only costs a parse."""

from __future__ import annotations

import json

from orchestrator.project import cache as cache_mod
from orchestrator.project import loader as project_mod


def _load(root):
    return project_mod.load(root, strict=True)


def _facts(p):
    return {
        n: (m.tables, m.files, m.vars, m.version, [(c.name, c.tables) for c in m.checks])
        for n, m in p.models.items()
    }


def _entries(root) -> dict:
    return json.loads((root / cache_mod.FOLDER / cache_mod.FILE).read_text())["entries"]


def test_warm_load_equals_cold_and_skips_the_parser(project, monkeypatch):
    project.model("s.a", "select id from raw.events")
    project.model("s.b", "with x as (select * from s.a) select * from x join raw.users using (id)")
    project.write(
        "checks/positive.sql", "-- model: s.b\nselect * from s.b join raw.users using (id)\n"
    )
    cold = _facts(_load(project.root))
    assert len(_entries(project.root)) == 3

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed although the cache holds the answer")

    monkeypatch.setattr(cache_mod.sql, "analyze", no_parse)
    assert _facts(_load(project.root)) == cold
    assert cold["s.b"][4] == [("positive", ("raw.users",))]


def test_a_changed_file_is_parsed_again_and_old_entries_go(project):
    project.model("s.a", "select 1 as x from raw.one")
    _load(project.root)
    project.model("s.a", "select 1 as x from raw.two")
    assert _load(project.root).models["s.a"].tables == ("raw.two",)
    assert len(_entries(project.root)) == 1


def test_another_tool_version_does_not_use_the_cache(project, monkeypatch):
    project.model("s.a", "select 1 as x from raw.one")
    _load(project.root)
    path = project.root / cache_mod.FOLDER / cache_mod.FILE
    data = json.loads(path.read_text())
    # poison the entry: a cache of another version must be ignored, not trusted
    for entry in data["entries"].values():
        entry["tables"] = ["raw.poisoned"]
    data["salt"] = "0.0.0|sqlglot 1|x"
    path.write_text(json.dumps(data))
    assert _load(project.root).models["s.a"].tables == ("raw.one",)


def test_a_corrupt_or_unwritable_cache_only_costs_a_parse(project):
    project.model("s.a", "select 1 as x from raw.one")
    folder = project.root / cache_mod.FOLDER
    folder.mkdir(parents=True)
    (folder / cache_mod.FILE).write_text("{not json")
    assert _load(project.root).models["s.a"].tables == ("raw.one",)
    assert _entries(project.root)  # rewritten
    # a cache folder that cannot be created (a file in its place)
    project.model("s.a", "select 1 as x from raw.other")
    (folder / cache_mod.FILE).unlink()
    folder.rmdir()
    folder.parent.rmdir()
    folder.parent.write_text("not a folder")
    assert _load(project.root).models["s.a"].tables == ("raw.other",)
