"""The one-file report (`ui.report`): the UI's views as one self-contained HTML file, every
model in it, its links anchors inside the file, nothing fetched from outside."""

from __future__ import annotations

from orchestrator.app.workspace import open_workspace
from orchestrator.ui.report import _anchor, render

OUTSIDE = ('src="http', 'href="http', 'href="/', "@import", "url(")


def test_the_report_is_one_file_with_every_model_and_nothing_outside(estate, tmp_path):
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    out = estate.cli("report", "-o", str(target), now="2024-01-05T06:00")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"wrote {target} (") and "6 models" in out.stdout
    html = target.read_text()
    for name in ("s.after_broken", "s.broken", "s.checked", "s.daily", "s.changing", "s.good"):
        assert f'id="model-{name}"' in html and f'href="#model-{name}"' in html
    assert 'data-state="waiting"' in html and '<table class="sample">' in html
    assert 'id="lineage"' in html and "lineageLayout" in html and "new Worker" in html
    for outside in OUTSIDE:
        assert outside not in html, outside
    bad = estate.cli("report", "-o", str(tmp_path / "missing" / "r.html"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot write ")


def test_a_project_never_run_is_reported_from_its_files_alone(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", "2024-01-05T06:00")
    project.model("s.a", "select 1 as x")
    project.model("s.b", "select x from s.a")
    html = render(open_workspace(project.root))
    assert html.lstrip().lower().startswith("<!doctype html")
    assert 'id="model-s.a"' in html and 'id="model-s.b"' in html
    assert "generated 2024-01-05 06:" in html and ".s-failed" in html  # its style inside
    for outside in OUTSIDE:
        assert outside not in html, outside
    assert not project.warehouse.exists()  # reading made no warehouse


def test_links_in_the_report_are_anchors_inside_it():
    assert _anchor("model", "s.m") == "#model-s.m"
    assert _anchor("model", "s.m/why/2024-01-02") == "#model-s.m"  # no why page in the file
    assert _anchor("run", 3) == "#runs"
    assert _anchor("lineage", None) == "#lineage-section"
    assert _anchor("partitions", None) == "#models"
