"""`orchestrator test`: the project's unit tests, each on its own in-memory DuckDB. The given
rows become tables under the names the model reads (`unit_inputs`), the model's SQL is rendered
as a run renders it for the test's window, run, and its rows compared with the expected ones
(`core.row_diff`). Nothing is written: the warehouse, when there is one, is only asked for the
column types of the relations a test gives rows for.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..core.errors import EXIT_FAILED, EXIT_OK, OrchestratorError, first_line
from ..core.quoting import quote
from ..core.row_diff import RowDiff, compare
from ..engines import engine
from ..project import selectors, unit_tests
from ..project.model import Model
from ..project.unit_tests import UnitTest
from ..sql.model_sql import cursor_query, render_model
from ..statements import materialize, unit_sql
from . import unit_inputs
from .unit_inputs import Failed
from .workspace import Workspace

COLUMNS_HINT = (
    "an input has the columns its rows name and those the warehouse or orchestrator.toml "
    "knows it has: name the column in a row, or build the warehouse once for its types"
)


@dataclass(frozen=True)
class Result:
    """One test's outcome: the difference of its rows, or the error that stopped it (one
    line, naming the test's file and line); `notes` say what else failed or explain it."""

    test: UnitTest
    millis: float
    diff: RowDiff | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.error is None and self.diff is not None and self.diff.passed and not self.notes


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    millis: float
    notes: tuple[str, ...] = ()  # about the whole command (types inferred: warehouse busy)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if all(r.passed for r in self.results) else EXIT_FAILED


def choose(tests: Sequence[UnitTest], ws: Workspace, words: Sequence[str]) -> list[UnitTest]:
    """The tests of the models the selectors select; a word naming a test selects it alone."""
    if not words:
        return list(tests)
    names = {t.name for t in tests}
    split = [w for word in words for w in word.split()]
    by_name = {w for w in split if w in names}
    rest = [w for w in split if w not in by_name]
    models = selectors.select(ws.dag, rest) if rest else set()
    return [t for t in tests if t.name in by_name or t.model in models]


def run(ws: Workspace, words: Sequence[str] = ()) -> Report:
    """Load the unit tests (a mistake is a ProjectError: nothing runs), then run the chosen."""
    started = time.perf_counter()
    chosen = choose(unit_tests.load(ws.project, ws.dag), ws, words)
    relations = {g.relation for t in chosen for g in t.given}
    types, note = unit_inputs.warehouse_types(ws, relations)
    # what the first test would pay for the process (imports, DuckDB's first start) is paid
    # before any clock starts: a test's time is its own work
    import jinja2  # noqa: F401

    engine.memory().close()
    results = tuple(run_one(ws, test, types) for test in chosen)
    return Report(results, _since(started), (note,) if note else ())


def run_one(ws: Workspace, test: UnitTest, types: unit_inputs.Types) -> Result:
    started = time.perf_counter()
    model = ws.dag.models[test.model]
    con = engine.memory()
    try:
        if model.broken is not None:
            raise Failed(f"{test.model} does not load: {model.broken}")
        _session(con, ws, model)
        unit_inputs.create(con, ws, test, types)
        sql = _render(con, ws, test, model)
        columns, rows = _query(con, test, sql)
        diff, notes = _compare(con, test, columns, rows)
        notes += _outside_window(test, model, columns, rows)
        return Result(test, _since(started), diff, notes=tuple(notes))
    except Failed as failed:
        where = f"{test.path}:{failed.line or test.line}"
        return Result(test, _since(started), error=f"{where}: {failed}")
    finally:
        con.close()


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _session(con, ws: Workspace, model: Model) -> None:
    """Names resolve as in a run: the model's schema, then the default one, and a name with
    the warehouse's own catalog in front (`warehouse.raw.orders`) too; files a model reads by
    a relative path are the project's."""
    settings = ws.project.settings
    catalog = settings.warehouse.stem.lower()
    if any(t.count(".") == 2 and t.split(".")[0] == catalog for t in model.tables):
        con.execute(f"ATTACH ':memory:' AS {quote(catalog)}")
        con.execute(f"USE {quote(catalog)}")
    for schema in dict.fromkeys([model.schema, settings.default_schema]):
        con.execute(unit_sql.create_schema(f"{schema}.x"))
    con.execute(materialize.search_path(model.schema, settings.default_schema))
    con.execute(f"SET file_search_path = {materialize.literal(str(settings.root.resolve()))}")


def _render(con, ws: Workspace, test: UnitTest, model: Model) -> str:
    """The model's SQL as a run renders it for the test's window and vars (a model rendered
    by dbt's renderer asks its queries of the given rows)."""
    variables = {**ws.project.settings.vars, **test.vars}
    literals = model.window_literals(test.window, incremental=test.is_incremental)
    try:
        return render_model(model, literals, variables, cursor_query(con.raw))
    except OrchestratorError as exc:
        raise Failed(f"rendering {model.name}: {exc}") from None


def _query(con, test: UnitTest, sql: str) -> tuple[list[str], list[tuple]]:
    import duckdb

    body = sql.strip().rstrip(";").rstrip()
    try:
        relation = con.raw.sql(f"SELECT * FROM (\n{body}\n)")
        types = [str(t) for t in relation.types]
        return list(zip(relation.columns, types, strict=True)), relation.fetchall()
    except duckdb.Error as exc:
        message = first_line(exc, named=False)
        if isinstance(exc, duckdb.BinderException) and "column" in message:
            message += f" ({COLUMNS_HINT})"
        raise Failed(f"{test.model} fails: {message}") from None


def _compare(con, test: UnitTest, columns, rows) -> tuple[RowDiff, list[str]]:
    """The returned rows against the expected ones, over the columns the test names; each
    expected value cast to the type the model returned."""
    index = {}
    for i, (name, _) in enumerate(columns):
        index.setdefault(name.lower(), i)
    expect = unit_inputs.expected_rows(con, test)
    wanted = list(expect.columns)
    absent = [c for c in wanted if c.lower() not in index]
    if absent:
        listed = ", ".join(name for name, _ in columns)
        raise Failed(
            f"expect: {test.model} returns no column {', '.join(absent)} (it returns: {listed})",
            test.expect.line,
        )
    chosen = [index[c.lower()] for c in wanted]
    returned = [tuple(row[i] for i in chosen) for row in rows]
    kinds = [(c, columns[i][1]) for c, i in zip(wanted, chosen, strict=True)]
    expected, notes = _expected(con, test, expect, kinds)
    return compare(wanted, returned, expected, test.ordered), notes


def _expected(con, test: UnitTest, expect, kinds) -> tuple[list[tuple], list[str]]:
    """The expected rows cast to the returned types; a value that is none of its type is
    kept as written (it then matches nothing) and named in a note."""
    import duckdb

    if not expect.rows:
        return [], []
    try:
        cast = con.execute(unit_sql.expected_cast(kinds, expect.rows)).fetchall()
    except duckdb.Error as exc:
        raise Failed(f"expect: {first_line(exc, named=False)}", test.expect.line) from None
    expected, notes = [], []
    for n, row in enumerate(cast):
        values = []
        for j, (name, kind) in enumerate(kinds):
            typed, raw, lossy = row[3 * j], row[3 * j + 1], row[3 * j + 2]
            if lossy:  # the expected number is not one of the returned type: never equal
                typed = raw
            elif typed is None and raw is not None:
                line = expect.lines[n] if n < len(expect.lines) else test.line
                notes.append(f"{test.path}:{line}: {raw!r} in {name} is no {kind}")
                typed = raw
            values.append(typed)
        expected.append(tuple(values))
    return expected, notes


def _outside_window(test: UnitTest, model: Model, columns, rows) -> list[str]:
    """A run refuses rows outside the partition's window: so does its test."""
    window = test.window
    names = [n.lower() for n, _ in columns]
    if window is None or model.partition_by is None or model.partition_by.lower() not in names:
        return []
    i = names.index(model.partition_by.lower())
    outside = [r[i] for r in rows if not _inside(r[i], window.start, window.end)]
    if not outside:
        return []
    shown = ", ".join(str(v) for v in outside[:3]) + (" ..." if len(outside) > 3 else "")
    return [
        f"{test.where}: {len(outside)} row(s) outside the partition {window.key} "
        f"({model.partition_by} {shown}): a run would refuse them"
    ]


def _inside(value, start: datetime, end: datetime) -> bool:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    elif isinstance(value, date):
        value = datetime(value.year, value.month, value.day)
    else:
        return False
    return start <= value < end
