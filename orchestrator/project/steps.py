"""`[steps.NAME]` in `orchestrator.toml`: a command run after some models are published, parsed
into `model.Step` values; its program must exist when the project loads.

```toml
[steps.refresh_dashboard]
command = ["scripts/refresh.sh", "--fast"]   # or one string, split as a shell would (no shell runs)
after = ["reporting.revenue_dashboard"]      # model selectors
per = "partition"                            # or "run"; default: partition when they are
retries = 2                                  # as for models: retries, retry_delay, timeout
owner = "finance"
env = { DASHBOARD = "revenue" }
```
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..core.errors import ProjectError, UsageError, suggest
from .config import config_line, parse_duration
from .dag import DAG
from .model import Step
from .selectors import select_word

STEP_KEYS = (
    "command",
    "after",
    "per",
    "lands",
    "retries",
    "retry_delay",
    "timeout",
    "owner",
    "env",
)
PER = ("partition", "run")


def parse(raw: dict, config_path: Path, text: str, root: Path) -> Mapping[str, Step]:
    """Every `[steps.NAME]` table; the first mistake is one line naming its file and line."""
    table = raw.get("steps", {})
    if not isinstance(table, dict):
        raise ProjectError("[steps] must be tables like [steps.name]", config_path)
    steps = {}
    for name, spec in table.items():

        def fail(message: str, key: str | None = None, name=name) -> ProjectError:
            line = config_line(text, ("steps", name), key)
            return ProjectError(f"steps.{name}: {message}", config_path, line)

        steps[name] = _step(name, spec, fail, root, text)
    return MappingProxyType(steps)


def _step(name: str, spec, fail, root: Path, text: str) -> Step:
    if not isinstance(spec, dict):
        raise fail("must be a table of settings")
    unknown = sorted(set(spec) - set(STEP_KEYS))
    if unknown:
        raise fail(
            f"unknown setting '{unknown[0]}'{suggest(unknown[0], STEP_KEYS)}; "
            f"accepted: {', '.join(STEP_KEYS)}",
            unknown[0],
        )
    if "lands" in spec:
        raise fail("lands is not supported yet: only after steps run", "lands")
    command = _command(spec.get("command"), fail, root)
    after = spec.get("after")
    if isinstance(after, str):
        after = after.split()
    if not after or not all(isinstance(a, str) and a.strip() for a in after):
        raise fail('after must name the models it runs after, e.g. after = ["marts.x"]', "after")
    per = spec.get("per")
    if per is not None and per not in PER:
        raise fail(f"per must be one of {', '.join(PER)}, got {per!r}", "per")
    retries = spec.get("retries")
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 20
    ):
        raise fail(f"retries must be a whole number from 0 to 20, got {retries!r}", "retries")
    durations = {}
    for key in ("retry_delay", "timeout"):
        try:
            durations[key] = parse_duration(spec[key]) if key in spec else None
        except ValueError as exc:
            raise fail(f"{key}: {exc}", key) from None
        if key in spec and not durations[key]:
            raise fail(f"{key}: {spec[key]!r} must be longer than zero", key)
    owner = spec.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise fail("owner must be a name", "owner")
    env = spec.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str | int | float) for v in env.values()):
        raise fail("env must be a table of NAME = value", "env")
    found = {key: config_line(text, ("steps", name), key) for key in spec}
    return Step(
        name=name,
        command=command,
        after=tuple(a.strip() for a in after),
        per=per,
        retries=retries,
        retry_delay=durations["retry_delay"],
        timeout=durations["timeout"],
        owner=owner,
        env=MappingProxyType({str(k): str(v) for k, v in env.items()}),
        line=config_line(text, ("steps", name)),
        lines=MappingProxyType({k: v for k, v in found.items() if v}),
    )


def _command(value, fail, root: Path) -> tuple[str, ...]:
    """The argv: a list of strings, or one string split as a shell would (never run by one).
    Its program is an absolute path, a path relative to the project root, or a name on PATH."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise fail(f"command: {exc}", "command") from None
    elif isinstance(value, list) and all(isinstance(a, str) for a in value):
        argv = list(value)
    else:
        raise fail('command must be a list of strings or a string, e.g. command = ["x"]')
    if not argv or not argv[0]:
        raise fail("command is empty", "command")
    if program(argv[0], root) is None:
        raise fail(f"command {argv[0]!r} not found", "command")
    return tuple(argv)


def program(name: str, root: Path) -> str | None:
    """Where the program `name` is: a path (absolute, or relative to the project root) that is
    an executable file, or a name found on PATH; None when there is none."""
    if os.sep in name or (os.altsep and os.altsep in name):
        path = Path(name) if Path(name).is_absolute() else root / name
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(name)


def check_steps(dag: DAG, steps: Mapping[str, Step], config_path: Path) -> None:
    """Every step's `after` selects models, and `per = "partition"` only models partitioned
    by one grain: checked once the DAG is built, so a typo names its line."""
    for name, step in steps.items():
        line = step.lines.get("after", step.line)
        chosen: set[str] = set()
        for word in step.after:
            try:
                chosen |= select_word(dag, word)
            except UsageError as exc:
                raise ProjectError(f"steps.{name}: after: {exc}", config_path, line) from None
        if step.per == "partition":
            grains = {dag.models[m].grain if dag.models[m].partitioned else None for m in chosen}
            if None in grains or len(grains) > 1:
                raise ProjectError(
                    f'steps.{name}: per = "partition" needs models partitioned by one grain '
                    f'(after selects {", ".join(sorted(chosen))}); use per = "run"',
                    config_path,
                    step.lines.get("per", line),
                )


def models_after(dag: DAG, step: Step) -> list[str]:
    """The models a step runs after, in the DAG's order."""
    chosen: set[str] = set()
    for word in step.after:
        chosen |= select_word(dag, word)
    return dag.ordered(chosen)


def per_of(dag: DAG, step: Step) -> str:
    """`partition` when said, or when every model it runs after is partitioned by one grain;
    else `run`."""
    if step.per:
        return step.per
    models = models_after(dag, step)
    grains = {dag.models[m].grain if dag.models[m].partitioned else None for m in models}
    return "partition" if models and None not in grains and len(grains) == 1 else "run"
