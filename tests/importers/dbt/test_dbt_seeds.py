"""dbt seeds as ours: the CSV copied where our seeds live with the column types dbt gives it
(or those it declares) and its settings in orchestrator.toml; through `convert` on small dbt
projects written in tmp_path, and loaded and rebuilt through the real CLI."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from orchestrator.importers.dbt.convert import convert
from orchestrator.importers.dbt.profiles import read_target
from orchestrator.sql.dbt.project import read

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"


def converted(project: ProjectDir, files: dict[str, str]):
    for rel, text in {"dbt_project.yml": "name: p\nprofile: p\n", **files}.items():
        project.write(rel, text)
    dbt = read(project.root)
    return convert(dbt, read_target(dbt, None))


def imported(tmp_path, files, *args):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in files.items():
        dbt.write(rel, text)
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root), *args, now=NOW)
    return dbt, out, done


def test_a_seed_is_copied_with_its_types_and_settings(project):
    out = converted(
        project,
        {
            "seeds/codes.csv": "\ufeffcode;n\nFR;1\n",
            "seeds/props.yml": (
                "seeds:\n  - name: codes\n    description: Codes.\n    config:\n"
                "      delimiter: ';'\n      column_types: {code: VARCHAR(2)}\n"
                "      meta: {owner: ann}\n      tags: [ref]\n"
            ),
        },
    )
    # the byte order mark is no part of the first column's name: the copy goes without it
    assert out.files["seeds/main/codes.csv"] == "code;n\nFR;1\n"
    assert out.seeds == {
        "main.codes": {
            "column_types": {"code": "VARCHAR(2)", "n": "INTEGER"},
            "nulls": ["", "null"],
            "delimiter": ";",
            "owner": "ann",
            "tags": ["ref"],
            "description": "Codes.",
        }
    }
    [outcome] = out.outcomes
    assert (outcome.node, outcome.status, outcome.ours) == (
        "seed.p.codes",
        "converted exactly",
        "main.codes",
    )


def test_a_seed_that_is_no_csv_needs_a_hand(project):
    out = converted(project, {"seeds/bad.csv": "a,a\n1,2\n"})
    assert out.seeds == {} and out.files == {}
    assert out.problems == ["seeds/bad.csv: repeated column names in the header: ['a', 'a']"]
    assert out.outcomes[0].status == "needs a hand"


SEEDS = {
    "dbt_project.yml": """
        name: seeded
        seeds:
          seeded:
            +schema: ref
            countries:
              +column_types:
                code: VARCHAR(2)
        """,
    "seeds/countries.csv": """
        code,name,population,founded,joined_eu,updated,gdp,note,empty
        DE,Germany,83000000,1949-05-23,true,2024-01-01 10:00:00,4.5,"has, comma",
        FR,France,68000000,1958-10-04,TRUE,2024-01-02T11:30:00,3.1,null,
        NO,Norway,5500000,not a date,false,2024-01-03 09:00:00,0.6,,
        """,
    "seeds/big.csv": """
        id,amount
        1,"1,000"
        3000000000,"$5"
        """,
    "seeds/_props.yml": """
        seeds:
          - name: countries
            columns:
              - name: code
                data_tests: [unique, not_null]
        """,
    "models/eu.sql": """
        select code, name from {{ ref('countries') }} where joined_eu
        """,
}


def test_seeds_load_with_the_types_dbt_gives_them_and_rebuild_when_the_file_changes(tmp_path):
    dbt, ours, done = imported(tmp_path, SEEDS)
    assert done.returncode == 0, done.stderr
    assert (ours.root / "seeds/main_ref/countries.csv").exists()
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'countries' order by ordinal_position"
    ) == [
        ("code", "VARCHAR"),  # declared (VARCHAR(2) is VARCHAR in DuckDB)
        ("name", "VARCHAR"),
        ("population", "INTEGER"),  # dbt's INTEGER, not the sniffer's BIGINT
        ("founded", "VARCHAR"),  # a value that is no date: text, as in dbt
        ("joined_eu", "BOOLEAN"),
        ("updated", "VARCHAR"),  # two date-time formats: text, as in dbt
        ("gdp", "DOUBLE"),
        ("note", "VARCHAR"),
        ("empty", "INTEGER"),  # nothing but NULLs: agate's first type
    ]
    assert ours.query("select code, note from main_ref.countries order by code") == [
        ("DE", "has, comma"),
        ("FR", "null"),  # text keeps 'null' as text, as in dbt
        ("NO", None),
    ]
    assert ours.query("select * from main.eu order by code") == [
        ("DE", "Germany"),
        ("FR", "France"),
    ]
    assert ours.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'big' order by ordinal_position"
    ) == [("id", "BIGINT"), ("amount", "VARCHAR")]
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "whole numbers beyond INTEGER" in report and "separators or currency" in report
    assert ours.query("select check_name, status from orchestrator.check_results order by 1") == [
        ("countries__not_null_code", "pass"),
        ("countries__unique_code", "pass"),
    ]
    # a seed is a node: an unchanged file is not rebuilt, a changed one is, and its readers
    assert "nothing to do" in ours.cli("run", now=NOW).stdout
    csv = ours.root / "seeds/main_ref/countries.csv"
    csv.write_text(csv.read_text().replace("Germany", "Deutschland"))
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0 and "main_ref.countries" in run.stdout
    assert "main.eu" not in run.stdout  # a view (dbt's default): it reads the new rows as it is
    assert ours.query("select name from main.eu order by code") == [("Deutschland",), ("France",)]
