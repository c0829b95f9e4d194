"""The one transaction construct: BEGIN, then COMMIT when the block ends, ROLLBACK when it
raises. Every transaction the tool opens goes through it (the engines' `transaction()`, the
journal's rebuild, the readers' copy), so how a block ends is decided in one place.

DuckDB runs each statement of a multi-statement string in its own transaction, so the boundary
is explicit; an error inside leaves DuckDB's transaction aborted, hence the ROLLBACK.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import first_line


class Transaction:
    """One open transaction on a connection, so that an early rollback is not done twice."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.open = True

    def rollback(self) -> None:
        """End the transaction now; leaving the block then commits or rolls back nothing."""
        if self.open:
            self.open = False
            self.connection.execute("ROLLBACK")


@contextmanager
def transaction(connection: Any) -> Iterator[Transaction]:
    """A transaction on `connection` (anything with `execute(statement)`) for the block."""
    tx = Transaction(connection)
    tx.open = False  # until BEGIN succeeds: a failed BEGIN (one is open already) is not ours
    try:
        # BEGIN inside the try: a signal between it and the block still rolls back
        connection.execute("BEGIN")
        tx.open = True
        yield tx
    except BaseException as exc:
        if tx.open:
            tx.open = False
            try:
                connection.execute("ROLLBACK")
            except Exception as rollback_error:  # the original error is the one to report
                exc.add_note(f"(the rollback failed too: {first_line(rollback_error)})")
        raise
    if tx.open:
        tx.open = False
        connection.execute("COMMIT")
