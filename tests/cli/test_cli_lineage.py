"""`orchestrator lineage` (cli.lineage) through the real CLI in subprocesses, on a copy of the
embedded example: the trees as text, the `--json` shape, `--depth`, and one-line errors."""

from __future__ import annotations

import json
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


def test_the_text_shows_what_feeds_a_column_and_what_it_feeds(example):
    out = example.cli("lineage", "stg_orders.amount", now=None)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "staging.stg_orders.amount",
        "",
        "fed by:",
        "  └─ raw.orders.amount (source)",
        "",
        "feeds:",
        "  └─ marts.fct_orders.gross_amount",
    ]


def test_a_source_column_is_fed_by_nothing_and_feeds_models(example):
    out = example.cli("lineage", "raw.orders.amount", now=None)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "raw.orders.amount (source)",
        "",
        "fed by:",
        "  nothing: a source is loaded by something else, not by a model",
        "",
        "feeds:",
        "  └─ staging.stg_orders.amount",
        "     └─ marts.fct_orders.gross_amount",
    ]


def test_a_reporting_column_down_to_its_sources_before_and_after_a_run(example):
    before = example.cli("lineage", "reporting.revenue_latest.rolling_7d_avg", now=None)
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    assert lines[:4] == [
        "reporting.revenue_latest.rolling_7d_avg",
        "",
        "fed by:",
        "  └─ reporting.revenue_dashboard.rolling_7d_avg",
    ]
    assert "     ├─ marts.revenue_daily.net_revenue" in lines
    assert any(line.endswith("└─ raw.payments.amount (source)") for line in lines)
    assert lines[-2:] == ["feeds:", "  no model column"]
    example.cli("run", now=None, check=True)  # now the columns come from the warehouse
    after = example.cli("lineage", "reporting.revenue_latest.rolling_7d_avg", now=None)
    assert after.stdout == before.stdout


def test_json_is_one_object_of_documented_shape(example):
    out = example.cli("lineage", "marts.fct_orders.captured_amount", "--json", now=None)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["version"] == 1
    assert found["column"] == {
        "relation": "marts.fct_orders",
        "column": "captured_amount",
        "kind": "model",
    }
    assert found["fed_by"][0] == {
        "relation": "staging.stg_payments",
        "column": "amount",
        "kind": "model",
        "repeated": False,
        "truncated": False,
        "fed_by": [
            {
                "relation": "raw.payments",
                "column": "amount",
                "kind": "source",
                "repeated": False,
                "truncated": False,
                "fed_by": [],
            }
        ],
    }
    feeds = {(n["relation"], n["column"]) for n in found["feeds"]}
    assert feeds == {
        ("marts.revenue_daily", "net_revenue"),
        ("marts.revenue_daily", "order_revenue"),
    }
    assert all("feeds" in n and "fed_by" not in n for n in found["feeds"])
    assert found["problems"] == []


def test_depth_stops_the_trees_and_says_there_is_more(example):
    out = example.cli("lineage", "marts.revenue_daily.net_revenue", "--depth", "1", now=None)
    assert out.returncode == 0, out.stderr
    assert "  ├─ marts.fct_orders.captured_amount ..." in out.stdout.splitlines()
    assert "raw." not in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revenue_daly.net_revenue"], "error: no model or source named 'revenue_daly' (did you"),
        (["revenue_daily.net_revenu"], "error: marts.revenue_daily has no column 'net_revenu'"),
        (["revenue_daily.net_revenue", "--depth", "0"], "error: Invalid value for '--depth'"),
    ],
)
def test_a_wrong_name_is_one_line_and_exit_2(example, args, message):
    out = example.cli("lineage", *args, now=None)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith(message), out.stderr


def test_what_cannot_be_traced_is_a_note_not_a_guess(project):
    project.seed("create schema raw; create table raw.t (id int); create table raw.u (id int)")
    project.model("staging.m", "select t.id, q from raw.t join raw.u using (id)")
    out = project.cli("lineage", "m.q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "staging.m.q",
        "",
        "fed by:",
        "  no column found: its SQL could not be read whole (note below)",
        "",
        "feeds:",
        "  no model column",
        "",
        "note: staging.m: column 'q' could come from raw.t or raw.u: qualify it",
    ]
