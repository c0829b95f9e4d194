"""core.transaction: how a block ends on a real DuckDB connection: committed when it ends,
rolled back when it raises, an early rollback done once, a failing rollback noted on the error."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.core.transaction import transaction


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (i INTEGER)")
    yield con
    con.close()


def rows(con) -> list[int]:
    """What another connection to the same database sees: committed rows only."""
    other = con.cursor()
    try:
        return [i for (i,) in other.execute("SELECT i FROM t ORDER BY i").fetchall()]
    finally:
        other.close()


def test_the_block_is_committed_when_it_ends(con):
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1), (2)")
        assert rows(con) == []  # not visible to others before the commit
    assert rows(con) == [1, 2]
    con.execute("BEGIN")  # no transaction left open
    con.execute("ROLLBACK")


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt()])
def test_the_block_is_rolled_back_when_it_raises_and_the_error_goes_on(con, error):
    with pytest.raises(type(error)) as raised:
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise error
    assert raised.value is error and not getattr(error, "__notes__", None)
    assert rows(con) == []
    con.execute("BEGIN")
    con.execute("ROLLBACK")


def test_a_failed_statement_aborts_the_transaction_and_nothing_of_it_stays(con):
    with pytest.raises(duckdb.Error, match="nowhere"):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("SELECT * FROM nowhere")
    assert rows(con) == []
    con.execute("INSERT INTO t VALUES (3)")  # the connection is usable again
    assert rows(con) == [3]


def test_an_early_rollback_is_done_once_and_the_end_of_the_block_adds_nothing(con):
    with transaction(con) as tx:
        con.execute("INSERT INTO t VALUES (1)")
        tx.rollback()
        tx.rollback()  # a second call does not roll back again (DuckDB would refuse it)
        assert not tx.open
        con.execute("INSERT INTO t VALUES (2)")  # outside any transaction: committed at once
    assert rows(con) == [2]


def test_an_error_after_an_early_rollback_is_raised_without_another_rollback(con):
    with pytest.raises(ValueError) as raised:
        with transaction(con) as tx:
            tx.rollback()
            raise ValueError("after")
    assert not getattr(raised.value, "__notes__", None)


def test_a_rollback_that_fails_is_noted_on_the_original_error(con):
    with pytest.raises(ValueError, match="original") as raised:
        with transaction(con):
            con.execute("ROLLBACK")  # behind its back: the closing ROLLBACK fails
            raise ValueError("original")
    (note,) = raised.value.__notes__
    assert note.startswith("(the rollback failed too: ")
    assert "no transaction is active" in note


def test_a_begin_that_fails_leaves_the_transaction_already_open_to_its_owner(con):
    # inside someone else's transaction BEGIN fails: that transaction is not ours to end
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (7)")
    with pytest.raises(duckdb.Error), transaction(con):
        pass
    con.execute("COMMIT")  # still open for its owner to end (a ROLLBACK of ours would fail this)
