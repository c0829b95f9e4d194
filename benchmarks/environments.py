"""Environments, diff and promote, measured (issue 22). Each measurement is a fresh process of
the CLI on a fresh copy of a built project (its warehouse included), medians of `--repeat`:

    python benchmarks/environments.py [--repeat 3] [--dag 1000] [--rows 5000000]

- ENV-DAG: in a built DAG-N, one model of the middle layer changed (a breaking edit):
  `run --env` builds that model and what reads it, nothing else. Against the same edit run in
  production (`run`, which rebuilds the same models in place).
- PROMOTE: `promote` of the models the environment built (the changed model whose readers are
  closest to 100 models), as a whole command and as the promotion's own transaction.
- DIFF: `diff --env` of a table of ROWS rows in 365 daily partitions with a planted change in 1%
  of its rows, against one `EXCEPT ALL` query over the two tables written by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks import generate  # noqa: E402

NOW = "2026-01-01T00:00:00"


def cli(root: Path, *args: str) -> tuple[float, str]:
    """One fresh process of the CLI: (seconds, stdout); a failure stops the benchmark."""
    env = {"ORCHESTRATOR_NOW": NOW, "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return took, done.stdout


def seed(root: Path, statements: list[str]) -> None:
    import duckdb

    con = duckdb.connect(str(root / "warehouse.duckdb"))
    for statement in statements:
        con.execute(statement)
    con.close()


def fresh(built: Path, into: Path) -> Path:
    """A copy of a built project (files and warehouse) to measure one run on."""
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(built, into)
    return into


def descendants(root: Path) -> dict[str, int]:
    """How many models read each model, directly or not (from `dag --format json`)."""
    graph = json.loads(cli(root, "dag", "--format", "json")[1])
    readers: dict[str, set[str]] = {m["name"]: set() for m in graph["models"]}
    for m in graph["models"]:
        for up in m.get("upstream", []):
            readers[up].add(m["name"])
    counts = {}
    for name in readers:
        seen, stack = set(), [name]
        while stack:
            for r in readers[stack.pop()]:
                if r not in seen:
                    seen.add(r)
                    stack.append(r)
        counts[name] = len(seen)
    return counts


def edit(root: Path, model: str) -> None:
    """A breaking edit: one more filter (on the model's WHERE, or around what it reads)."""
    schema, table = model.split(".")
    path = root / "models" / schema / f"{table}.sql"
    text = path.read_text()
    if re.search(r"(?im)^where ", text):
        text = re.sub(r"(?im)^where ", "where id % 11 <> 3 and ", text, count=1)
    else:
        text = re.sub(
            r"(?is)\bfrom (\S+)",
            r"from (select * from \1 where id % 11 <> 3) as edited",
            text,
            count=1,
        )
    path.write_text(text)


def env_dag(args, work: Path) -> list[str]:
    built = work / "dag"
    generate.layered(built, args.dag)
    seed(built, generate.source_sql(100_000, 30, date(2025, 1, 1)))
    cli(built, "run")
    counts = descendants(built)
    middle = [m for m in counts if m.startswith(f"l{5}.")]
    changed = max(middle, key=lambda m: counts[m])
    near_100 = min(counts, key=lambda m: abs(counts[m] - 99))
    lines = []
    root = fresh(built, work / "one")
    edit(root, changed)
    tasks = len(json.loads(cli(root, "plan", "--env", "b1", "--json")[1])["tasks"])
    env_times, prod_times = [], []
    for _ in range(args.repeat):
        for kind in ("env", "prod"):
            root = fresh(built, work / "one")
            edit(root, changed)
            if kind == "env":
                env_times.append(cli(root, "run", "--env", "b1")[0])
            else:
                prod_times.append(cli(root, "run")[0])
    env_t, prod_t = statistics.median(env_times), statistics.median(prod_times)
    lines.append(
        f"| ENV-DAG-{args.dag}: `run --env` after one edit of {changed} ({counts[changed]} "
        f"readers) | {tasks} tasks = 1 + {counts[changed]} | "
        f"{env_t:.2f} s | the same edit run in production: {prod_t:.2f} s | "
        f"{env_t / prod_t:.2f}x |"
    )
    promote_times, inner = [], []
    for _ in range(args.repeat):
        root = fresh(built, work / "one")
        edit(root, near_100)
        cli(root, "run", "--env", "p1")
        took, out = cli(root, "promote", "p1")
        promote_times.append(took)
        inner.append(float(re.search(r"the transaction ([\d.]+)s", out)[1]))
        models = int(re.search(r"promoted (\d+) model", out)[1])
    lines.append(
        f"| PROMOTE-{models}: `promote` of the {models} models an environment built "
        f"(one edit of {near_100}) | {models} tables and their partition rows, one transaction | "
        f"{statistics.median(promote_times):.2f} s (the command) | "
        f"{statistics.median(inner):.3f} s (the transaction) | - |"
    )
    return lines


DIFF_LIMIT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute(
    "select count(*) from (select * from bench__d1.fct_events except all "
    "select * from bench.fct_events)"
).fetchone()[0])
"""


def diff(args, work: Path) -> list[str]:
    built = work / "diff"
    generate.backfill(built, 365)
    seed(built, generate.source_sql(args.rows, 365, date(2025, 1, 1)))
    cli(built, "run")
    fact = built / "models" / "bench" / "fct_events.sql"
    fact.write_text(
        fact.read_text().replace(
            "select id, user_id, grp, amount, d",
            "select id, user_id, grp, case when id % 100 = 0 then amount + 1 else amount end "
            "as amount, d",
        )
    )
    cli(built, "run", "--env", "d1")
    ours, limit = [], []
    for _ in range(args.repeat):
        ours.append(cli(built, "diff", "--env", "d1", "fct_events", "--json")[0])
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", DIFF_LIMIT, str(built / "warehouse.duckdb")],
            check=True,
            capture_output=True,
        )
        limit.append(time.perf_counter() - started)
    found = json.loads(cli(built, "diff", "--env", "d1", "fct_events", "--json")[1])
    data = found["models"][0]["data"]
    ours_t, limit_t = statistics.median(ours), statistics.median(limit)
    return [
        f"| DIFF-{args.rows // 1_000_000}M: `diff --env` of a {args.rows:,}-row table in 365 "
        f"partitions, 1% of rows changed | {data['only_in_env']:,} rows only here, "
        f"{data['only_in_production']:,} only in production, per partition, with samples | "
        f"{ours_t:.2f} s | one `EXCEPT ALL` by hand: {limit_t:.2f} s | {ours_t / limit_t:.2f}x |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dag", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-env-") as tmp:
        work = Path(tmp)
        lines = [
            "| workload | what it does | ours | against | ratio |",
            "|---|---|---|---|---|",
            *env_dag(args, work),
            *diff(args, work),
        ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
