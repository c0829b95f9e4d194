"""app.steps with real subprocesses: an `after` step runs once per published window with the
window, run and vars in its environment, not again for the same build, again for a rebuild,
never for a window whose blocking check failed; a failing step is retried, then fails the run
and alerts its owner; a timeout kills its whole process group."""

from __future__ import annotations

import json
import os
import stat
import time

from conftest import DAILY_SOURCE

from orchestrator.app import steps
from orchestrator.app.workspace import open_workspace
from orchestrator.project.model import Step

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
{checks}
select event_date, sum(amount) as amount from raw.events
where event_date >= {{{{ start }}}} and event_date < {{{{ end }}}}
group by 1
"""

RECORDER = """#!/bin/sh
# what the step was told, one JSON line per call
printf '{"step":"%s","run":"%s","key":"%s","start":"%s","end":"%s","region":"%s","extra":"%s"}\\n' \
  "$ORCHESTRATOR_STEP" "$ORCHESTRATOR_RUN_ID" "$ORCHESTRATOR_PARTITION" \
  "$ORCHESTRATOR_WINDOW_START" "$ORCHESTRATOR_WINDOW_END" "$ORCHESTRATOR_VAR_REGION" \
  "$EXTRA" >> "$OUT"
echo "refreshed $ORCHESTRATOR_PARTITION"
"""


def script(project, name: str, text: str) -> str:
    path = project.write(f"scripts/{name}", text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return f"scripts/{name}"


def configure(project, body: str, checks: str = "") -> None:
    project.seed(DAILY_SOURCE)
    project.model("marts.daily", DAILY.format(checks=checks))
    project.write("orchestrator.toml", '[vars]\nregion = "eu"\n' + body)


def calls(project) -> list[dict]:
    out = project.root / "calls.jsonl"
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def recorder(project, extra: str = "") -> str:
    path = script(project, "record.sh", RECORDER)
    out = project.root / "calls.jsonl"
    return f"""
[steps.refresh]
command = ["{path}"]
after = ["marts.daily"]
env = {{ OUT = "{out}", EXTRA = "x" }}
{extra}
"""


def test_a_step_runs_once_per_published_window_with_its_environment(project):
    configure(project, recorder(project))
    result = project.api_run()
    assert result.exit_code == 0
    told = calls(project)
    assert sorted(c["key"] for c in told) == [f"2024-01-0{d}" for d in range(1, 10)]
    first = next(c for c in told if c["key"] == "2024-01-03")
    assert first == {
        "step": "refresh",
        "run": str(result.run_id),
        "key": "2024-01-03",
        "start": "2024-01-03T00:00:00",
        "end": "2024-01-04T00:00:00",
        "region": "eu",
        "extra": "x",
    }
    rows = project.query(
        "select status, attempt, exit_code, output_tail, log_path, built_runs "
        "from orchestrator.step_runs where partition_key = '2024-01-03'"
    )
    assert len(rows) == 1
    status, attempt, code, tail, log, built = rows[0]
    assert (status, attempt, code, built) == ("success", 1, 0, f"marts.daily={result.run_id}")
    assert tail.strip() == "refreshed 2024-01-03"
    assert "refreshed 2024-01-03" in open(log).read()
    assert [o.model for o in result.outcomes].count("step:refresh") == 9
    # nothing changed: the next run runs no step
    again = project.api_run()
    assert len(calls(project)) == 9 and not [o for o in again.outcomes if o.model == "step:refresh"]


def test_a_rebuilt_window_runs_the_step_again(project):
    configure(project, recorder(project))
    project.api_run()
    project.seed("insert into raw.events values (1, date '2024-01-02', 1000)")
    project.api_run("marts.daily", full_refresh=True)
    keys = [c["key"] for c in calls(project)]
    assert len(keys) == 18 and keys.count("2024-01-02") == 2


def test_never_for_a_window_whose_blocking_check_failed(project):
    checks = "-- check: expression(amount < 60)"  # days from 2024-01-03 hold more
    configure(project, recorder(project), checks=checks)
    result = project.api_run()
    assert result.exit_code == 1
    keys = sorted(c["key"] for c in calls(project))
    assert keys == ["2024-01-01", "2024-01-02"]
    failed = project.query(
        "select partition_key from orchestrator.partitions where status = 'check_failed'"
    )
    assert failed and not set(keys) & {k for (k,) in failed}


def test_a_failing_step_is_retried_then_fails_the_run_and_alerts(project):
    failing = "#!/bin/sh\necho working\necho 'partner API said 503' >&2\nexit 3\n"
    path = script(project, "fail.sh", failing)
    log = project.root / "alerts.jsonl"
    configure(
        project,
        f"""
[owners.bi]
log = "{log}"

[steps.post]
command = "{path} --now"
after = ["marts.daily"]
per = "run"
retries = 1
retry_delay = "1s"
owner = "bi"
""",
    )
    result = project.api_run()
    assert (result.status, result.exit_code) == ("failed", 1)
    rows = project.query(
        "select attempt, status, exit_code, output_tail, error, partition_key "
        "from orchestrator.step_runs order by attempt"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "retried", 3), (2, "failed", 3)]
    assert "partner API said 503" in rows[1][3] and "working" in rows[1][3]
    assert rows[1][4] == "exit 3: partner API said 503" and rows[1][5] == "all"
    alerts = [json.loads(line) for line in log.read_text().splitlines()]
    assert [a["event"] for a in alerts] == ["step_failed"]
    assert alerts[0]["subject"] == "step:post" and alerts[0]["owner"] == "bi"
    assert alerts[0]["retry_command"] == "orchestrator run marts.daily"
    assert project.scalar("select status from orchestrator.runs") == "failed"


def test_a_timeout_kills_the_step_and_its_children(project):
    pids = project.root / "pids"
    path = script(
        project,
        "sleepy.sh",
        f"#!/bin/sh\nsleep 60 &\necho $! > {pids}\nwait\n",
    )
    configure(
        project,
        f"""
[steps.slow]
retries = 0
command = ["{path}"]
after = ["marts.daily"]
per = "run"
timeout = "1s"
""",
    )
    clock = time.monotonic()
    result = project.api_run()
    assert time.monotonic() - clock < 20
    assert result.exit_code == 1
    assert project.query("select status from orchestrator.step_runs") == [("timed_out",)]
    child = int(pids.read_text())
    time.sleep(0.2)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its parent counts as gone
    status = open(f"/proc/{pid}/stat").read().split()[2]
    return status != "Z"


def test_due_is_pure_over_builds():
    step = Step("s", ("true",), ("a", "b"))
    builds = {
        ("a", "2024-01-01"): ("success", 1),
        ("b", "2024-01-01"): ("success", 2),
        ("a", "2024-01-02"): ("success", 1),  # b has not built it: not ready
    }
    found = steps.due(step, ["a", "b"], "partition", builds, set(), set())
    assert [(d.key, d.built) for d in found] == [("2024-01-01", "a=1,b=2")]
    assert steps.due(step, ["a", "b"], "partition", builds, {("a", "2024-01-01")}, set()) == []
    once = steps.due(step, ["a", "b"], "run", builds, set(), set())
    assert [(d.key, d.built) for d in once] == [("all", "2")]
    assert steps.due(step, ["a", "b"], "run", builds, set(), {("s", "all", "2")}) == []


def test_plan_names_the_steps_a_run_would_run(project):
    configure(project, recorder(project))
    days = [f"2024-01-0{d}" for d in range(1, 10)]
    ws = open_workspace(project.root)
    assert steps.planned(ws, project.api_plan()) == [("refresh", days)]
    project.api_run()
    assert steps.planned(ws, project.api_plan()) == []


def test_a_failed_step_runs_again_next_run_and_recovers(project):
    flag = project.root / "partner-up"
    path = script(project, "post.sh", f"#!/bin/sh\ntest -e {flag}\n")
    log = project.root / "alerts.jsonl"
    configure(
        project,
        f"""
[owners.default]
log = "{log}"

[steps.post]
command = ["{path}"]
after = ["marts.daily"]
per = "run"
retries = 0
""",
    )
    assert project.api_run().exit_code == 1
    assert project.api_run().exit_code == 1  # tried again; the same failure is no news
    flag.write_text("")
    assert project.api_run().exit_code == 0
    assert project.api_run().outcomes == ()  # done for this build
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events == ["step_failed", "recovered"]
    statuses = project.query("select status from orchestrator.step_runs order by run_id")
    assert statuses == [("failed",), ("failed",), ("success",)]


def test_no_step_runs_in_an_environment(project):
    from conftest import NOW

    from orchestrator.app import building, environments
    from orchestrator.app.workspace import Selection

    configure(project, recorder(project))
    project.api_run()
    assert len(calls(project)) == 9
    project.model("marts.daily", DAILY.format(checks="").replace("sum(amount)", "sum(amount) + 1"))
    ws = environments.environment_workspace(open_workspace(project.root), "dev")
    result = building.run(ws, Selection(), command="run", at=NOW, threads=2)
    assert result.count("success") == 9 and len(calls(project)) == 9
    assert not [o for o in result.outcomes if o.model.startswith("step:")]
