"""What is built: the partitions table (the snapshot the planner reads, and publications), task
attempts, check results, freshness evaluations, the models catalog and source views."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from ..core.fingerprints import Prints
from ..core.partitions import WHOLE
from ..core.snapshot import (
    Built,
    Failure,
    Publication,
    Snapshot,
    TaskRecord,
    decode_inputs,
    decode_sources,
    decode_vars,
    encode_inputs,
    encode_sources,
)
from ..core.status import HOLDS, REJECTED, Status
from .schema import SCHEMA, append_rows

HELD = frozenset({*HOLDS, Status.CANCELLED})
"""A built partition a run last held back (or cancelled): its published build still stands."""

PUBLISHED_FAILS = "its published data fails"
"""How the error of a partition whose published data failed a blocking check starts."""


def snapshot(con) -> Snapshot:
    """Read the published builds and the existing relations in one pass each."""
    relations = {
        f"{schema}.{name}".lower(): "view" if kind == "VIEW" else "table"
        for schema, name, kind in con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }
    if f"{SCHEMA}.partitions" not in relations:
        return Snapshot(relations=MappingProxyType(relations))
    built: dict[str, dict[str, Built]] = {}
    recorded: dict[str, set[str]] = {}
    failed: dict[str, dict[str, Failure]] = {}
    held: dict[str, set[str]] = {}
    query = (
        f"SELECT p.model, p.partition_key, p.model_version, p.layout, p.built_run, p.inputs, "
        f"p.vars, p.rows, p.sources, p.status, p.last_run, p.last_attempt_at, p.tried_sources, "
        "p.error, p.data_run, "
        f"(SELECT arg_max(t.model_version, t.attempt) FROM {SCHEMA}.task_runs t "
        "WHERE t.run_id = p.last_run AND t.model = p.model "
        "AND t.partition_key = p.partition_key) "
        f"FROM {SCHEMA}.partitions p"
    )
    rows = _rows_of(con, query)
    for model, key, version, layout, run, inputs, variables, count, read, *last in rows:
        recorded.setdefault(model, set()).add(key)
        status, last_run, last_at, tried_sources, error, data_run, tried = last
        if status in REJECTED and last_run is not None:
            failed.setdefault(model, {})[key] = Failure(
                status,
                last_run,
                last_at,
                tried or "",
                decode_sources(tried_sources),
                on_published=bool(error and error.startswith(PUBLISHED_FAILS)),
            )
        if run is None:
            continue
        if status in HELD:
            held.setdefault(model, set()).add(key)
        built.setdefault(model, {})[key] = Built(
            key=key,
            version=version,
            run=run,
            layout=layout or "",
            inputs=decode_inputs(inputs),
            vars=decode_vars(variables),
            rows=count,
            sources=decode_sources(read),
            data_run=data_run if data_run != run else None,
        )
    return Snapshot(
        built=MappingProxyType(built),
        relations=MappingProxyType(relations),
        recorded=MappingProxyType({m: frozenset(k) for m, k in recorded.items()}),
        failed=MappingProxyType(failed),
        held=MappingProxyType({m: frozenset(k) for m, k in held.items()}),
    )


def _rows_of(con, query: str) -> list[tuple]:
    """The partitions' rows; a warehouse not migrated yet to the latest state schema (a read-only
    command after an upgrade: only writers migrate) has no `data_run`: each build's own run."""
    import duckdb

    try:
        return con.execute(query).fetchall()
    except duckdb.BinderException:
        return con.execute(query.replace("p.data_run", "p.built_run")).fetchall()


def replace_models(con, rows: Sequence[Sequence], now: datetime) -> None:
    """The models table mirrors the project as of the latest writing command (rewritten only
    when something in it changed)."""
    current = con.execute(
        f"SELECT * EXCLUDE (updated_at) FROM {SCHEMA}.models ORDER BY name"
    ).fetchall()

    def norm(row) -> tuple:
        return tuple(tuple(v) if isinstance(v, list) else v for v in row)

    if sorted(map(norm, current), key=repr) == sorted(map(norm, rows), key=repr):
        return
    con.execute(f"DELETE FROM {SCHEMA}.models")
    if rows:
        append_rows(con, "models", [list(r) + [now] for r in rows])


def insert_task_runs(con, records: Sequence[TaskRecord]) -> None:
    append_rows(
        con,
        "task_runs",
        [
            [
                r.run_id,
                r.task_id,
                r.model,
                r.key,
                r.start,
                r.end,
                r.attempt,
                r.status,
                r.reason,
                r.started,
                r.finished,
                r.rows,
                r.version,
                r.error,
            ]
            for r in records
        ],
    )


_PARTITION_COLUMNS = (
    "model, partition_key, partition_start, partition_end, status, model_version, layout, "
    "inputs, vars, built_run, rows, built_at, last_run, last_attempt_at, error, sources, "
    "tried_sources, data_run"
)


def publish_partitions(
    con, publications: Sequence[Publication], recorded: Mapping[str, frozenset[str]] | None = None
) -> None:
    """Within the publishing transaction: replace the partitions' rows by their new builds.
    `recorded`: the partition rows known to exist (None: unknown); a model with none of the
    published keys among them has no row to delete, which saves a statement per task."""
    by_model: dict[str, list[str]] = {}
    for p in publications:
        by_model.setdefault(p.model, []).append(p.key)
    for model, keys in by_model.items():
        if recorded is not None:
            rows = recorded.get(model, frozenset())
            if not rows or (WHOLE not in keys and rows.isdisjoint(keys)):
                continue  # no row of these partitions (a whole table: no row at all) to delete
        if WHOLE in keys:  # a whole table or view: no partition rows of an older kind remain
            con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE model = ?", [model])
        else:
            con.execute(
                f"DELETE FROM {SCHEMA}.partitions WHERE model = ? "
                "AND list_contains(?, partition_key)",
                [model, keys],
            )
    append_rows(
        con,
        "partitions",
        [
            [
                p.model,
                p.key,
                p.start,
                p.end,
                "success",
                p.version,
                p.layout,
                encode_inputs(p.inputs),
                json.dumps(dict(p.vars)),
                p.run_id,
                p.rows,
                p.built_at,
                p.run_id,
                p.built_at,
                None,
                encode_sources(p.sources),
                None,  # tried_sources: this attempt succeeded
                p.run_id if p.data_run is None else p.data_run,
            ]
            for p in publications
        ],
        _PARTITION_COLUMNS,
    )


def mark_partitions(
    con, records: Sequence[TaskRecord], tried: Mapping[str, Prints] | None = None
) -> None:
    """Attempts that published nothing (failed, skipped...): the published build stays as it was;
    only the partition's latest status changes (a partition never built gets a row saying so).
    `tried`: per partition key, what the attempt read from sources."""
    if not records:
        return
    tried = tried or {}
    lists = [
        [r.model for r in records],
        [r.key for r in records],
        [r.start for r in records],
        [r.end for r in records],
        [r.status for r in records],
        [r.run_id for r in records],
        [r.finished for r in records],
        [r.error or r.reason for r in records],
        [encode_sources(tried.get(r.key, {})) for r in records],
    ]
    attempts = (
        "SELECT unnest(?) AS model, unnest(?) AS partition_key, unnest(?) AS partition_start, "
        "unnest(?) AS partition_end, unnest(?) AS status, unnest(?) AS last_run, "
        "unnest(?) AS last_attempt_at, unnest(?) AS error, unnest(?)::JSON AS tried_sources"
    )
    con.execute(
        f"UPDATE {SCHEMA}.partitions p SET status = a.status, last_run = a.last_run, "
        f"last_attempt_at = a.last_attempt_at, error = a.error, "
        f"tried_sources = a.tried_sources FROM ({attempts}) a "
        "WHERE p.model = a.model AND p.partition_key = a.partition_key",
        lists,
    )
    con.execute(
        f"INSERT INTO {SCHEMA}.partitions (model, partition_key, partition_start, partition_end, "
        f"status, last_run, last_attempt_at, error, tried_sources) SELECT * FROM ({attempts}) a "
        "WHERE NOT EXISTS "
        f"(SELECT 1 FROM {SCHEMA}.partitions p WHERE p.model = a.model "
        "AND p.partition_key = a.partition_key)",
        lists,
    )


def forget_partitions(con, model: str) -> None:
    """A full refresh replaces the whole table: its old partition rows go with it."""
    con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE model = ?", [model])


def relations(con) -> set[str]:
    return {
        f"{schema}.{name}".lower()
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }


def source_views(con) -> dict[str, str]:
    """The statement each declared file source's view was last created with."""
    return dict(
        con.execute(
            f"SELECT substr(key, 13), value FROM {SCHEMA}.meta WHERE key LIKE 'source_view:%'"
        ).fetchall()
    )


def spark_views(con) -> dict[str, str]:
    """On Spark, the statement that made each model's view (the catalog does not outlive the
    session: the next one makes them again)."""
    return dict(
        con.execute(
            f"SELECT substr(key, 12), value FROM {SCHEMA}.meta WHERE key LIKE 'spark_view:%' "
            "ORDER BY key"
        ).fetchall()
    )


def remember_spark_view(con, name: str, statement: str) -> None:
    with con.transaction():
        forget_spark_view(con, name)
        con.execute(f"INSERT INTO {SCHEMA}.meta VALUES (?, ?)", [f"spark_view:{name}", statement])


def forget_spark_view(con, name: str) -> None:
    con.execute(f"DELETE FROM {SCHEMA}.meta WHERE key = ?", [f"spark_view:{name}"])


def remember_source_view(con, name: str, statement: str) -> None:
    con.execute(f"DELETE FROM {SCHEMA}.meta WHERE key = ?", [f"source_view:{name}"])
    con.execute(f"INSERT INTO {SCHEMA}.meta VALUES (?, ?)", [f"source_view:{name}", statement])


def insert_check_results(con, run_id: int, task_id: int, model: str, results, at: datetime) -> None:
    if not results:
        return
    append_rows(
        con,
        "check_results",
        [
            [
                run_id,
                task_id,
                model,
                r.key,
                r.check.name,
                r.check.kind,
                str(r.check.severity),
                r.status,
                r.failing,
                json.dumps(list(r.sample), default=str) if r.sample else None,
                r.message,
                at,
            ]
            for r in results
        ],
    )


def mark_published_checks(con, model: str, results, run_id: int, at: datetime) -> None:
    """Blocking checks judged on published partitions (`orchestrator check`, or a run checking
    what it did not rebuild): a partition that fails one is `check_failed` with its build
    still published (every view says so, and its readers are held back); one that passes
    every blocking check again after such a failure is a success again. A check of the whole
    model (a check file) judges every partition of it."""
    by_key: dict[str, list] = {}
    for r in results:
        if r.check.blocking:
            by_key.setdefault(r.key, []).append(r)
    failing = {k: [r for r in rs if r.failed] for k, rs in by_key.items()}
    for key, bad in failing.items():
        if bad:
            first = bad[0]
            message = (
                f"{PUBLISHED_FAILS} check {first.check.name}: "
                f"{first.failing} failing row{'s' if first.failing != 1 else ''}"
                + (f" ({first.message})" if first.message else "")
            )
            con.execute(
                f"UPDATE {SCHEMA}.partitions SET status = 'check_failed', error = ?, "
                "last_run = ?, last_attempt_at = ? "
                "WHERE model = ? AND (partition_key = ? OR ? = 'all') AND built_run IS NOT NULL",
                [message, run_id, at, model, key, key],
            )
        else:
            con.execute(
                f"UPDATE {SCHEMA}.partitions SET status = 'success', error = NULL "
                "WHERE model = ? AND (partition_key = ? OR ? = 'all') AND built_run IS NOT NULL "
                "AND status = 'check_failed' AND starts_with(error, ?)",
                [model, key, key, PUBLISHED_FAILS],
            )


def partition_statuses(con, models: Sequence[str]) -> dict[tuple[str, str], str]:
    """(model, partition key) -> the status of its latest attempt, for these models."""
    if not models:
        return {}
    return {
        (m, k): s
        for m, k, s in con.execute(
            f"SELECT model, partition_key, status FROM {SCHEMA}.partitions "
            "WHERE list_contains(?, model)",
            [list(models)],
        ).fetchall()
    }


def settle_partitions(con, keys: Sequence[tuple[str, str]]) -> None:
    """Partitions whose last attempt failed but whose published build is current (the plan
    has nothing to do for them): the failure is no longer the state, the build is."""
    if keys:
        con.execute(
            f"UPDATE {SCHEMA}.partitions SET status = 'success', error = NULL "
            "WHERE built_run IS NOT NULL AND list_contains(?, model || chr(0) || partition_key)",
            [[f"{m}\0{k}" for m, k in keys]],
        )


def partition_builds(con, models: Sequence[str]) -> dict[tuple[str, str], tuple[str, int | None]]:
    """(model, partition key) -> (its status now, the run that built what is published)."""
    if not models:
        return {}
    return {
        (m, k): (s, b)
        for m, k, s, b in con.execute(
            f"SELECT model, partition_key, status, built_run FROM {SCHEMA}.partitions "
            "WHERE list_contains(?, model)",
            [list(models)],
        ).fetchall()
    }


def recorded_models(con, *, built: bool = False) -> set[str]:
    """Every model the state has partition rows for (tried by this tool at some point);
    `built`: only those with a published partition."""
    where = " WHERE built_run IS NOT NULL" if built else ""
    query = f"SELECT DISTINCT model FROM {SCHEMA}.partitions{where}"
    return {m for (m,) in con.execute(query).fetchall()}


def forget_model(con, model: str) -> None:
    """A model removed from the project and pruned: its partitions leave the state."""
    con.execute(f"DELETE FROM {SCHEMA}.partitions WHERE model = ?", [model])


class CheckOutcome(NamedTuple):
    """The latest result of one check of a model, per partition it judged."""

    check_name: str
    partition_key: str
    status: str
    failing_rows: int | None
    sample: str | None
    message: str | None
    checked_at: datetime
    run_id: int


def latest_checks(con, model: str) -> list[CheckOutcome]:
    return [
        CheckOutcome(*row)
        for row in con.execute(
            f"SELECT check_name, partition_key, status, failing_rows, sample::VARCHAR, message, "
            f"checked_at, run_id FROM {SCHEMA}.check_results WHERE model = ? "
            "QUALIFY row_number() OVER (PARTITION BY check_name, partition_key "
            "ORDER BY run_id DESC, checked_at DESC) = 1 ORDER BY check_name, partition_key",
            [model],
        ).fetchall()
    ]


class CheckRun(NamedTuple):
    """One check of a model in one run: its worst result over the partitions it judged."""

    check_name: str
    run_id: int
    checked_at: datetime
    status: str  # error | fail | warn | pass
    partitions: int
    failing_partitions: int
    failing_rows: int


def check_history(con, model: str, runs: int = 30) -> list[CheckRun]:
    """Each check's results in its last `runs` runs, oldest first: check_results is only ever
    appended to, so a check's history outlives the build that replaced its data."""
    return [
        CheckRun(*row)
        for row in con.execute(
            f"SELECT check_name, run_id, max(checked_at), "
            "CASE WHEN bool_or(status = 'error') THEN 'error' "
            "WHEN bool_or(status = 'fail') THEN 'fail' "
            "WHEN bool_or(status = 'warn') THEN 'warn' ELSE 'pass' END, "
            "count(*), count(*) FILTER (WHERE status <> 'pass'), "
            "coalesce(sum(failing_rows) FILTER (WHERE status <> 'pass'), 0) "
            f"FROM {SCHEMA}.check_results WHERE model = ? GROUP BY check_name, run_id "
            "QUALIFY row_number() OVER (PARTITION BY check_name ORDER BY run_id DESC) <= ? "
            "ORDER BY check_name, run_id",
            [model, runs],
        ).fetchall()
    ]
