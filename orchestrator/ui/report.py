"""`orchestrator report`: the UI's views (overview, lineage, every model with its partition
grid and checks, the last runs) as one self-contained HTML file that opens from disk with no
network, rendered from the same templates as the UI's pages."""

from __future__ import annotations

from importlib import resources

from ..app.shapes import iso
from ..app.workspace import Workspace, now
from .pages.lineage import lineage_page
from .pages.model import model_page
from .pages.overview import overview
from .pages.runs import runs_page
from .server import templates


def _anchor(kind: str, key: object) -> str:
    """Links inside the report: a model's section (its "why" page is not in the file), the runs,
    the lineage; the models stand in for the partitions page."""
    if kind == "run":
        return "#runs"
    if kind in ("partitions", "lineage"):
        return "#lineage-section" if kind == "lineage" else "#models"
    return f"#model-{str(key).split('/why/')[0]}"


def render(ws: Workspace) -> str:
    static = resources.files(__package__) / "static"
    css = (static / "ui.css").read_text(encoding="utf-8")
    from ..app.column_lineage import project_lineage

    lineage = project_lineage(ws)  # every model's columns at once, not a trace per page
    models = [model_page(ws, name, lineage) for name in ws.dag.order]
    return (
        templates(_anchor)
        .get_template("report.html")
        .render(
            overview=overview(ws),
            models=[m for m in models if m is not None],
            runs=runs_page(ws, 20),
            lineage=lineage_page(ws),
            css=css,
            # the lineage is laid out in the page itself: a file:// page may not start a worker
            dagre_js=(static / "dagre.min.js").read_text(encoding="utf-8"),
            layout_js=(static / "lineage-layout.js").read_text(encoding="utf-8"),
            lineage_js=(static / "lineage.js").read_text(encoding="utf-8"),
            project=ws.project,
            generated=iso(now()),
        )
    )
