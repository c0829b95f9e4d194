"""How steps read on a terminal: their lines in a run's summary, in `status` and in `runs N`."""

from __future__ import annotations

from ..core.partitions import describe
from ..core.status import PROBLEMS


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def step_lines(by_model: dict) -> list[str]:
    """One line per step that ran (outcomes named step:NAME): for how many windows, and how."""
    lines = []
    for name in sorted(m for m in by_model if m.startswith("step:")):
        outcomes = by_model[name]
        ok = sum(1 for o in outcomes if o.status == "success")
        windows = sorted(o.window for o in outcomes if o.window)
        span = f" {describe(windows)}" if windows else ""
        parts = [f"ran {_count(ok, 'time')}{span}"] if ok else []
        for status in PROBLEMS:
            n = sum(1 for o in outcomes if o.status == status)
            if n:
                parts.append(f"{n} {status.replace('_', ' ')}")
        mark = "ok" if ok == len(outcomes) else "x"
        lines.append(f"  {mark:<2} {name}  {'; '.join(parts)}")
    return lines


def status_lines(rows, format_table) -> list[str]:
    """`status`: a table of the steps (drawn by `format_table`), then how to run a failed one
    again."""
    if not rows:
        return []
    columns = ["step", "per", "after", "last_run", "partition", "status", "failed_windows"]
    shown = [
        (r.step, r.per, r.after, r.last_run, r.partition, r.status or "never ran", r.failed_windows)
        for r in rows
    ]
    lines = ["", "steps:", *format_table(columns, shown)]
    for r in rows:
        if r.retry:
            why = f" ({r.error.splitlines()[0]})" if r.error else ""
            lines.append(f"to run step {r.step} again{why}: {r.retry}")
    return lines


def run_lines(rows, format_table) -> list[str]:
    """`runs N`: the run's step attempts (drawn by `format_table`)."""
    if not rows:
        return []
    columns = ["step", "partition", "attempt", "status", "exit_code", "seconds", "error"]
    shown = [
        (
            r.step,
            r.partition_key,
            r.attempt,
            r.status,
            r.exit_code,
            round((r.finished - r.started).total_seconds(), 3),
            r.error,
        )
        for r in rows
    ]
    return ["", "steps:", *format_table(columns, shown)]


def plan_lines(planned) -> list[str]:
    """`plan`: the steps a run would run after its tasks, and for which windows."""
    lines = []
    for name, keys in planned:
        where = "once" if keys == ["all"] else f"on {_count(len(keys), 'window')} ({keys[0]}"
        where += f"..{keys[-1]})" if len(keys) > 1 else (")" if keys != ["all"] else "")
        lines.append(f"  step {name} runs {where}, if what it runs after is published")
    return ["then, steps:", *lines] if lines else []
