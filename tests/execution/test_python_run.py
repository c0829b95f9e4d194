"""execution.python_run with real child processes: rows come back as Parquet, a model reads
models through the parent, an HTTP 503 is worth another attempt and a 404 is not (a real HTTP
server on 127.0.0.1), the error names the model's own line, and a timeout kills the child."""

from __future__ import annotations

import http.server
import threading
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from orchestrator.core.errors import TaskTimeout
from orchestrator.core.partitions import Grain, Window
from orchestrator.execution.python_run import PythonModelError, run_python_model

WINDOW = Window.containing(datetime(2026, 10, 3), Grain.DAY)


def model_file(tmp_path: Path, body: str) -> SimpleNamespace:
    path = tmp_path / "models" / "raw" / "m.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return SimpleNamespace(path=path, relpath="models/raw/m.py")


def run(tmp_path, model, columns=(), answer=None, stop=lambda: None, variables=None):
    return run_python_model(
        model, list(columns), WINDOW, variables or {}, 7, tmp_path / "work", answer, stop
    )


def read(path: Path) -> list[tuple]:
    return duckdb.connect().execute(f"select * from read_parquet('{path}') order by all").fetchall()


def test_a_list_of_dicts_comes_back_as_parquet_with_the_window_and_vars(tmp_path):
    model = model_file(
        tmp_path,
        "def model(ctx):\n"
        "    return [{'day': ctx.start.date(), 'key': ctx.key, 'who': ctx.var('who'),\n"
        "             'run': ctx.run_id}]\n",
    )
    columns = [("day", "DATE"), ("key", "VARCHAR"), ("who", "VARCHAR"), ("run", "BIGINT")]
    out = run(tmp_path, model, columns, variables={"who": "ann"})
    assert read(out) == [(WINDOW.start.date(), "2026-10-03", "ann", 7)]


def test_a_model_reads_models_through_the_parent(tmp_path):
    warehouse = duckdb.connect()
    warehouse.execute("create schema s; create table s.t as select range as id from range(5)")

    def answer(sql: str, path: Path) -> None:
        warehouse.execute(f"COPY ({sql}) TO '{path}' (FORMAT PARQUET)")

    model = model_file(
        tmp_path,
        "def model(ctx):\n"
        "    return ctx.connection.sql('select count(*) as n, sum(id) as total from ctx_t')"
        " if False else ctx.table('s.t').aggregate('count(*) as n, sum(id) as total')\n",
    )
    assert read(run(tmp_path, model, answer=answer)) == [(5, 10)]


class Flaky(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the server's name for it
        code = 503 if self.path == "/busy" else 404
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path, transient", [("/busy", True), ("/gone", False)])
def test_http_errors_are_classified_and_name_the_models_line(tmp_path, server, path, transient):
    model = model_file(
        tmp_path,
        "import urllib.request\n\n\ndef model(ctx):\n"
        f"    urllib.request.urlopen('{server}{path}')\n"
        "    return []\n",
    )
    with pytest.raises(PythonModelError) as err:
        run(tmp_path, model)
    assert err.value.transient is transient
    assert str(err.value).startswith("models/raw/m.py:5: HTTPError: HTTP Error")
    assert "urllib.request.urlopen" in str(err.value)


def test_a_timeout_kills_the_model_and_what_it_started(tmp_path):
    model = model_file(
        tmp_path,
        "import os, subprocess, time\n\n\ndef model(ctx):\n"
        f"    open({str(tmp_path / 'pids')!r}, 'w').write(\n"
        '        f\'{os.getpid()} {subprocess.Popen(["sleep", "60"]).pid}\')\n'
        "    time.sleep(60)\n",
    )
    began = time.monotonic()
    with pytest.raises(TaskTimeout):
        run(tmp_path, model, stop=lambda: "timeout" if time.monotonic() - began > 1.5 else None)
    assert time.monotonic() - began < 10
    for pid in map(int, (tmp_path / "pids").read_text().split()):
        assert not alive(pid)


def alive(pid: int) -> bool:
    """Running, not gone nor a zombie waiting for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_crash_of_the_process_is_said_with_its_output(tmp_path):
    model = model_file(
        tmp_path, "import os\n\n\ndef model(ctx):\n    print('dying')\n    os._exit(3)\n"
    )
    with pytest.raises(PythonModelError, match="exited with code 3: dying") as err:
        run(tmp_path, model)
    assert err.value.transient is False
