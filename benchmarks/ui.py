"""UI-N and UI-HOURLY: how fast the web UI answers on big projects (issue 11).

Each project is built once by the real CLI (`orchestrator run`, clock pinned), then served by
the real `orchestrator ui` in its own process. For every API endpoint we time the first
request (it plans the whole project) and the median of the warm ones after it; with Debian's
Chromium and selenium at hand, we also time how long the overview, lineage and partitions pages
take until drawn (the lineage until its worker has laid the graph out), warm.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks import generate

FIRST = date(2025, 1, 1)
WARM = 5


def _now(days: int) -> str:
    return f"{FIRST + timedelta(days=days + 1)}T06:00"


def _get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as answer:
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url}: HTTP {answer.status}")
    return time.perf_counter() - started


class Served:
    """`orchestrator ui` on a free port, in its own process, with the clock pinned."""

    def __init__(self, suite, root: Path, now: str):
        env = {**dict(os.environ), "ORCHESTRATOR_NOW": now}
        self.proc = subprocess.Popen(
            [*suite.cli(suite.python, root, "ui", "--port", "0")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("serving "):
            raise RuntimeError(f"ui did not start: {line}{self.proc.stderr.read()}")
        self.base = line.split()[1].rstrip("/")

    def peak_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def build(suite, root: Path, now: str, rows_sql: list[str] | None) -> float:
    """Run the project once (the state the UI then reads); seconds it took."""
    import duckdb

    if rows_sql:
        con = duckdb.connect(str(root / "warehouse.duckdb"))
        for statement in rows_sql:
            con.execute(statement)
        con.close()
    started = time.perf_counter()
    done = subprocess.run(
        suite.cli(suite.python, root, "run"),
        env={**dict(os.environ), "ORCHESTRATOR_NOW": now},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building {root.name} failed: {done.stderr[-500:]}")
    return time.perf_counter() - started


def endpoints(suite, workload: str, served: Served, paths: dict[str, str]) -> None:
    from benchmarks.run import Row, Sample

    for label, path in paths.items():
        first = _get(served.base + path)
        warm = [_get(served.base + path) for _ in range(WARM)]
        row = Row(workload, f"GET {label}")
        row.samples = [Sample(s, 0.0) for s in warm]
        median = statistics.median(warm)
        row.note = f"first {first * 1000:,.0f} ms; warm {'<' if median < 0.3 else '>='} 300 ms"
        suite.rows.append(row)
        print(f"  {workload:<14} {label:<34} first {first:7.3f}s warm {median:7.3f}s", flush=True)
    peak = served.peak_mib()  # the server's peak resident set so far, on every row
    for row in suite.rows:
        if row.workload == workload:
            row.samples[-1].rss_mib = peak


def pages(suite, workload: str, served: Served, paths: dict[str, str]) -> None:
    """Time until each page is drawn in Chromium (warm: the second load of each)."""
    from benchmarks.run import Row, Sample

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        webdriver = None
    if not (chromium and driver_path and webdriver):
        print(f"  {workload}: no Chromium or selenium here, pages not timed", flush=True)
        return
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(600)
    try:
        for label, path in paths.items():
            times = []
            for _ in range(1 + WARM):
                started = time.perf_counter()
                driver.get(served.base + path)
                if "lineage" in path:
                    WebDriverWait(driver, 600, poll_frequency=0.02).until(
                        lambda d: d.execute_script(
                            "return document.getElementById('lineage').dataset.ready"
                        )
                    )
                times.append(time.perf_counter() - started)
            row = Row(workload, f"Chromium {label}")
            row.samples = [Sample(s, 0.0) for s in times[1:]]
            median = statistics.median(times[1:])
            row.note = f"first {times[0]:.2f} s; warm {'<' if median < 2 else '>='} 2 s"
            suite.rows.append(row)
            print(f"  {workload:<14} {label:<34} drawn in {median:7.3f}s", flush=True)
    finally:
        driver.quit()


def dag(suite, n: int, days: int, rows_per_day: int) -> None:
    root = suite.work / f"ui-{n}"
    models = generate.layered_daily(root, n, days, FIRST)
    now = _now(days)
    took = build(suite, root, now, generate.source_sql(rows_per_day * days, days, FIRST))
    workload = f"UI-{n}"
    print(f"  {workload:<14} built {n} models x {days} days in {took:.1f}s", flush=True)
    middle = models[len(models) // 2]
    served = Served(suite, root, now)
    try:
        endpoints(
            suite,
            workload,
            served,
            {
                "/api/ (overview)": "/api/",
                "/api/lineage (all, capped)": "/api/lineage",
                "/api/lineage?focus (2 hops)": f"/api/lineage?focus={middle}",
                "/api/lineage?select=+model": f"/api/lineage?select=%2B{middle}",
                "/api/lineage?q= (search)": "/api/lineage?q=m0001",
                "/api/partitions (a month)": "/api/partitions",
                "/api/partitions?owner=": "/api/partitions?owner=team3",
                "/api/models/NAME": f"/api/models/{middle}",
                "/api/models/NAME/why/DAY": f"/api/models/{middle}/why/{FIRST}",
                "/api/runs": "/api/runs",
                "/api/runs/1": "/api/runs/1",
                "/api/sources": "/api/sources",
                "/api/alerts": "/api/alerts",
            },
        )
        pages(
            suite,
            workload,
            served,
            {
                "overview": "/",
                "lineage (all, capped)": "/lineage",
                "lineage focus (a model, 2 hops)": f"/lineage?focus={middle}",
                "partitions": "/partitions",
            },
        )
    finally:
        served.stop()


def hourly(suite, hours: int) -> None:
    root = suite.work / f"ui-hourly-{hours}"
    end = datetime(2026, 1, 1)
    name = generate.hourly(root, hours, end)
    now = f"{end:%Y-%m-%d}T06:00"
    took = build(suite, root, now, None)
    workload = f"UI-HOURLY-{hours}"
    print(f"  {workload:<14} built {hours} hourly partitions in {took:.1f}s", flush=True)
    served = Served(suite, root, now)
    start = (end - timedelta(hours=hours)).strftime("%Y-%m-%d")
    try:
        endpoints(
            suite,
            workload,
            served,
            {
                "/api/ (overview)": "/api/",
                "/api/models/NAME": f"/api/models/{name}",
                "/api/partitions (a month)": "/api/partitions",
                "/api/partitions (all years)": f"/api/partitions?start={start}",
                "/api/models/NAME/why/HOUR": f"/api/models/{name}/why/2025-06-01T05",
                "/api/runs/1": "/api/runs/1",
            },
        )
        pages(
            suite,
            workload,
            served,
            {
                "overview": "/",
                "model page": f"/models/{name}",
                "partitions (all years)": f"/partitions?start={start}",
                "run": "/runs/1",
            },
        )
    finally:
        served.stop()


if __name__ == "__main__":
    sys.exit("run it through benchmarks/run.py --only UI")
