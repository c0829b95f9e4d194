"""The SQL a model runs for one window: its template rendered by ours (`sql.render`), or, for a
model imported from dbt that queries the warehouse while compiling (`-- renderer: dbt`), by
dbt's renderer over the project's `dbt/` folder, with its queries answered by the warehouse
as it is when the model runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..core.errors import ProjectError, first_line
from . import parse as sql
from .dbt.bundle import Query, bundle_digest


def project_root(model) -> Path:
    """The project folder a model file is in."""
    return Path(model.path).parents[len(Path(model.relpath).parts) - 1]


def render_model(
    model,
    window_literals: Mapping[str, str],
    variables: Mapping[str, str] | Callable[[str], str],
    query: Query | None = None,
) -> str:
    """The model's SQL for the window; `query` answers what a dbt-rendered model asks the
    warehouse while it renders (without one, such a model cannot be rendered)."""
    if getattr(model, "language", "sql") == "python":
        raise ProjectError(
            "a Python model: its rows exist only when it runs (it has no SQL to show)",
            model.relpath,
        )
    if model.renderer != "dbt":
        text = sql.render(model.template, window_literals, variables, path=model.relpath)
        return sql.remap(text, dict(model.relations), model.relpath) if model.relations else text
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
        text = render(
            model.template,
            root=root,
            digest=bundle_digest(root),
            relpath=model.relpath,
            this=window_literals.get("this", model.relation),
            incremental=window_literals.get("incremental") == "true",
            query=query,
        )
        return sql.remap(text, dict(model.relations), model.relpath) if model.relations else text
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
