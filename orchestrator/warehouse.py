"""Opening the warehouse file, with errors a user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import WarehouseError


def connect(path: Path, *, read_only: bool = False):
    """A DuckDB connection to the warehouse at `path`. Read-only connections never create it."""
    import duckdb

    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path} yet: `orchestrator run` creates it")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            from .lock import WarehouseBusy, describe, read_holder

            holder = read_holder(path)
            who = describe(holder) if holder else _holder(message)
            raise WarehouseBusy(
                f"the warehouse {path} is being written by {who}; try again when it finishes"
            ) from None
        raise unusable(path, exc) from None
    except duckdb.Error as exc:
        raise unusable(path, exc) from None
    return in_utc(con)


def memory():
    """An in-memory DuckDB connection (no warehouse yet), with the same session settings."""
    import duckdb

    return in_utc(duckdb.connect())


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
    return WarehouseError(f"cannot open the warehouse {path}: {_first(str(exc))}")


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


def _first(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[0] if lines else message


def _holder(message: str) -> str:
    # DuckDB says e.g. "... Conflicting lock is held in /usr/bin/python3 (PID 1234) by user x."
    marker = "Conflicting lock is held in"
    if marker in message:
        holder = message.split(marker, 1)[1].split("See also")[0].strip().rstrip(".")
        return f"lock held by {holder}"
    return _first(message)
