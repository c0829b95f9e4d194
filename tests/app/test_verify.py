"""Dual-run before switching engines: both builds compared row by row (floats to a tolerance),
each difference named with example rows; the embedded example has none."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest
from conftest import REPO, ProjectDir, needs_spark

from orchestrator.app.verify import compare


def test_equal_multisets_in_any_order_and_column_order_are_no_difference():
    duck = [(1, "a", 0.1 + 0.2), (2, "b", 1.5), (2, "b", 1.5)]
    spark = [(1.5, "b", 2), (0.3, "a", 1), (1.5, "b", 2)]
    assert compare("m", duck, ["id", "s", "x"], spark, ["x", "s", "ID"]) is None


def test_a_difference_is_named_with_counts_and_example_rows():
    duck = [(1, Decimal("1.50")), (2, Decimal("2.00")), (2, Decimal("2.00"))]
    spark = [(1, Decimal("1.5")), (2, Decimal("2.00")), (3, Decimal("2.01"))]
    found = compare("s.m", duck, ["id", "v"], spark, ["id", "v"])
    assert found is not None
    assert found.problem == "3 rows on duckdb, 3 on spark; 1 only on duckdb, 1 only on spark"
    assert found.lines()[1:] == [
        "    columns: id, v",
        "    only on duckdb: (2, Decimal('2'))",
        "    only on spark:  (3, Decimal('2.01'))",
    ]
    # a type difference shows as values that differ (a float is not a decimal)
    assert compare("s.m", [(1.5,)], ["v"], [(Decimal("1.5"),)], ["v"]) is not None
    assert compare("s.m", [(date(2024, 1, 1),)], ["v"], [(date(2024, 1, 2),)], ["v"])


def test_columns_that_differ_are_named():
    found = compare("s.m", [(1, 2)], ["a", "b"], [(1, 2, 3)], ["a", "b", "_w"])
    assert found.problem == "columns differ: only on duckdb -, only on spark ['_w']"


@needs_spark
@pytest.mark.slow
def test_the_embedded_example_is_the_same_on_both_engines(tmp_path):
    for name in ("models", "checks", "examples"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    example = ProjectDir(tmp_path)
    before = example.files()
    # in month batches (9 tasks a side, not 159): the same rows, a quarter of the time
    out = example.cli(
        "verify",
        "--batch-size",
        "31",
        "--scratch",
        str(tmp_path / "scratch"),
        now=None,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "built on duckdb: success; on spark: success" in out.stdout
    assert out.stdout.strip().endswith(
        "no difference: 9 tables, 4,139 rows, the same on both engines"
    ), out.stdout
    # a rehearsal: the project's own warehouse and files are untouched
    after = {k: v for k, v in example.files().items() if not k.startswith("scratch/")}
    assert after == before
    assert not example.warehouse.exists()


@needs_spark
@pytest.mark.slow
def test_verify_names_a_table_that_differs_and_exits_1(project):
    # a query whose answer no two builds share: the dual run must say so, with examples
    project.model("s.noise", "select x, random() as r from (values (1), (2)) t(x)")
    project.model("s.same", "select 1 as one")
    out = project.cli("verify", now=None)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "s.noise: 2 rows on duckdb, 2 on spark; 2 only on duckdb, 2 only on spark" in lines
    assert sum(line.startswith("    only on duckdb: (") for line in lines) == 2
    assert lines[-1] == "1 of 2 tables differ (3 rows on duckdb)"
    assert not project.warehouse.exists()  # the scratch place is gone with its builds
