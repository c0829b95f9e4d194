"""Writing the imported project: its files, an `orchestrator.toml` that reads back as TOML, the
report, the exit code that says how much converted, and the folders it refuses to write into;
`import_dbt` on small dbt projects written in tmp_path, and --force through the real CLI."""

from __future__ import annotations

import tomllib

import pytest
from conftest import ProjectDir

from orchestrator.core.errors import UsageError
from orchestrator.importers.dbt.write import import_dbt

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

MINI = {
    "dbt_project.yml": "name: mini\nprofile: mini\n",
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select id from {{ ref('a') }}",
}


def dbt_project(root, files: dict[str, str]) -> ProjectDir:
    folder = ProjectDir(root)
    for rel, text in files.items():
        folder.write(rel, text)
    return folder


def test_the_project_is_written_beside_the_dbt_one_with_a_toml_that_reads_back(tmp_path):
    dbt = dbt_project(
        tmp_path / "shop",
        {
            **MINI,
            "dbt_project.yml": 'name: mini\nprofile: mini\non-run-end: "select 1"\n',
            "profiles.yml": (
                "mini:\n  target: dev\n  outputs:\n"
                "    dev: {type: duckdb, path: dev.duckdb, schema: main}\n"
            ),
            "models/s.yml": (
                "sources:\n  - name: raw\n    tables: [{name: e, meta: {owner: 'a\"b'}}]\n"
            ),
            "seeds/c.csv": "x\n1\n",
        },
    )
    (dbt.root / "dev.duckdb").write_bytes(b"")
    done = import_dbt(dbt.root, None, None, "dbt", False)
    assert done.out == tmp_path / "shop-orchestrator" and done.exit_code == 0
    assert done.dbt_warehouse == str(dbt.root / "dev.duckdb")
    assert sorted(p.relative_to(done.out).as_posix() for p in done.out.rglob("*.*")) == [
        "IMPORT_REPORT.md",
        "models/main/a.sql",
        "models/main/b.sql",
        "orchestrator.toml",
        "seeds/main/c.csv",
    ]
    text = (done.out / "orchestrator.toml").read_text()
    assert f"`orchestrator adopt --warehouse {dbt.root / 'dev.duckdb'}`" in text
    assert tomllib.loads(text) == {
        "warehouse": "warehouse.duckdb",
        "default_schema": "main",
        "hooks": {"on_run_end": ["select 1"]},
        "sources": {"raw.e": {"owner": 'a"b'}},
        "seeds": {"main.c": {"column_types": {"x": "INTEGER"}, "nulls": ["", "null"]}},
    }


def test_the_exit_code_says_how_much_converted(tmp_path):
    some = dbt_project(tmp_path / "some", {**MINI, "models/p.py": "def model(dbt, s): ..."})
    assert import_dbt(some.root, tmp_path / "o1", None, "dbt", False).exit_code == 1
    none = dbt_project(tmp_path / "none", {"dbt_project.yml": "name: n\n", "models/p.py": ""})
    assert import_dbt(none.root, tmp_path / "o2", None, "dbt", False).exit_code == 2


def test_folders_it_must_not_write_into_are_refused(tmp_path):
    dbt = dbt_project(tmp_path / "mini", MINI)
    with pytest.raises(UsageError, match="is inside the dbt project: it is never modified"):
        import_dbt(dbt.root, dbt.root / "out", None, "dbt", False)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is a file"):
        import_dbt(dbt.root, tmp_path / "file", None, "dbt", False)
    with pytest.raises(UsageError, match="no dbt_project.yml in .*: is it a dbt project"):
        import_dbt(tmp_path, tmp_path / "out", None, "dbt", False)
    assert not (tmp_path / "out").exists()


def test_an_earlier_import_is_replaced_only_with_force(tmp_path):
    dbt = dbt_project(tmp_path / "mini", MINI)
    out = ProjectDir(tmp_path / "ours")
    out.write("keep.txt", "mine")
    args = ("import", "dbt", str(dbt.root), "--out", str(out.root))
    done = out.cli(*args)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {out.root} exists and is not empty: pass --force to replace its import"
    )
    assert not (out.root / "models").exists()
    assert out.cli(*args, "--force").returncode == 0
    out.write("models/main/old.sql", "select 1 as gone")
    assert out.cli(*args, "--force").returncode == 0
    assert sorted(p.name for p in (out.root / "models/main").iterdir()) == ["a.sql", "b.sql"]
    assert (out.root / "keep.txt").read_text() == "mine"  # not ours: left alone
    # the default folder is beside the dbt project
    done = out.cli("import", "dbt", str(dbt.root))
    assert done.returncode == 0 and (tmp_path / "mini-orchestrator" / "models/main/b.sql").exists()
