"""The loop of a run: it drives graphlib's prepare/get_ready/done over the plan's tasks, runs
ready ones on worker threads (one writer per table at a time: DuckDB's optimistic concurrency
would make two writers of one table conflict), skips the readers of what did not succeed, and
stops on a cancel."""

from __future__ import annotations

import graphlib
import threading
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..core.snapshot import Snapshot
from ..core.status import Status
from ..core.tasks import Action, Plan, Task
from ..engines.engine import run_step
from ..project.dag import DAG
from .attempt import run_task
from .context import TaskContext
from .records import record_held, record_unpublished, unit_record
from .values import Live, Options, Outcome, Shared


def execute(plan: Plan, dag: DAG, engine, snapshot: Snapshot, options: Options) -> list[Outcome]:
    """Run every task of `plan` against the open warehouse `engine`."""
    shared = Shared(
        dag=dag,
        live=Live(
            built={m: dict(p) for m, p in snapshot.built.items()},
            relations=dict(snapshot.relations),
        ),
        options=options,
        recorded=snapshot.recorded,
    )
    _prepare(plan, dag, engine, options.default_schema)
    outcomes = _Loop(plan, shared, engine).run()
    _cleanup_shadows(plan, dag, engine, outcomes)
    return outcomes


class _Loop:
    """The state of one run's loop: what is ready, running, held back, and what ended."""

    def __init__(self, plan: Plan, shared: Shared, engine):
        self.shared, self.engine, self.options = shared, engine, shared.options
        self.by_id = {t.id: t for t in plan.tasks}
        task_of = {u.id: t.id for t in plan.tasks for u in t.units}  # a batch runs its parts
        self.graph: graphlib.TopologicalSorter = graphlib.TopologicalSorter(
            {t.id: {task_of[d] for d in t.deps} - {t.id} for t in plan.tasks}
        )
        self.graph.prepare()
        self.unfinished = set(self.by_id)
        self.ready: list[int] = []
        # per partition task (a batch's parts one by one): why its readers may not run, if so
        self.held_back: dict[int, str] = {}
        self.skip_parts: dict[int, dict[int, str]] = {}  # task id -> its parts to skip, and why
        self.outcomes: list[Outcome] = record_held(plan, engine, self.options.run_id, self._now())
        for outcome in self.outcomes:
            self.options.reporter.finished_task(outcome)
        self.local = threading.local()

    def _now(self):
        return self.options.now()

    def run(self) -> list[Outcome]:
        self._take_ready()
        self._drive()
        if self.options.cancel.is_set():
            left = [self.by_id[tid] for tid in sorted(self.unfinished)]
            why = "the run was cancelled before this task started"
            for outcome in self._give_up(left, Status.CANCELLED, why):
                self._report(outcome)
        return self.outcomes

    def _drive(self) -> None:
        threads = max(1, self.options.threads)
        cancel = self.options.cancel
        busy: set[str] = set()
        running: dict[Future, Task] = {}
        interrupted = False
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="task") as pool:
            try:
                while self.ready or running:
                    if cancel.is_set() and not interrupted:
                        interrupted = True
                        self.shared.interrupt_all()
                    if not cancel.is_set():
                        for tid in list(self.ready):
                            if len(running) >= threads:
                                break
                            task = self.by_id[tid]
                            if task.model in busy:
                                continue
                            self.ready.remove(tid)
                            busy.add(task.model)
                            running[pool.submit(self._work, task)] = task
                    if not running:
                        break
                    # a short timeout: the loop must notice a cancel even while all are busy
                    done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        busy.discard(task.model)
                        self._finish(task, future.result())
            except BaseException:
                # stopped at once (a second signal, or an error of this loop itself): interrupt
                # what runs, so that leaving this block waits only for those tasks to roll back
                cancel.set()
                self.shared.interrupt_all()
                raise

    def _work(self, task: Task) -> list[Outcome]:
        if not hasattr(self.local, "cursor"):
            self.local.cursor = self.engine.cursor()
        ctx = TaskContext(task, self.shared, self.local.cursor, self.skip_parts.get(task.id, {}))
        return run_task(ctx)

    def _report(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.options.reporter.finished_task(outcome)

    def _finish(self, task: Task, ended: list[Outcome]) -> None:
        """Take a task's outcomes and mark it done, releasing its readers."""
        self._end(task, ended)
        self._take_ready()

    def _end(self, task: Task, ended: list[Outcome]) -> None:
        for outcome in ended:
            self._report(outcome)
            if outcome.status != Status.SUCCESS and outcome.task is not None:
                self.held_back[outcome.task.id] = (
                    outcome.reason
                    if outcome.status == Status.SKIPPED
                    else f"upstream {outcome.model}[{outcome.key}] {_failed_how(outcome)}"
                )
        self.unfinished.discard(task.id)
        self.graph.done(task.id)

    def _take_ready(self) -> None:
        """Move the tasks graphlib releases into `ready`; a reader none of whose partitions can
        run (each reads one that did not succeed) is skipped, which releases its own readers."""
        released = list(self.graph.get_ready())
        while released:
            tid = released.pop(0)
            reader = self.by_id[tid]
            blocked = {
                u.id: self.held_back[d] for u in reader.units for d in u.deps if d in self.held_back
            }
            if self.options.cancel.is_set() and blocked:
                continue  # given up as cancelled at the end, not skipped
            if len(blocked) == len(reader.units):
                self._end(reader, self._give_up([reader], Status.SKIPPED, blocked))
                released.extend(self.graph.get_ready())
            else:
                if blocked:
                    self.skip_parts[tid] = blocked
                self.ready.append(tid)
        self.ready.sort()

    def _give_up(
        self, tasks: list[Task], status: str, why: Mapping[int, str] | str
    ) -> list[Outcome]:
        """Record tasks that will not run in this run (skipped or cancelled), per partition."""
        units = sorted((u for t in tasks for u in t.units), key=lambda u: u.id)
        if not units:
            return []
        at, run_id, dag = self._now(), self.options.run_id, self.shared.dag
        reasons = {u.id: why if isinstance(why, str) else why[u.id] for u in units}
        records = [unit_record(run_id, u, dag, 1, status, reasons[u.id], at, at) for u in units]
        record_unpublished(
            self.engine,
            records,
            [r for u, r in zip(units, records, strict=True) if u.action is not Action.SWAP],
        )
        return [Outcome(u.model, u.key, status, reasons[u.id], task=u) for u in units]


def _failed_how(outcome: Outcome) -> str:
    return {Status.CHECK_FAILED: "failed a check", Status.TIMED_OUT: "timed out"}.get(
        outcome.status, "failed"
    )


def _prepare(plan: Plan, dag: DAG, engine, default_schema: str = "main") -> None:
    """Schemas for the models about to be written, and the default schema every model's
    search path ends in (a dbt target schema no model lives in would otherwise fail each
    model's `SET search_path`); no leftover shadow of an earlier refresh."""
    if not plan.tasks:
        return  # nothing is written: an engine started on first use stays unstarted
    models = {t.model for t in plan.tasks}
    writes = engine.writes
    schemas = {dag.models[m].schema for m in models} | ({default_schema} if models else set())
    for schema in sorted(schemas):
        run_step(engine, writes.create_schema(schema))
    for m in sorted({t.model for t in plan.tasks if t.action is Action.SHADOW}):
        run_step(engine, writes.drop_shadow(dag.models[m]))


def _cleanup_shadows(plan: Plan, dag: DAG, engine, outcomes: list[Outcome]) -> None:
    published = {
        o.model
        for o in outcomes
        if o.task and o.task.action is Action.SWAP and o.status == Status.SUCCESS
    }
    for m in sorted({t.model for t in plan.tasks if t.action is Action.SHADOW} - published):
        run_step(engine, engine.writes.drop_shadow(dag.models[m]))
