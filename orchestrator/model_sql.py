"""The SQL a model runs for one window: its template rendered by ours (`sql.render`), or, for a
model imported from dbt that queries the warehouse while compiling (`-- renderer: dbt`), by
dbt's renderer over the project's `dbt/` folder, with its queries answered by the warehouse
as it is when the model runs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

from . import sql
from .errors import ProjectError, first_line

BUNDLE = "dbt"
"""The project folder with what dbt's renderer needs (written by `import dbt`)."""

Query = Callable[[str], tuple[list[str], list[tuple]]]


def project_root(model) -> Path:
    """The project folder a model file is in."""
    return Path(model.path).parents[len(Path(model.relpath).parts) - 1]


def bundle_digest(root: Path) -> str:
    """A hash of the `dbt/` folder's files, part of the version of every model it renders: an
    edited macro makes them stale."""
    folder = Path(root) / BUNDLE
    if not folder.is_dir():
        return ""
    stats = tuple(
        (p.relative_to(folder).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )
    return _digest(str(folder), stats)


@lru_cache(maxsize=16)
def _digest(folder: str, stats: tuple) -> str:
    hashed = hashlib.sha256()
    for rel, _, _ in stats:
        hashed.update(rel.encode() + b"\0" + (Path(folder) / rel).read_bytes() + b"\0")
    return hashed.hexdigest()[:16]


def render_model(
    model,
    window_literals: Mapping[str, str],
    variables: Mapping[str, str] | Callable[[str], str],
    query: Query | None = None,
) -> str:
    """The model's SQL for the window; `query` answers what a dbt-rendered model asks the
    warehouse while it renders (without one, such a model cannot be rendered)."""
    if model.renderer != "dbt":
        return sql.render(model.template, window_literals, variables, path=model.relpath)
    if query is None:
        raise ProjectError(
            "rendered with data from the warehouse (renderer: dbt): its SQL exists only when "
            "it runs",
            model.relpath,
        )
    from .dbt.runtime import render
    from .dbt.yamlfile import ImportProblem

    root = project_root(model)
    try:
        return render(
            model.template,
            root=root,
            digest=bundle_digest(root),
            relpath=model.relpath,
            this=window_literals.get("this", model.relation),
            incremental=window_literals.get("incremental") == "true",
            query=query,
        )
    except ImportProblem as exc:
        raise ProjectError(
            f"dbt rendering: {exc.detail}", exc.path or model.relpath, exc.line
        ) from None
    except ProjectError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever dbt's Jinja raises is the model's error
        raise ProjectError(f"dbt rendering: {first_line(exc)}", model.relpath) from None


def cursor_query(cur) -> Query:
    """A Query on an engine cursor whose `execute` gives DuckDB's result."""

    def query(text: str) -> tuple[list[str], list[tuple]]:
        result = cur.execute(text)  # DuckDB's own result: its description, then its rows
        names = [d[0] for d in (result.description or [])]
        return names, result.fetchall()

    return query
