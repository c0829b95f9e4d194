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
