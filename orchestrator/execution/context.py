"""One task on one cursor: what its attempts, its write and its audit share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from .. import state
from ..core.errors import Cancelled, TaskTimeout
from ..core.fingerprints import Prints
from ..core.snapshot import TaskRecord
from ..core.tasks import Action, Task
from ..plan.staleness import used_vars
from ..project import checks
from ..statements import check_sql, materialize
from .records import unit_record
from .values import Shared


class TaskContext:
    """A task, the cursor it runs on, and the state of its current attempt."""

    def __init__(self, task: Task, shared: Shared, cur, skip: Mapping[int, str] | None = None):
        self.task = task
        self.shared = shared
        self.options = shared.options
        self.dag = shared.dag
        self.live = shared.live
        self.model = shared.dag.models[task.model]
        self.cur = cur
        self.variables = used_vars(self.model, self.options.variables)
        self.policy = self.options.policy(self.model)
        self.skip = dict(skip or {})  # parts whose inputs did not succeed: recorded skipped
        self.units = task.units
        self.keys = {u.key for u in self.units}
        self.results: list[checks.Result] = []
        self.attempt = 1
        self.timed_out = False
        self.read: dict[str, Prints] = {}  # per partition: what the attempt read from sources

    def now(self) -> datetime:
        return self.options.now()

    def for_part(self, part: Task) -> TaskContext:
        """The same cursor and run, for one partition of this batch."""
        return TaskContext(part, self.shared, self.cur)

    @property
    def into_shadow(self) -> bool:
        return self.task.action is Action.SHADOW

    def target(self) -> str:
        """Where this task writes: the model's relation, or its shadow during a full refresh."""
        return materialize.target_of(self.model, self.into_shadow)

    def scope(self, relation: str) -> check_sql.Scope:
        model = self.model
        windows = tuple(u.window for u in self.units if u.window)
        return check_sql.Scope(
            relation,
            model.partition_by,
            model.grain if model.partitioned else None,
            windows or None,
        )

    def checkpoint(self) -> None:
        """Between statements: an interrupt that came while no query ran is not lost."""
        if self.timed_out:
            raise TaskTimeout(
                f"ran longer than its timeout of {self.policy.timeout}; "
                "interrupted, nothing was written"
            )
        if self.options.cancel.is_set():
            raise Cancelled("the run was cancelled; nothing was written")

    def records(
        self,
        status: str,
        started: datetime,
        finished: datetime,
        rows: Mapping[str, int | None] | None = None,
        error: str | None = None,
    ) -> list[TaskRecord]:
        """One task_runs row per partition this task writes."""
        return [
            unit_record(
                self.options.run_id,
                u,
                self.dag,
                self.attempt,
                status,
                u.why,
                started,
                finished,
                (rows or {}).get(u.key),
                error,
            )
            for u in self.units
        ]

    def record_checks(self, engine, at: datetime) -> None:
        state.insert_check_results(
            engine, self.options.run_id, self.task.id, self.model.name, self.results, at
        )
