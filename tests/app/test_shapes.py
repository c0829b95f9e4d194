"""app.shapes, the `--json` shapes: hand-built plans, rows, statuses and check results in, the
documented objects out (`"version": 1`, times ISO 8601 UTC with a `Z`, durations in seconds,
null for what the state does not have)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from orchestrator.app import shapes
from orchestrator.app.published import CheckReport
from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import Action, Held, Plan, Reason, Request, Task
from orchestrator.project.checks import Check, Result, Severity
from orchestrator.sources.freshness import SourceStatus
from orchestrator.state.runs import RunRecord

AT = datetime(2024, 1, 10, 12, 0)


class Row(NamedTuple):
    model: str
    built_at: datetime | None
    day: date
    took: timedelta
    keys: tuple
    extra: dict


def test_records_name_each_field_and_make_every_value_plain():
    row = Row("s.m", AT, date(2024, 1, 9), timedelta(minutes=1, seconds=30), ("a", AT), {1: AT})
    assert shapes.records([row, row._replace(built_at=None)]) == [
        {
            "model": "s.m",
            "built_at": "2024-01-10T12:00:00Z",
            "day": "2024-01-09",
            "took": 90.0,
            "keys": ["a", "2024-01-10T12:00:00Z"],
            "extra": {"1": "2024-01-10T12:00:00Z"},
        },
        {
            "model": "s.m",
            "built_at": None,
            "day": "2024-01-09",
            "took": 90.0,
            "keys": ["a", "2024-01-10T12:00:00Z"],
            "extra": {"1": "2024-01-10T12:00:00Z"},
        },
    ]


def test_dump_puts_the_version_first_and_prints_what_json_cannot_as_text():
    text = shapes.dump({"path": Path("/tmp/w.duckdb"), "n": 1})
    assert json.loads(text) == {"version": 1, "path": "/tmp/w.duckdb", "n": 1}
    assert text.splitlines()[1] == '  "version": 1,'


def test_a_plan_lists_its_partition_tasks_and_what_it_holds():
    day = window_for_key("2024-01-09", Grain.DAY)
    first = Task(0, "s.d", day, Reason.MISSING)
    second = Task(1, "s.t", None, Reason.SOURCE_CHANGED, Action.SWAP, deps=(0,), detail="a.csv")
    held = Held("s.v", None, "blocked", "input s.x failed")
    request = Request(selected=frozenset({"s.d"}), now=AT)
    the_plan = Plan((first, second), (held,), ("s.d", "s.t"), request, backfill_only=("s.b",))
    assert shapes.plan(the_plan) == {
        "as_of": "2024-01-10T12:00:00Z",
        "tasks": [
            {
                "id": 0,
                "model": "s.d",
                "partition": "2024-01-09",
                "reason": "missing",
                "action": "build",
                "after": [],
            },
            {
                "id": 1,
                "model": "s.t",
                "partition": "all",
                "reason": "stale: source changed (a.csv)",
                "action": "swap",
                "after": [0],
            },
        ],
        "held": [
            {"model": "s.v", "partition": "all", "status": "blocked", "reason": "input s.x failed"}
        ],
        "backfill_only": ["s.b"],
        "forward_only": [],
    }


def test_status_names_its_rows_by_what_they_are_and_lists_the_removed_models():
    row = Row("s.m", None, date(2024, 1, 9), timedelta(0), (), {})
    models = shapes.status(AT, [row], False, [("s.old", "table")])
    assert models["as_of"] == "2024-01-10T12:00:00Z" and models["models"][0]["model"] == "s.m"
    assert models["removed_models"] == [{"model": "s.old", "relation": "table"}]
    partitions = shapes.status(AT, [], True, [])
    assert partitions == {"as_of": "2024-01-10T12:00:00Z", "partitions": [], "removed_models": []}


def test_a_runs_vars_are_an_object_not_the_text_the_state_keeps():
    record = RunRecord(3, "run", "", "success", AT, None, "ada", "h", '{"region": "eu"}', None)
    shown = shapes.run_detail(record, [])
    assert shown["run"]["vars"] == {"region": "eu"} and shown["run"]["finished"] is None
    assert shown["run"]["started"] == "2024-01-10T12:00:00Z" and shown["tasks"] == []
    assert shapes.run_detail(record._replace(vars=None), [])["run"]["vars"] == {}


def test_freshness_gives_lags_in_seconds_and_null_for_what_is_unknown():
    fresh = SourceStatus("raw.a", AT, AT - timedelta(hours=2), timedelta(hours=2), "fresh", "ok")
    missing = SourceStatus("raw.b", AT, None, None, "missing", "no file")
    shown = shapes.freshness(7, [fresh, missing])
    assert shown["run_id"] == 7
    assert shown["sources"] == [
        {
            "source": "raw.a",
            "status": "fresh",
            "latest_loaded_at": "2024-01-10T10:00:00Z",
            "lag_seconds": 7200.0,
            "detail": "ok",
            "checked_at": "2024-01-10T12:00:00Z",
        },
        {
            "source": "raw.b",
            "status": "missing",
            "latest_loaded_at": None,
            "lag_seconds": None,
            "detail": "no file",
            "checked_at": "2024-01-10T12:00:00Z",
        },
    ]


def test_a_check_report_lists_each_result_with_its_sample():
    check = Check("not_null(x)", "not_null", Severity.BLOCK, "models/s/m.sql", columns=("x",))
    failed = Result(check, "2024-01-09", "fail", 2, ((None, AT),), "2 nulls")
    shown = shapes.check_report(CheckReport(4, (("s.m", failed),)))
    assert shown == {
        "run_id": 4,
        "results": [
            {
                "model": "s.m",
                "check": "not_null(x)",
                "kind": "not_null",
                "severity": "block",
                "partition": "2024-01-09",
                "status": "fail",
                "failing_rows": 2,
                "message": "2 nulls",
                "sample": [[None, "2024-01-10T12:00:00Z"]],
            }
        ],
    }
