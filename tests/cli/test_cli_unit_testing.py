"""`orchestrator test` through the real CLI: the embedded example's unit tests pass, a failing
one prints its difference and exits 1, a mistake in a test file is one line and exit 2, and
nothing is written."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO, ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")


@pytest.fixture
def example(tmp_path) -> ProjectDir:
    for name in ("models", "checks", "unit_tests"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    return ProjectDir(tmp_path)


def test_the_examples_unit_tests_pass_and_write_nothing(example):
    before = example.files()
    out = example.cli("test")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[:3] for line in lines[:-1]] == [
        ["ok", "fct_orders_counts_captured_payments_only", "marts.fct_orders"],
        ["ok", "revenue_daily_subtracts_refunds_and_fees", "marts.revenue_daily"],
        ["ok", "stg_orders_keeps_its_day_and_cleans_it", "staging.stg_orders"],
    ]
    assert lines[-1].startswith("3 unit tests: 3 passed, 0 failed in ") and out.stderr == ""
    assert example.files() == before and not example.warehouse.exists()


def test_a_failing_test_prints_the_rows_that_differ_and_exits_1(example):
    path = example.root / "unit_tests/marts.yml"
    path.write_text(path.read_text().replace("net_revenue: 78.20", "net_revenue: 81.20"))
    out = example.cli("test", "revenue_daily", "-s", "stg_orders")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("FAIL revenue_daily_subtracts_refunds_and_fees  marts.revenue_daily")
    assert lines[1] == (
        "     unit_tests/marts.yml:26: 1 row expected and not returned (-), 1 row returned and "
        "not expected (+), 0 as expected"
    )
    assert lines[2:5] == [
        "         revenue_date  net_revenue",
        "       - 2026-10-03    81.20",
        "       + 2026-10-03    78.20",
    ]
    assert lines[5].startswith("       (the same in every row above: paid_orders = 1, refunds = 1")
    assert lines[6].startswith("ok   stg_orders_keeps_its_day_and_cleans_it")
    assert lines[-1].startswith("2 unit tests: 1 passed, 1 failed in ")
    shown = json.loads(example.cli("test", "revenue_daily", "--json").stdout)
    (test,) = shown["tests"]
    assert shown["version"] == 1 and (shown["passed"], shown["failed"]) == (0, 1)
    assert test["status"] == "fail" and test["file"] == "unit_tests/marts.yml"
    assert test["missing"][0]["net_revenue"] == "81.20"
    assert test["unexpected"][0]["net_revenue"] == "78.20"


def test_a_mistake_in_a_test_file_is_one_line_exit_2_and_nothing_runs(example):
    example.write(
        "unit_tests/zz.yml",
        """
        unit_tests:
          - name: typo
            model: marts.revenue_dayly
            expect: {rows: []}
        """,
    )
    before = example.files()
    out = example.cli("test")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == (
        "error: unit_tests/zz.yml:3: model: no model named 'marts.revenue_dayly' "
        "(did you mean: marts.revenue_daily" + out.stderr.strip().split("marts.revenue_daily", 1)[1]
    )
    assert len(out.stderr.strip().splitlines()) == 1 and example.files() == before


def test_no_tests_and_no_test_of_the_selection_say_so(project):
    project.model("s.m", "select 1 as x")
    out = project.cli("test")
    assert out.returncode == 0 and "no unit tests: write them in unit_tests/*.yml" in out.stdout
    project.write(
        "unit_tests/t.yml", "unit_tests:\n  - {name: t, model: m, expect: {rows: [{x: 1}]}}\n"
    )
    project.model("s.n", "select 2 as y")
    out = project.cli("test", "n")
    assert out.returncode == 0 and out.stdout.strip() == "no unit test for the selected models"
    assert project.cli("test", "--json").returncode == 0


def test_format_report_reads_an_error_and_notes(tmp_path):
    from orchestrator.app.unit_testing import Report, Result
    from orchestrator.cli.unit_testing import format_report, shape
    from orchestrator.core.row_diff import compare
    from orchestrator.project.unit_rows import Rows
    from orchestrator.project.unit_tests import UnitTest

    test = UnitTest("t", "s.m", "unit_tests/a.yml", 4, (), Rows())
    report = Report(
        (
            Result(test, 2.4, error="unit_tests/a.yml:4: s.m fails: Binder Error: x"),
            Result(test, 1.0, compare(["x"], [(1,)], [(1,)]), notes=("unit_tests/a.yml:4: n",)),
        ),
        5.0,
    )
    assert format_report(report) == [
        "FAIL t  s.m  2 ms",
        "     unit_tests/a.yml:4: s.m fails: Binder Error: x",
        "FAIL t  s.m  1 ms",
        "     unit_tests/a.yml:4: n",
        "2 unit tests: 0 passed, 2 failed in 5 ms",
    ]
    assert [t["status"] for t in shape(report)["tests"]] == ["fail", "fail"]
    assert shape(report)["tests"][1]["missing"] == []
