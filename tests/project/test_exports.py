"""project.exports: `[exports.NAME]` parsed into values, each mistake one error naming its line
in orchestrator.toml; through the real CLI, a bad export is exit 2 and writes nothing."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import loader

DAILY = """
    -- kind: incremental
    -- partition_by: day
    -- start: 2024-01-01
    select day, 1 as n from range(date '2024-01-01', date '2024-01-04', interval 1 day) t(day)
    where day >= {{ start }} and day < {{ end }}
"""


@pytest.fixture
def exporting(project):
    project.model("marts.daily", DAILY)
    project.model("marts.total", "select 1 as n")
    return project


def exports_of(project, toml: str):
    project.write("orchestrator.toml", toml)
    return loader.load(project.root).ops.exports


def test_an_export_names_its_model_as_a_selector_does_and_defaults_from_its_path(exporting):
    found = exports_of(
        exporting,
        """
        [exports.files]
        model = "daily"
        path = "out/{date}.parquet"

        [exports.whole]
        model = "marts.total"
        path = "out/total.csv"
        owner = "finance"

        [exports.table]
        model = "marts.daily"
        database = "reporting.duckdb"
        table = "Fin.Daily"
        query = "select day from {{ this }}"
        """,
    )
    files, whole, table = found["files"], found["whole"], found["table"]
    assert (files.model, files.format, files.per, files.line) == (
        "marts.daily",
        "parquet",
        "partition",
        1,
    )
    assert (whole.format, whole.per, whole.owner) == ("csv", "whole", "finance")
    assert (table.table, table.per, table.destination) == (
        "fin.daily",
        "partition",
        "reporting.duckdb:fin.daily",
    )


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('model = "nope"\npath = "a.csv"', 2, "model 'nope' names no model"),
        ('model = "daily"\npath = "a.csv"\ncolour = "red"', 4, "unknown setting 'colour'"),
        ('model = "daily"\npath = "a/{date}.xlsx"\nformat = "xlsx"', 4, "unknown format 'xlsx'"),
        ('model = "daily"\npath = "a/{date}.txt"', 3, "cannot tell the format"),
        ('model = "total"\npath = "a/{date}.csv"\nper = "partition"', 4, "not partitioned"),
        ('model = "daily"\npath = "a.csv"\nper = "partition"', 3, "must name each partition"),
        ('model = "daily"\npath = "a/{month}.csv"', 3, "must name each partition"),
        ('model = "daily"\npath = "a/{day}.csv"', 3, "unknown placeholder {day}"),
        ('model = "daily"\npath = "a.csv"\ndatabase = "b.duckdb"', 4, "not both"),
        ('model = "daily"', 1, "needs path"),
        ('model = "daily"\ndatabase = "b.duckdb"', 3, "needs table"),
        ('model = "daily"\ndatabase = "b.duckdb"\ntable = "a.b.c"', 4, "schema.table"),
        ('model = "daily"\npath = "a/{date}.csv"\nper = "each"', 4, "per must be"),
        ('model = "daily"\npath = "a/{date}.csv"\nper = "whole"', 3, "placeholders"),
        ('path = "a.csv"', 1, "needs model"),
    ],
)
def test_each_mistake_is_one_error_naming_its_line(exporting, body, line, words):
    with pytest.raises(ProjectError) as caught:
        exports_of(exporting, "# exports\n[exports.bad]\n" + body + "\n")
    assert caught.value.line == line + 1
    assert words in str(caught.value) and "export 'bad'" in str(caught.value)


def test_exports_are_refused_on_spark(exporting):
    with pytest.raises(ProjectError, match="DuckDB only"):
        exports_of(
            exporting, '[engine]\nkind = "spark"\n[exports.a]\nmodel = "total"\npath = "a.csv"\n'
        )


def test_an_export_to_an_unknown_format_is_exit_2_naming_the_line_and_writes_nothing(exporting):
    exporting.write(
        "orchestrator.toml",
        """
        [exports.finance]
        model = "daily"
        path = "exports/{date}.parquet"
        format = "xlsx"
        """,
    )
    before = exporting.files()
    for command in ("run", "plan", "status"):
        done = exporting.cli(command)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "orchestrator.toml:4:" in lines[0], done.stderr
        assert "unknown format 'xlsx'" in lines[0]
    assert exporting.files() == before
    assert not exporting.warehouse.exists() and not (exporting.root / "exports").exists()
