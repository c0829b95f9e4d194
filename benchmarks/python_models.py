"""A Python model, measured (issue 23): a model whose function returns ROWS rows (a pyarrow
table) for each of DAYS daily partitions, built by `orchestrator run` in a fresh process,
against the same Arrow tables written into DuckDB by hand (a DELETE and an INSERT per day, one
process), medians of `--repeat`:

    python benchmarks/python_models.py [--rows 1000000] [--days 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

MODEL = """\
# kind: incremental
# partition_by: day
# start: 2025-01-01
# end: {end}
import pyarrow as pa


def model(ctx):
    n = {rows}
    return pa.table({{
        "id": pa.array(range(n), pa.int64()),
        "day": pa.array([ctx.start.date()] * n, pa.date32()),
        "amount": pa.array([i % 1000 / 10 for i in range(n)], pa.float64()),
    }})
"""

BY_HAND = """\
import sys
from datetime import date, timedelta
import duckdb
import pyarrow as pa

path, rows, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = duckdb.connect(path)
con.execute("create schema if not exists bench")
con.execute("create table if not exists bench.big (id bigint, day date, amount double)")
for d in range(days):
    day = date(2025, 1, 1) + timedelta(days=d)
    n = rows
    rows_of_day = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "day": pa.array([day] * n, pa.date32()),
        "amount": pa.array([i % 1000 / 10 for i in range(n)], pa.float64()),
    })
    con.execute("begin")
    con.execute("delete from bench.big where day = ?", [day])
    con.execute("insert into bench.big select * from rows_of_day")
    con.execute("commit")
con.close()
"""


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    end = (date(2025, 1, 1) + timedelta(days=args.days)).isoformat()
    ours, hand = [], []
    with tempfile.TemporaryDirectory(prefix="bench-python-") as tmp:
        work = Path(tmp)
        for _ in range(args.repeat):
            project = work / "project"
            shutil.rmtree(project, ignore_errors=True)
            (project / "models" / "bench").mkdir(parents=True)
            (project / "models" / "bench" / "big.py").write_text(
                MODEL.format(rows=args.rows, end=end)
            )
            command = [sys.executable, "-m", "orchestrator", "-C", str(project), "run"]
            ours.append(timed(command + ["--threads", "2"], REPO))
            (work / "hand.duckdb").unlink(missing_ok=True)
            script = [sys.executable, "-c", BY_HAND, str(work / "hand.duckdb")]
            hand.append(timed(script + [str(args.rows), str(args.days)], REPO))
    o, h = statistics.median(ours), statistics.median(hand)
    print("| workload | ours | by hand | ratio |")
    print("|---|---|---|---|")
    print(
        f"| PYTHON-{args.days}x{args.rows:,}: a Python model returning {args.rows:,} rows "
        f"(pyarrow) per day over {args.days} days | {o:.2f} s | {h:.2f} s (the same Arrow tables, "
        f"DELETE + INSERT per day) | {o / h:.2f}x |"
    )


if __name__ == "__main__":
    main()
