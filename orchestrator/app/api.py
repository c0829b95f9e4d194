"""The operations the faces (CLI, UI) call, one table of them: each is a short composition
of the application modules, kept in the module of its concern:

| module | operations |
|---|---|
| `building` | `plan`, `run` (also `backfill` and `retry`), `adopt` |
| `published` | `check_published`: the checks on what is published, and their alerts |
| `queries` | `query`, `status`, `list_runs`, `show_run`, `dag_order`, `compile_model` |
| `maintenance` | `init_project`, `prune`, `source_freshness`, `verify_engines` |

Each operation owns the warehouse connection for its duration.
"""

from __future__ import annotations

from .building import AdoptResult, RunResult, adopt, plan, run
from .maintenance import (
    init_project,
    init_warehouse,
    prune,
    removed_models,
    source_freshness,
    verify_engines,
)
from .published import CheckReport, check_published
from .queries import (
    check_spark_sql,
    compile_model,
    dag_order,
    list_runs,
    query,
    query_spark,
    show_run,
    status,
)

__all__ = [
    "AdoptResult",
    "CheckReport",
    "RunResult",
    "adopt",
    "check_published",
    "check_spark_sql",
    "compile_model",
    "dag_order",
    "init_project",
    "init_warehouse",
    "list_runs",
    "plan",
    "prune",
    "query",
    "query_spark",
    "removed_models",
    "run",
    "show_run",
    "source_freshness",
    "status",
    "verify_engines",
]
