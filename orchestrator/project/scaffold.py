"""`orchestrator init`: a new project that runs as it is, written only where nothing exists yet.

It holds what a first day needs and no more: one declared source with three days of sample
files, one incremental model over it with checks and an owner, alerts to a local log, a project
default `start`, and a `.gitignore` for what the tool writes (the warehouse, its lock, the parse
cache, the alert log)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from .model import CONFIG_FILE

SAMPLE_DAYS = 3

INIT_TOML = """\
# orchestrator project settings (every key is optional)
warehouse = "warehouse.duckdb"   # the DuckDB file, relative to this folder
default_schema = "main"          # schema of models placed directly under models/
# threads = 4                    # worker threads (default: the core count)

[defaults]
start = "{start}"           # first partition of incremental models without `-- start:`

# [vars]                         # defaults for {{{{ var('name') }}}}; --var name=value overrides
# region = "eu"

# A source: files that something else writes, one per day ({{date}} is the day a file holds).
# A day's models run once its file is there; a file whose columns differ waits for a person.
[sources."raw.orders"]
path = "data/orders/orders_{{date}}.csv"
read_by_partition = true         # a day's task reads only that day's file
columns = {{ order_id = "BIGINT", order_date = "DATE", amount = "DECIMAL(18,2)" }}
owner = "analytics"
# warn_after = "26h"             # freshness: how old the newest file may be
# error_after = "48h"

# Who hears about a failure, a failed check or a blocked source: here, a local log file.
# A team adds webhook = "https://hooks.slack.com/..." (or command = "...") per owner.
[owners.default]
log = "logs/alerts.jsonl"
"""

INIT_MODEL = """\
-- kind: incremental
-- partition_by: order_date
-- owner: analytics
-- check: not_null(order_id)
-- check: unique(order_id)
-- check warn: row_count(min=1)
select order_id, order_date, amount
from raw.orders
where order_date >= {{ start }} and order_date < {{ end }}
"""

GITIGNORE = """\
# written by orchestrator: the warehouse (and its copies), its write lock, the parse cache,
# the alert log
*.duckdb
*.duckdb.wal
*.duckdb.lock
*.duckdb.tmp
.orchestrator/
logs/
"""


def scaffold(root: Path, today: date) -> list[Path]:
    """Create what is missing of a project that runs as it is; returns what it created.
    `today` dates the sample files: the last SAMPLE_DAYS complete days, so `run` builds them."""
    root.mkdir(parents=True, exist_ok=True)
    first = today - timedelta(days=SAMPLE_DAYS)
    created: list[Path] = []

    def write(relpath: str, text: str) -> None:
        path = root / relpath
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)

    fresh = not (root / CONFIG_FILE).exists()
    write(CONFIG_FILE, INIT_TOML.format(start=first.isoformat()))
    write(".gitignore", GITIGNORE)
    for folder in (root / "models", root / "checks"):
        if not folder.exists():
            folder.mkdir()
            created.append(folder)
    if fresh and not list((root / "models").rglob("*.sql")):
        write("models/staging/stg_orders.sql", INIT_MODEL)
        rng = random.Random(first.toordinal())
        for offset in range(SAMPLE_DAYS):
            day = first + timedelta(days=offset)
            rows = "".join(
                f"{day:%Y%m%d}{n:03d},{day},{rng.randint(500, 20000) / 100:.2f}\n"
                for n in range(1, 6)
            )
            write(f"data/orders/orders_{day}.csv", "order_id,order_date,amount\n" + rows)
    return created
