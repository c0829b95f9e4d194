"""The alerts page (`ui.pages.alerts`): alerts with their delivery, incidents, and the jobs
with their next tick (in UTC and in their own time zone) and deadline."""

from __future__ import annotations

import json

from conftest import get, serving

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.pages.alerts import alerts_page


def test_the_alerts_page_lists_the_alerts_delivered_and_the_incidents(estate):
    with serving(estate) as base:
        alerts = json.loads(get(f"{base}/api/alerts")[1])
        assert alerts["alerts"][0]["event"] == "digest" and alerts["alerts"][0]["delivered"]
        assert {i["subject"] for i in alerts["incidents"]} == {"s.broken", "s.checked"}
        assert get(f"{base}/alerts")[0] == 200


def test_a_job_shows_its_next_tick_in_utc_and_in_its_own_zone(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.write(
        "orchestrator.toml",
        """
        [jobs.morning]
        select = "s.m+"
        cron = "0 6 * * *"
        timezone = "Europe/Paris"
        owner = "ann"
        deadline = "07:30"

        [jobs.on_events]
        select = "s.m"
        on = "source:raw.events"

        [sources."raw.events"]
        path = "data/events.csv"
        """,
    )
    project.model("s.m", "select 1 as x")
    page = alerts_page(open_workspace(project.root))
    morning, on_events = page["jobs"]
    assert morning == {
        "job": "morning",
        "select": ["s.m+"],
        "cron": "0 6 * * *",
        "on": None,
        "timezone": "Europe/Paris",
        "owner": "ann",
        "deadline": "07:30",
        "next_tick": "2024-01-06T05:00:00Z",  # 06:00 in Paris is 05:00 UTC in winter
        "next_tick_local": "2024-01-06 06:00",
    }
    assert on_events["cron"] is None and on_events["next_tick"] is None
    assert on_events["on"] == "raw.events" and on_events["next_tick_local"] is None


def test_before_any_run_there_is_nothing_to_list_but_the_jobs(project):
    project.model("s.m", "select 1 as x")
    page = alerts_page(open_workspace(project.root))
    assert page == {"notes": [], "alerts": [], "incidents": [], "jobs": [], "ticks": []}
