"""`orchestrator test`: the project's unit tests (`unit_tests/*.yml`), each on an in-memory
DuckDB, and how their results read: one line per test, the difference of a failing one as a
small table, a summary line.
"""

from __future__ import annotations

import sys

import click

from . import options
from .workspace import load_workspace


@click.command(
    "test",
    cls=options.ProjectCommand,
    short_help="Run the unit tests of the selected models: given rows in, expected rows out.",
)
@options.selectors
@options.json_output
@click.pass_context
def run_tests(ctx, selectors, as_json):
    """Run the project's unit tests (unit_tests/*.yml), or those of the selected models (a
    word naming a test selects that test), each on an in-memory DuckDB. Nothing is written;
    the warehouse, when there is one, gives the inputs' column types.

    Exit 1 when a test fails, 2 when a test file is wrong (nothing runs then).
    """
    from ..app import shapes, unit_testing

    ws = load_workspace(ctx, engine_needed=False)
    report = unit_testing.run(ws, selectors)
    for note in report.notes:
        click.echo(note, err=True)
    if as_json:
        click.echo(shapes.dump(shape(report)))
    else:
        click.echo("\n".join(format_report(report, bool(selectors))))
    sys.exit(report.exit_code)


def format_report(report, selected: bool = False) -> list[str]:
    """One line per test (ok or FAIL, its name, its model, its time), under a failing one
    why, then a summary."""
    from ..core.row_diff import MISSING, UNEXPECTED, table

    results = report.results
    if not results:
        if selected:
            return ["no unit test for the selected models"]
        return ["no unit tests: write them in unit_tests/*.yml (README: Unit tests)"]
    name_width = max(len(r.test.name) for r in results)
    model_width = max(len(r.test.model) for r in results)
    lines = []
    for r in results:
        status = "ok  " if r.passed else "FAIL"
        lines.append(
            f"{status} {r.test.name.ljust(name_width)}  {r.test.model.ljust(model_width)}  "
            f"{r.millis:.0f} ms"
        )
        if r.error:
            lines.append(f"     {r.error}")
        diff = r.diff
        if r.error is None and diff is not None and not diff.passed:
            missing, unexpected = diff.count(MISSING), diff.count(UNEXPECTED)
            lines.append(
                f"     {r.test.where}: {_rows(missing)} expected and not returned (-), "
                f"{_rows(unexpected)} returned and not expected (+), {diff.matched} as expected"
            )
            lines += [f"       {line}" for line in table(diff)]
        lines += [f"     {note}" for note in r.notes]
    failed = sum(1 for r in results if not r.passed)
    lines.append(
        f"{_count(len(results), 'unit test')}: {len(results) - failed} passed, {failed} failed "
        f"in {report.millis:.0f} ms"
    )
    return lines


def _rows(n: int) -> str:
    return _count(n, "row")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n:,} {what}s"


def shape(report) -> dict:
    """`test --json`: each test with its status and, failing, what differs."""
    from ..core.row_diff import MISSING, UNEXPECTED

    tests = []
    for r in report.results:
        entry = {
            "name": r.test.name,
            "model": r.test.model,
            "file": r.test.path,
            "line": r.test.line,
            "status": "pass" if r.passed else "fail",
            "seconds": round(r.millis / 1000, 4),
            "error": r.error,
            "notes": list(r.notes),
        }
        if r.diff is not None:
            columns = r.diff.columns
            for key, sign in (("missing", MISSING), ("unexpected", UNEXPECTED)):
                entry[key] = [
                    dict(zip(columns, row, strict=True)) for s, row in r.diff.lines if s == sign
                ]
        tests.append(entry)
    failed = sum(1 for r in report.results if not r.passed)
    return {"tests": tests, "passed": len(tests) - failed, "failed": failed}
