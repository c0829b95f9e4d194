"""Measure the orchestrator against the physical limit, in one run, and write RESULTS.md.

    python benchmarks/run.py                  # the full suite (about 15-30 minutes on 2 cores)
    python benchmarks/run.py --size tiny      # a smoke run in seconds (CI runs this)
    python benchmarks/run.py --only PARSE,DAG --repeat 5 --compiled

Every measurement is a fresh process (the CLI as users run it, the limit as a script), timed
wall-clock, with its peak resident memory from the kernel (wait4). Variants of a workload are
interleaved, repeated, and their medians compared: a ratio is us / limit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks import generate, peers, ui  # noqa: E402

SIZES = {
    "full": {
        "parse": [1000, 5000],
        "dag": [100, 1000],
        "dag_rows": 100_000,
        "backfill_rows": 5_000_000,
        "backfill_days": 365,
        "memory_days": [365, 3650],
        "source_days": 365,
        "source_rows": 20_000,
        "ui_dag": [1000, 5000, 10000],
        "ui_days": 30,
        "ui_hours": 100_000,
        "import": [1000],
        "spark_rows": 1_000_000,
        "spark_days": 365,
        "spark_dag": 100,
        "repeat": 3,
    },
    "tiny": {
        "parse": [40],
        "dag": [10],
        "dag_rows": 10_000,
        "backfill_rows": 20_000,
        "backfill_days": 10,
        "memory_days": [10, 30],
        "source_days": 10,
        "source_rows": 100,
        "ui_dag": [20],
        "ui_days": 3,
        "ui_hours": 300,
        "import": [20],
        "spark_rows": 2_000,
        "spark_days": 3,
        "spark_dag": 5,
        "repeat": 1,
    },
}


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    error: str = ""


@dataclass
class Row:
    workload: str
    variant: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def failed(self) -> str:
        return next((s.error for s in self.samples if s.error), "")

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mib for s in self.samples)


LAUNCHER = """
import os, sys, time
out, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(command[0], command)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(out, "w") as f:
    f.write(f"{seconds} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Starts a measured command from a small process. On Linux a child's peak RSS starts at its
parent's resident size (fork copies the pages' count, exec keeps the high-water mark), so a
command started by this runner, which holds DuckDB, would report at least the runner's size."""


def measure(command: list[str], cwd: Path | None = None, env: dict | None = None) -> Sample:
    """Wall time and peak RSS of one process (both taken by the launcher around fork, exec and
    wait4). A command that fails is recorded as failed (its time means nothing) and makes the
    suite exit non-zero at the end."""
    with tempfile.NamedTemporaryFile(suffix=".measure") as out:
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, out.name, *command],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        seconds, rss_kib = Path(out.name).read_text().split() or ["0", "0"]
    error = ""
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        error = f"exit {proc.returncode}: {lines[0][:200]}"
        print(f"FAILED: {' '.join(command)}\n  {error}", file=sys.stderr, flush=True)
    return Sample(float(seconds), int(rss_kib) / 1024, error)


class Suite:
    def __init__(
        self, python: str, compiled: str | None, repeat: int, work: Path, dbt: str | None = None
    ):
        self.python = python
        self.compiled = compiled
        self.repeat = repeat
        self.work = work
        self.dbt = dbt  # a dbt executable with dbt-duckdb, to measure the peer side by side
        self.rows: list[Row] = []

    def dbt_command(self, root: Path, *args: str) -> list[str]:
        return [self.dbt, *args, "--project-dir", str(root), "--profiles-dir", str(root)]

    def cli(self, python: str, root: Path, *args: str) -> list[str]:
        return [python, "-m", "orchestrator", "--project", str(root), *args]

    def limit(self, python: str, *args: str) -> list[str]:
        return [python, str(HERE / "limits.py"), *args]

    def interleaved(self, workload: str, variants: dict, setup=None) -> dict[str, Row]:
        """Run each variant `repeat` times, round-robin, so drift hits all of them alike."""
        rows = {name: Row(workload, name) for name in variants}
        for _ in range(self.repeat):
            for name, command in variants.items():
                if setup:
                    setup(name)
                rows[name].samples.append(measure(command))
                print(
                    f"  {workload:<14} {name:<28} {rows[name].samples[-1].seconds:8.2f}s",
                    flush=True,
                )
        self.rows.extend(rows.values())
        return rows

    # -- workloads -------------------------------------------------------------------------------

    def parse(self, n: int) -> None:
        root = self.work / f"parse-{n}"
        work = generate.layered(root, n)
        cache = root / ".orchestrator"
        pythons = {"": self.python}
        if self.compiled:
            pythons[" (sqlglotc)"] = self.compiled
        variants = {}
        for label, python in pythons.items():
            variants[f"limit{label}"] = self.limit(python, "parse", str(root))
            variants[f"cold{label}"] = self.cli(python, root, "plan")
            variants[f"warm{label}"] = self.cli(python, root, "plan")

        if self.dbt:
            dbt_root = peers.tables(work, root / "dbt", root / "dbt.duckdb", os.cpu_count() or 1)
            variants["dbt parse, cold"] = self.dbt_command(dbt_root, "parse")
            variants["dbt parse, warm"] = self.dbt_command(dbt_root, "parse")

        def setup(name: str) -> None:
            if name.startswith("cold"):
                shutil.rmtree(cache, ignore_errors=True)
            if name == "dbt parse, cold":
                shutil.rmtree(root / "dbt" / "target", ignore_errors=True)

        rows = self.interleaved(f"PARSE-{n}", variants, setup)
        for label in pythons:
            limit, cold, warm = (rows[f"{v}{label}"] for v in ("limit", "cold", "warm"))
            cold.note = f"{cold.seconds / limit.seconds:.2f}x limit (target <= 1.5x)"
            warm.note = f"{warm.seconds / cold.seconds:.2f}x cold (target <= 0.3x)"

    def _template(self, name: str, statements: list[str]) -> Path:
        import duckdb

        path = self.work / f"{name}.template.duckdb"
        if not path.exists():
            con = duckdb.connect(str(path))
            for statement in statements:
                con.execute(statement)
            con.close()
        return path

    def dag(self, n: int, rows: int) -> None:
        root = self.work / f"dag-{n}"
        work = generate.layered(root, n)
        template = self._template(
            f"source-{rows}", generate.source_sql(rows, 365, date(2025, 1, 1))
        )
        plan = root / "limit.json"
        plan.write_text(json.dumps([[m, work.sql[m]] for m in work.models]))
        warehouse = root / "warehouse.duckdb"
        limit_warehouse = root / "limit.duckdb"
        cold, warm = "orchestrator run, parse cache cold", "orchestrator run"
        variants = {
            "limit": self.limit(self.python, "dag", str(limit_warehouse), str(plan)),
            cold: self.cli(self.python, root, "run"),
            warm: self.cli(self.python, root, "run"),
        }

        def setup(name: str) -> None:
            target = limit_warehouse if name == "limit" else warehouse
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
            if name == cold:  # the limit parses nothing: show what parsing adds, apart
                shutil.rmtree(root / ".orchestrator", ignore_errors=True)
            shutil.copy(template, target)

        dbt_warehouse = root / "dbt.duckdb"
        if self.dbt:
            dbt_root = peers.tables(work, root / "dbt", dbt_warehouse, os.cpu_count() or 1)
            variants["dbt run"] = self.dbt_command(dbt_root, "run")

        def setup_all(name: str) -> None:
            if name == "dbt run":
                dbt_warehouse.with_name(dbt_warehouse.name + ".wal").unlink(missing_ok=True)
                shutil.copy(template, dbt_warehouse)
            else:
                setup(name)

        result = self.interleaved(f"DAG-{n}", variants, setup_all)
        limit = result["limit"].seconds
        if "dbt run" in result:
            result["dbt run"].note = f"{result['dbt run'].seconds / limit:.2f}x limit (peer)"
        result[cold].note = f"{result[cold].seconds / limit:.2f}x limit (parses {n} models too)"
        result[warm].note = f"{result[warm].seconds / limit:.2f}x limit (target <= 1.15x)"

    def _backfill_project(self, name: str, rows: int, days: int, batch: int | None = None):
        root = self.work / name
        first = date(2025, 1, 1)
        work = generate.backfill(root, days, first=first, batch_size=batch)
        template = self._template(f"events-{rows}-{days}", generate.source_sql(rows, days, first))
        spec = root / "limit.json"
        spec.write_text(
            json.dumps(
                {
                    "first": str(first),
                    "days": days,
                    "models": [[m, work.sql[m]] for m in work.models],
                }
            )
        )
        end = first + timedelta(days=days)
        args = ("backfill", "bench.fct_events+", "--start", str(first), "--end", str(end))
        return root, template, spec, args

    def backfill(self, rows: int, days: int) -> None:
        root, template, spec, args = self._backfill_project(f"backfill-{days}", rows, days)
        batched, *_ = self._backfill_project(f"backfill-{days}-batched", rows, days, batch=days)
        warehouses = {
            "limit: per-day loop": root / "loop.duckdb",
            "limit: one INSERT": root / "insert.duckdb",
            "orchestrator backfill": root / "warehouse.duckdb",
            "orchestrator backfill, batch_size": batched / "warehouse.duckdb",
        }
        variants = {
            "limit: per-day loop": self.limit(
                self.python, "loop", str(warehouses["limit: per-day loop"]), str(spec)
            ),
            "limit: one INSERT": self.limit(
                self.python, "insert", str(warehouses["limit: one INSERT"]), str(spec)
            ),
            "orchestrator backfill": self.cli(self.python, root, *args),
            "orchestrator backfill, batch_size": self.cli(self.python, batched, *args),
        }

        if self.dbt:
            work = generate.backfill(self.work / f"backfill-{days}-scratch", days)
            name = "dbt microbatch backfill"
            warehouses[name] = root / "dbt.duckdb"
            dbt_root = peers.microbatch(
                work, root / "dbt", warehouses[name], os.cpu_count() or 1, "2025-01-01"
            )
            variants[name] = self.dbt_command(
                dbt_root, "run", "--event-time-start", args[3], "--event-time-end", args[5]
            )

        def setup(name: str) -> None:
            target = warehouses[name]
            target.with_name(target.name + ".wal").unlink(missing_ok=True)
            shutil.copy(template, target)

        result = self.interleaved(f"BACKFILL-{days}", variants, setup)
        loop = result["limit: per-day loop"].seconds
        one = result["limit: one INSERT"].seconds
        us = result["orchestrator backfill"]
        us.note = f"{us.seconds / loop:.2f}x per-day loop (target <= 1.3x)"
        batch = result["orchestrator backfill, batch_size"]
        batch.note = f"{batch.seconds / one:.2f}x one INSERT (target <= 2x)"
        if "dbt microbatch backfill" in result:
            peer = result["dbt microbatch backfill"]
            peer.note = f"{peer.seconds / loop:.2f}x per-day loop (peer)"

    def spark_backfill(self, rows: int, days: int) -> None:
        """SPARK-BACKFILL-N on Spark local[2], against the same statements sent by hand
        through one spark.sql session (`spark.py`)."""
        from benchmarks import spark

        first = date(2025, 1, 1)
        root = self.work / f"spark-backfill-{days}"
        work = generate.backfill(root, days, first=first)
        (root / "orchestrator.toml").write_text(spark.spark_toml(per_day=True))
        spark.source_files(root, rows, days, first, per_day=True)
        spec = root / "limit.json"
        models = [[m, work.sql[m]] for m in work.models]
        spec.write_text(json.dumps({"first": str(first), "days": days, "models": models}))
        end = first + timedelta(days=days)
        limit = [self.python, str(HERE / "spark.py")]
        variants = {
            "limit: spark.sql per day": [*limit, "backfill-limit", str(root), str(spec)],
            "orchestrator backfill": self.cli(
                self.python,
                root,
                "backfill",
                "bench.fct_events+",
                "--start",
                str(first),
                "--end",
                str(end),
            ),
        }

        def fresh(place: Path):
            def setup(name: str) -> None:
                for lake in ("lake", "limit-lake"):
                    shutil.rmtree(place / lake, ignore_errors=True)

            return setup

        result = self.interleaved(f"SPARK-BACKFILL-{days}", variants, fresh(root))
        us, hand = result["orchestrator backfill"], result["limit: spark.sql per day"]
        us.note = f"{us.seconds / hand.seconds:.2f}x spark.sql per day"

    def spark_dag(self, n: int, dag_rows: int) -> None:
        """SPARK-DAG-N: N table models on Spark local[2], against CREATE TABLE AS by hand."""
        from benchmarks import spark

        first = date(2025, 1, 1)
        limit = [self.python, str(HERE / "spark.py")]

        def fresh(place: Path):
            def setup(name: str) -> None:
                for lake in ("lake", "limit-lake"):
                    shutil.rmtree(place / lake, ignore_errors=True)

            return setup

        root = self.work / f"spark-dag-{n}"
        work = generate.layered(root, n)
        (root / "orchestrator.toml").write_text(spark.spark_toml(per_day=False))
        spark.source_files(root, dag_rows, 365, first, per_day=False)
        spec = root / "limit.json"
        spec.write_text(json.dumps([[m, work.sql[m]] for m in work.models]))
        variants = {
            "limit: spark.sql CTAS": [*limit, "dag-limit", str(root), str(spec)],
            "orchestrator run": self.cli(self.python, root, "run"),
        }
        result = self.interleaved(f"SPARK-DAG-{n}", variants, fresh(root))
        us, hand = result["orchestrator run"], result["limit: spark.sql CTAS"]
        us.note = f"{us.seconds / hand.seconds:.2f}x spark.sql CTAS"

    def memory(self, rows: int, days_list: list[int]) -> None:
        variants, warehouses, templates = {}, {}, {}
        for days in days_list:
            root, template, _spec, args = self._backfill_project(f"memory-{days}", rows, days)
            name = f"{days} partitions"
            variants[name] = self.cli(self.python, root, *args)
            warehouses[name], templates[name] = root / "warehouse.duckdb", template

        def setup(name: str) -> None:
            warehouses[name].with_name(warehouses[name].name + ".wal").unlink(missing_ok=True)
            shutil.copy(templates[name], warehouses[name])

        result = self.interleaved("MEMORY", variants, setup)
        first, *rest = result.values()
        for row in rest:
            row.note = f"peak RSS {row.rss / first.rss:.2f}x of {first.variant} (target: flat)"

    def serve(self, rows: int, days: int) -> None:
        """What a serving copy costs: the batched backfill of the BACKFILL workload, with and
        without `[serve] copy` (a copy of every model table, written and swapped in at the end
        of the run). Both write the state copy readers use, as every writing command does."""
        plain, template, _spec, args = self._backfill_project(
            f"serve-{days}-plain", rows, days, batch=days
        )
        served, *_ = self._backfill_project(f"serve-{days}-copy", rows, days, batch=days)
        with (served / "orchestrator.toml").open("a", encoding="utf-8") as f:
            f.write('[serve]\ncopy = "serving.duckdb"\n')
        roots = {"backfill": plain, "backfill, [serve] copy": served}
        variants = {name: self.cli(self.python, root, *args) for name, root in roots.items()}

        def setup(name: str) -> None:
            root = roots[name]
            for leftover in ("warehouse.duckdb", "warehouse.duckdb.wal", "serving.duckdb"):
                (root / leftover).unlink(missing_ok=True)
            shutil.copy(template, root / "warehouse.duckdb")

        result = self.interleaved(f"SERVE-{days}", variants, setup)
        ours, base = result["backfill, [serve] copy"], result["backfill"]
        size = (served / "serving.duckdb").stat().st_size / 2**20
        ours.note = (
            f"{ours.seconds - base.seconds:+.2f} s for the copy ({size:.0f} MiB), "
            f"{ours.seconds / base.seconds:.2f}x"
        )

    def sources(self, days: int, rows: int) -> None:
        """What recording and comparing source fingerprints costs: a backfill that hashes
        every file it reads, and a `plan` that stats every file of the built days, each
        against the same project with the source declared `immutable`."""
        first = date(2025, 1, 1)
        args = ("--start", str(first), "--end", str(first + timedelta(days=days)))
        roots = {}
        for label, immutable in (("fingerprinted", False), ("immutable", True)):
            roots[label] = self.work / f"sources-{days}-{label}"
            generate.daily_files(roots[label], days, rows, immutable=immutable)
        builds = {
            f"backfill, {label}": self.cli(self.python, root, "backfill", "bench.orders", *args)
            for label, root in roots.items()
        }

        def setup(name: str) -> None:
            warehouse = roots[name.split(", ")[1]] / "warehouse.duckdb"
            for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                leftover.unlink(missing_ok=True)

        built = self.interleaved(f"SOURCES-{days}", builds, setup)
        plans = {
            f"plan, {label}": self.cli(self.python, root, "plan") for label, root in roots.items()
        }
        planned = self.interleaved(f"SOURCES-{days}", plans)
        for rows_of, kind in ((built, "backfill"), (planned, "plan")):
            ours, plain = rows_of[f"{kind}, fingerprinted"], rows_of[f"{kind}, immutable"]
            ours.note = f"{ours.seconds / plain.seconds:.2f}x immutable (the cost of fingerprints)"

    def import_dbt(self, n: int) -> None:
        """IMPORT-N: `orchestrator import dbt` on the DAG-N project in dbt form (each model a
        table with refs and a source), then `plan` on what it wrote (it must load)."""
        work = generate.layered(self.work / f"import-{n}-ours", n)
        dbt_root = peers.tables(work, self.work / f"import-{n}-dbt", self.work / "x.duckdb", 1)
        out = self.work / f"import-{n}-out"
        variants = {
            "orchestrator import dbt": [
                self.python,
                "-m",
                "orchestrator",
                "import",
                "dbt",
                str(dbt_root),
                "--out",
                str(out),
                "--force",
            ],
        }
        result = self.interleaved(f"IMPORT-{n}", variants)
        row = result["orchestrator import dbt"]
        row.note = f"{n} models; target: seconds, not minutes"
        loaded = self.interleaved(
            f"IMPORT-{n}", {"plan on the import": self.cli(self.python, out, "plan")}
        )
        loaded["plan on the import"].note = "the imported project loads and plans"

    def startup(self) -> None:
        root = self.work / "one-model"
        generate.one_model(root)
        variants = {
            "python -c pass": [self.python, "-c", "pass"],
            "orchestrator --help": [self.python, "-m", "orchestrator", "--help"],
            "orchestrator plan (1 model)": self.cli(self.python, root, "plan"),
        }
        result = self.interleaved("START-UP", variants)
        result["orchestrator --help"].note = "target < 0.3 s"


def compiled_python(create: bool) -> str | None:
    """A second environment with the compiled sqlglot (sqlglotc), to report both builds."""
    venv = HERE / ".venv-compiled"
    python = venv / "bin" / "python"
    if not python.exists():
        if not create:
            return None
        print("creating benchmarks/.venv-compiled with orchestrator[fast] ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", f"{REPO}[fast]"], check=True
        )
    return str(python)


def versions(python: str) -> str:
    out = subprocess.run(
        [
            python,
            "-c",
            "import duckdb, sqlglot, orchestrator; print(duckdb.__version__, "
            "sqlglot.__version__, orchestrator.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"duckdb {out[0]}, sqlglot {out[1]}, orchestrator {out[2]}"


def report(suite: Suite, args, started: datetime, took: float) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"`{' '.join(['python benchmarks/run.py', *sys.argv[1:]])}` "
        f"on {started:%Y-%m-%d %H:%M} UTC, took {took / 60:.1f} min.",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {versions(suite.python)}.",
        f"Medians of {suite.repeat} interleaved run(s) each; every number is a fresh process "
        "(start-up included, as users see it). Peak RSS is the process's maximum resident set.",
        "",
        "| workload | variant | median wall | peak RSS | vs limit / target |",
        "|---|---|---:|---:|---|",
    ]
    for row in suite.rows:
        note = f"FAILED: {row.failed}" if row.failed else row.note
        lines.append(
            f"| {row.workload} | {row.variant} | {row.seconds:.3f} s | {row.rss:.0f} MiB | {note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--only",
        default="PARSE,DAG,BACKFILL,MEMORY,SERVE,SOURCES,START-UP,UI,IMPORT",
        help="comma-separated workloads",
    )
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="also measure with sqlglotc (creates benchmarks/.venv-compiled)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    parser.add_argument(
        "--peers",
        type=Path,
        default=None,
        metavar="VENV",
        help="a separate environment with dbt-duckdb: measure dbt on the same workloads",
    )
    args = parser.parse_args()
    size = SIZES[args.size]
    only = {w.strip().upper() for w in args.only.split(",")}
    work = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
    dbt = None
    if args.peers is not None:
        dbt = str(args.peers / "bin" / "dbt")
        if not Path(dbt).exists():
            parser.error(f"--peers {args.peers}: no bin/dbt there (pip install dbt-duckdb)")
    suite = Suite(
        sys.executable, compiled_python(args.compiled), args.repeat or size["repeat"], work, dbt
    )
    started, clock = datetime.utcnow(), time.monotonic()
    try:
        if "PARSE" in only:
            for n in size["parse"]:
                suite.parse(n)
        if "DAG" in only:
            for n in size["dag"]:
                suite.dag(n, size["dag_rows"])
        if "BACKFILL" in only:
            suite.backfill(size["backfill_rows"], size["backfill_days"])
        if "MEMORY" in only:
            suite.memory(size["backfill_rows"], size["memory_days"])
        if "SERVE" in only:
            suite.serve(size["backfill_rows"], size["backfill_days"])
        if "SOURCES" in only:
            suite.sources(size["source_days"], size["source_rows"])
        if "START-UP" in only:
            suite.startup()
        if "IMPORT" in only:
            for n in size["import"]:
                suite.import_dbt(n)
        if only & {"SPARK", "SPARK-BACKFILL"}:
            suite.spark_backfill(size["spark_rows"], size["spark_days"])
        if only & {"SPARK", "SPARK-DAG"}:
            suite.spark_dag(size["spark_dag"], size["dag_rows"])
        if "UI" in only:
            for n in size["ui_dag"]:
                ui.dag(suite, n, size["ui_days"], 100)
            ui.hourly(suite, size["ui_hours"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = report(suite, args, started, time.monotonic() - clock)
    args.out.write_text(text, encoding="utf-8")
    print("\n" + text)
    if any(row.failed for row in suite.rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
