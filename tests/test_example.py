"""The embedded daily revenue example, end to end through the CLI, on a copy of the project."""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO, ProjectDir


@pytest.fixture
def example(tmp_path) -> ProjectDir:
    for name in ("models", "checks", "examples"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    return ProjectDir(tmp_path)


def test_example_builds_consistent_revenue(example):
    out = example.cli("run", now=None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "run 1 success" in out.stdout
    assert len(out.stdout.splitlines()) < 15  # a summary, not a log
    raw_orders = example.scalar("select count(*) from raw.orders")
    assert example.scalar("select count(*) from marts.fct_orders") == raw_orders
    assert example.scalar("select count(*) from reporting.revenue_dashboard") == 31
    daily, monthly = example.query(
        "select (select sum(net_revenue) from marts.revenue_daily), "
        "(select sum(net_revenue) from marts.revenue_monthly)"
    )[0]
    assert daily == monthly
    assert example.scalar("select count(*) from reporting.revenue_latest") == 1
    second = example.cli("run", now=None)
    assert "nothing to do" in second.stdout


@pytest.mark.slow
def test_example_backfill_is_idempotent(example):
    example.cli("run", now=None, check=True)
    snapshot = {
        t: example.query(f"select * from {t} order by all")
        for t in ("marts.fct_orders", "marts.revenue_daily", "reporting.revenue_dashboard")
    }
    for _ in range(2):
        out = example.cli(
            "backfill",
            "staging.stg_payments",
            "--start",
            "2026-10-10",
            "--end",
            "2026-10-13",
            now=None,
        )
        assert out.returncode == 0, out.stderr
        assert "marts.fct_orders             3 partitions 2026-10-10..2026-10-12" in out.stdout
    for table, rows in snapshot.items():
        assert example.query(f"select * from {table} order by all") == rows


def test_example_dag_lists_declared_sources(example):
    out = example.cli("dag")
    assert "raw.payments  (file source examples/data/payments/payments_{date}.csv)" in out.stdout
    assert "9 models, 4 external sources" in out.stdout


def _readme_queries() -> list[tuple[str, str]]:
    """(comment, statement) of every query on the state tables in the README's SQL blocks."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```sql\n(.*?)```", text, re.S):
        for chunk in block.split(";\n"):
            lines = chunk.strip().splitlines()
            comment = next((line for line in lines if line.startswith("--")), "")
            sql = "\n".join(line for line in lines if not line.startswith("--")).strip()
            if "orchestrator." in sql and "{{" not in sql:
                found.append((comment, sql))
    return found


@pytest.mark.slow
def test_readme_queries_run_and_mean_what_they_say(example):
    example.cli("run", now=None, check=True)
    example.cli("backfill", "stg_orders", "--start", "2026-10-03", "--end", "2026-10-05", now=None)
    example.cli("run", now=None, check=True)
    queries = _readme_queries()
    assert len(queries) >= 10
    for comment, sql in queries:
        rows = example.query(sql)
        if "slowest first" in comment:
            took = [r[-1] for r in rows]
            assert len(took) == 3 and took == sorted(took, reverse=True), comment


def test_the_example_exports_revenue_for_finance_and_refreshes_the_dashboard(example):
    shutil.copytree(REPO / "examples", example.root / "examples", dirs_exist_ok=True)
    first = example.cli("run", now=None, check=True)
    assert "exported finance_revenue: 31 partitions" in first.stdout + first.stderr
    files = sorted((example.root / "exports" / "finance").glob("revenue_*.parquet"))
    assert len(files) == 31 and files[0].name == "revenue_2026-10-01.parquet"
    assert example.scalar(
        f"select sum(net_revenue) from read_parquet('{example.root}/exports/finance/*.parquet')"
    ) == example.scalar("select sum(net_revenue) from marts.revenue_daily")
    refreshes = (example.root / "logs" / "dashboard_refreshes.jsonl").read_text().splitlines()
    assert len(refreshes) == 1 and '"ORCHESTRATOR_STEP": "refresh_dashboard"' in refreshes[0]
    example.cli("run", now=None, check=True)  # nothing rebuilt: nothing exported or refreshed
    assert len((example.root / "logs" / "dashboard_refreshes.jsonl").read_text().splitlines()) == 1
