"""The README's pull-request recipe, end to end on the embedded example through the real CLI:
production built, a change made on a branch, `plan --env`, `run --env`, `test`, `diff --env`
(what a reviewer reads), then after the merge `promote` and `env drop`: production holds the
change without computing it again, and nothing is left to do."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO, ProjectDir

FEE = "cast(processor_fee as decimal(18, 2)) as processor_fee,"
ROUNDED_FEE = "cast(round(processor_fee, 0) as decimal(18, 2)) as processor_fee,"


@pytest.fixture
def example(tmp_path) -> ProjectDir:
    for name in ("models", "checks", "examples", "unit_tests"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    return ProjectDir(tmp_path)


def test_the_pull_request_recipe(example):
    example.cli("run", now=None, check=True)
    before = example.query("select * from marts.revenue_daily order by all")
    production = example.scalar("select sum(processor_fee) from staging.stg_payments")
    # the change under review: processor fees rounded to whole units
    path = example.root / "models" / "staging" / "stg_payments.sql"
    path.write_text(path.read_text().replace(FEE, ROUNDED_FEE))

    planned = json.loads(
        example.cli("plan", "--env", "pr-123", "--json", now=None, check=True).stdout
    )
    models = {t["model"] for t in planned["tasks"]}
    assert "staging__pr_123.stg_payments" in models and "marts__pr_123.revenue_daily" in models
    assert not any(m.startswith(("staging.", "marts.", "reporting.")) for m in models)

    example.cli("run", "--env", "pr-123", now=None, check=True)
    assert example.query("select * from marts.revenue_daily order by all") == before
    tested = example.cli("test", now=None, check=True)
    assert "3 passed" in tested.stdout

    diff = json.loads(example.cli("diff", "--env", "pr-123", "--json", now=None, check=True).stdout)
    found = {m["model"]: m for m in diff["models"]}
    payments = found["staging.stg_payments"]
    assert payments["category"] == "breaking"
    assert "+    cast(round(processor_fee, 0)" in payments["sql_diff"]
    assert payments["data"]["key"] == ["payment_id"]  # its unique check keys the comparison
    assert payments["data"]["changed"] > 0 and payments["data"]["only_in_env"] == 0
    daily = found["marts.revenue_daily"]
    assert daily["category"] == "rebuilt"
    assert daily["data"]["only_in_env"] == daily["data"]["only_in_production"] > 0  # whole rows

    # merged: production becomes what pr-123 built, without computing it again
    promoted = example.cli("promote", "pr-123", now=None, check=True)
    assert promoted.stdout.startswith("promoted ")
    assert example.scalar("select sum(processor_fee) from staging.stg_payments") != production
    assert example.query("select * from marts.revenue_daily order by all") == example.query(
        "select * from marts__pr_123.revenue_daily order by all"
    )
    assert "nothing to do" in example.cli("plan", now=None, check=True).stdout
    example.cli("env", "drop", "pr-123", now=None, check=True)
    assert "no environments" in example.cli("env", "list", now=None, check=True).stdout
