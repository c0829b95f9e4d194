"""A real standalone Spark cluster on 127.0.0.1 (a master and two workers, started with
pyspark's own launch script `spark-class`): the embedded example runs on it and equals the
DuckDB build, table by table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir, free_port, jvm_options_for_tests, needs_spark, spark_table

from orchestrator.app.verify import compare

pytestmark = [needs_spark, pytest.mark.slow]


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


class Cluster:
    """A standalone master and its workers, each a JVM of pyspark's `bin/spark-class`."""

    def __init__(self, work: Path, workers: int = 2):
        self.port, self.ui = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            JAVA_TOOL_OPTIONS=jvm_options_for_tests(),  # the daemons and executors they start
        )
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        launcher = str(spark_home() / "bin" / "spark-class")
        self.logs = work
        self.processes = [
            self._start(
                env,
                "master",
                launcher,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--webui-port",
                str(self.ui),
            )
        ]
        self._wait(lambda s: True, "the master")
        for n in range(workers):
            self.processes.append(
                self._start(
                    env,
                    f"worker{n}",
                    launcher,
                    "org.apache.spark.deploy.worker.Worker",
                    self.url,
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "1",
                    "--memory",
                    "1g",
                    "--webui-port",
                    str(free_port()),
                    "--work-dir",
                    str(work / f"worker{n}"),
                )
            )
        self._wait(lambda s: s.get("aliveworkers") == workers, f"{workers} workers")

    def _start(self, env, name: str, *command: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui}/json/", timeout=2) as r:
            return json.load(r)

    def _wait(self, ready, what: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if ready(self.status()):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        logs = "\n".join(p.read_text(errors="replace")[-800:] for p in self.logs.glob("*.log"))
        raise AssertionError(f"the cluster did not bring up {what}:\n{logs}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    yield running
    running.stop()


def example_copy(root: Path) -> ProjectDir:
    for name in ("models", "checks", "examples"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "orchestrator.toml", root / "orchestrator.toml")
    return ProjectDir(root)


def test_the_example_runs_on_a_standalone_cluster_and_equals_duckdb(cluster, tmp_path):
    on_duckdb = example_copy(tmp_path / "duckdb")
    on_duckdb.cli("run", now=None, check=True)
    on_cluster = example_copy(tmp_path / "spark")
    config = on_cluster.root / "orchestrator.toml"
    # exports are refused on Spark (README, Exports): the cluster builds the models only
    config.write_text(re.sub(r"\n\[exports\.[^\]]+\][^\[]*", "\n", config.read_text()))
    with config.open("a") as toml:
        toml.write(
            f'\n[engine]\nkind = "spark"\nmaster = "{cluster.url}"\nwarehouse_dir = "lake"\n'
        )
    # a month of daily partitions per task (one task per model): the cluster's work, with
    # far fewer Spark jobs than one task per day
    out = on_cluster.cli(
        *("backfill", "*", "--start", "2026-10-01", "--end", "2026-11-01", "--batch-size", "31"),
        now=None,
        timeout=1200,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # 159 partitions and the dashboard refresh step (a step's outcome counts with the tasks)
    assert "run 1 success" in out.stdout and "160 succeeded" in out.stdout
    # the work ran on the cluster: an application came and went on its master
    finished = cluster.status().get("completedapps", [])
    assert any(app.get("name") == "orchestrator" for app in finished), cluster.status()
    for model in (
        "staging.stg_orders",
        "staging.stg_subscriptions",
        "marts.fct_orders",
        "marts.revenue_daily",
        "marts.revenue_monthly",
        "reporting.revenue_dashboard",
    ):
        got = on_duckdb.query(f"select * from {model}")
        columns = [
            r[0]
            for r in on_duckdb.query(
                "select column_name from information_schema.columns where table_schema || '.' "
                "|| table_name = ? order by ordinal_position",
                [model],
            )
        ]
        spark_rows = spark_table(on_cluster.root, model)
        import duckdb

        place = on_cluster.root / "lake" / model.replace(".", "/")
        described = duckdb.sql(
            f"describe select * from read_parquet('{place}/**/*.parquet', hive_partitioning = true)"
        ).fetchall()
        spark_columns = [r[0] for r in described]
        assert compare(model, got, columns, spark_rows, spark_columns) is None, model
    assert "nothing to do" in on_cluster.cli("run", now=None).stdout
