"""Python models as values: `models/<schema>/<name>.py`, read without running them.

A Python model is a file whose leading `# key: value` comment lines are the same header a SQL
model has (with one more key, `columns`: what a list of dicts it returns holds), and which
defines a function `model(ctx)` returning the rows of its window. What it reads is its
`depends_on`, plus the relations named in string literals it passes to `ctx.table(...)` or
`ctx.query(...)`; the vars it uses are those `ctx.var(...)`/`ctx.vars[...]` name. Its version
is the hash of its file and of the project's own modules it imports, so an edit of either makes
it stale. Nothing here runs the file: `execution.python_run` does, in a child process.

>>> source = "# kind: table\\n# columns: id BIGINT\\ndef model(ctx):\\n    return ctx.table('x.y')"
>>> found = read(source, "models/s/m.py")
>>> found.header, found.declared, found.tables
('-- kind: table\\n', (('id', 'BIGINT'),), ('x.y',))
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ProjectError

FUNCTION = "model"
_HEADER = re.compile(r"^#\s*(?P<rest>[A-Za-z_][\w -]*:.*)$")
_COLUMNS = re.compile(r"^#\s*columns\s*:(?P<value>.*)$", re.IGNORECASE)
_COLUMN = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>[A-Za-z][\w ,()]*?)\s*$")


@dataclass(frozen=True)
class PythonSource:
    """What reading a Python model's file found."""

    header: str  # its header as SQL comment lines, at the same line numbers
    declared: tuple[tuple[str, str], ...]  # `# columns:` (name, DuckDB type), in order
    tables: tuple[str, ...]  # relations named in ctx.table / ctx.query literals
    vars: tuple[str, ...]  # vars it reads
    imports: tuple[str, ...]  # top-level module names it imports


def read(source: str, relpath: str) -> PythonSource:
    """Parse a Python model's source: its header, declared columns, and what it reads. A
    syntax error, or no `model(ctx)` function, is a ProjectError naming the file and line."""
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as exc:
        raise ProjectError(f"Python syntax error: {exc.msg}", relpath, exc.lineno) from None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == FUNCTION]
    if not functions:
        raise ProjectError(
            f"no function {FUNCTION}(ctx): a Python model defines one, returning the rows of "
            "its window (a pyarrow table, a DuckDB relation, a pandas DataFrame, or a list of "
            "dicts with `# columns:` declared)",
            relpath,
        )
    header, columns = _header(source, relpath)
    tables, variables = _reads(tree, relpath)
    return PythonSource(header, columns, tables, variables, _imports(tree))


def _header(source: str, relpath: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The leading `# key: value` lines as `-- key: value` lines (same line numbers, the SQL
    header grammar reads them), and the declared columns."""
    lines: list[str] = []
    columns: tuple[tuple[str, str], ...] = ()
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if number == 1 and stripped.startswith("#!"):
            lines.append("")
            continue
        if not stripped:
            lines.append("")
            continue
        if not stripped.startswith("#"):
            break
        declared = _COLUMNS.match(stripped)
        if declared:
            columns = _parse_columns(declared["value"], relpath, number)
            lines.append("")
            continue
        match = _HEADER.match(stripped)
        lines.append(f"-- {match['rest']}" if match else "")
    while lines and not lines[-1]:
        lines.pop()
    return ("\n".join(lines) + "\n" if lines else ""), columns


def _parse_columns(value: str, relpath: str, line: int) -> tuple[tuple[str, str], ...]:
    parts = [p for p in re.split(r",(?![^(]*\))", value) if p.strip()]
    found = []
    for part in parts:
        match = _COLUMN.match(part)
        if not match:
            raise ProjectError(
                f"bad value for 'columns': {part.strip()!r} is not 'name TYPE' "
                "(e.g. '# columns: id BIGINT, amount DECIMAL(18, 2)')",
                relpath,
                line,
            )
        found.append((match["name"], " ".join(match["type"].split()).upper()))
    return tuple(found)


def _reads(tree: ast.AST, relpath: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Relations named in `ctx.table('s.t')` and in SQL literals of `ctx.query('...')`, and the
    vars named in `ctx.var('v')` or `ctx.vars['v']`."""
    from ..sql.parse import parse
    from ..sql.references import references

    tables: dict[str, None] = {}
    variables: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            literal = _first_literal(node)
            if literal is None:
                continue
            if node.func.attr == "table":
                tables[literal.lower()] = None
            elif node.func.attr == "query":
                statement, _ = parse(literal, relpath)
                tables.update(dict.fromkeys(references(statement)[0]))
            elif node.func.attr == "var":
                variables[literal] = None
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "vars" and isinstance(node.slice, ast.Constant):
                if isinstance(node.slice.value, str):
                    variables[node.slice.value] = None
    return tuple(tables), tuple(variables)


def _first_literal(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _imports(tree: ast.AST) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(dict.fromkeys(a.name.split(".")[0] for a in node.names))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found[node.module.split(".")[0]] = None
    return tuple(found)


def local_modules(root: Path, imports: tuple[str, ...]) -> list[Path]:
    """The project's own modules among `imports` (a `name.py` or a `name/` package at the
    project root): their text is part of the model's version."""
    found: list[Path] = []
    for name in imports:
        single, package = root / f"{name}.py", root / name
        if single.is_file():
            found.append(single)
        elif (package / "__init__.py").is_file():
            found.extend(sorted(package.rglob("*.py")))
    return found


def version_of(source: str, local: list[Path], layout: str) -> str:
    """A Python model's version: its file, the project's modules it imports, its layout."""
    digest = hashlib.sha256()
    for part in (source, layout, *(p.read_text(encoding="utf-8") for p in local)):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return "py-" + digest.hexdigest()[:16]
