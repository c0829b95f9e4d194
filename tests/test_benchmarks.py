"""The benchmark suite runs end to end at tiny sizes (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_the_suite_runs_at_tiny_sizes_and_writes_its_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--size", "tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = out.read_text()
    for workload in ("PARSE-40", "DAG-10", "BACKFILL-10", "MEMORY", "START-UP"):
        assert f"| {workload} |" in text
    assert "FAILED" not in text
    assert "x limit (target <= 1.5x)" in text and "x one INSERT (target <= 2x)" in text
