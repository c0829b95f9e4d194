"""The state on an engine without transactions (Spark): an append-only journal in the warehouse,
mirrored by a DuckDB file that the tool queries.

The journal is the truth. Each state table `T` is a directory `<warehouse_dir>/orchestrator/T/`
of Parquet files, one per committed change, each holding the rows put and the rows deleted:
the table's columns plus `_seq` (the commit's number), `_op` ('put' or 'del') and `_row` (the
row's identity: a hash of its content and its occurrence among equal rows). A file is written
under a hidden name and renamed into place, so it appears whole or not at all. The table is
the latest `_op` per `_row` where that is a 'put': Spark reads it as the view `orchestrator.T`
(`spark_engine`), DuckDB as `current_sql`.

The DuckDB file (the control connection) holds the same tables for every query the tool makes.
A state transaction, run under one lock, computes what it changed (its tables against their
last journaled image), writes the journal file, then commits with `journal_seq` raised: a
crash before the rename leaves neither; after it, the next open finds the journal ahead of
the file and rebuilds the file's tables from the journal. Data is published before the state
that records it, so a publish cut short has no record and is planned again (each publish is
idempotent).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core import crashpoints
from ..core.transaction import transaction
from ..state.schema import SCHEMA
from .engine import DuckDB
from .engine import connect as duckdb_connect

IMAGE = "orchestrator_journal"
"""The schema (in the DuckDB file) holding each table as it was last journaled."""

SEQ_KEY = "journal_seq"
COMPACT_AFTER = 200
"""Files per table before the journal is compacted into one."""

_NAMED = re.compile(rf"\b{SCHEMA}\.(\w+)", re.IGNORECASE)
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Journal:
    """Where the journal lives, and the lock every state transaction holds while it commits."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.lock = threading.RLock()


class Journaled(DuckDB):
    """The control connection: DuckDB, with each state transaction also journaled."""

    def __init__(self, connection, journal: Journal):
        super().__init__(connection)
        self.journal = journal
        self.touched: set[str] = set()

    def cursor(self) -> Journaled:
        return Journaled(self.raw.cursor(), self.journal)

    def execute(self, statement: str, params=None):
        if not _WRITES.match(statement):
            return super().execute(statement, params)
        tables = {t.lower() for t in _NAMED.findall(statement)}
        if self.depth or not tables:
            self.touched |= tables
            return super().execute(statement, params)
        with self.transaction():  # a write on its own: a transaction of its own
            self.touched |= tables
            return super().execute(statement, params)

    @contextmanager
    def transaction(self) -> Iterator:
        if self.depth:
            with super().transaction() as tx:
                yield tx
            return
        with self.journal.lock:
            self.touched = set()
            with super().transaction() as tx:
                yield tx
                if tx.open and self.touched:
                    _flush(self, sorted(self.touched))
            self.touched = set()


def connect(path: Path, directory: Path) -> Journaled:
    """The control connection for the state journaled under `directory`; the DuckDB file is
    brought level with the journal first (rebuilt from it when it is behind or missing)."""
    from ..state import schema

    journal = Journal(directory)
    con = Journaled(duckdb_connect(path).raw, journal)
    con.raw.execute(f"CREATE SCHEMA IF NOT EXISTS {IMAGE}")
    con.raw.execute(f"CREATE TABLE IF NOT EXISTS {IMAGE}.{SEQ_KEY} (value BIGINT)")
    schema.ensure(DuckDB(con.raw))  # the tables' shape is no change to journal
    _image_schema(con)
    latest = last_seq(directory)
    if latest > _seq(con):
        rebuild(con, latest)
    return con


def last_seq(directory: Path) -> int:
    """The number of the newest journal file (0: none yet)."""
    if not directory.is_dir():
        return 0
    best = 0
    for table in directory.iterdir():
        for file in table.glob("*.parquet") if table.is_dir() else ():
            best = max(best, int(file.name.split("-", 1)[0]))
    return best


def _seq(con: DuckDB) -> int:
    row = con.raw.execute(f"SELECT max(value) FROM {IMAGE}.{SEQ_KEY}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _set_seq(con: DuckDB, seq: int) -> None:
    con.raw.execute(f"DELETE FROM {IMAGE}.{SEQ_KEY}")
    con.raw.execute(f"INSERT INTO {IMAGE}.{SEQ_KEY} VALUES (?)", [seq])


def _tables(con: DuckDB) -> list[str]:
    return [
        r[0]
        for r in con.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_type = 'BASE TABLE' ORDER BY table_name",
            [SCHEMA],
        ).fetchall()
    ]


def _image_schema(con: DuckDB) -> None:
    con.raw.execute(f"CREATE SCHEMA IF NOT EXISTS {IMAGE}")
    con.raw.execute(f"CREATE TABLE IF NOT EXISTS {IMAGE}.{SEQ_KEY} (value BIGINT)")
    for table in _tables(con):
        con.raw.execute(
            f"CREATE TABLE IF NOT EXISTS {IMAGE}.{table} AS SELECT * FROM {SCHEMA}.{table} LIMIT 0"
        )


def _identified(relation: str) -> str:
    """The rows of `relation` with their identity: the content's hash and its occurrence."""
    return (
        f"SELECT *, md5(CAST(to_json(r) AS VARCHAR)) || '#' || "
        f"row_number() OVER (PARTITION BY md5(CAST(to_json(r) AS VARCHAR))) AS _row "
        f"FROM {relation} r"
    )


def _flush(con: Journaled, tables: list[str]) -> None:
    """Inside the open transaction, under the journal's lock: write what it changed in
    `tables` as the next journal file of each, then raise journal_seq (the commit follows)."""
    seq = max(_seq(con), last_seq(con.journal.directory)) + 1
    wrote = False
    for table in tables:
        current, image = f"{SCHEMA}.{table}", f"{IMAGE}.{table}"
        con.raw.execute(f"CREATE TABLE IF NOT EXISTS {image} AS SELECT * FROM {current} LIMIT 0")
        changes = (
            f"SELECT * EXCLUDE (_row), {seq}::BIGINT AS _seq, 'put' AS _op, _row FROM "
            f"({_identified(current)}) WHERE _row NOT IN (SELECT _row FROM ({_identified(image)})) "
            f"UNION ALL BY NAME "
            f"SELECT * EXCLUDE (_row), {seq}::BIGINT AS _seq, 'del' AS _op, _row FROM "
            f"({_identified(image)}) WHERE _row NOT IN (SELECT _row FROM ({_identified(current)}))"
        )
        count = con.raw.execute(f"SELECT count(*) FROM ({changes})").fetchone()[0]
        if not count:
            continue
        _write_file(con, table, seq, changes)
        con.raw.execute(f"DELETE FROM {image}")
        con.raw.execute(f"INSERT INTO {image} SELECT * FROM {current}")
        wrote = True
    if wrote:
        _set_seq(con, seq)


def _write_file(con: DuckDB, table: str, seq: int, query: str) -> None:
    """One journal file, whole or not at all: written under a hidden name, then renamed."""
    place = con.journal.directory / table
    place.mkdir(parents=True, exist_ok=True)
    final = place / f"{seq:012d}-{os.getpid()}.parquet"
    hidden = place / f".{final.name}.tmp"
    crashpoints.moment()
    con.raw.execute(f"COPY ({query}) TO '{_path(hidden)}' (FORMAT parquet)")
    crashpoints.moment()
    os.replace(hidden, final)
    crashpoints.moment()


def _path(path: Path) -> str:
    return str(path).replace("'", "''")


def current_sql(directory: Path, table: str) -> str:
    """The table as the journal holds it: the latest op per row identity, if a 'put'."""
    files = _path(directory / table / "*.parquet")
    return (
        f"SELECT * EXCLUDE (_seq, _op, _row, _latest) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY _row ORDER BY _seq DESC) AS _latest FROM "
        f"read_parquet('{files}', union_by_name = true)) WHERE _latest = 1 AND _op = 'put'"
    )


def spark_current_sql(log: str) -> str:
    """`current_sql` in Spark SQL, over `log`, the journal directory read as a table."""
    return (
        f"SELECT * EXCEPT (_seq, _op, _row, _latest) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY _row ORDER BY _seq DESC) AS _latest FROM {log}) "
        f"WHERE _latest = 1 AND _op = 'put'"
    )


def rebuild(con: DuckDB, latest: int) -> None:
    """Make the DuckDB file's state tables (and their images) what the journal holds."""
    directory = con.journal.directory
    with con.journal.lock, transaction(con.raw):
        for table in _tables(con):
            con.raw.execute(f"DELETE FROM {SCHEMA}.{table}")
            con.raw.execute(f"DELETE FROM {IMAGE}.{table}")
            if not any((directory / table).glob("*.parquet")):
                continue
            columns = [
                r[0] for r in con.raw.execute(f"SELECT * FROM {SCHEMA}.{table} LIMIT 0").description
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            found = con.raw.execute(
                f"SELECT * FROM ({current_sql(directory, table)}) LIMIT 0"
            ).description
            have = {d[0] for d in found}
            chosen = ", ".join(f'"{c}"' if c in have else "NULL" for c in columns)
            con.raw.execute(
                f"INSERT INTO {SCHEMA}.{table} ({listed}) "
                f"SELECT {chosen} FROM ({current_sql(directory, table)})"
            )
            con.raw.execute(f"INSERT INTO {IMAGE}.{table} SELECT * FROM {SCHEMA}.{table}")
        _set_seq(con, latest)


def compact(con: Journaled) -> None:
    """A table whose journal holds many files gets one file with its whole content instead
    (written first; the older files are removed after: reading either way gives the same)."""
    directory = con.journal.directory
    with con.journal.lock:
        for table in _tables(con):
            files = sorted((directory / table).glob("*.parquet")) if directory.is_dir() else []
            if len(files) <= COMPACT_AFTER:
                continue
            seq = max(_seq(con), last_seq(directory)) + 1
            whole = (
                f"SELECT * EXCLUDE (_row), {seq}::BIGINT AS _seq, 'put' AS _op, _row "
                f"FROM ({_identified(f'{SCHEMA}.{table}')})"
            )
            _write_file(con, table, seq, whole)
            for file in files:
                file.unlink(missing_ok=True)
            _set_seq(con, seq)
