"""Hooks: a model's pre_hook/post_hook run in its publishing transaction; the project's
[hooks] on_run_start/on_run_end around a run's tasks. A failing hook fails what it belongs to
and keeps nothing."""

from __future__ import annotations


def test_model_hooks_run_with_the_write_and_a_failing_one_keeps_nothing(project):
    project.model(
        "s.t",
        """
        -- pre_hook: create table if not exists main.audit (model varchar, n int)
        -- post_hook: insert into main.audit select 's.t', count(*) from {{ this }}
        -- post_hook: delete from {{ this }} where x = 2
        -- check: expression(x <> 2)
        select * from (values (1), (2), (3)) v(x)
        """,
    )
    run = project.cli("run")
    assert run.returncode == 0, run.stdout + run.stderr  # the check sees the hooks' work
    assert project.query("select * from s.t order by x") == [(1,), (3,)]
    assert project.query("select * from main.audit") == [("s.t", 3)]
    project.model("s.t", "-- post_hook: insert into nowhere values (1)\nselect 9 as x")
    run = project.cli("run")
    assert run.returncode == 1
    assert "post_hook failed: Catalog Error: Table with name nowhere does not exist!" in run.stdout
    assert project.query("select * from s.t order by x") == [(1,), (3,)]  # last good data


def test_run_hooks_wrap_a_run_that_has_work(project):
    project.write(
        "orchestrator.toml",
        """
        [hooks]
        on_run_start = ["create table if not exists main.runlog (kind varchar)",
                        "insert into main.runlog values ('start')"]
        on_run_end = "insert into main.runlog values ('end')"
        """,
    )
    project.model("s.t", "select 1 as x")
    assert project.cli("run").returncode == 0
    assert project.query("select * from main.runlog") == [("start",), ("end",)]
    assert "nothing to do" in project.cli("run").stdout  # no work: no hooks
    assert project.scalar("select count(*) from main.runlog") == 2
    project.write("orchestrator.toml", '[hooks]\non_run_start = ["insert into nowhere values (1)"]')
    project.model("s.t", "select 2 as x")
    run = project.cli("run")
    assert run.returncode == 1
    assert run.stderr.strip().endswith(
        "on_run_start hook failed: Catalog Error: Table with name nowhere does not exist! "
        "(in: insert into nowhere values (1))"
    )
    assert project.scalar("select x from s.t") == 1  # no task ran
    assert (
        project.scalar("select status from orchestrator.runs order by run_id desc limit 1")
        == "failed"
    )


def test_bad_hooks_settings_name_the_line(project):
    project.write("orchestrator.toml", "[hooks]\non_run_stat = []\n")
    out = project.cli("plan")
    assert out.returncode == 2
    assert "orchestrator.toml:2: [hooks]: unknown setting 'on_run_stat'" in out.stderr
