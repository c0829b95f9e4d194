"""Starting Spark, the parts that need no JVM: the settings every session gets, and the
terminal's stderr pointed at a log file while a JVM starts (starting one is covered by
test_spark_engine.py)."""

from __future__ import annotations

import os
import sys

from orchestrator.engines.spark.session import session_conf, stderr_to


def test_the_session_settings_the_engine_relies_on(tmp_path):
    conf = session_conf(tmp_path)
    assert conf["spark.sql.sources.partitionOverwriteMode"] == "dynamic"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.ansi.enabled"] == "true"
    assert conf["spark.scheduler.mode"] == "FAIR"
    # what Spark manages itself stays out of the tables' schemas, under `_`
    assert conf["spark.sql.warehouse.dir"] == str(tmp_path / "_spark_managed")
    options = conf["spark.driver.extraJavaOptions"]
    assert f"-Dderby.system.home={tmp_path / '_derby'}" in options
    config = options.split("-Dlog4j2.configurationFile=file:", 1)[1].split()[0]
    assert config.endswith("log4j2.properties") and os.path.isfile(config)


def test_stderr_goes_to_the_log_while_the_block_runs_then_comes_back(tmp_path):
    log = tmp_path / "_logs" / "spark-driver.log"
    before = os.fstat(2)
    with stderr_to(log):
        os.write(2, b"jvm chatter\n")
    after = os.fstat(2)
    assert log.read_bytes() == b"jvm chatter\n"  # the folder was made for it
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    with stderr_to(log):
        os.write(2, b"more\n")
    assert log.read_bytes() == b"jvm chatter\nmore\n"  # appended, never truncated
    sys.stderr.flush()


def test_stderr_comes_back_when_the_block_raises(tmp_path):
    before = os.fstat(2)
    try:
        with stderr_to(tmp_path / "log"):
            raise RuntimeError("the JVM did not start")
    except RuntimeError:
        pass
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
