"""Running a Plan: workers in dependency order, retries, timeouts, cancellation,
skip-on-failure, one transaction per publish.

Each task renders its SQL, then in one transaction writes the data, audits it, checks it, and
records the state row that describes it; any error rolls the whole task back, so the warehouse
holds the data from before the task or after it, never between (a killed process loses only
uncommitted transactions). A transient error (I/O, a lock, a transaction conflict) is retried
with exponential backoff and jitter, a bounded number of times; every attempt is a row. A task
that runs past its timeout is interrupted and recorded `timed_out`. A failed task marks
everything downstream of it `skipped`; the independent rest goes on. Cancelling (SIGINT/SIGTERM)
interrupts the running tasks, rolls them back and records them and the unstarted ones as
`cancelled`.

| module | owns |
|---|---|
| `values` | Options, Outcome, Reporter, Policy, and what a run's tasks share |
| `loop` | `execute`: graphlib's prepare/get_ready/done, worker threads, skips, cancel |
| `attempt` | one task, attempt after attempt: retries, timeout, cancellation |
| `publish` | the one transaction: write, audit, record |
| `audit` | checks on the new data (blocking) and on the published data (warnings) |
| `columns` | how an incremental table follows its query's columns (planning and publish) |
| `records` | the rows of attempts that published nothing |
| `commands` | one attempt of a step's command: its own process group, timeout, cancel, log |

Imports: core, sql, project, plan, statements, state, engines (never sources: what they hold
reaches a run as values).
"""

from .audit import evaluate_checks
from .columns import refuse_changed_types, refuse_unbound
from .loop import execute
from .values import Options, Outcome, Policy, Reporter, utcnow

__all__ = [
    "Options",
    "Outcome",
    "Policy",
    "Reporter",
    "evaluate_checks",
    "execute",
    "refuse_changed_types",
    "refuse_unbound",
    "utcnow",
]
