"""execution.commands: a real child process in its own group, its output to a log file and its
tail kept; a timeout or a cancel kills the whole group; a program that cannot start is said."""

from __future__ import annotations

import os
import sys
import threading
import time

from orchestrator.execution.commands import TAIL_BYTES, run_command


def run(tmp_path, argv, timeout=None, cancel=None, env=None):
    return run_command(
        argv,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        log_path=tmp_path / "logs" / "x.log",
        timeout=timeout,
        cancel=cancel or threading.Event(),
        header="--- attempt\n",
    )


def test_exit_code_output_and_tail(tmp_path):
    code = "import sys; print('x' * 5000); print('last', file=sys.stderr); sys.exit(4)"
    done = run(tmp_path, [sys.executable, "-c", code])
    assert (done.exit_code, done.ok, done.timed_out) == (4, False, False)
    assert done.tail.endswith("last\n") and len(done.tail.encode()) <= TAIL_BYTES
    log = (tmp_path / "logs" / "x.log").read_text()
    assert log.startswith("--- attempt\n") and "x" * 5000 in log


def test_environment_reaches_the_command(tmp_path):
    done = run(tmp_path, ["sh", "-c", 'echo "$GREETING"'], env={"GREETING": "hello"})
    assert done.ok and done.tail == "hello\n"


def test_a_timeout_kills_the_whole_group(tmp_path):
    pid_file = tmp_path / "pid"
    clock = time.monotonic()
    done = run(tmp_path, ["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"], timeout=0.5)
    assert done.timed_out and done.exit_code is None and time.monotonic() - clock < 10
    child = int(pid_file.read_text())
    time.sleep(0.2)
    stat = f"/proc/{child}/stat"
    assert not os.path.exists(stat) or open(stat).read().split()[2] == "Z"  # gone, or a zombie


def test_a_cancel_stops_it(tmp_path):
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    done = run(tmp_path, ["sleep", "30"], cancel=cancel)
    assert done.cancelled and not done.ok


def test_a_program_that_cannot_start(tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("echo hi\n")
    done = run(tmp_path, [str(script)])
    assert done.exit_code is None and "could not start" in done.error
