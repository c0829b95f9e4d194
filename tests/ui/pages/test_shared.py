"""What several pages share (`ui.pages.shared`): a model's readiness and letter from `status`'s
text, a partition's state and cell as the grid colours it, ranges of equal state, the notes of
a page's reads, and reading the state before there is one."""

from __future__ import annotations

from datetime import datetime

from orchestrator.app.views import PartitionRow
from orchestrator.app.workspace import open_workspace
from orchestrator.engines.readers import Policy
from orchestrator.ui.pages.shared import (
    STATES,
    cell,
    from_state,
    letter,
    notes,
    partition_state,
    ranges,
    readiness,
    reading,
)


def row(last_attempt=None, built_run=None, pending="", error=None) -> PartitionRow:
    return PartitionRow(
        "s.m", "2024-01-02", last_attempt, built_run, 3, datetime(2024, 1, 2, 6), pending, error
    )


def test_readiness_follows_the_labels_of_status():
    assert readiness("1 failed (all), last good data kept") == "failed"
    assert readiness("9 missing") == "missing"
    assert readiness("2 stale") == "stale"


def test_the_most_urgent_label_wins_and_each_state_has_its_own_letter():
    assert readiness("1 stale; 2 missing; 1 timed_out (a)") == "failed"
    assert readiness("3 waiting (x); 1 missing") == "waiting"
    assert readiness("2 partial") == "partial"
    assert len({letter(name) for name in STATES}) == len(STATES)
    assert letter("complete") == "C" and letter("source") == "?"


def test_a_partition_state_comes_from_its_last_attempt_then_what_holds_it():
    assert partition_state(row("failed", built_run=1)) == "failed"  # last good data kept
    assert partition_state(row("success", 1, pending="blocked: s.up failed")) == "blocked"
    assert partition_state(row(None, None, pending="waiting: raw.events")) == "waiting"
    assert partition_state(row("success", 1, pending="stale: its SQL changed")) == "stale"
    assert partition_state(row(None, None, pending="not built")) == "missing"
    assert partition_state(row("success", 1)) == "complete"
    assert partition_state(row()) == "missing"


def test_a_cell_says_what_the_hover_shows():
    assert cell(row("check_failed", 2, error="1 row")) == {
        "partition": "2024-01-02",
        "state": "failed",
        "letter": "F",
        "status": "check_failed",
        "rows": 3,
        "built_at": "2024-01-02T06:00:00Z",
        "run": 2,
        "pending": "",
        "error": "1 row",
    }


def test_consecutive_partitions_of_one_state_are_one_range():
    states = [("d1", "complete"), ("d2", "complete"), ("d3", "waiting"), ("d4", "complete")]
    assert ranges(states) == [
        {"from": "d1", "to": "d2", "state": "complete", "count": 2, "letter": "C"},
        {"from": "d3", "to": "d3", "state": "waiting", "count": 1, "letter": "W"},
        {"from": "d4", "to": "d4", "state": "complete", "count": 1, "letter": "C"},
    ]
    assert ranges([]) == []


def test_notes_are_said_once_each_in_their_order():
    assert notes(Policy(notes=["b", "a", "b"])) == ["b", "a"]


def test_before_the_first_run_the_state_reads_as_empty(project):
    ws = open_workspace(project.root)
    with reading():
        assert from_state(ws, lambda con: "read", "empty") == "empty"  # no warehouse
        project.seed("create table t as select 1 as x")
        before = project.warehouse.read_bytes()
        assert from_state(ws, lambda con: "read", "empty") == "empty"  # no state in it
    assert project.warehouse.read_bytes() == before  # only read
