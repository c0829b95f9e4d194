"""The `dbt/` folder beside an imported project (`sql.dbt.bundle`): the hash that versions what it
holds changes with any of its files, and is empty without the folder."""

from __future__ import annotations

import os

from orchestrator.sql.dbt.bundle import BUNDLE, bundle_digest


def test_no_folder_no_digest(project):
    assert bundle_digest(project.root) == ""


def test_the_digest_changes_with_an_edited_added_or_renamed_file(project):
    macro = project.write(f"{BUNDLE}/macros/m.sql", "{% macro m() %}1{% endmacro %}\n")
    first = bundle_digest(project.root)
    assert len(first) == 16 and bundle_digest(project.root) == first
    macro.write_text("{% macro m() %}2{% endmacro %}\n")
    os.utime(macro, ns=(1, 1))  # a new mtime even on a coarse clock
    edited = bundle_digest(project.root)
    assert edited != first
    project.write(f"{BUNDLE}/macros/n.sql", "")
    added = bundle_digest(project.root)
    assert added != edited
    (project.root / BUNDLE / "macros/n.sql").rename(project.root / BUNDLE / "macros/o.sql")
    assert bundle_digest(project.root) not in (added, edited, first)


def test_files_outside_the_folder_do_not_count(project):
    project.write(f"{BUNDLE}/context.json", "{}")
    before = bundle_digest(project.root)
    project.model("s.m", "select 1")
    assert bundle_digest(project.root) == before
