"""[engine] and --engine: Spark is configured and checked before anything is written; what is
missing (pyspark, Java, a reachable master) is one line saying how to get it."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from orchestrator.engines.spark import ready as spark_ready
from orchestrator.project.model import EngineSettings

NO_PYSPARK = importlib.util.find_spec("pyspark") is None


@pytest.mark.skipif(not NO_PYSPARK, reason="pyspark is installed here: the message differs")
def test_spark_without_pyspark_is_one_line_and_nothing_written(project):
    project.model("s.m", "select 1 as x")
    project.write("orchestrator.toml", '[engine]\nkind = "spark"\nmaster = "local[2]"\n')
    out = project.cli("run")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        'error: [engine] kind = "spark" needs pyspark, which is not installed: '
        "pip install 'orchestrator[spark]'"
    )
    assert not project.warehouse.exists()
    # --engine on the command line wins over the file, both ways
    assert project.cli("--engine", "duckdb", "run").returncode == 0
    project.write("orchestrator.toml", "")
    assert project.cli("--engine", "spark", "plan").returncode == 2


def test_compile_needs_no_engine_and_defaults_to_the_projects(project):
    project.model("s.m", "select d + interval 1 day as n from (select date '2024-01-01' as d)")
    project.write("orchestrator.toml", '[engine]\nkind = "spark"\n')
    out = project.cli("compile", "s.m")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("-- s.m on spark\n") and "TIMESTAMP_NTZ" in out.stdout
    assert project.cli("compile", "s.m", "--engine", "duckdb").stdout.startswith("-- s.m on duckdb")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[engine]\nkind = "sparc"', "[engine] kind must be duckdb or spark, got 'sparc'"),
        ('[engine]\nmastr = "local"', "[engine]: unknown setting 'mastr'"),
        (
            '[engine]\nkind = "spark"\nmaster = "local"\nremote = "sc://h:15002"',
            "[engine]: give master or remote, not both",
        ),
        ('[engine]\nremote = "http://h:15002"', "must be a Spark Connect URL (sc://host:15002)"),
        ('[engine]\nmaster = "lokal[2]"', "master must be local[N], spark://host:port"),
    ],
)
def test_bad_engine_settings_name_the_line(project, toml, message):
    project.write("orchestrator.toml", toml)
    out = project.cli("plan")
    assert out.returncode == 2 and message in out.stderr and "orchestrator.toml:" in out.stderr


def test_a_master_that_does_not_answer_is_named():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    why = spark_ready._reachable(f"spark://127.0.0.1:{port}", 7077)
    assert why is not None and why.startswith(f"cannot reach 127.0.0.1:{port} (")
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert spark_ready._reachable(f"sc://127.0.0.1:{listening.getsockname()[1]}", 0) is None
    assert spark_ready.problem(EngineSettings()) is None  # DuckDB needs nothing more
