"""Opening the warehouse: session settings that must not depend on the machine."""

from __future__ import annotations

import pytest

HOURLY_TZ = """
-- kind: incremental
-- partition_by: ts
-- grain: hour
-- start: 2024-01-01 00
select ts, 1 as n
from (select unnest(generate_series(timestamptz '2024-01-01 00:00:00+00',
                                    timestamptz '2024-01-01 05:59:00+00',
                                    interval 30 minute)) as ts)
where ts >= {{ start }} and ts < {{ end }}
"""


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_timestamptz_partitions_do_not_depend_on_the_machine_time_zone(project, zone):
    project.model("m.ev", HOURLY_TZ)
    out = project.cli("run", env={"TZ": zone}, now="2024-01-01T06:00")
    assert out.returncode == 0, out.stdout + out.stderr
    # every hour holds its own two half-hour rows, as it does in UTC
    assert project.query("select partition_key, rows from orchestrator.partitions order by 1") == [
        (f"2024-01-01T0{h}", 2) for h in range(6)
    ]
    assert project.scalar("select count(*) from m.ev") == 12
    plan = project.cli("plan", env={"TZ": zone}, now="2024-01-01T06:00")
    assert "nothing to do" in plan.stdout
