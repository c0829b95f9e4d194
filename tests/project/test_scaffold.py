"""`orchestrator init` (`project.scaffold.scaffold`): a new project that loads as it is, written
only where nothing exists yet. Running it end to end is in tests/cli/test_making.py."""

from __future__ import annotations

from datetime import date, datetime

from orchestrator.project import loader
from orchestrator.project.model import Kind
from orchestrator.project.scaffold import scaffold

TODAY = date(2024, 1, 10)
DAYS = ("2024-01-07", "2024-01-08", "2024-01-09")


def test_a_new_project_has_a_source_a_model_and_three_days_of_samples(tmp_path):
    root = tmp_path / "new"
    created = scaffold(root, TODAY)
    names = {str(p.relative_to(root)) for p in created}
    assert names == {
        "orchestrator.toml",
        ".gitignore",
        "models",
        "checks",
        "models/staging/stg_orders.sql",
        *(f"data/orders/orders_{d}.csv" for d in DAYS),
    }
    sample = (root / f"data/orders/orders_{DAYS[0]}.csv").read_text().splitlines()
    assert sample[0] == "order_id,order_date,amount" and len(sample) == 6
    assert sample[1].startswith(f"20240107001,{DAYS[0]},")
    assert 'start = "2024-01-07"' in (root / "orchestrator.toml").read_text()


def test_the_new_project_loads_with_its_source_checks_and_owner(tmp_path):
    scaffold(tmp_path, TODAY)
    project = loader.load(tmp_path, strict=True)
    model = project.models["staging.stg_orders"]
    assert model.kind is Kind.INCREMENTAL and model.partition_by == "order_date"
    assert model.start == datetime(2024, 1, 7) and model.owner == "analytics"
    assert [c.name for c in model.checks] == [
        "not_null(order_id)",
        "unique(order_id)",
        "row_count(min=1)",
    ]
    assert "raw.orders" in project.sources


def test_the_samples_are_the_same_for_the_same_day(tmp_path):
    scaffold(tmp_path / "a", TODAY)
    scaffold(tmp_path / "b", TODAY)
    for day in DAYS:
        relpath = f"data/orders/orders_{day}.csv"
        assert (tmp_path / "a" / relpath).read_text() == (tmp_path / "b" / relpath).read_text()


def test_nothing_that_exists_is_written_again(tmp_path):
    scaffold(tmp_path, TODAY)
    model = tmp_path / "models/staging/stg_orders.sql"
    model.write_text("select 1 as x", encoding="utf-8")
    (tmp_path / ".gitignore").unlink()
    created = scaffold(tmp_path, date(2024, 6, 1))
    assert created == [tmp_path / ".gitignore"]
    assert model.read_text() == "select 1 as x"
    assert not list(tmp_path.glob("data/orders/orders_2024-05-*.csv"))


def test_an_existing_project_gets_no_sample_model_or_data(tmp_path):
    (tmp_path / "orchestrator.toml").write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    created = scaffold(tmp_path, TODAY)
    assert {p.name for p in created} == {".gitignore", "models", "checks"}
    assert (tmp_path / "orchestrator.toml").read_text() == 'warehouse = "w.duckdb"\n'
    assert not (tmp_path / "data").exists()
