"""The physical limits: the same work as hand-written code straight on sqlglot and DuckDB, with
nothing of ours in the way. Each is a command so that it is measured in a fresh process, like
the orchestrator's CLI.

    python benchmarks/limits.py parse ROOT              parse + table extraction of every model
    python benchmarks/limits.py dag WAREHOUSE PLAN      CREATE TABLE AS in dependency order
    python benchmarks/limits.py loop WAREHOUSE PLAN     per-day DELETE+INSERT, a transaction each
    python benchmarks/limits.py insert WAREHOUSE PLAN   one INSERT over the whole range
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path


def parse(root: str) -> None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    found = 0
    for path in sorted(Path(root, "models").rglob("*.sql")):
        statement = sqlglot.parse_one(path.read_text(encoding="utf-8"), dialect="duckdb")
        for scope in traverse_scope(statement):
            for table in scope.tables:
                if isinstance(table.this, exp.Identifier) and table.name not in scope.cte_sources:
                    found += 1
    print(found)


def dag(warehouse: str, plan: str) -> None:
    import duckdb

    steps = json.loads(Path(plan).read_text())
    con = duckdb.connect(warehouse)
    for schema in sorted({name.split(".")[0] for name, _ in steps}):
        con.execute(f"create schema if not exists {schema}")
    for name, sql in steps:
        con.execute(f"create table {name} as {sql}")
    con.close()


def _days(spec: dict) -> list[tuple[date, date]]:
    first = date.fromisoformat(spec["first"])
    return [(first + timedelta(days=i), first + timedelta(days=i + 1)) for i in range(spec["days"])]


def _prepare(con, spec: dict) -> None:
    con.execute("create schema if not exists bench")
    for name, sql in spec["models"]:
        never = sql.format(start="date '0001-01-01'", end="date '0001-01-01'")
        con.execute(f"create or replace table {name} as {never}")


def loop(warehouse: str, plan: str) -> None:
    """What a careful hand-written backfill does: one transaction per day and model."""
    import duckdb

    spec = json.loads(Path(plan).read_text())
    con = duckdb.connect(warehouse)
    _prepare(con, spec)
    for start, end in _days(spec):
        for name, sql in spec["models"]:
            window = {"start": f"date '{start}'", "end": f"date '{end}'"}
            con.execute("begin")
            con.execute(f"delete from {name} where d >= {window['start']} and d < {window['end']}")
            con.execute(f"insert into {name} {sql.format(**window)}")
            con.execute("commit")
    con.close()


def insert(warehouse: str, plan: str) -> None:
    """The least work there is: one INSERT per model over the whole range."""
    import duckdb

    spec = json.loads(Path(plan).read_text())
    con = duckdb.connect(warehouse)
    _prepare(con, spec)
    days = _days(spec)
    window = {"start": f"date '{days[0][0]}'", "end": f"date '{days[-1][1]}'"}
    for name, sql in spec["models"]:
        con.execute(f"insert into {name} {sql.format(**window)}")
    con.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"parse": parse, "dag": dag, "loop": loop, "insert": insert}[command](*args)
