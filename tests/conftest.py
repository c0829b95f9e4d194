"""Shared helpers: write a project into tmp_path, run the real CLI, read the real warehouse."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 1, 10, 12, 0)


class ProjectDir:
    """A project folder on disk with helpers to write models and query its warehouse."""

    def __init__(self, root: Path):
        self.root = root
        self.warehouse = root / "warehouse.duckdb"

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def model(self, name: str, text: str) -> Path:
        schema, _, table = name.rpartition(".")
        return self.write(f"models/{schema}/{table}.sql" if schema else f"models/{table}.sql", text)

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]

    def seed(self, sql: str) -> None:
        """Load source data with plain DuckDB, as an external loader would."""
        con = duckdb.connect(str(self.warehouse))
        try:
            con.execute(sql)
        finally:
            con.close()

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "orchestrator", "--project", str(self.root), *args]

    def environment(
        self, now: datetime | str | None, env: dict | None, args: tuple[str, ...] = ()
    ) -> dict:
        """The test's environment, minus a warehouse override, with the clock set to `now`."""
        full_env = dict(os.environ)
        full_env.pop("ORCHESTRATOR_WAREHOUSE", None)
        if now is not None:
            full_env["ORCHESTRATOR_NOW"] = now if isinstance(now, str) else now.isoformat()
        if self.on_spark(args) and "JAVA_TOOL_OPTIONS" not in {**full_env, **(env or {})}:
            full_env["JAVA_TOOL_OPTIONS"] = jvm_options_for_tests()
        full_env.update(env or {})
        return full_env

    def on_spark(self, args: tuple[str, ...] = ()) -> bool:
        """Will this command start Spark: a Spark project, `verify` (both engines), or
        `--engine spark`?"""
        if "verify" in args or "spark" in args:
            return True
        config = self.root / "orchestrator.toml"
        return config.is_file() and 'kind = "spark"' in config.read_text(encoding="utf-8")

    def cli(
        self,
        *args: str,
        env: dict | None = None,
        now: datetime | str | None = NOW,
        check: bool = False,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess:
        """The real CLI in a subprocess, run to its end."""
        result = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            env=self.environment(now, env, args),
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def cli_background(
        self,
        *args: str,
        env: dict | None = None,
        now: datetime | str | None = NOW,
        output: bool = True,
    ) -> subprocess.Popen:
        """The real CLI as a background process, for tests that signal, kill or race it. With
        `output=False` its output is discarded, so a chatty child never blocks on a full pipe."""
        stream = subprocess.PIPE if output else subprocess.DEVNULL
        return subprocess.Popen(
            self.command(*args),
            stdout=stream,
            stderr=stream,
            text=True,
            env=self.environment(now, env, args),
        )

    def api_run(self, *selectors: str, at: datetime = NOW, threads: int = 2, **selection):
        from orchestrator.app import api
        from orchestrator.app.workspace import Selection, open_workspace

        ws = open_workspace(self.root)
        return api.run(
            ws, Selection(tuple(selectors), **selection), command="test", at=at, threads=threads
        )

    def api_plan(self, *selectors: str, at: datetime = NOW, **selection):
        from orchestrator.app import api
        from orchestrator.app.workspace import Selection, open_workspace

        ws = open_workspace(self.root)
        return api.plan(ws, Selection(tuple(selectors), **selection), at=at)

    def files(self) -> dict[str, bytes]:
        """Every file under the project, for 'nothing was written' assertions."""
        # an empty lock file only says that nobody is writing, and the parse cache under
        # .orchestrator/ is derived from the model files (like __pycache__): neither is data
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
            and not (p.suffix == ".lock" and not p.stat().st_size)
            and ".orchestrator" not in p.relative_to(self.root).parts
        }


@pytest.fixture
def project(tmp_path: Path) -> ProjectDir:
    return ProjectDir(tmp_path)


def made_once(tmp_path_factory, name: str, make) -> Path:
    """A directory filled by `make(path)` once for the whole test session, by whichever test
    worker asks first (the others wait for it): what several tests start from and that costs
    Spark builds to make."""
    import fcntl
    import shutil

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker's own temporary folder is in
    place, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            if place.exists():
                shutil.rmtree(place)  # a maker that died half-way
            place.mkdir()
            make(place)
            done.touch()
    return place


DAILY_SOURCE = """
create schema if not exists raw;
create or replace table raw.events as
select (i % 7) + 1 as user_id,
       (date '2024-01-01' + cast(i // 5 as integer)) as event_date,
       i as amount
from range(0, 45) t(i);
"""
"""45 events over 2024-01-01..2024-01-09, 5 a day."""


class Webhook:
    """A real HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it and answers
    with `status` (set it to 500 to play a sink that is down)."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        hook = self
        self.bodies: list[dict] = []
        self.requests = 0
        self.status = 200

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hook.requests += 1
                length = int(self.headers.get("Content-Length", 0))
                if hook.status == 200:
                    hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


# -- the UI: a project with one model in each state, served on 127.0.0.1 ----------------------

UI_NOW = "2024-01-05T06:00"


@pytest.fixture
def estate(project, monkeypatch):
    """One model of each state: complete, failed, check_failed, blocked, waiting, stale."""
    monkeypatch.setenv("ORCHESTRATOR_NOW", UI_NOW)
    project.write(
        "orchestrator.toml",
        """
        [owners.default]
        log = "alerts.jsonl"

        [sources."raw.events"]
        path = "data/events_{date}.csv"
        read_by_partition = true
        """,
    )
    for day in ("2024-01-01", "2024-01-02", "2024-01-04"):
        project.write(f"data/events_{day}.csv", f"id,d\n1,{day}\n2,{day}\n")
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select id, d::date as d from raw.events where d >= {{ start }} and d < {{ end }}
        """,
    )
    project.model("s.good", "select 1 as x")
    project.model("s.broken", "select 1 as x from nowhere")
    project.model("s.after_broken", "select x from s.broken")  # blocked: its input failed
    project.model("s.checked", "-- check: not_null(x)\nselect null::int as x")
    project.model("s.changing", "select 1 as y")
    assert project.cli("run", now=UI_NOW).returncode == 1
    project.model("s.changing", "select 2 as y")  # now stale: its SQL changed
    return project


SLOW_DAYS = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-07
select d, (select count(*) from range((select n from raw.knob)) r
           where hash(r.range + 1) % 1000003 = 7) as hits
from (select date '2024-01-01' + range::int as d from range(6))
where d >= {{ start }} and d < {{ end }}
"""
"""Six days whose partitions take as long as raw.knob's n says (150,000,000: about a second)."""


def get(url: str) -> tuple[int, str]:
    """The status and body of a GET (an HTTP error's too)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def serving(project):
    """The UI's server for `project` on a free port of 127.0.0.1, in a thread; its base URL."""
    from orchestrator.ui.server import serve

    server = serve(project.root, None, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def broken_error(out) -> str:
    """The error of the one broken model a `plan` or `run` printed (`blocked: M: broken: ERROR`):
    a model file that does not load is held back, the command exits 1 (issue 20, item 1)."""
    found = [
        line.split(": broken: ", 1)[1]
        for line in out.stdout.splitlines()
        if ": broken: " in line and line.lstrip().startswith("blocked: ")
    ]
    assert out.returncode == 1 and len(found) == 1, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "\nerror:" not in "\n" + out.stderr, out.stderr
    return found[0]


# -- Spark: a real engine (pyspark's own jars, a Java runtime) --------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def jvm_options_for_tests() -> str:
    """What makes a test's short-lived Spark driver start fast (tests only: a long job wants
    the full JIT): the client compiler, the serial collector, and a class-data archive of
    Spark's classes made once per machine by the first test that needs it (the others wait
    for it), which cuts a JVM's start by about a third. No logging: a stale archive is only
    ignored, never a message in a command's output."""
    options = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=off"
    if spark_missing() is not None:
        return options
    archive = _class_archive()
    return f"{options} -XX:SharedArchiveFile={archive}" if archive else options


def _class_archive() -> Path | None:
    import fcntl
    import hashlib
    import shutil
    import tempfile

    import pyspark

    key = hashlib.sha256(
        # the archive holds the classes of one class path: another checkout's jars miss it
        f"{pyspark.__version__}|{pyspark.__file__}|{shutil.which('java')}|{sys.version}".encode()
    ).hexdigest()[:12]
    archive = Path(tempfile.gettempdir()) / f"orchestrator-tests-spark-{key}.jsa"
    if archive.exists():
        return archive
    with open(f"{archive}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker; the others wait, then use it
        if not archive.exists():
            _make_class_archive(archive)
    return archive if archive.exists() else None


def _make_class_archive(archive: Path) -> None:
    """Run a small Spark build with the JVM dumping the classes it loaded at its exit."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        project = ProjectDir(Path(folder))
        project.write("orchestrator.toml", spark_toml())
        project.model(
            "s.d",
            "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
            "select i, d from (select 1 as i, {{ start }} as d) t",
        )
        project.model("s.t", "select count(*) as n, max(d) as d from s.d")
        partial = archive.with_suffix(".partial")
        options = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=off"
        project.cli(
            "run",
            now="2024-01-03T00:00",
            env={"JAVA_TOOL_OPTIONS": f"{options} -XX:ArchiveClassesAtExit={partial}"},
        )
        if partial.exists() and partial.stat().st_size > 0:
            partial.rename(archive)


def spark_missing() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or None."""
    from orchestrator.engines.spark import ready as spark_ready
    from orchestrator.project.model import EngineSettings

    return spark_ready.problem(EngineSettings(kind="spark", master="local[2]"))


needs_spark = pytest.mark.skipif(
    spark_missing() is not None,
    reason=f"Spark cannot run here: {spark_missing()} (.ci/run installs it)",
)


def spark_toml(master: str = "local[2]", extra: str = "") -> str:
    return f'[engine]\nkind = "spark"\nmaster = "{master}"\nwarehouse_dir = "lake"\n{extra}'


def spark_table(root: Path, relation: str, order: str = "") -> list[tuple]:
    """A Spark table's rows as its Parquet files hold them (read with DuckDB, no JVM)."""
    schema, table = relation.split(".")
    place = root / "lake" / schema / table
    # as Spark lists a table: files under _ or . (a commit in progress) are not its data
    files = (
        [
            str(p)
            for p in sorted(place.rglob("*.parquet"))
            if place.is_dir()
            if not any(part.startswith(("_", ".")) for part in p.relative_to(place).parts)
        ]
        if place.is_dir()
        else []
    )
    if not files:
        return []
    con = duckdb.connect()
    try:
        return con.execute(
            "select * exclude (filename) from read_parquet(?, hive_partitioning = true, "
            f"filename = true) {order}",
            [files],
        ).fetchall()
    finally:
        con.close()


def spark_state(root: Path, table: str, where: str = "") -> list[tuple]:
    """A state table as its journal in the warehouse_dir holds it."""
    from orchestrator.engines.journal import current_sql

    directory = root / "lake" / "orchestrator"
    if not (directory / table).is_dir():
        return []
    con = duckdb.connect()
    try:
        return con.execute(f"select * from ({current_sql(directory, table)}) {where}").fetchall()
    finally:
        con.close()
