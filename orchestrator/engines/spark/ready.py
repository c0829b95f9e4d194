"""Can the Spark engine start here? pyspark installed, a Java runtime, the master or the Spark
Connect server reachable: each missing piece is one line saying what and how to get it, before
anything is written."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from ...project.model import EngineSettings


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def _reachable(url: str, default_port: int) -> str | None:
    """None when a TCP connection to the URL's host and port opens within 3 s, else why not."""
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or default_port
    if not host:
        return f"no host in {url!r}"
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"cannot reach {host}:{port} ({exc.strerror or exc})"


def problem(engine: EngineSettings) -> str | None:
    """Why the configured Spark engine cannot start here, or None (always None for DuckDB)."""
    if engine.kind != "spark":
        return None
    if importlib.util.find_spec("pyspark") is None:
        return (
            '[engine] kind = "spark" needs pyspark, which is not installed: '
            "pip install 'orchestrator[spark]'"
        )
    if engine.remote:
        lacking = [m for m in ("pandas", "pyarrow", "grpc") if importlib.util.find_spec(m) is None]
        if lacking:
            return (
                f"Spark Connect's client needs {', '.join(lacking)}, which is not installed: "
                "pip install 'orchestrator[spark]'"
            )
        why = _reachable(engine.remote, 15002)
        if why:
            return f"the Spark Connect server at {engine.remote}: {why}"
        return None
    if _java() is None:
        return (
            "Spark needs a Java runtime (17), and none was found (JAVA_HOME, java on PATH): "
            "apt-get install default-jre-headless"
        )
    if engine.master and engine.master.startswith("spark://"):
        why = _reachable(engine.master, 7077)
        if why:
            return f"the Spark master at {engine.master}: {why}"
    return None
