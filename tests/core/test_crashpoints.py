"""core.crashpoints: a real process counts its moments when asked and dies at the one named."""

from __future__ import annotations

import signal
import subprocess
import sys

SCRIPT = (
    "from orchestrator.core import crashpoints\n"
    "for i in range(3):\n"
    "    print(i, flush=True)\n"
    "    crashpoints.moment()\n"
)


def run(**env) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=clean, capture_output=True, text=True, timeout=60
    )


def test_without_either_setting_a_moment_does_nothing():
    out = run()
    assert out.returncode == 0 and out.stdout.split() == ["0", "1", "2"]


def test_the_moments_passed_are_written_at_exit(tmp_path):
    moments = tmp_path / "moments"
    assert run(ORCHESTRATOR_MOMENTS=str(moments)).returncode == 0
    assert moments.read_text() == "3"


def test_the_process_is_killed_at_the_moment_named():
    out = run(ORCHESTRATOR_KILL_AT="2")
    assert out.returncode == -signal.SIGKILL
    assert out.stdout.split() == ["0", "1"]  # died at the second moment, before printing 2
