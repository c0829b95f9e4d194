"""`environments` and `model_versions`: which environments exist, what each builds, and the SQL
of every model version a run built (what a diff compares production's SQL with).

An environment's own rows in `partitions`, `task_runs`, `check_results` and `run_plans` name its
copies (`staging__pr_1.stg_orders`), and `runs.env` says which environment a run built, so
production's rows are never touched by work in an environment."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from .schema import SCHEMA, append_rows


class EnvironmentRow(NamedTuple):
    name: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    models: dict[str, str]  # production model -> its copy
    reasons: dict[str, str]  # production model -> why it is copied


def save_environment(
    con, name: str, who: str, at: datetime, copies: Mapping[str, str], reasons: Mapping[str, str]
) -> None:
    """Create or update an environment's row (what it builds now, who last built it)."""
    models, why = (
        json.dumps(dict(sorted(copies.items()))),
        json.dumps(dict(sorted(reasons.items()))),
    )
    found = con.execute(f"SELECT 1 FROM {SCHEMA}.environments WHERE name = ?", [name]).fetchone()
    if found:
        con.execute(
            f"UPDATE {SCHEMA}.environments SET updated_at = ?, updated_by = ?, models = ?, "
            "reasons = ? WHERE name = ?",
            [at, who, models, why, name],
        )
    else:
        con.execute(
            f"INSERT INTO {SCHEMA}.environments VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, at, who, at, who, models, why],
        )


def environments(con) -> list[EnvironmentRow]:
    """Every environment (none in a warehouse whose state predates them: only writers
    migrate it)."""
    import duckdb

    try:
        rows = con.execute(
            f"SELECT name, created_at, created_by, updated_at, updated_by, models, reasons "
            f"FROM {SCHEMA}.environments ORDER BY name"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [
        EnvironmentRow(*row[:5], json.loads(row[5] or "{}"), json.loads(row[6] or "{}"))
        for row in rows
    ]


def environment(con, name: str) -> EnvironmentRow | None:
    return next((row for row in environments(con) if row.name == name), None)


def forget_environment(con, name: str, schemas: list[str]) -> int:
    """Delete an environment's row and the partition rows of its copies (the models in
    `schemas`). Its runs, their attempts, plans and check results stay: history, which
    production's rows may point at (a promoted build). Returns how many partition rows went."""
    where = "list_contains(?, split_part(model, '.', 1))"
    gone = con.execute(f"SELECT count(*) FROM {SCHEMA}.partitions WHERE {where}", [schemas])
    count = gone.fetchone()[0]
    con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE {where}", [schemas])
    con.execute(f"DELETE FROM {SCHEMA}.environments WHERE name = ?", [name])
    return count


def remember_versions(con, rows: Iterable[tuple[str, str, str]], at: datetime) -> None:
    """Record (model, version, SQL template) for the versions not recorded yet."""
    rows = list(rows)
    if not rows:
        return
    known = set(
        con.execute(
            f"SELECT model, version FROM {SCHEMA}.model_versions WHERE list_contains(?, model)",
            [sorted({r[0] for r in rows})],
        ).fetchall()
    )
    new = [[m, v, t, at] for m, v, t in rows if (m, v) not in known]
    append_rows(con, "model_versions", new, "model, version, template, recorded_at")


def version_template(con, model: str, version: str) -> str | None:
    """The SQL a version of a model was built from, when a run recorded it (never, in a
    warehouse whose state predates the record)."""
    import duckdb

    try:
        row = con.execute(
            f"SELECT template FROM {SCHEMA}.model_versions WHERE model = ? AND version = ? LIMIT 1",
            [model, version],
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def promote_rows(con, homes: Mapping[str, str], kept: Iterable[str] = ()) -> int:
    """Within the promoting transaction: production's partition rows of each model become its
    copy's (copy name -> production name in `homes`), the inputs they record named as in
    production, and the copies' check results are recorded for production too. The models in
    `kept` changed without breaking their readers: each partition keeps the data run
    production's readers recorded. Returns the partition rows written."""
    copies = sorted(homes)
    read_runs = dict(
        ((m, k), r)
        for m, k, r in con.execute(
            f"SELECT model, partition_key, coalesce(data_run, built_run) FROM {SCHEMA}.partitions "
            "WHERE list_contains(?, model) AND built_run IS NOT NULL",
            [sorted(set(kept))],
        ).fetchall()
    )
    con.execute(
        f"DELETE FROM {SCHEMA}.partitions WHERE list_contains(?, model)", [sorted(homes.values())]
    )
    cursor = con.execute(
        f"SELECT * FROM {SCHEMA}.partitions WHERE list_contains(?, model) "
        "ORDER BY model, partition_key",
        [copies],
    )
    columns = [d[0] for d in cursor.description]
    at_model, at_inputs = columns.index("model"), columns.index("inputs")
    at_key, at_data = columns.index("partition_key"), columns.index("data_run")
    rows = []
    for row in cursor.fetchall():
        row = list(row)
        row[at_model] = homes[row[at_model]]
        kept_run = read_runs.get((row[at_model], row[at_key]))
        if kept_run is not None:
            row[at_data] = kept_run
        inputs = json.loads(row[at_inputs]) if row[at_inputs] else []
        for item in inputs:
            item["model"] = homes.get(item["model"], item["model"])
        row[at_inputs] = json.dumps(sorted(inputs, key=lambda i: i["model"]))
        rows.append(row)
    append_rows(con, "partitions", rows, ", ".join(columns))
    for copy, home in homes.items():
        con.execute(
            f"INSERT INTO {SCHEMA}.check_results SELECT * REPLACE (? AS model) "
            f"FROM {SCHEMA}.check_results WHERE model = ?",
            [home, copy],
        )
    return len(rows)
