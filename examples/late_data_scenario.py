"""A morning when the data is not all there, replayed through the CLI.

It is 2026-10-22 07:00 UTC. Files up to 2026-10-21 have landed, except that:

- the payment processor's file for 2026-10-20 is late, and
- the refunds file for 2026-10-21 arrived with a changed schema (`amount` became
  `refund_amount`, `reason` became `reason_code`).

`orchestrator run` publishes every day it can and holds back the revenue of those two days: the
late day is `waiting` (a later run picks it up, the run still succeeds), the drifted day is
`blocked` (someone must act, the run fails). The dashboard waits for complete data instead of
showing a partial month. Then the late file lands and the refunds producer re-sends its file in
the agreed format, and the next run publishes the rest.

    python examples/late_data_scenario.py            # in a temporary copy of the project
    python examples/late_data_scenario.py --keep DIR # leave the copy (and its warehouse) in DIR
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-10-22T07:00"
LATE = "payments/payments_2026-10-20.csv"
DRIFTED = "refunds/refunds_2026-10-21.csv"


def copy_project(target: Path) -> None:
    for name in ("models", "checks"):
        shutil.copytree(REPO / name, target / name)
    shutil.copy(REPO / "orchestrator.toml", target / "orchestrator.toml")
    shutil.copytree(REPO / "examples" / "data", target / "examples" / "data")
    shutil.copy(REPO / "examples" / "refresh_dashboard.py", target / "examples")  # a step


def arrive_until(data: Path, last_day: str) -> None:
    """Only files up to `last_day` have landed by the morning of the scenario."""
    for path in sorted(data.rglob("*_????-??-??.csv")):
        if path.stem[-10:] > last_day:
            path.unlink()


def drift(path: Path) -> None:
    """The producer renames two columns."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    renamed = {"amount": "refund_amount", "reason": "reason_code"}
    rows[0] = [renamed.get(c, c) for c in rows[0]]
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def orchestrator(project: Path, *args: str) -> int:
    print(f"\n$ orchestrator {' '.join(args)}", flush=True)
    env = dict(os.environ, ORCHESTRATOR_NOW=NOW)
    env.pop("ORCHESTRATOR_WAREHOUSE", None)
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "--project", str(project), *args],
        env=env,
        cwd=project,
    )
    print(f"(exit {done.returncode})", flush=True)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the copy here and keep it")
    args = parser.parse_args(argv)
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"{args.keep} is not empty")
        project = args.keep
        project.mkdir(parents=True, exist_ok=True)
        return scenario(project)
    with tempfile.TemporaryDirectory(prefix="late-data-") as tmp:
        return scenario(Path(tmp))


def scenario(project: Path) -> int:
    copy_project(project)
    data = project / "examples" / "data"
    arrive_until(data, "2026-10-21")
    late_file = data / LATE
    held_back = project / "late.csv"
    shutil.move(late_file, held_back)
    original = (data / DRIFTED).read_bytes()
    drift(data / DRIFTED)

    print(f"== {NOW} UTC: {LATE} is late, {DRIFTED} changed its columns")
    first = orchestrator(project, "run")
    orchestrator(project, "status", "marts.revenue_daily+")
    orchestrator(
        project,
        "sql",
        "select model, state, built, waiting, blocked "
        "from orchestrator.readiness where model like 'marts.%' or model like 'reporting.%'",
    )

    print("\n== the late file lands; the refunds producer re-sends its file as agreed")
    shutil.move(held_back, late_file)
    (data / DRIFTED).write_bytes(original)
    second = orchestrator(project, "run")
    print(f"\nfirst run exit {first} (a blocked source needs someone), second run exit {second}")
    return 0 if (first, second) == (1, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
