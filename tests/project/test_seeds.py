"""Seeds: CSV files in seeds/ loaded as tables, nodes of the DAG like models: read relative to
the project wherever the CLI runs from, rebuilt when (and only when) their file changes, with
their settings checked line by line."""

from __future__ import annotations

import pytest


@pytest.fixture
def seeded(project):
    project.write(
        "seeds/ref/countries.csv", "code,name,population\nDE,Germany,83000000\nFR,France,68000000\n"
    )
    project.write("seeds/people.csv", "id;code\n1;DE\n2;FR\n3;DE\n")
    project.write(
        "orchestrator.toml",
        """
        [seeds."main.people"]
        delimiter = ";"

        [seeds."ref.countries"]
        column_types = { population = "BIGINT" }
        owner = "geo"
        tags = ["reference"]
        """,
    )
    project.model(
        "m.joined", "select p.id, c.name from main.people p join ref.countries c using (code)"
    )
    return project


def test_seeds_load_as_tables_that_models_read(seeded):
    run = seeded.cli("run")
    assert run.returncode == 0, run.stderr
    assert seeded.query("select * from m.joined order by id") == [
        (1, "Germany"),
        (2, "France"),
        (3, "Germany"),
    ]
    assert seeded.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'ref' and table_name = 'countries' order by ordinal_position"
    ) == [("code", "VARCHAR"), ("name", "VARCHAR"), ("population", "BIGINT")]
    status = seeded.cli("status").stdout
    assert "ref.countries" in status and "geo" in status
    assert seeded.cli("run", "tag:reference", "--dry-run").returncode == 0


def test_a_seed_is_rebuilt_when_its_file_changes_and_only_then(seeded):
    assert seeded.cli("run").returncode == 0
    assert "nothing to do" in seeded.cli("run").stdout
    (seeded.root / "seeds/ref/countries.csv").touch()  # the same content: nothing to do
    assert "nothing to do" in seeded.cli("run").stdout
    path = seeded.root / "seeds/ref/countries.csv"
    path.write_text(path.read_text().replace("Germany", "Deutschland"))
    plan = seeded.cli("plan").stdout
    assert "ref.countries  whole" in plan and "m.joined       whole" in plan
    assert "up to date: main.people" in plan
    assert seeded.cli("run").returncode == 0
    assert seeded.query("select name from m.joined where id = 1") == [("Deutschland",)]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[seeds."ref.countries"]\ndelimter = ";"',
            "seed 'ref.countries': unknown setting 'delimter' (did you mean: delimiter?)",
        ),
        (
            '[seeds."ref.countries"]\ncolumn_types = { population = "BIGINTT" }',
            "column_types.population",
        ),
        ('[seeds."ref.nowhere"]\nowner = "x"', "names no file seeds/.../nowhere.csv"),
        ('[seeds."ref.countries"]\ndelimiter = ";;"', "delimiter must be one character"),
    ],
)
def test_bad_seed_settings_name_the_line(seeded, toml, message):
    seeded.write("orchestrator.toml", toml)
    out = seeded.cli("plan")
    assert out.returncode == 2
    assert message in out.stderr and "orchestrator.toml:" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_seed_and_a_model_of_one_name_is_an_error(seeded):
    seeded.model("ref.countries", "select 1 as x")
    out = seeded.cli("plan")
    assert out.returncode == 2
    assert (
        "seed seeds/ref/countries.csv and model models/ref/countries.sql would both build "
        "ref.countries" in out.stderr
    )


def test_a_dbt_seed_with_a_byte_order_mark_and_empty_fields_loads_as_dbt_loads_it(tmp_path):
    # what dbt 1.11 with dbt-duckdb 1.10 loads from these two files: the mark is no part of
    # the first column's name; an empty field and a quoted empty one ("") are both NULL, and
    # blanks are kept
    pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")
    from conftest import ProjectDir

    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", 'name: sd\nversion: "1.0"\nprofile: sd\n')
    (dbt.root / "seeds").mkdir()
    (dbt.root / "seeds/bom.csv").write_bytes(
        b'\xef\xbb\xbfid,name,note\r\n1,"",x\r\n2,,y\r\n3,"a",\r\n4,b,""\r\n'
    )
    (dbt.root / "seeds/plain.csv").write_bytes(
        b'id,name,note\n1,"",x\n2,,y\n3,"  ",z\n4,"a b",""\n'
    )
    out = ProjectDir(tmp_path / "ours")
    done = out.cli("import", "dbt", str(dbt.root), "--out", str(out.root))
    assert done.returncode == 0, done.stdout + done.stderr
    ran = out.cli("run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    columns = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"
    assert out.query(columns + " ORDER BY ordinal_position", ["bom"]) == [
        ("id", "INTEGER"),
        ("name", "VARCHAR"),
        ("note", "VARCHAR"),
    ]
    assert out.query("SELECT * FROM main.bom ORDER BY id") == [
        (1, None, "x"),
        (2, None, "y"),
        (3, "a", None),
        (4, "b", None),
    ]
    assert out.query("SELECT * FROM main.plain ORDER BY id") == [
        (1, None, "x"),
        (2, None, "y"),
        (3, "  ", "z"),
        (4, "a b", None),
    ]
