"""How plans, runs, status and query results read on a terminal: short summaries, not logs.

Pure formatting (values in, lines out), plus the reporter that shows progress during a run.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TextIO

from ..core.errors import essential
from ..core.partitions import WHOLE, describe
from ..core.status import PROBLEMS
from ..core.tasks import Action, Plan, Task
from ..execution import Outcome, Reporter
from ..plan import remedies
from ..project.dag import DAG
from .steps import step_lines


def _count(n: int, word: str) -> str:
    plural = "es" if word.endswith(("s", "ch")) else "s"
    return f"{n:,} {word}{'' if n == 1 else plural}"


def _unit(model_partitioned: bool, n: int) -> str:
    return _count(n, "partition") if model_partitioned else "whole"


def format_plan(plan: Plan, dag: DAG, *, verbose: bool = False) -> list[str]:
    lines: list[str] = []
    models_with_work = {t.model for t in plan.tasks} | {h.model for h in plan.held}
    as_of = f"{plan.request.now:%Y-%m-%d %H:%M} UTC"
    units = plan.units
    if plan.tasks:
        batches = sum(1 for t in plan.tasks if t.parts)
        batched = f", {_count(batches, 'batch')} of several partitions" if batches else ""
        lines.append(
            f"plan: {_count(len(units), 'task')} over "
            f"{_count(len({t.model for t in plan.tasks}), 'model')}{batched} (as of {as_of})"
        )
    else:
        lines.append(f"plan: nothing to do (as of {as_of})")
    width = max((len(m) for m in models_with_work), default=0)
    by_model: dict[str, dict[tuple[str, str], list[Task]]] = defaultdict(lambda: defaultdict(list))
    for u in units:
        by_model[u.model][(u.why, u.action)].append(u)
    for model in dag.ordered(by_model):
        groups = by_model[model]
        partitioned = dag.models[model].partitioned
        for (reason, action), group in groups.items():
            if action == Action.SWAP:
                what = "then swap in the rebuilt table"
                lines.append(f"  {model:<{width}}  {what}")
                continue
            windows = [t.window for t in group if t.window]
            shadow = " into a new table" if action == Action.SHADOW else ""
            detail = describe(windows) if windows else ""
            lines.append(
                f"  {model:<{width}}  {_unit(partitioned, len(group)):<16} "
                f"{reason}{shadow}  {detail}".rstrip()
            )
            if verbose and windows:
                lines.extend(f"      {w.key}" for w in windows)
    if plan.held:
        by_status = defaultdict(int)
        for h in plan.held:
            by_status[h.status] += 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
        lines.append(f"held back: {_count(len(plan.held), 'task')} will not run ({summary})")
        lines.extend(_held_lines(plan, width, verbose))
    lines.extend(_backfill_only_lines(plan))
    for model, older in plan.forward_only:
        lines.append(
            f"forward-only: {model} keeps {_count(older, 'partition')} built by an older "
            "version; partitions built from now on use its SQL as it is now"
        )
    for model, checks in plan.unjudged:
        lines.append(
            f"never checked: {model}'s published data by {', '.join(checks)}: the run checks it"
        )
    idle = [m for m in plan.models if m not in models_with_work and m not in plan.backfill_only]
    if idle:
        lines.append(f"up to date: {_names(idle)}")
    external = sorted({s for m in plan.models for s in dag.sources[m]})
    if external:
        lines.append(f"external sources read: {_names(external)}")
    return lines


def _backfill_only_lines(plan: Plan) -> list[str]:
    return [
        f"not built: {name} has no start: build it with "
        f"orchestrator backfill {name} --start DATE --end DATE"
        for name in plan.backfill_only
    ]


def _held_lines(plan: Plan, width: int, verbose: bool) -> list[str]:
    by_reason: dict[tuple[str, str, str], list] = defaultdict(list)
    for h in plan.held:
        by_reason[(h.model, h.status, h.reason)].append(h)
    lines = []
    for (model, status, reason), group in by_reason.items():
        windows = [h.window for h in group if h.window]
        where = f"[{describe(windows)}]" if windows else ""
        lines.append(f"  {status}: {model}{where}: {reason}")
        if reason.startswith(f"rebuild of {model} held by"):
            lines.append(
                f"    ways out: wait for what it names (the next run then rebuilds {model} "
                "whole), or fix that input"
            )
            if not reason.endswith("(its layout changed: it is rebuilt whole)"):
                every = [h.window for h in plan.held if h.model == model and h.window]
                publish = remedies.held_rebuild(model, every).removeprefix("wait, or ")
                lines.append(f"    or {publish}")
    return lines if verbose or len(lines) <= 20 else lines[:20] + [f"  ... {len(lines) - 20} more"]


def _names(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class ConsoleReporter(Reporter):
    """Progress while tasks run: a live counter on a terminal, a line every few seconds in logs."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0):
        self.stream = stream or sys.stderr
        self.interval = interval
        self.total = 0
        self.done = 0
        self.failed = 0
        self.last = time.monotonic()
        self.tty = self.stream.isatty()

    def started(self, plan: Plan, run_id: int) -> None:
        self.total = len(plan.units) + len(plan.held)
        if plan.tasks:
            held = f", {len(plan.held)} held back" if plan.held else ""
            redo = plan.request.retry_of
            print(
                f"run {run_id}: {f'retry of run {redo}: ' if redo else ''}"
                f"{_count(len(plan.units), 'task')} over "
                f"{_count(len({t.model for t in plan.tasks}), 'model')}{held}",
                file=self.stream,
            )

    def retrying(self, task, attempt: int, error: str, delay: float) -> None:
        print(
            f"  retrying {task.model}[{task.key}] in {delay:.1f}s (attempt {attempt} failed: "
            f"{essential(error)})",
            file=self.stream,
            flush=True,
        )

    def finished_task(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status == "failed"
        if self.total < 20:
            return
        now = time.monotonic()
        failed = f", {self.failed} failed" if self.failed else ""
        if self.tty:
            end = "\n" if self.done == self.total else ""
            print(
                f"\r  {self.done}/{self.total} tasks{failed}  {outcome.model}[{outcome.key}]\033[K",
                end=end,
                file=self.stream,
                flush=True,
            )
        elif now - self.last >= self.interval or self.done == self.total:
            self.last = now
            pct = 100 * self.done // max(self.total, 1)
            print(
                f"  progress: {self.done}/{self.total} tasks ({pct}%){failed}",
                file=self.stream,
                flush=True,
            )


def format_adopted(adopted, dag: DAG) -> list[str]:
    """`adopt`: what was recorded as built (per model, as a run says it), what is rebuilt by
    the next run and why, what holds no rows, and the totals."""
    result = adopted.run
    lines = [
        line
        for line in format_result(result, dag)
        if line.startswith("  ") and not line.startswith("  progress")
    ]
    width = max((len(m) for m, _ in adopted.differing), default=0)
    for model, why in adopted.differing:
        lines.append(f"  -  {model:<{width}}  not adopted: {why}")
    empty: dict[str, list[str]] = defaultdict(list)
    for model, key in adopted.empty:
        empty[model].append(key)
    for model, keys in empty.items():
        lines.append(f"  -  {model}  {_count(len(keys), 'partition')} with no rows there")
    rebuild = len(adopted.differing) + len(empty)
    lines.append(
        f"adopt {result.run_id}: {result.count('success')} adopted"
        + (
            f", {result.count('check_failed')} failing their checks"
            if result.count("check_failed")
            else ""
        )
        + (f"; `orchestrator run` builds the other {rebuild} model(s)" if rebuild else "")
    )
    return lines


def format_result(result, dag: DAG) -> list[str]:
    """The end-of-run summary: one line per model, then every failure and skip, then totals."""
    lines: list[str] = []
    by_model: dict[str, list[Outcome]] = defaultdict(list)
    for o in result.outcomes:
        by_model[o.model].append(o)
    width = max((len(m) for m in by_model), default=0)
    for model in dag.ordered(by_model):
        outcomes = by_model[model]
        ok = [
            o for o in outcomes if o.status == "success" and o.task and o.task.action != Action.SWAP
        ]
        parts = []
        partitioned = dag.models[model].partitioned
        if ok:
            windows = sorted(o.task.window for o in ok if o.task and o.task.window)
            rows = sum(o.rows or 0 for o in ok)
            built = _count(len(ok), "partition") if partitioned else "built"
            span = f" {describe(windows)}" if windows else ""
            row_text = f", {_count(rows, 'row')}" if dag.models[model].kind != "view" else ""
            parts.append(f"{built}{span}{row_text}")
        for status in PROBLEMS:
            n = sum(1 for o in outcomes if o.status == status)
            if n:
                parts.append(f"{n} {status.replace('_', ' ')}")
        warned = sum(1 for o in outcomes for r in o.checks if r.status == "warn")
        if warned:
            parts.append(f"{warned} check warning{'s' if warned != 1 else ''}")
        needs_action = any(
            o.status in ("failed", "check_failed", "timed_out", "blocked") for o in outcomes
        )
        retried = sum(o.attempts - 1 for o in outcomes)
        if retried:
            parts.append(f"{retried} retr{'y' if retried == 1 else 'ies'}")
        mark = "x" if needs_action else ("-" if not ok else "ok")
        lines.append(f"  {mark:<2} {model:<{width}}  {'; '.join(parts)}")
    lines.extend(step_lines(by_model))
    lines.extend(_problem_lines(result))
    lines.extend(_backfill_only_lines(result.plan))
    counts = [f"{result.count('success')} succeeded"]
    for status in PROBLEMS:
        if result.count(status):
            counts.append(f"{result.count(status)} {status.replace('_', ' ')}")
    if not result.outcomes and result.plan.request.backfill is not None:
        start, end = result.plan.request.backfill
        lines.append(
            f"run {result.run_id}: nothing to backfill: the selected models have no "
            f"complete partition in [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M})"
        )
    elif not result.outcomes:
        rest = "" if result.plan.backfill_only else ", everything is up to date"
        lines.append(f"run {result.run_id}: nothing to do{rest}")
    elif result.cancelled:
        lines.append(
            f"run {result.run_id} cancelled after {result.seconds:.1f}s: "
            f"{', '.join(counts)}; running tasks were rolled back "
            f"(orchestrator retry picks up the rest)"
        )
    else:
        lines.append(
            f"run {result.run_id} {result.status} in {result.seconds:.1f}s: {', '.join(counts)}"
        )
    return lines


def _problem_lines(result, limit: int = 12) -> list[str]:
    """Failures and skips, one line per model and cause, windows folded into ranges."""
    groups: dict[tuple[str, str, str], list[Outcome]] = defaultdict(list)
    for o in sorted(
        result.outcomes, key=lambda o: PROBLEMS.index(o.status) if o.status in PROBLEMS else -1
    ):
        if o.status != "success":
            groups[(o.status, o.model, essential(o.error) if o.error else o.reason)].append(o)
        for r in o.checks:
            if r.status == "warn":
                detail = f"{r.check.name}: {r.message or f'{r.failing} failing rows'}"
                groups[("check warning", o.model, detail)].append(o)
    lines = []
    for (status, model, detail), group in list(groups.items())[:limit]:
        windows = sorted(o.window for o in group if o.window)
        where = f"[{describe(windows)}]" if windows else f"[{group[0].key}]"
        lines.append(f"  {status.replace('_', ' ')}: {model}{where}: {detail}")
    if len(groups) > limit:
        lines.append(f"  ... {len(groups) - limit} more (see: orchestrator runs {result.run_id})")
    return lines


def format_table(
    columns: Sequence[str], rows: Iterable[Sequence], limit: int | None = None
) -> list[str]:
    """Rows as aligned text columns; numbers right-aligned."""
    rows = list(rows)
    shown = rows[:limit] if limit else rows
    cells = [[_cell(v) for v in row] for row in shown]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    numeric = [
        all(isinstance(r[i], int | float) or r[i] is None for r in shown) and shown != []
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        out = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=False)
        ]
        return "  ".join(out).rstrip()

    lines = [line(list(columns)), line(["-" * w for w in widths])]
    lines.extend(line(r) for r in cells)
    if limit and len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    return lines


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    text = str(value)
    return essential(text) if "\n" in text else text  # a whole error message, on one line


def _check_tally(results) -> str:
    """'3 checks on 31 partitions: all passed', '2 checks: 1 passed, 1 failed'."""
    checks_n = len({r.check.name for r in results})
    partitions = {r.key for r in results} - {WHOLE}  # a custom check may judge them as one
    scope = f" on {_count(len(partitions), 'partition')}" if partitions else ""
    words = {"pass": "passed", "fail": "failed", "warn": "warned", "error": "could not run"}
    tally = [(words[s], sum(1 for r in results if r.status == s)) for s in words]
    if all(n == 0 for word, n in tally if word != "passed"):
        verdict = "all passed" if len(results) > 1 else "passed"
    else:
        verdict = ", ".join(f"{n:,} {word}" for word, n in tally if n or word == "passed")
    return f"{_count(checks_n, 'check')}{scope}: {verdict}"


def format_check_report(report) -> list[str]:
    """`orchestrator check`: a line per model, then each failure with a sample row."""
    by_model: dict[str, list] = defaultdict(list)
    for model, result in report.results:
        by_model[model].append(result)
    if not by_model:
        return ["no checks to run (no selected model with checks is built)"]
    lines = []
    width = max(len(m) for m in by_model)
    for model, results in by_model.items():
        bad = [r for r in results if r.status != "pass"]
        verdict = "ok" if not any(r.failed and r.check.blocking for r in bad) else "x"
        lines.append(f"  {verdict:<2} {model:<{width}}  {_check_tally(results)}")
        for r in bad[:10]:
            what = r.message or f"{r.failing} failing row{'s' if r.failing != 1 else ''}"
            sample = f"  e.g. {r.sample[0]}" if r.sample else ""
            label = {"fail": "failed", "warn": "warning", "error": "error"}[r.status]
            lines.append(f"      {label}: {r.check.name} [{r.key}]: {what}{sample}")
        if len(bad) > 10:
            lines.append(
                f"      ... and {len(bad) - 10} more (orchestrator.check_results, "
                f"run {report.run_id})"
            )
    failed = sum(1 for _, r in report.results if r.failed and r.check.blocking)
    lines.append(
        f"check run {report.run_id}: {len(report.results)} results, "
        f"{failed} blocking failure{'s' if failed != 1 else ''}"
    )
    return lines


def format_ticks(reports) -> list[str]:
    """What one scheduler evaluation did, a line per tick."""
    if not reports:
        return ["schedule: nothing due"]
    lines = []
    for r in reports:
        run = f" (run {r.run_id})" if r.run_id else ""
        detail = f": {r.detail}" if r.detail else ""
        lines.append(f"  {r.job}  {r.trigger} {r.due_at:%Y-%m-%d %H:%M}  {r.outcome}{run}{detail}")
    return lines


def format_dag(dag: DAG, sources: Mapping, names: Sequence[str], fmt: str) -> str:
    """The models `names` (in order) with what each reads: as text, json or Graphviz dot."""
    if fmt == "json":
        return _dag_json(dag, sources, names)
    if fmt == "dot":
        return _dag_dot(dag, names)
    return _dag_text(dag, sources, names)


def _dag_json(dag: DAG, sources: Mapping, names: Sequence[str]) -> str:
    return json.dumps(
        {
            "models": [
                {
                    "name": n,
                    "kind": str(dag.models[n].kind),
                    "path": dag.models[n].relpath,
                    "upstream": list(dag.upstream[n]),
                    "sources": list(dag.sources[n]),
                    "files": list(dag.models[n].files),
                    "description": dag.models[n].description,
                    "column_descriptions": dict(dag.models[n].column_descriptions),
                }
                for n in names
            ],
            "sources": [
                {
                    "name": s,
                    "declared": s in sources,
                    "path": sources[s].path if s in sources else None,
                    "description": sources[s].description if s in sources else None,
                    "column_descriptions": (
                        dict(sources[s].column_descriptions) if s in sources else {}
                    ),
                }
                for s in sorted({x for n in names for x in dag.sources[n]})
            ],
        },
        indent=2,
    )


def _dag_dot(dag: DAG, names: Sequence[str]) -> str:
    lines = ["digraph orchestrator {", "  rankdir=LR;"]
    for n in names:
        lines.append(f'  "{n}" [shape=box];')
        for up in dag.upstream[n]:
            lines.append(f'  "{up}" -> "{n}";')
        for src in dag.sources[n]:
            lines.append(f'  "{src}" [shape=ellipse]; "{src}" -> "{n}";')
    lines.append("}")
    return "\n".join(lines)


def _dag_text(dag: DAG, sources: Mapping, names: Sequence[str]) -> str:
    lines = []
    for n in names:
        m = dag.models[n]
        detail = f"{m.kind}" + (f", {m.grain} by {m.partition_by}" if m.partitioned else "")
        lines.append(f"{n}  ({detail})  {m.relpath}")
        for up in dag.upstream[n]:
            lines.append(f"    <- {up}")
        for src in dag.sources[n]:
            how = (
                f"file source {sources[src].path}"
                if src in sources and sources[src].path
                else ("declared source" if src in sources else "external, not declared")
            )
            lines.append(f"    <- {src}  ({how})")
        for f in m.files:
            lines.append(f"    <- file {f}")
    external = sorted({x for n in names for x in dag.sources[n]})
    lines.append(
        f"{len(names)} models, {len(external)} external sources"
        + (f": {', '.join(external)}" if external else "")
    )
    return "\n".join(lines)


def format_sent(sent) -> str:
    """One alert message as the console tells it: where it went, or that it did not arrive,
    why, and that it is tried again (an undelivered alert is never reported as sent)."""
    again = " (sent again)" if sent.again else ""
    if sent.delivered:
        return f"alert -> {sent.routed_to}: {sent.summary}{again}"
    where = f" -> {sent.routed_to}" if sent.routed_to else ""
    retry = "; tried again on the next run while its incident is open"
    return f"alert NOT delivered{where}: {sent.summary}{again} ({sent.error}{retry})"


def format_run_header(row) -> str:
    """The line that heads `orchestrator runs N`: command, who, when, vars, and any error."""
    return (
        f"run {row.run_id}: {row.status}  `orchestrator {row.arguments or row.command}`  "
        f"by {row.who}@{row.host}  started {row.started:%Y-%m-%d %H:%M:%S}"
        + (f"  vars {row.vars}" if row.vars and row.vars != "{}" else "")
        + (f"\nerror: {row.error}" if row.error else "")
    )
