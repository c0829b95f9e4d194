"""The state journal of engines without transactions, tested on DuckDB alone: each state
transaction that changes a table writes one Parquet file, a rolled-back one writes none, the
DuckDB file is rebuilt from the journal when it is behind, and compaction keeps the content."""

from __future__ import annotations

import shutil

import duckdb

from orchestrator.engines import journal


def _files(directory, table="meta") -> list[str]:
    return sorted(p.name for p in (directory / table).glob("*.parquet"))


def _journaled(directory, table="meta") -> list[tuple]:
    con = duckdb.connect()
    try:
        return sorted(con.execute(journal.current_sql(directory, table)).fetchall())
    finally:
        con.close()


def _meta(con) -> list[tuple]:
    return sorted(con.execute("select * from orchestrator.meta").fetchall())


def test_each_committed_change_is_one_journal_file_and_the_journal_reads_as_the_table(tmp_path):
    log = tmp_path / "log"
    con = journal.connect(tmp_path / "state.duckdb", log)
    con.execute("INSERT INTO orchestrator.meta VALUES ('a', '1'), ('b', '2')")
    assert journal.last_seq(log) == 1 and len(_files(log)) == 1
    with con.transaction():  # several statements, one change: one file
        con.execute("UPDATE orchestrator.meta SET value = '3' WHERE key = 'a'")
        con.execute("DELETE FROM orchestrator.meta WHERE key = 'b'")
    assert journal.last_seq(log) == 2 and len(_files(log)) == 2
    assert _files(log)[1].startswith("000000000002-")
    assert _journaled(log) == _meta(con)
    assert ("a", "3") in _meta(con) and not any(k == "b" for k, _ in _meta(con))
    con.close()


def test_a_rolled_back_transaction_and_a_read_write_nothing(tmp_path):
    log = tmp_path / "log"
    con = journal.connect(tmp_path / "state.duckdb", log)
    con.execute("INSERT INTO orchestrator.meta VALUES ('a', '1')")
    try:
        with con.transaction():
            con.execute("INSERT INTO orchestrator.meta VALUES ('b', '2')")
            raise RuntimeError("cut short")
    except RuntimeError:
        pass
    con.execute("SELECT * FROM orchestrator.meta")
    con.execute("CREATE TABLE main.other (x INT)")
    con.execute("INSERT INTO main.other VALUES (1)")  # not a state table: not journaled
    assert journal.last_seq(log) == 1
    assert not any(k == "b" for k, _ in _journaled(log))
    con.close()


def test_equal_rows_are_kept_apart_by_their_occurrence(tmp_path):
    log = tmp_path / "log"
    con = journal.connect(tmp_path / "state.duckdb", log)
    con.execute("INSERT INTO orchestrator.meta VALUES ('x', '1'), ('x', '1')")
    assert _journaled(log).count(("x", "1")) == 2
    con.close()


def test_a_file_behind_the_journal_is_rebuilt_from_it_when_it_opens(tmp_path):
    log, path = tmp_path / "log", tmp_path / "state.duckdb"
    con = journal.connect(path, log)
    con.execute("INSERT INTO orchestrator.meta VALUES ('a', '1')")
    con.close()
    shutil.copy(path, tmp_path / "behind.duckdb")
    con = journal.connect(path, log)
    con.execute("INSERT INTO orchestrator.meta VALUES ('b', '2')")
    expected = _meta(con)
    con.close()
    # the file as it was one commit ago (a crash after the journal's rename, before COMMIT)
    shutil.copy(tmp_path / "behind.duckdb", path)
    con = journal.connect(path, log)
    assert _meta(con) == expected and ("b", "2") in expected
    assert journal._seq(con) == journal.last_seq(log) == 2
    con.close()
    # and a file that is gone altogether
    path.unlink()
    con = journal.connect(path, log)
    assert _meta(con) == expected
    con.close()


def test_compaction_leaves_one_file_with_the_same_content(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "COMPACT_AFTER", 3)
    log = tmp_path / "log"
    con = journal.connect(tmp_path / "state.duckdb", log)
    for i in range(3):
        con.execute("INSERT INTO orchestrator.meta VALUES (?, ?)", [f"k{i}", str(i)])
    journal.compact(con)  # three files: not more than COMPACT_AFTER, left as they are
    assert len(_files(log)) == 3
    con.execute("DELETE FROM orchestrator.meta WHERE key = 'k0'")
    before = _journaled(log)
    journal.compact(con)
    assert _files(log) == [f"{5:012d}-{_files(log)[0].split('-', 1)[1]}"]
    assert _journaled(log) == before == _meta(con)
    con.close()
    # the compacted journal rebuilds the same file
    (tmp_path / "state.duckdb").unlink()
    con = journal.connect(tmp_path / "state.duckdb", log)
    assert _meta(con) == before
    con.close()


def test_no_journal_is_sequence_zero(tmp_path):
    assert journal.last_seq(tmp_path / "missing") == 0
    (tmp_path / "log" / "meta").mkdir(parents=True)
    assert journal.last_seq(tmp_path / "log") == 0
