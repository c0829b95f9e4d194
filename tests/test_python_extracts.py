"""Python models end to end through the real CLI (issue 23): a model's function returns its
window's rows, written like a SQL model's (partition overwrite, checks, state), read by SQL
models and reading them; an extract against a real HTTP server on 127.0.0.1 that answers 503
is retried with backoff and writes no duplicate, a 404 fails at once naming the model's line;
a timeout kills a model that sleeps; an edit makes it stale; a SIGKILL mid-run and a rerun
leave the tables a clean build leaves."""

from __future__ import annotations

import http.server
import signal
import threading
import time

import pytest

NOW = "2026-10-10T00:00:00"

EXTRACT = """\
# kind: incremental
# partition_by: paid_on
# start: 2026-10-01
# end: 2026-10-04
# columns: payment_id BIGINT, paid_on DATE, amount DECIMAL(18, 2)
# retries: 3
# retry_delay: 1s
# check: unique(payment_id)
import json
import urllib.request


def model(ctx):
    day = ctx.start.date()
    with urllib.request.urlopen(f"{ctx.var('api')}/payments?day={day}", timeout=5) as answer:
        return [
            {"payment_id": p["id"], "paid_on": day, "amount": p["amount"]}
            for p in json.load(answer)
        ]
"""

DAILY = """\
-- kind: table
select paid_on, sum(amount) as amount, count(*) as n from raw.payments group by 1
"""

DOUBLED = """\
# kind: table
def model(ctx):
    return ctx.table("marts.daily").project("paid_on, amount * 2 as doubled")
"""


class Api(http.server.BaseHTTPRequestHandler):
    """Payments of a day; `busy` 503 answers first, and `/gone` is a 404."""

    busy = 0
    served = 0
    asked = 0
    slow = False

    def do_GET(self):  # noqa: N802
        Api.asked += 1
        if Api.slow:
            time.sleep(3)
        if Api.busy > 0:
            Api.busy -= 1
            self.send_response(503)
            self.end_headers()
            return
        if self.path.startswith("/gone"):
            self.send_response(404)
            self.end_headers()
            return
        day = int(self.path.rsplit("-", 1)[1])
        body = [{"id": day * 100 + i, "amount": 10 * i} for i in range(1, 4)]
        Api.served += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(__import__("json").dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    Api.busy, Api.served, Api.asked, Api.slow = 0, 0, 0, False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def pipeline(project, api):
    project.write("orchestrator.toml", f'[vars]\napi = "{api}"\n')
    project.write("models/raw/payments.py", EXTRACT)
    project.model("marts.daily", DAILY)
    project.write("models/marts/doubled.py", DOUBLED)
    return project


def test_a_python_model_builds_its_windows_and_reads_and_is_read_by_sql(pipeline):
    ran = pipeline.cli("run", now=NOW, check=True)
    assert "ok raw.payments" in ran.stdout and "3 partitions" in ran.stdout
    assert pipeline.query("select * from marts.doubled order by 1")[0][1] == 120
    assert pipeline.scalar("select count(*) from raw.payments") == 9
    assert pipeline.query(
        "select partition_key, status from orchestrator.partitions where model = 'raw.payments' "
        "order by 1"
    ) == [("2026-10-01", "success"), ("2026-10-02", "success"), ("2026-10-03", "success")]
    assert "nothing to do" in pipeline.cli("run", now=NOW, check=True).stdout
    path = pipeline.root / "models" / "raw" / "payments.py"
    path.write_text(path.read_text() + "\n# an edit\n")
    plan = pipeline.cli("plan", now=NOW).stdout
    assert "raw.payments" in plan and "stale: model changed" in plan


def test_a_busy_api_is_retried_and_writes_no_duplicate(pipeline):
    Api.busy = 2
    pipeline.cli("run", now=NOW, check=True)
    assert pipeline.scalar("select count(*) from raw.payments") == 9
    attempts = pipeline.query(
        "select attempt, status from orchestrator.task_runs where model = 'raw.payments' "
        "and status <> 'success' order by 1"
    )
    assert [s for _, s in attempts] == ["retried", "retried"]


def test_a_404_fails_at_once_naming_the_models_line(pipeline, api):
    pipeline.write("orchestrator.toml", f'[vars]\napi = "{api}/gone"\n')
    ran = pipeline.cli("run", now=NOW)
    assert ran.returncode == 1
    assert "models/raw/payments.py:15: HTTPError: HTTP Error 404" in ran.stdout + ran.stderr
    attempts = pipeline.query(
        "select count(*) from orchestrator.task_runs where model = 'raw.payments'"
    )
    assert attempts == [(3,)]  # one attempt per window: not retried


def test_a_timeout_kills_a_model_that_sleeps(project):
    project.write(
        "models/raw/slow.py",
        "# kind: table\n# timeout: 1s\n# retries: 0\n# columns: x INT\nimport time\n\n\n"
        "def model(ctx):\n    time.sleep(120)\n",
    )
    ran = project.cli("run", now=NOW)
    assert ran.returncode == 1
    assert project.query("select status from orchestrator.task_runs") == [("timed_out",)]


def test_a_file_without_its_function_is_held_back_naming_the_file(project):
    project.write("models/raw/bad.py", "# kind: table\ndef extract(ctx):\n    return []\n")
    plan = project.cli("plan", now=NOW)
    assert plan.returncode == 1
    assert "models/raw/bad.py: no function model(ctx)" in plan.stdout


def test_killed_while_a_python_model_runs_then_run_again_equals_a_clean_build(pipeline):
    Api.slow = True  # the first day's answer takes seconds: the run is killed meanwhile
    running = pipeline.cli_background("run", now=NOW, output=False)
    deadline = time.monotonic() + 30
    while Api.asked == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait()
    Api.slow = False
    pipeline.cli("run", now=NOW, check=True)
    assert pipeline.scalar("select count(*) from raw.payments") == 9
    assert pipeline.scalar("select count(distinct payment_id) from raw.payments") == 9
    assert pipeline.query("select * from marts.doubled order by 1")[2][1] == 120
