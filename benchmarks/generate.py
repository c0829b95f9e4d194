"""Seeded generators of synthetic projects, each with the same work expressed as the plain
statements a hand-written script would send to DuckDB (the physical limit we measure against).

Every generator writes a project folder (models/, orchestrator.toml) and returns a Workload:
the statements of the limit, in an order that respects the dependencies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

SOURCE = "raw.events"


@dataclass
class Workload:
    root: Path
    models: list[str] = field(default_factory=list)  # in dependency order
    sql: dict[str, str] = field(default_factory=dict)  # model -> its SELECT (no header)


def _write(root: Path, name: str, header: str, body: str) -> None:
    schema, table = name.split(".")
    path = root / "models" / schema / f"{table}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + body + "\n", encoding="utf-8")


def _shapes(rng: random.Random, me: str, parents: list[str]) -> str:
    """One model body reading `parents`: a filter, an aggregate, a join over CTEs or a union.
    Every model has the columns (id, grp, amount), so any model can read any other."""
    a = parents[0]
    b = parents[1] if len(parents) > 1 else parents[0]
    c = parents[2] if len(parents) > 2 else b
    k = rng.randint(0, 9)
    if len(parents) == 1:
        if rng.random() < 0.5:
            return (
                f"select id, grp, amount * 1.01 as amount\nfrom {a}\n"
                f"where amount > {k} and grp % 10 <> {k}"
            )
        return (
            f"select min(id) as id, grp, sum(amount) / count(*) as amount\nfrom {a}\n"
            f"where id % 7 <> {k % 7}\ngroup by grp"
        )
    if len(parents) == 2 and rng.random() < 0.4:
        return (
            f"select id, grp, amount from {a} where id % 2 = 0\n"
            f"union all\nselect id, grp, amount from {b} where id % 2 = 1"
        )
    return (
        f"with base as (\n    select id, grp, amount from {a} where grp % 3 <> {k % 3}\n),\n"
        f"stats as (\n    select grp, avg(amount) as avg_amount, count(*) as n\n"
        f"    from {b}\n    group by grp\n),\n"
        f"extra as (\n    select grp, max(amount) as top from {c} group by grp\n)\n"
        f"select base.id, base.grp, base.amount - stats.avg_amount + coalesce(extra.top, 0) / 100"
        f" as amount\nfrom base\njoin stats on stats.grp = base.grp\n"
        f"left join extra on extra.grp = base.grp\nwhere stats.n > 0"
    )


def layered(root: Path, n: int, *, layers: int = 10, seed: int = 7) -> Workload:
    """PARSE-N and DAG-N: `n` table models in `layers` layers; each reads 1-3 models of
    earlier layers (the first layer reads the source) with filters, aggregates, joins, CTEs."""
    rng = random.Random(seed)
    work = Workload(root)
    per_layer = max(1, n // layers)
    built: list[str] = []
    for i in range(n):
        layer = min(i // per_layer, layers - 1)
        name = f"l{layer}.m{i:05d}"
        earlier = [m for m in built if int(m.split(".")[0][1:]) < layer]
        if not earlier:
            parents = [SOURCE]
        else:
            parents = rng.sample(earlier, k=min(len(earlier), rng.randint(1, 3)))
        body = _shapes(rng, name, parents)
        _write(root, name, "", body)
        work.models.append(name)
        work.sql[name] = body
        built.append(name)
    (root / "orchestrator.toml").write_text('warehouse = "warehouse.duckdb"\n', encoding="utf-8")
    return work


def source_sql(rows: int, days: int, first: date) -> list[str]:
    """The raw.events table: `rows` rows spread evenly over `days` days from `first`."""
    return [
        "create schema if not exists raw",
        f"""create or replace table raw.events as
        select i::bigint as id,
               (i % 97)::integer as grp,
               ((i * 7919) % 10000) / 100.0 as amount,
               (i % 1000)::integer as user_id,
               date '{first}' + (i * {days} // {rows})::integer as d
        from range({rows}) t(i)""",
    ]


FACT = """select id, user_id, grp, amount, d
from raw.events
where d >= {start} and d < {end}"""

DAILY = """select d, user_id, count(*) as orders, sum(amount) as amount
from bench.fct_events
where d >= {start} and d < {end}
group by d, user_id"""


def backfill(
    root: Path, days: int, *, first: date = date(2025, 1, 1), batch_size: int | None = None
) -> Workload:
    """BACKFILL: a daily incremental fact over the source and a daily incremental aggregate
    over the fact, each `days` partitions long."""
    end = first + timedelta(days=days)
    header = (
        f"-- kind: incremental\n-- partition_by: d\n-- grain: day\n"
        f"-- start: {first}\n-- end: {end}\n"
    )
    if batch_size:
        header += f"-- batch_size: {batch_size}\n"
    work = Workload(root)
    for name, body in (("bench.fct_events", FACT), ("bench.daily_revenue", DAILY)):
        _write(root, name, header, body.format(start="{{ start }}", end="{{ end }}"))
        work.models.append(name)
        work.sql[name] = body
    (root / "orchestrator.toml").write_text('warehouse = "warehouse.duckdb"\n', encoding="utf-8")
    return work


def one_model(root: Path) -> Workload:
    """Start-up: the smallest project there is."""
    work = Workload(root)
    _write(root, "main.one", "", "select 1 as x")
    work.models.append("main.one")
    work.sql["main.one"] = "select 1 as x"
    return work


def daily_files(
    root: Path, days: int, rows: int, *, immutable: bool, first: date = date(2025, 1, 1)
) -> Workload:
    """A declared file source of one CSV per day (`rows` rows each), read by partition by an
    incremental model: what fingerprinting the files a build read costs, against a source
    declared `immutable` (never fingerprinted)."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    for i in range(days):
        day = first + timedelta(days=i)
        lines = "".join(f"{n},{day},{rng.randint(1, 99999) / 100}\n" for n in range(rows))
        (root / "data" / f"orders_{day}.csv").write_text("id,day,amount\n" + lines)
    (root / "orchestrator.toml").write_text(
        '[sources."raw.orders"]\n'
        'path = "data/orders_{date}.csv"\n'
        "read_by_partition = true\n"
        f"immutable = {str(immutable).lower()}\n",
        encoding="utf-8",
    )
    body = (
        "select id, day::date as day, amount from raw.orders\n"
        "where day >= {{ start }} and day < {{ end }}"
    )
    _write(root, "bench.orders", "-- kind: incremental\n-- partition_by: day\n", body)
    return Workload(root, ["bench.orders"], {"bench.orders": body})


def layered_daily(root: Path, n: int, days: int, first: date, *, layers: int = 10, seed: int = 7):
    """UI-N: `n` daily incremental models over `days` days, in `layers` layers like DAG-N, each
    built in one batch (`batch_size`), so a run leaves `n * days` partitions in the state. Every
    model has (id, grp, amount, d); owners and tags vary so the UI's filters have work."""
    rng = random.Random(seed)
    per_layer = max(1, n // layers)
    built: list[str] = []
    end = first + timedelta(days=days)
    for i in range(n):
        layer = min(i // per_layer, layers - 1)
        name = f"l{layer}.m{i:05d}"
        earlier = [m for m in built if int(m.split(".")[0][1:]) < layer]
        parents = [SOURCE] if not earlier else rng.sample(earlier, k=min(len(earlier), 2))
        window = "d >= {{ start }} and d < {{ end }}"
        if len(parents) == 1:
            body = (
                f"select id, grp, amount * 1.01 as amount, d from {parents[0]}\n"
                f"where {window} and grp % 10 <> {rng.randint(0, 9)}"
            )
        else:
            body = (
                f"select id, grp, amount, d from {parents[0]} where {window} and id % 2 = 0\n"
                f"union all\n"
                f"select id, grp, amount, d from {parents[1]} where {window} and id % 2 = 1"
            )
        header = (
            f"-- kind: incremental\n-- partition_by: d\n-- start: {first}\n-- end: {end}\n"
            f"-- batch_size: {days}\n-- owner: team{i % 7}\n-- tags: layer{layer}\n"
        )
        _write(root, name, header, body)
        built.append(name)
    (root / "orchestrator.toml").write_text('warehouse = "warehouse.duckdb"\n', encoding="utf-8")
    return built


HOURLY = """select h as ts, 1 as n
from generate_series({{ start }}, {{ end }} - interval 1 hour, interval 1 hour) t(h)"""


def hourly(root: Path, hours: int, end: datetime) -> str:
    """UI-HOURLY: one hourly model with `hours` partitions up to `end`, built in batches."""
    start = end - timedelta(hours=hours)
    header = (
        f"-- kind: incremental\n-- partition_by: ts\n-- grain: hour\n"
        f"-- start: {start:%Y-%m-%dT%H}\n-- end: {end:%Y-%m-%dT%H}\n-- batch_size: 10000\n"
    )
    _write(root, "hourly.events", header, HOURLY)
    (root / "orchestrator.toml").write_text('warehouse = "warehouse.duckdb"\n', encoding="utf-8")
    return "hourly.events"
