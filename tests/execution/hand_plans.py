"""Helpers of the execution tests: Plans built by hand (ids, dependencies, windows), executed by
`execution.execute` as one recorded run on a real DuckDB file in tmp_path; no planner, no api,
no CLI."""

from __future__ import annotations

from conftest import NOW

from orchestrator import state
from orchestrator.app.workspace import open_workspace
from orchestrator.core.partitions import Grain, window_for_key
from orchestrator.core.tasks import Action, Plan, Reason, Request, Task
from orchestrator.engines import engine
from orchestrator.execution import Options, Reporter, execute

FACT = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
-- check: expression(amount < 1000)
select user_id, event_date, amount
from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""
"""Events of one day, checked: an amount of 1000 or more fails the day's blocking check."""


class Recorder(Reporter):
    """Remembers the order tasks end in, and runs `on_retry` before a task backs off."""

    def __init__(self, on_retry=None):
        self.finished: list[tuple[str, str, str]] = []
        self.retries: list[tuple[int, str]] = []
        self.on_retry = on_retry

    def finished_task(self, outcome) -> None:
        self.finished.append((outcome.model, outcome.key, outcome.status))

    def retrying(self, task, attempt, error, delay) -> None:
        self.retries.append((attempt, error))
        if self.on_retry:
            self.on_retry()


def task(
    id_: int, model: str, *deps: int, key: str | None = None, action: Action = Action.BUILD
) -> Task:
    window = window_for_key(key, Grain.DAY) if key else None
    return Task(id_, model, window, Reason.MISSING, action, deps=deps)


def batch(*parts: Task) -> Task:
    """One task writing the consecutive day `parts` at once (as `plan.batching` makes them)."""
    first, last = parts[0], parts[-1]
    window = type(first.window)(first.window.start, last.window.end, first.window.grain)
    deps = tuple(sorted({d for p in parts for d in p.deps}))
    return Task(first.id, first.model, window, first.reason, first.action, deps, parts)


def run_plan(project, tasks, *, policy=None, reporter=None, threads=2, options=None) -> dict:
    """Execute `tasks` as one recorded run; the outcomes by (model, key). `options`: more
    fields of `Options` (a `cancel` event, ...)."""
    ws = open_workspace(project.root)
    con = engine.connect(project.warehouse)
    try:
        state.ensure(con)
        snapshot = state.snapshot(con)
        run_id = state.start_run(
            con,
            command="test",
            arguments="",
            variables={},
            who="test",
            host="test",
            pid=0,
            started=NOW,
            tool_version="test",
        )
        models = tuple(sorted({t.model for t in tasks}))
        plan = Plan(tuple(tasks), (), models, Request(frozenset(models), NOW))
        chosen = {"policy": lambda model: policy} if policy else {}
        chosen.update(options or {})
        options_ = Options(
            run_id=run_id, variables={}, threads=threads, reporter=reporter or Reporter(), **chosen
        )
        outcomes = execute(plan, ws.dag, con, snapshot, options_)
    finally:
        con.close()
    return {(o.model, o.key): o for o in outcomes}


def attempts(project, model: str) -> list[str]:
    """The statuses of a model's task_runs rows, in order."""
    return [
        status
        for (status,) in project.query(
            "select status from orchestrator.task_runs where model = ? order by run_id, attempt",
            [model],
        )
    ]


def tables(project) -> list[str]:
    """The tables and views in schema `s`."""
    query = "select table_name from information_schema.tables where table_schema = 's' order by 1"
    return [name for (name,) in project.query(query)]
