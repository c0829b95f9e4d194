"""dbt models that query the warehouse while compiling (`run_query`, `{% call statement %}`,
`dbt_utils.get_column_values`, `get_single_value`, `get_query_results_as_dict`), rendered
when they run, as dbt renders them: the values come from the warehouse as it is when the
model's task runs, after everything it reads was built.

The import keeps such a model's dbt source as it is, under a `-- renderer: dbt` header, and
writes beside our project what rendering it needs (`dbt/`: the project's `dbt_project.yml`,
macro files and installed packages' macros, and `context.json`: the target and what each
`ref()`/`source()` names). `render` builds dbt's renderer over that once per project and
renders a model with `run_query` bound to the task's cursor."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .bundle import BUNDLE, Query
from .context import queries_at_run
from .jinja import Renderer
from .nodes import RelationName, Rendering, Target
from .project import DbtProject
from .yamlfile import ImportProblem

CONTEXT = "context.json"
"""What `ref()`/`source()` name and the target, in the project's `dbt/` folder."""


class Table:
    """What dbt's `run_query` returns (an agate table), for what macros read of it:
    `columns[i].values()`, `columns['name']`, `column_names`, `rows`, iteration, len."""

    def __init__(self, names: Sequence[str], rows: Sequence[tuple]):
        self.column_names = list(names)
        self.rows = [_Row(self.column_names, r) for r in rows]
        self.columns = _Columns(self.column_names, [tuple(r) for r in rows])

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def print_table(self, *args, **kwargs) -> str:
        return ""


class _Row(tuple):
    def __new__(cls, names: list[str], values: tuple):
        made = super().__new__(cls, values)
        made._names = names
        return made

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def values(self) -> list:
        return list(self)

    def keys(self) -> list[str]:
        return list(self._names)


class _Column:
    def __init__(self, name: str, values: list):
        self.name, self._values = name, values

    def values(self) -> tuple:
        return tuple(self._values)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Columns:
    def __init__(self, names: list[str], rows: list[tuple]):
        self._list = [_Column(n, [r[i] for r in rows]) for i, n in enumerate(names)]

    def __getitem__(self, key):
        if isinstance(key, str):
            return next(c for c in self._list if c.name == key)
        return self._list[key]

    def __iter__(self):
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)


def bind_queries(renderer: Renderer, query: Query | None) -> None:
    """`run_query`, `statement`/`load_result` and dbt_utils' querying macros on `query`, as
    dbt runs them; with no query (the import, reading what a model refs) they return what dbt's
    parse returns: no rows, and `execute` is false."""
    results: dict[str, dict] = {}

    def run(sql: str) -> Table:
        if query is None:
            return Table([], [])
        names, rows = query(str(sql))
        return Table(names, rows)

    def run_query(sql: str = "") -> Table:
        return run(sql)

    def statement(name=None, fetch_result=False, auto_begin=True, language="sql", caller=None):
        sql = caller() if caller is not None else ""
        table = run(sql)
        if name is not None:
            results[name] = {
                "data": [tuple(r) for r in table.rows],
                "table": table,
                "response": "OK",
            }
        return ""

    def load_result(name: str):
        return results.get(name)

    def get_column_values(
        table, column, order_by="count(*) desc", max_records=None, default=None, where=None
    ):
        if query is None:
            return default if default is not None else []
        sql = f"select {column} as value from {table}"
        sql += f" where {where}" if where is not None else ""
        sql += f" group by {column} order by {order_by}"
        sql += f" limit {max_records}" if max_records is not None else ""
        return [r[0] for r in run(sql).rows]

    def get_single_value(sql_statement, default=None):
        if query is None:
            return default
        rows = run(sql_statement).rows
        return rows[0][0] if rows and rows[0] and rows[0][0] is not None else default

    def get_query_results_as_dict(sql_statement):
        table = run(sql_statement)
        pairs = zip(table.column_names, table.columns, strict=True)
        return {n.upper(): list(c.values()) for n, c in pairs}

    renderer.ns.update(
        run_query=run_query,
        statement=statement,
        load_result=load_result,
        execute=query is not None,
    )
    utils = renderer.ns.get("dbt_utils")
    own = getattr(utils, "_macros", None)
    if isinstance(own, dict):
        own.update(
            get_column_values=get_column_values,
            get_single_value=get_single_value,
            get_query_results_as_dict=get_query_results_as_dict,
        )


def detect_queries(renderer: Renderer) -> None:
    """At import: what queries while compiling raises QueriesAtRun, so the import knows to
    render the model when it runs."""
    renderer.ns.update(
        run_query=queries_at_run("run_query"),
        statement=queries_at_run("statement"),
        load_result=queries_at_run("load_result"),
        execute=True,
    )
    own = getattr(renderer.ns.get("dbt_utils"), "_macros", None)
    if isinstance(own, dict):
        for name in ("get_column_values", "get_single_value", "get_query_results_as_dict"):
            own[name] = queries_at_run(f"dbt_utils.{name}")


def context(
    target: Target,
    refs: Mapping[str, str],
    sources: Mapping[str, str],
    cli_vars: Mapping[str, Any] | None = None,
) -> str:
    """`context.json`: the target, the relation each ref and source names, and the vars the
    import was given (dbt's `--vars`), which a model rendered when it runs sees too."""
    return json.dumps(
        {
            "target": {
                "name": target.name,
                "schema": target.schema,
                "database": target.database,
                "threads": target.threads,
                "profile_name": target.profile_name,
            },
            "refs": dict(sorted(refs.items())),
            "sources": dict(sorted(sources.items())),
            **({"vars": dict(cli_vars)} if cli_vars else {}),
        },
        indent=2,
        default=str,
    )


def bundle(
    project: DbtProject, target: Target, refs: Mapping[str, str], sources: Mapping[str, str]
) -> dict[str, str]:
    """The files of `dbt/` (relpath in our project -> text): the project's dbt_project.yml and
    packages.yml, its macro files and generic tests, its installed packages' macros, and
    `context.json`. Macros only: nothing of the models is needed to render one."""
    files: dict[str, str] = {
        f"{BUNDLE}/{CONTEXT}": context(target, refs, sources, project.cli_vars)
    }

    def take(path: Path) -> None:
        try:
            rel = path.relative_to(project.root).as_posix()
            files[f"{BUNDLE}/{rel}"] = path.read_text(encoding="utf-8")
        except (ValueError, OSError, UnicodeDecodeError):
            return  # outside the project, or not text: not a file of macros

    for name in ("dbt_project.yml", "packages.yml", "dependencies.yml"):
        if (project.root / name).is_file():
            take(project.root / name)
    places = [(project.root, [*project.macro_paths, *(f"{t}/generic" for t in project.test_paths)])]
    places += [(p.root, p.macro_paths) for p in project.packages]
    for package in project.packages:
        take(package.root / "dbt_project.yml")
    for root, folders in places:
        for folder in folders:
            if (root / folder).is_dir():
                for path in sorted((root / folder).rglob("*.sql")):
                    take(path)
    return files


_LOCK = threading.Lock()  # the renderer's node is swapped per render: one at a time
_RENDERERS: dict[tuple[str, str], tuple[Renderer, dict]] = {}


def _renderer(root: Path, digest: str) -> tuple[Renderer, dict]:
    """dbt's renderer over the project's bundle, made once per bundle version."""
    key = (str(root), digest)
    if key not in _RENDERERS:
        from .builtins import natives
        from .project import read

        bundle = root / BUNDLE
        saved = json.loads((bundle / CONTEXT).read_text(encoding="utf-8"))
        project = read(bundle, saved.get("vars"))
        target = Target(**saved["target"])
        zone = "America/Los_Angeles"
        if project.has_var("dbt_date:time_zone"):
            zone = str(project.var("dbt_date:time_zone"))
        renderer = Renderer(project, target, natives(lambda text: None, zone))
        _RENDERERS[key] = (renderer, saved)
    return _RENDERERS[key]


def render(
    text: str,
    *,
    root: Path,
    digest: str,
    relpath: str,
    this: str,
    incremental: bool,
    query: Query | None,
) -> str:
    """The model's dbt source rendered as dbt compiles it when it runs, querying on `query`."""
    renderer, saved = _renderer(root, digest)

    def relation(name: str) -> RelationName:
        schema, _, identifier = name.rpartition(".")
        return RelationName(schema, identifier)

    def ref(*args, **kwargs):
        name = str(args[-1]) if args else ""
        if name not in saved["refs"]:
            raise ImportProblem(f"ref('{name}'): not a model the import knew")
        return relation(saved["refs"][name])

    def source(source_name: str, table_name: str):
        key = f"{source_name}.{table_name}"
        if key not in saved["sources"]:
            raise ImportProblem(f"source('{source_name}', '{table_name}'): not a known source")
        return relation(saved["sources"][key])

    schema, _, identifier = this.rpartition(".")
    node = Rendering(
        Path(relpath).stem,
        relpath,
        [],
        this=RelationName(schema.strip('"'), identifier.strip('"')),
        incremental=incremental,
    )
    marker = _MARKER.search(text)  # our header above it is no part of the dbt source
    with _LOCK:
        renderer.ref, renderer.source = ref, source
        bind_queries(renderer, query)
        if marker:  # blank lines in its place: the lines of errors stay the file's
            text = "\n" * text[: marker.end()].count("\n") + text[marker.end() :]
        return renderer.render(text, node)


_MARKER = re.compile(r"^/\* .*, imported from dbt \*/$", re.MULTILINE)
