"""The same workloads as dbt projects, for a side-by-side run when dbt-duckdb is installed in a
separate environment (`run.py --peers VENV`). Nothing here is imported by the orchestrator.

A generated model becomes a dbt model of the same SQL with `{{ ref() }}` and `{{ source() }}`
in place of table names; the daily incremental models become dbt microbatch models, dbt's own
answer to backfilling partitions (`dbt run --event-time-start/--event-time-end`).
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.generate import SOURCE, Workload

PROJECT = """name: bench
version: "1.0"
profile: bench
model-paths: ["models"]
flags:
  send_anonymous_usage_stats: false
"""

PROFILE = """bench:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {warehouse}
      threads: {threads}
"""

SOURCES = """version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
        config:
          event_time: d
"""


def _refs(sql: str, models: list[str]) -> str:
    """Table names -> dbt refs (models) and sources (raw.events)."""
    names = {m: m.split(".")[1] for m in models}
    pattern = re.compile(r"\b(" + "|".join(re.escape(m) for m in [SOURCE, *models]) + r")\b")

    def swap(match: re.Match[str]) -> str:
        name = match[1]
        if name == SOURCE:
            return "{{ source('raw', 'events') }}"
        return "{{ ref('" + names[name] + "') }}"

    return pattern.sub(swap, sql)


def _skeleton(root: Path, warehouse: Path, threads: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(PROJECT, encoding="utf-8")
    (root / "profiles.yml").write_text(
        PROFILE.format(warehouse=warehouse, threads=threads), encoding="utf-8"
    )
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "sources.yml").write_text(SOURCES, encoding="utf-8")


def tables(work: Workload, root: Path, warehouse: Path, threads: int) -> Path:
    """PARSE-N and DAG-N: every model a table."""
    _skeleton(root, warehouse, threads)
    for name in work.models:
        table = name.split(".")[1]
        body = "{{ config(materialized='table') }}\n" + _refs(work.sql[name], work.models)
        (root / "models" / f"{table}.sql").write_text(body + "\n", encoding="utf-8")
    return root


def microbatch(work: Workload, root: Path, warehouse: Path, threads: int, first: str) -> Path:
    """BACKFILL: the fact and the aggregate as daily microbatch models (dbt filters each
    batch's inputs by their event_time itself, so the bodies lose their window filters)."""
    _skeleton(root, warehouse, threads)
    for name in work.models:
        table = name.split(".")[1]
        body = re.sub(r"where d >= \{start\} and d < \{end\}\n?", "", work.sql[name])
        config = (
            "{{ config(materialized='incremental', incremental_strategy='microbatch', "
            f"event_time='d', batch_size='day', begin='{first}') }}}}\n"
        )
        (root / "models" / f"{table}.sql").write_text(
            config + _refs(body, work.models) + "\n", encoding="utf-8"
        )
    return root
