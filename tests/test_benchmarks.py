"""The benchmark suite runs end to end at tiny sizes (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.slow
def test_the_suite_runs_at_tiny_sizes_and_writes_its_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--size", "tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = out.read_text()
    for workload in (
        "PARSE-40",
        "DAG-10",
        "BACKFILL-10",
        "MEMORY",
        "SERVE-10",
        "SOURCES-10",
        "UI-20",
        "UI-HOURLY-300",
        "IMPORT-20",
    ):
        assert f"| {workload} |" in text
    assert "FAILED" not in text
    assert "x limit (target <= 1.5x)" in text and "x one INSERT (target <= 2x)" in text
    assert "x immutable (the cost of fingerprints)" in text
    assert "| START-UP |" in text and "s for the copy (" in text


def test_peer_projects_say_the_same_with_refs(tmp_path):
    """The dbt side of --peers (dbt is not installed here): same SQL, refs and sources."""
    sys.path.insert(0, str(REPO))
    from benchmarks import generate, peers

    work = generate.layered(tmp_path / "ours", 30)
    root = peers.tables(work, tmp_path / "dbt", tmp_path / "w.duckdb", 2)
    first = (root / "models" / f"{work.models[0].split('.')[1]}.sql").read_text()
    assert "{{ source('raw', 'events') }}" in first and "raw.events" not in first
    last = work.models[-1]
    text = (root / "models" / f"{last.split('.')[1]}.sql").read_text()
    assert "{{ ref('m" in text and "materialized='table'" in text
    assert not any(m in text for m in work.models)  # every model name became a ref
    assert "path: " + str(tmp_path / "w.duckdb") in (root / "profiles.yml").read_text()

    daily = generate.backfill(tmp_path / "ours-b", 10)
    root = peers.microbatch(daily, tmp_path / "dbt-b", tmp_path / "b.duckdb", 2, "2025-01-01")
    agg = (root / "models" / "daily_revenue.sql").read_text()
    assert "incremental_strategy='microbatch'" in agg and "begin='2025-01-01'" in agg
    assert "{{ ref('fct_events') }}" in agg and "{start}" not in agg and "where d >=" not in agg


def test_the_dbt_compat_comparison_names_each_difference(tmp_path):
    import duckdb

    from benchmarks.dbt_compat import compare

    for name, rows in (("dbt", "(1, 'a'), (2, 'b'), (2, 'b')"), ("ours", "(1, 'a'), (2, 'b')")):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        con.execute(f"create table t as select * from (values {rows}) v(id, x)")
        con.execute("create table same as select 1 as id")
        if name == "dbt":
            con.execute("create table only_dbt as select 1 as id")
            con.execute("create table typed as select 1::int as id")
        else:
            con.execute("create table typed as select 1::bigint as id")
        con.close()
    problems = compare(tmp_path / "dbt.duckdb", tmp_path / "ours.duckdb")
    assert problems == [
        "main.only_dbt: dbt built it, we did not",
        "main.t: 3 rows in dbt's, 2 in ours",
        "main.t: rows only in dbt's, e.g. [(2, 'b')]",
        "main.typed: columns differ: dbt [('id', 'INTEGER')] / ours [('id', 'BIGINT')]",
    ]


def test_the_dbt_compat_comparison_reports_a_missing_warehouse_of_ours(tmp_path):
    import duckdb

    from benchmarks.dbt_compat import compare

    con = duckdb.connect(str(tmp_path / "dbt.duckdb"))
    con.execute("create table a as select 1 as id")
    con.execute("create schema s")
    con.execute("create table s.b as select 1 as id")
    con.close()
    counted: list[str] = []
    problems = compare(tmp_path / "dbt.duckdb", tmp_path / "no-such" / "w.duckdb", counted)
    assert counted == ["main.a", "s.b"]
    assert problems == [
        f"main.a: dbt built it, we did not (we have no warehouse: {tmp_path}/no-such/w.duckdb)",
        f"s.b: dbt built it, we did not (we have no warehouse: {tmp_path}/no-such/w.duckdb)",
    ]
    assert not (tmp_path / "no-such").exists()


def _package_repo(root, name: str, tag: str, extra: str = ""):
    """A bare git repository holding a dbt package named `name`, tagged `tag`."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    (work / "dbt_project.yml").write_text(f"name: {name}\nversion: '1.0'\n{extra}")
    (work / "macros").mkdir()
    (work / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}")

    def git(*args, cwd=work):
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    git("tag", tag)
    return work


def test_the_dbt_compat_harness_exports_hub_git_and_local_packages(tmp_path):
    from benchmarks.dbt_compat import _HUB, _export_packages

    assert _HUB["dbt-labs/codegen"] == "dbt-labs+dbt-codegen"
    assert _HUB["dbt-labs/dbt_project_evaluator"] == "dbt-labs+dbt-project-evaluator"
    mirrors = tmp_path / "mirrors"
    for repo, name, tag in (
        ("dbt-labs+dbt-codegen", "codegen", "0.12.1"),
        ("someone+macros-pkg", "their_macros", "v2.0.0"),
    ):
        work = _package_repo(tmp_path / "src", name, tag)
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(work), str(mirrors / repo / "repo")], check=True
        )
    origin = tmp_path / "origin"
    (origin / "shared").mkdir(parents=True)
    (origin / "shared" / "dbt_project.yml").write_text("name: shared_macros\nversion: '1'\n")
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "packages.yml").write_text(
        "packages:\n"
        "  - package: dbt-labs/codegen\n    version: ['>=0.12.0', '<1.0.0']\n"
        "  - git: https://github.com/someone/macros-pkg.git\n    revision: v2.0.0\n"
        "  - local: ../origin/shared\n"
    )
    done = _export_packages(copy, mirrors, tmp_path / "dbtproject")
    assert done == [
        "dbt-labs/codegen@0.12.1",
        "https://github.com/someone/macros-pkg.git@v2.0.0",
        "local ../origin/shared",
    ]
    installed = copy / "dbt_packages"
    assert (installed / "codegen" / "macros" / "m.sql").exists()
    assert (installed / "their_macros" / "macros" / "m.sql").exists()  # named as it names itself
    assert (installed / "shared_macros" / "dbt_project.yml").exists()

    (copy / "packages.yml").write_text("packages:\n  - git: https://gitlab.com/x/absent.git\n")
    with pytest.raises(RuntimeError, match="https://gitlab.com/x/absent.git: no mirror at"):
        _export_packages(copy, mirrors, tmp_path / "dbtproject")


def test_the_dbt_compat_harness_gives_vars_to_dbt_and_to_the_import():
    from benchmarks.dbt_compat import _vars_args

    assert _vars_args(None) == []
    assert _vars_args("{schema_id: pr_7}") == ["--vars", "{schema_id: pr_7}"]


def test_the_dbt_compat_comparison_tells_float_rounding_from_a_difference(tmp_path):
    # a sum of doubles taken in another order differs in its last bits: said apart, as the
    # time a tool ran is; a difference beyond that is still one
    import duckdb

    from benchmarks.dbt_compat import compare

    for name, total, other in (("dbt", "0.1::double + 0.2::double", 1.3), ("ours", "0.3", 1.5)):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        con.execute(f"create table s as select 1 as id, ({total})::double as total")
        con.execute(f"create table d as select 1 as id, {other}::double as total")
        con.close()
    assert compare(tmp_path / "dbt.duckdb", tmp_path / "ours.duckdb") == [
        "main.d: rows only in dbt's, e.g. [(1, 1.3)]",
        "main.d: rows only in ours, e.g. [(1, 1.5)]",
        "main.s: float: equal but for the last bits of a double (summation order), in total",
    ]


def test_the_dbt_compat_comparison_tells_a_run_start_written_as_text(tmp_path):
    # '{{ run_started_at }}' as a column: text holding the moment each tool ran
    from datetime import UTC, datetime

    import duckdb

    from benchmarks.dbt_compat import compare

    windows = {}
    for name, hour in (("dbt", 10), ("ours", 11)):
        at = datetime(2026, 1, 1, hour, 30, tzinfo=UTC)
        windows["theirs" if name == "dbt" else "ours"] = [
            at.replace(minute=0),
            at.replace(minute=59),
        ]
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        con.execute(f"create table t as select 1 as id, '{at}' as run_started")
        con.close()
    assert compare(tmp_path / "dbt.duckdb", tmp_path / "ours.duckdb", windows=windows) == [
        "main.t: clock: equal but for the time each tool ran, in run_started"
    ]


@pytest.mark.slow
def test_the_environments_benchmark_runs_at_tiny_sizes(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "environments.py"),
            "--dag", "30", "--rows", "20000", "--repeat", "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].split(":")[0].strip() for row in rows[1:]]
    assert names[0] == "ENV-DAG-30" and names[1].startswith("PROMOTE-") and names[2] == "DIFF-0M"


@pytest.mark.slow
def test_the_python_models_benchmark_runs_at_tiny_sizes():
    pytest.importorskip("pyarrow", reason="the benchmark's model returns pyarrow tables")
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "python_models.py"),
            "--rows", "100", "--days", "2", "--repeat", "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| PYTHON-2x100:" in out.stdout
