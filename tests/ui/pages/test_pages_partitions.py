"""The partitions page (`ui.pages.partitions`): the grid across models for a date range, each
model as ranges of equal state, cut at the range's periods exactly, filtered by owner, tag or
state."""

from __future__ import annotations

import json

import pytest
from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.core.errors import UsageError
from orchestrator.ui.pages.partitions import partitions_page

DAILY = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- owner: {owner}
-- tags: {tag}
select date '2024-01-01' as d
"""


def test_each_model_comes_as_ranges_of_equal_state(estate):
    with serving(estate) as base:
        grid = json.loads(get(f"{base}/api/partitions?start=2024-01-01&end=2024-01-05")[1])
        [daily] = grid["models"]
        assert [(r["from"], r["to"], r["state"], r["count"]) for r in daily["ranges"]] == [
            ("2024-01-01", "2024-01-02", "complete", 2),
            ("2024-01-03", "2024-01-03", "waiting", 1),
            ("2024-01-04", "2024-01-04", "complete", 1),
        ]
        only = json.loads(get(f"{base}/api/partitions?state=failed")[1])
        assert only["models"] == []  # s.daily has no failed partition
        assert get(f"{base}/api/partitions?start=soon")[0] == 400
        assert 'data-state="waiting"' in get(f"{base}/partitions?start=2024-01-01")[1]


HOURLY = """
-- kind: incremental
-- partition_by: ts
-- grain: hour
-- start: 2024-01-01
-- end: 2024-03-03T12
-- batch_size: 500
select h as ts, 1 as n
from generate_series({{ start }}, {{ end }} - interval 1 hour, interval 1 hour) t(h)
"""


def test_a_range_is_cut_at_its_hours_exactly(project, monkeypatch):
    """1,500 hourly partitions: the partitions page counts the hours that overlap the range."""
    project.model("s.hourly", HOURLY)
    assert project.cli("run", now="2024-03-10T00:00").returncode == 0
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-03-10T00:00")
    with serving(project) as base:

        def hours(start: str, end: str) -> int:
            found = json.loads(get(f"{base}/api/partitions?start={start}&end={end}")[1])
            return found["models"][0]["counts"]["complete"]

        assert hours("2024-01-01T05", "2024-01-01T10") == 5  # 05 to 09
        assert hours("2024-01-01T05:30", "2024-01-01T10:30") == 6  # 05 to 10: both overlap
        assert hours("2023-12-01", "2024-01-01T01") == 1
        assert hours("2024-03-03T11", "2024-04-01") == 1


def test_the_range_is_the_last_31_days_unless_asked(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-02-10T06:00")
    project.model("s.d", DAILY.format(owner="ann", tag="x"))
    page = partitions_page(open_workspace(project.root))
    assert page["start"] == "2024-01-10T00:00:00Z" and page["end"].startswith("2024-02-10T06:")
    [row] = page["models"]
    assert row["ranges"] == [
        {"from": "2024-01-10", "to": "2024-02-09", "state": "missing", "count": 31, "letter": "M"}
    ]
    asked = partitions_page(open_workspace(project.root), "2024-01-01", "2024-01-03")
    assert (asked["start"], asked["end"]) == ("2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z")
    assert asked["models"][0]["counts"]["missing"] == 2


def test_a_bad_date_is_refused(project):
    project.model("s.d", DAILY.format(owner="ann", tag="x"))
    with pytest.raises(UsageError, match="bad date in the range"):
        partitions_page(open_workspace(project.root), "2024-13-01")


def test_models_are_filtered_by_owner_tag_and_state(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.model("s.ann", DAILY.format(owner="ann", tag="finance"))
    project.model("s.bob", DAILY.format(owner="bob", tag="ops"))
    project.model("s.whole", "select 1 as x")  # not partitioned: never on this page
    ws = open_workspace(project.root)

    def names(**asked) -> list[str]:
        return [m["model"] for m in partitions_page(ws, "2024-01-01", **asked)["models"]]

    assert names() == ["s.ann", "s.bob"]
    assert names(owner="bob") == ["s.bob"] and names(tag="finance") == ["s.ann"]
    assert names(only="missing") == ["s.ann", "s.bob"] and names(only="failed") == []
    assert partitions_page(ws, "2024-01-01", owner="bob")["filters"] == {
        "owner": "bob",
        "tag": None,
        "state": None,
    }
