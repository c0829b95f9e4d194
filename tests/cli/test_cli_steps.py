"""Steps through the real CLI: bad `[steps.NAME]` settings are one line naming
orchestrator.toml:LINE (exit 2, nothing written); SIGKILL between a step's end and its record,
then `run`: the step runs again for that window only; `plan`, `status` and `runs N` show steps
(text and --json)."""

from __future__ import annotations

import json
import stat

import pytest
from conftest import DAILY_SOURCE

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
select event_date, sum(amount) as amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""

RECORD = """#!/bin/sh
echo "$ORCHESTRATOR_PARTITION" >> "$OUT"
echo "done $ORCHESTRATOR_PARTITION"
"""


def make(project, step: str) -> None:
    project.seed(DAILY_SOURCE)
    project.model("marts.daily", DAILY)
    path = project.write("scripts/record.sh", RECORD)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    project.write("orchestrator.toml", step)


GOOD = """
[steps.refresh]
command = "scripts/record.sh --all"
after = ["marts.daily"]
env = {{ OUT = "{out}" }}
"""


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (
            '[steps.refresh]\ncommand = ["no-such-program-xyz", "-v"]\nafter = ["marts.daily"]\n',
            2,
            "steps.refresh: command 'no-such-program-xyz' not found",
        ),
        (
            '[steps.refresh]\ncommand = "scripts/missing.sh"\nafter = ["marts.daily"]\n',
            2,
            "steps.refresh: command 'scripts/missing.sh' not found",
        ),
        (
            '[steps.refresh]\ncommand = "true"\nafter = ["marts.daily"]\ntimout = "1m"\n',
            4,
            "steps.refresh: unknown setting 'timout' (did you mean: timeout?)",
        ),
        (
            '[steps.refresh]\ncommand = "true"\nafter = ["marts.daly"]\n',
            3,
            "steps.refresh: after: no model matches 'marts.daly' (did you mean: marts.daily?)",
        ),
    ],
)
def test_bad_steps_are_one_line_naming_the_toml_line(project, body, line, says):
    make(project, body)
    before = project.files()
    out = project.cli("run")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert f"orchestrator.toml:{line}: {says}" in lines[0]
    assert project.files() == before


def test_sigkill_after_a_step_ran_then_run_runs_it_again_once(project):
    out = project.root / "calls.txt"
    make(project, GOOD.format(out=out))
    # the third window's command has finished; its success is not recorded yet
    killed = project.cli("run", env={"ORCHESTRATOR_KILL_AT": "3"})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert out.read_text().split() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    again = project.cli("run")
    assert again.returncode == 0, again.stdout + again.stderr
    calls = out.read_text().split()
    assert calls.count("2024-01-03") == 2  # ran, not recorded: runs again
    assert all(calls.count(f"2024-01-0{d}") == 1 for d in (1, 2, 4, 5, 6, 7, 8, 9))
    done = project.query(
        "select partition_key, count(*) from orchestrator.step_runs where status = 'success' "
        "group by 1 having count(*) > 1"
    )
    assert done == []
    assert project.cli("run", check=True) and len(out.read_text().split()) == 10


def test_plan_status_and_runs_show_steps(project):
    out = project.root / "calls.txt"
    make(project, GOOD.format(out=out))
    planned = project.cli("plan", check=True).stdout
    assert "step refresh runs on 9 windows (2024-01-01..2024-01-09)" in planned
    shape = json.loads(project.cli("plan", "--json", check=True).stdout)
    assert shape["steps"] == [
        {"step": "refresh", "partitions": [f"2024-01-0{d}" for d in range(1, 10)]}
    ]
    ran = project.cli("run", check=True).stdout
    assert "ok step:refresh  ran 9 times 2024-01-01..2024-01-09" in ran
    status = project.cli("status", check=True).stdout
    assert "steps:" in status and "refresh" in status
    steps = json.loads(project.cli("status", "--json", check=True).stdout)["steps"]
    assert steps[0]["step"] == "refresh" and steps[0]["status"] == "success"
    assert steps[0]["per"] == "partition" and steps[0]["failed_windows"] == 0
    detail = json.loads(project.cli("runs", "1", "--json", check=True).stdout)
    assert len(detail["steps"]) == 9 and detail["steps"][0]["output_tail"].startswith("done ")
    assert "steps:" in project.cli("runs", "1", check=True).stdout


def test_status_names_the_command_that_runs_a_failed_step_again(project):
    make(project, '[steps.post]\ncommand = "false"\nafter = ["marts.daily"]\nretries = 0\n')
    ran = project.cli("run")
    assert ran.returncode == 1
    assert "failed: step:post" in ran.stdout
    status = project.cli("status", check=True).stdout
    assert "to run step post again (exit 1): orchestrator run marts.daily" in status
