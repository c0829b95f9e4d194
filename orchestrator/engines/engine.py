"""The engine boundary: what execution, state and source probes need from a warehouse, and
DuckDB, its one implementation today.

Everything above this module talks to an `Engine`: it executes the statements the SQL-text
layer built, describes a relation, quotes a name, hands a worker thread its own cursor, and
wraps a publish in `transaction()`, the construct behind our central invariant (a publish is one
transaction: the data change and the state row that records it commit together, or neither
does). A second engine (Spark) is a new class with these methods, not edits across the house.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from ..core.errors import WarehouseBusy, WarehouseError, first_line
from ..core.quoting import quote
from ..core.transaction import Transaction, transaction
from .lock import describe, read_holder


class Engine(Protocol):
    """One session on a warehouse. Not shared between threads: `cursor()` makes a thread its own."""

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> Any:
        """Run one statement; the result has fetchall(), fetchone() and description."""

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def transaction(self) -> Any:
        """A context manager: BEGIN, then COMMIT when the block ends, ROLLBACK when it raises."""

    def describe(self, query: str) -> list[tuple[str, str]]:
        """The (name, type) of each output column of `query`, binding it without running it."""

    def quote(self, identifier: str) -> str: ...

    def statement_types(self, text: str) -> list[str]: ...

    def cursor(self) -> Engine: ...

    def bind_files(self, source: str, files: list[str] | None) -> None:
        """The files a read-by-partition source means on this cursor (None: all of them)."""

    def model_sql(self, model: Any, rendered: str) -> str:
        """A model's rendered query as this engine runs it."""

    @property
    def state(self) -> Any:
        """The connection state rows go through (on DuckDB this one: they commit with the
        data in one transaction)."""

    @property
    def writes(self) -> Any:
        """The module that builds this engine's writes (`materialize`, `spark_writes`)."""

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


class DuckDB:
    """An `Engine` over one DuckDB connection (or cursor)."""

    name = "duckdb"

    def __init__(self, connection):
        self.raw = connection
        self.depth = 0  # open transaction() blocks: an inner one joins the outer

    def execute(self, statement: str, params: Sequence[Any] | None = None):
        return (
            self.raw.execute(statement, params)
            if params is not None
            else self.raw.execute(statement)
        )

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(statement, rows)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if self.depth:
            # inside a transaction already: one transaction still (the outer one ends it)
            self.depth += 1
            try:
                yield Transaction(self.raw)
            finally:
                self.depth -= 1
            return
        self.depth = 1
        try:
            with transaction(self.raw) as tx:
                yield tx
        finally:
            self.depth = 0

    def describe(self, query: str) -> list[tuple[str, str]]:
        # the newline before ')' keeps a trailing `-- comment` in the query from swallowing it
        body = query.strip().rstrip(";").rstrip()
        described = self.raw.execute(f"DESCRIBE SELECT * FROM (\n{body}\n)").fetchall()
        return [(r[0], r[1]) for r in described]

    def quote(self, identifier: str) -> str:
        return quote(identifier)

    def statement_types(self, text: str) -> list[str]:
        """The kind of each statement in `text` (`select`, `copy`, `attach` ...), unparsed
        statements raise the engine's parser error."""
        return [str(s.type).rsplit(".", 1)[-1].lower() for s in self.raw.extract_statements(text)]

    def cursor(self) -> DuckDB:
        return DuckDB(self.raw.cursor())

    def bind_files(self, source: str, files: list[str] | None) -> None:
        from ..statements.materialize import set_files

        self.raw.execute(set_files(source, files))

    def model_sql(self, model, rendered: str) -> str:
        return rendered

    @property
    def state(self) -> DuckDB:
        return self

    @property
    def writes(self):
        from ..statements import materialize

        return materialize

    def interrupt(self) -> None:
        self.raw.interrupt()

    def close(self) -> None:
        self.raw.close()


def run_step(engine: Engine, step) -> Any:
    """One step of a write: a statement (its first value, if it returns one), or a function
    of the engine, for what SQL cannot say on it (moving a table's directory on Spark)."""
    if callable(step):
        step(engine)
        return None
    row = engine.execute(step).fetchone()
    return row[0] if row and isinstance(row[0], int) else None


READER_GRACE = 10.0
"""Seconds a writer waits for readers that hold the file for a moment (a status, a query, a
dashboard's refresh): DuckDB lets no process open a file another one has open."""


def connect(path: Path, *, read_only: bool = False) -> DuckDB:
    """The warehouse at `path`. Read-only connections never create it. A writer (who holds the
    write lock already) that finds the file open in another process retries for READER_GRACE
    seconds: only readers can hold it then, and they let go soon."""
    import duckdb

    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path} yet: `orchestrator run` creates it")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (0 if read_only else READER_GRACE)
    pause = 0.05
    while True:
        try:
            return DuckDB(in_utc(duckdb.connect(str(path), read_only=read_only)))
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise unusable(path, exc) from None
            if time.monotonic() >= deadline:
                holder = read_holder(path)
                who = describe(holder) if holder else _holder(message)
                raise WarehouseBusy(
                    f"the warehouse {path} is being written by {who}; try again when it finishes"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        except duckdb.Error as exc:
            raise unusable(path, exc) from None


def memory() -> DuckDB:
    """An in-memory warehouse (none on disk yet), with the same session settings."""
    import duckdb

    return DuckDB(in_utc(duckdb.connect()))


def in_utc(con):
    """Time zone arithmetic in UTC on `con` and every cursor made from it: otherwise a
    TIMESTAMPTZ partition column is cut into windows by the machine's local zone, and the same
    run builds other partitions on another machine. SET GLOBAL reaches worker cursors, which a
    plain SET (session-local) does not."""
    import duckdb

    try:
        con.execute("SET GLOBAL TimeZone = 'UTC'")
    except duckdb.Error:
        pass  # a build without ICU has no time zones: it computes in UTC already
    return con


def unusable(path: Path, exc: BaseException) -> WarehouseError:
    return WarehouseError(f"cannot open the warehouse {path}: {first_line(exc, named=False)}")


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Around reads of the state in an opened warehouse. A truncated or corrupt file can open
    fine and fail only when a page is read: it gets the same one line as a file that does not
    open (the state is our own SQL on our own tables, so an error there is the file's)."""
    import duckdb

    try:
        yield
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise unusable(path, exc) from None


def _holder(message: str) -> str:
    # DuckDB says e.g. "... Conflicting lock is held in /usr/bin/python3 (PID 1234) by user x."
    marker = "Conflicting lock is held in"
    if marker in message:
        holder = message.split(marker, 1)[1].split("See also")[0].strip().rstrip(".")
        return f"lock held by {holder}"
    return first_line(Exception(message), named=False)
