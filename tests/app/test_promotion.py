"""app.promotion on a real warehouse: production becomes what the environment built, without
recomputing and atomically; it refuses after production moved or when the SQL is not what the
environment built; under [access] it is an approval, audited."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from changes import STAGED_DOUBLED, changes_project
from conftest import NOW

from orchestrator.app import building, environments, promotion
from orchestrator.app.workspace import Selection, open_workspace
from orchestrator.core.errors import AccessDenied, UsageError


@pytest.fixture
def changed(project):
    changes_project(project)
    assert project.api_run().status == "success"
    project.model("staging.events", STAGED_DOUBLED)
    ws = environments.environment_workspace(open_workspace(project.root), "dev")
    assert building.run(ws, Selection(), command="run", at=NOW, threads=2).status == "success"
    return project


def test_promote_makes_production_the_environment_and_the_next_run_does_nothing(changed):
    expected = {
        name: sorted(changed.query(f"select * from {copy}"))
        for name, copy in [
            ("staging.events", "staging__dev.events"),
            ("marts.users", "marts__dev.users"),
        ]
    }
    done = promotion.promote(open_workspace(changed.root), "dev", at=NOW)
    assert set(done.models) == {"staging.events", "marts.daily", "marts.users"}
    for name, rows in expected.items():
        assert sorted(changed.query(f"select * from {name}")) == rows
    # production's rows say what the environment's build was, under production's names
    runs = changed.query(
        "select distinct built_run from orchestrator.partitions where model = 'staging.events'"
    )
    assert runs == [(2,)]
    assert changed.api_plan().tasks == ()
    audit = changed.query("select command, decision, reason from orchestrator.audit")
    assert audit[-1][:2] == ("promote dev", "promoted")
    # nothing differs any more
    with pytest.raises(UsageError, match="nothing to promote"):
        promotion.promote(open_workspace(changed.root), "dev", at=NOW)


def test_promote_refuses_after_production_moved(project):
    changes_project(project)
    assert project.api_run().status == "success"
    users = "-- kind: table\nselect user_id, max(amount) as amount from staging.events group by 1"
    project.model("marts.users", users)
    ws = environments.environment_workspace(open_workspace(project.root), "dev")
    assert building.run(ws, Selection(), command="run", at=NOW, threads=2).status == "success"
    # a late event lands and production rebuilds the day the environment's copy read
    project.seed("insert into raw.events values (1, date '2024-01-02', 700)")
    day = (datetime(2024, 1, 2), datetime(2024, 1, 3))
    rebuilt = project.api_run("staging.events", backfill=day, exclude=("marts.users",))
    assert rebuilt.status == "success"
    before = project.query("select * from marts.users order by all")
    with pytest.raises(promotion.Refused, match="production moved since dev was built") as err:
        promotion.promote(open_workspace(project.root), "dev", at=NOW)
    assert "marts.users" in str(err.value) and "upstream rebuilt" in str(err.value)
    assert project.query("select * from marts.users order by all") == before
    # built again, it promotes
    assert building.run(ws, Selection(), command="run", at=NOW, threads=2).status == "success"
    promotion.promote(open_workspace(project.root), "dev", at=NOW)
    assert project.scalar("select max(amount) from marts.users") == 700


def test_promote_refuses_sql_the_environment_did_not_build(changed):
    changed.model("staging.events", STAGED_DOUBLED.replace("* 2", "* 3"))
    with pytest.raises(promotion.Refused, match="differ from what dev built"):
        promotion.promote(open_workspace(changed.root), "dev", at=NOW)


READER = """
import sys, time, duckdb
from pathlib import Path
path, out, stop = sys.argv[1:4]
seen = set()
while not Path(stop).exists():
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error:
        time.sleep(0.005)
        continue
    seen.add(con.execute(
        "select (select sum(amount) from staging.events) + (select sum(amount) from marts.users)"
    ).fetchone()[0])
    con.close()
Path(out).write_text(" ".join(str(v) for v in sorted(seen)))
"""


def test_a_reader_sees_the_old_data_or_the_new_never_a_mix(changed, tmp_path):
    total = "select (select sum(amount) from {0}.events) + (select sum(amount) from {1}.users)"
    old = changed.scalar(total.format("staging", "marts"))
    new = changed.scalar(total.format("staging__dev", "marts__dev"))
    out, stop = tmp_path / "seen.txt", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(changed.warehouse), str(out), str(stop)]
    )
    try:
        time.sleep(0.5)  # it reads the old data a while, then promote takes the file
        promotion.promote(open_workspace(changed.root), "dev", at=NOW)
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=30)
    seen = {int(float(v)) for v in out.read_text().split()}
    assert seen == {old, new}


def test_killed_while_promoting_production_keeps_all_its_old_data(changed):
    before = {
        t: changed.query(f"select * from {t} order by all")
        for t in ("staging.events", "marts.users", "marts.daily")
    }
    rows = changed.query("select * from orchestrator.partitions order by all")
    # killed after the second of three relations was replaced, before the commit
    died = changed.cli("promote", "dev", env={"ORCHESTRATOR_KILL_AT": "2"})
    assert died.returncode == -signal.SIGKILL
    after = {t: changed.query(f"select * from {t} order by all") for t in before}
    assert after == before
    assert changed.query("select * from orchestrator.partitions order by all") == rows
    done = changed.cli("promote", "dev")
    assert done.returncode == 0, done.stderr
    assert changed.query("select * from staging.events order by all") == changed.query(
        "select * from staging__dev.events order by all"
    )


def test_under_access_promoting_needs_an_approver_and_is_audited(changed, monkeypatch):
    changed.write(
        "orchestrator.toml",
        """
        [access]
        operator = ["olga"]
        approver = ["ann"]
        """,
    )
    monkeypatch.setenv("ORCHESTRATOR_USER", "olga")
    with pytest.raises(AccessDenied, match="needs the approver role"):
        promotion.promote(open_workspace(changed.root), "dev", at=NOW)
    monkeypatch.setenv("ORCHESTRATOR_USER", "ann")
    promotion.promote(open_workspace(changed.root), "dev", at=NOW)
    rows = changed.query("select who, command, decision from orchestrator.audit order by all")
    assert ("ann", "promote dev", "promoted") in rows
    assert ("olga", "promote", "denied") in rows
