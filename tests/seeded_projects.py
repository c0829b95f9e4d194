"""Small seeded projects several test modules build on (fixtures a module takes by importing
them): a daily fact read by a total, as the CLI tests use it, and a daily aggregate read by a
total, as the app tests use it."""

from __future__ import annotations

import pytest
from conftest import DAILY_SOURCE

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select user_id, event_date, amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, sum(amount) as amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""

TOTAL = """
-- kind: table
select sum(amount) as amount from marts.daily
"""


@pytest.fixture
def seeded(project):
    """marts.fact (incremental, 9 days) and marts.total (tagged report) over raw.events."""
    project.seed(DAILY_SOURCE)
    project.model("marts.fact", FACT)
    project.model("marts.total", "-- tags: report\nselect sum(amount) as total from marts.fact")
    return project


@pytest.fixture
def seeded_daily(project):
    """marts.daily (incremental) and marts.total over raw.events."""
    project.seed(DAILY_SOURCE)
    project.model("marts.daily", DAILY)
    project.model("marts.total", TOTAL)
    return project
