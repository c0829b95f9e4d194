"""Starting Spark: a SparkSession on the configured master (or Spark Connect server) with the
settings the engine relies on (dynamic partition overwrite, UTC, ANSI SQL, the FAIR scheduler),
while the JVM's own chatter goes to a log file instead of the terminal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...core.errors import WarehouseError, first_line
from ...project.model import EngineSettings


def open_session(settings: EngineSettings, warehouse: Path):
    """A session on the configured master (or Spark Connect server), its logs under
    `warehouse`; Spark that does not start is a `WarehouseError` that says where to look."""
    from pyspark.sql import SparkSession

    logging.getLogger("SQLQueryContextLogger").disabled = True  # our errors say it in one line
    if (settings.master or "local").startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no hostname warning, no network
    warehouse.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("orchestrator")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = builder.master(settings.master or "local[2]")
        for key, value in session_conf(warehouse).items():
            builder = builder.config(key, value)
    for key, value in settings.conf.items():
        builder = builder.config(key, value)
    log = warehouse / "_logs" / "spark-driver.log"
    try:
        with stderr_to(log):  # the JVM's own chatter goes to the log, not the terminal
            session = builder.getOrCreate()
    except Exception as exc:
        raise WarehouseError(
            f"Spark did not start: {first_line(exc, named=False)} (see {log})"
        ) from None
    if settings.remote:
        # a Connect server keeps its own static settings; ours that a session may set, it sets
        for key, value in session_conf(warehouse).items():
            if key.startswith("spark.sql.") and "warehouse" not in key:
                session.conf.set(key, value)
    else:
        session.sparkContext.setLogLevel("ERROR")
    return session


def session_conf(warehouse: Path) -> dict[str, str]:
    """The settings the engine's statements assume, for a session whose tables live under
    `warehouse`."""
    return {
        "spark.sql.warehouse.dir": str(warehouse / "_spark_managed"),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        "spark.scheduler.mode": "FAIR",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
        "spark.driver.extraJavaOptions": (
            f"-Dlog4j2.configurationFile=file:{Path(__file__).with_name('log4j2.properties')}"
            f" -Dderby.system.home={warehouse / '_derby'}"
        ),
    }


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 pointed at `path` while a JVM is launched (it inherits it)."""
    import sys

    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
