"""One plan in the making: its inputs (the DAG, the state snapshot, the request, the gates found
outside the warehouse's models) and what it has decided so far (the task that publishes each
partition, the partitions held). The decisions read it; only the planner adds to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.partitions import Window
from ..core.snapshot import Snapshot
from ..core.tasks import Gate, Held, Request, Task
from ..project.dag import DAG
from ..project.model import Kind, Model
from .windows import expected_windows, overlapping_keys


@dataclass
class Context:
    dag: DAG
    snapshot: Snapshot
    request: Request
    # per (model, partition key): what holds it from outside (a source not arrived, stale...)
    gates: Mapping[tuple[str, str], Gate]
    # per model: window key -> the task whose completion publishes that key's data
    publishers: dict[str, dict[str, Task]] = field(default_factory=dict)
    # per model: window key -> why it is held
    holds: dict[str, dict[str, Held]] = field(default_factory=dict)
    expected_cache: dict[str, list[Window]] = field(default_factory=dict)
    expected_key_cache: dict[str, dict[str, Window]] = field(default_factory=dict)

    def built(self, name: str) -> Mapping:
        """The model's built partitions, none when its relation is gone."""
        return self.snapshot.built.get(name, {}) if name in self.snapshot.relations else {}

    def expected(self, model: Model) -> list[Window]:
        """The partitions `run` keeps built (see `expect_also`)."""
        if model.name not in self.expected_cache:
            self.expected_cache[model.name] = expected_windows(model, self.request.now)
        return self.expected_cache[model.name]

    def expect_also(self, model: Model, windows: list[Window]) -> None:
        """Count failed partitions that `run` retries as expected of the model from here on:
        its own reasons then treat them as missing, and readers of the whole wait for them."""
        self.expected(model).extend(windows)
        self.expected_key_cache.pop(model.name, None)  # keys asked for before: asked again

    def expected_keys(self, model: Model) -> dict[str, Window]:
        if model.name not in self.expected_key_cache:
            self.expected_key_cache[model.name] = {w.key: w for w in self.expected(model)}
        return self.expected_key_cache[model.name]

    def expects(self, model: Model, window: Window | None) -> bool:
        return window is None or window.key in self.expected_keys(model)

    def touched(self, name: str, window: Window | None) -> bool:
        """Does the plan rebuild data that (`name`, `window`) exposes? Views pass it through."""
        model = self.dag.models[name]
        # a rebuild that keeps what readers read (a non-breaking change) touches nothing
        planned = {k: t for k, t in self.publishers.get(name, {}).items() if not t.keeps_readers}
        if planned:
            if window is None or not model.partitioned:
                return True
            if any(k in planned for k in overlapping_keys(model, window, planned)):
                return True
        if model.kind is Kind.VIEW:
            return any(self.touched(up, window) for up in self.dag.upstream[name])
        return False
