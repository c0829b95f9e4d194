"""Spark Connect: a real Connect server on 127.0.0.1 (pyspark's own `spark-submit` starting
SparkConnectServer), and a project with `remote = "sc://..."` built through it."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ProjectDir, free_port, needs_spark, spark_state, spark_table

CONNECT_MISSING = [
    name for name in ("pandas", "pyarrow", "grpc") if importlib.util.find_spec(name) is None
]

pytestmark = [
    needs_spark,
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(CONNECT_MISSING),
        reason=f"Spark Connect's client needs {', '.join(CONNECT_MISSING)} "
        "(pip install 'orchestrator[spark]')",
    ),
]

NOW = "2024-01-06T12:00"


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    import pyspark

    home = Path(pyspark.__file__).parent
    port = free_port()
    log_path = tmp_path_factory.mktemp("connect") / "server.log"
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(home / "bin" / "spark-submit"),
                "--class",
                "org.apache.spark.sql.connect.service.SparkConnectServer",
                "--master",
                "local[2]",
                "--conf",
                f"spark.connect.grpc.binding.port={port}",
                "--conf",
                "spark.connect.grpc.binding.address=127.0.0.1",
                "--conf",
                "spark.ui.enabled=false",
                "spark-internal",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    else:
        server.kill()
        pytest.skip(f"the Spark Connect server did not start here: {log_path}")
    if server.poll() is not None:
        pytest.skip(f"the Spark Connect server did not start here: {log_path}")
    yield f"sc://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def test_a_project_builds_through_spark_connect(connect_server, project: ProjectDir):
    project.write(
        "orchestrator.toml",
        f'[engine]\nkind = "spark"\nremote = "{connect_server}"\nwarehouse_dir = "lake"\n'
        '[sources."raw.events"]\npath = "data/events_{date}.csv"\nread_by_partition = true\n'
        'columns = { event_id = "BIGINT", user_id = "BIGINT", d = "DATE", amount = "DOUBLE" }\n',
    )
    for day in (1, 2):
        rows = "\n".join(f"{day * 10 + i},{i % 2},2024-01-0{day},{i}.5" for i in range(3))
        project.write(f"data/events_2024-01-0{day}.csv", f"event_id,user_id,d,amount\n{rows}\n")
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-03
        -- check: unique(event_id)
        select event_id, user_id, d, amount from raw.events
        where d >= {{ start }} and d < {{ end }}
        """,
    )
    project.model("s.totals", "select user_id, sum(amount) as total from s.daily group by 1")
    out = project.cli("run", now=NOW, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr.strip() == "run 1: 3 tasks over 2 models"  # no warnings, no JVM chatter
    assert sorted(spark_table(project.root, "s.totals")) == [(0, 6.0), (1, 3.0)]
    assert len(spark_table(project.root, "s.daily")) == 6
    recorded = spark_state(project.root, "partitions", "where status = 'success'")
    assert len(recorded) == 3
    again = project.cli("run", now=NOW, timeout=600)
    assert "nothing to do" in again.stdout, again.stdout + again.stderr
