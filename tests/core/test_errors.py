"""errors: the table of exit codes and the classes that take theirs from it, first_line, suggest,
is_transient (the one retry classification)."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.core import errors
from orchestrator.core.errors import (
    EXIT_CODES,
    AccessDenied,
    Cancelled,
    CheckFailed,
    CycleError,
    MissingVar,
    NothingToRetry,
    OrchestratorError,
    ProjectError,
    RunStopped,
    TaskError,
    TaskTimeout,
    UsageError,
    WarehouseBusy,
    WarehouseError,
    WindowError,
    first_line,
    is_transient,
    suggest,
)


def test_the_exit_code_table():
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4, 130]
    assert all(meaning for meaning in EXIT_CODES.values())


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (OrchestratorError, 2),
        (UsageError, 2),
        (ProjectError, 2),
        (CycleError, 2),
        (MissingVar, 2),
        (WarehouseError, 2),
        (WarehouseBusy, 3),
        (AccessDenied, 4),
        (TaskError, 1),
        (WindowError, 1),
        (TaskTimeout, 1),
        (Cancelled, 1),
        (CheckFailed, 1),
        (RunStopped, 130),
        (NothingToRetry, 0),
    ],
)
def test_every_error_exits_with_a_code_of_the_table(cls, code):
    assert cls.exit_code == code
    assert cls.exit_code in EXIT_CODES


def test_every_error_class_is_an_orchestrator_error():
    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(c, OrchestratorError) for c in classes)
    assert all(c.exit_code in EXIT_CODES for c in classes)


def test_messages_name_the_culprit():
    assert str(ProjectError("bad key", "orchestrator.toml", 3)) == "orchestrator.toml:3: bad key"
    assert str(ProjectError("bad key", "orchestrator.toml")) == "orchestrator.toml: bad key"
    assert str(ProjectError("bad key")) == "bad key"
    cycle = CycleError(["a", "b", "a"], {"a": "models/a.sql", "b": "models/b.sql"})
    assert cycle.cycle == ["a", "b", "a"]
    assert str(cycle) == (
        "dependency cycle: a -> b -> a; models involved: a (models/a.sql), b (models/b.sql)"
    )
    assert str(MissingVar("day")) == "missing --var day=VALUE (the model uses {{ var('day') }})"


def test_first_line():
    assert first_line(ValueError("bad value\nmore detail")) == "ValueError: bad value"
    assert first_line(ValueError("bad value\nmore"), named=False) == "bad value"
    assert first_line(ValueError("")) == "ValueError"
    assert first_line(ValueError(""), named=False) == "ValueError"
    assert first_line(ValueError("\n  \n")) == "ValueError"
    # ours say it all: no class name before them
    assert first_line(UsageError("no such model: x\nhint")) == "no such model: x"
    assert first_line(UsageError("")) == "UsageError"


def test_first_line_of_a_duckdb_error():
    con = duckdb.connect()
    with pytest.raises(duckdb.Error) as caught:
        con.execute("SELECT * FROM nowhere")
    assert first_line(caught.value).startswith("CatalogException: Catalog Error: Table with name")
    assert "\n" not in first_line(caught.value)


def test_suggest():
    assert suggest("ordrs", ["orders", "customers", "payments"]) == " (did you mean: orders?)"
    assert suggest("xyz", ["orders", "customers"]) == ""
    assert suggest("a", []) == ""
    many = suggest("order", ["orders", "order_", "orderz", "ordered"], limit=2)
    assert many.count(",") == 1


def test_is_transient():
    assert is_transient(OSError("interrupted"))
    assert is_transient(TimeoutError())
    assert not is_transient(ValueError("bad"))
    # ours say so themselves; a task error is permanent unless marked transient
    assert not is_transient(TaskError("failed"))
    marked = TaskError("flaky")
    marked.transient = True
    assert is_transient(marked)
    assert not is_transient(WarehouseBusy("busy"))


def test_is_transient_on_duckdb_exception_classes():
    assert is_transient(duckdb.IOException("read failed"))
    assert is_transient(duckdb.TransactionException("Conflict on update!"))
    assert not is_transient(duckdb.ParserException("syntax"))
    assert not is_transient(duckdb.BinderException("no column"))
    assert not is_transient(duckdb.CatalogException("no table"))
    assert not is_transient(duckdb.ConstraintException("duplicate key"))
    # an invalid input is transient only when it is a Parquet file still being written
    assert is_transient(duckdb.InvalidInputException("x is too small to be a Parquet file"))
    assert not is_transient(duckdb.InvalidInputException("could not convert"))


def test_is_transient_on_a_real_conflict(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 0)")
    a, b = con.cursor(), con.cursor()
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("UPDATE t SET v = 1 WHERE id = 1")
    with pytest.raises(duckdb.Error) as caught:
        b.execute("UPDATE t SET v = 2 WHERE id = 1")
    assert is_transient(caught.value)
    a.execute("ROLLBACK")
    b.execute("ROLLBACK")
    con.close()


def test_the_whole_error_is_kept_and_the_console_shows_the_lines_that_matter(project):
    """Issue 10, item 9: DuckDB names the file, the column and the value after its first
    line. The state and the alert keep all of it; the console shows those lines, on one."""
    project.write(
        "orchestrator.toml",
        """
        [owners.default]
        log = "alerts.jsonl"
        """,
    )
    project.write("data/prices.csv", "id,amount\n1,2.50\n1041,12.50 EUR\n")
    path = project.root / "data/prices.csv"
    project.model(
        "s.prices",
        f"select * from read_csv('{path}', types = {{'amount': 'DECIMAL(18,2)'}})",
    )
    out = project.cli("run")
    assert out.returncode == 1
    console = [line for line in out.stdout.splitlines() if "failed: s.prices" in line]
    assert len(console) == 1, out.stdout
    for text in ("CSV Error on Line: 3", "12.50 EUR", 'column "amount"', "prices.csv"):
        assert text in console[0], console[0]
    assert "delimiter" not in console[0]  # the reader's settings are not what matters

    stored = project.scalar("select error from orchestrator.task_runs where model = 's.prices'")
    assert stored.startswith("ConversionException: Conversion Error: CSV Error on Line: 3\n")
    assert "prices.csv" in stored and "12.50 EUR" in stored and "delimiter" in stored
    import json

    alert = json.loads((project.root / "alerts.jsonl").read_text().splitlines()[0])
    assert alert["error"] == stored
    assert "12.50 EUR" in alert["text"]


def test_essential_keeps_the_first_line_of_a_message_without_detail():
    assert errors.essential('Catalog Error: Table nope does not exist!\nDid you mean "x"?') == (
        'Catalog Error: Table nope does not exist!; Did you mean "x"?'
    )
    assert errors.essential("") == ""
    assert errors.full_message(ValueError("a\nb")) == "ValueError: a\nb"
