"""Hostile and broken input, generated: every case ends in exit 2 with one line naming the file
or value, no traceback, and the warehouse and project untouched. The few generated inputs that
are not malformed are listed in VALID_ENOUGH, each with how it ends and why."""

from __future__ import annotations

import random

import duckdb
import pytest
from conftest import ProjectDir

# generated fault injection over hundreds of broken inputs, each through the real CLI: slow
pytestmark = pytest.mark.slow

BASE = """-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- owner: fuzz
select d, amount from raw.t
where d >= {{ start }} and d < {{ end }}
"""

STATEMENTS = [
    "drop table raw.t",
    "delete from raw.t",
    "insert into raw.t values (1)",
    "create table x as select 1",
    "update raw.t set amount = 0",
    "attach 'other.db' as o",
    "copy raw.t to 'out.csv'",
    "select 1; drop table raw.t",
    "pragma version",
    "install httpfs",
    "set threads = 1",
    "checkpoint",
    "call dbgen(sf = 0.01)",
]
HEADER_KEYS = [
    "kind",
    "grain",
    "start",
    "end",
    "partition_by",
    "unique_key",
    "retries",
    "timeout",
    "retry_delay",
    "check",
    "check warn",
    "knd",
    "tags",
    "depends_on",
]
HEADER_VALUES = [
    "",
    "bogus",
    "table;drop",
    "2024-13-45",
    "-1",
    "99999",
    "10x",
    "week",
    "d d",
    "'",
    "unique(",
    "row_count(min=abc)",
    "expression(>>)",
    "0s",
    "not_null()",
    "2024-01-01T25",
    "incremental",
    "s.nope",
]
JINJA = [
    "{{",
    "{% if %}",
    "{{ var( }}",
    "{{ nope }}",
    "{% for x in %}",
    "{{ var('a' }}",
    "{# open",
    "{{ 1/0 }}",
    "{{ var() }}",
    "{{ range(10**9)|list|length }}",
    "{{ ''.__class__.__mro__ }}",
]


def cases(seed: int = 20261125) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    body = BASE.encode()
    out: list[tuple[str, bytes]] = [
        ("empty file", b""),
        ("only a header", b"-- kind: table\n-- owner: x\n"),
        ("not UTF-8", body.replace(b"amount", b"am\xff\xfeount")),
        ("NUL byte", body.replace(b"select", b"sel\x00ect")),
        ("latin-1 comment", b"-- caf\xe9\n" + body),
    ]
    out += [(f"statement: {s}", s.encode()) for s in STATEMENTS]
    out += [(f"jinja: {j}", body.replace(b"raw.t", j.encode())) for j in JINJA]
    for _ in range(14):
        cut = rng.randrange(len(BASE) - 60, len(BASE) - 1)
        out.append((f"truncated at {cut}", body[:cut]))
    for i in range(14):
        text = BASE
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(100, len(text))
            text = (
                text[:pos]
                + rng.choice(
                    ["(", ")", "'", '"', ",", ";", "select", "*", "--", "/*", "from", "=="]
                )
                + text[pos:]
            )
        out.append((f"mangled {i}", text.encode()))
    for _ in range(16):
        key, value = rng.choice(HEADER_KEYS), rng.choice(HEADER_VALUES)
        out.append((f"header {key}: {value!r}", f"-- {key}: {value}\n{BASE}".encode()))
    # values past what a clock or a calendar holds (after the seeded ones: they stay the same)
    for line in (
        "timeout: 9999999999d",
        "retry_delay: 99999999d",
        "timeout: 0s",
        "end: 9999-12-31",
        "grain: year\n-- end: 9999",
    ):
        out.append((f"header {line!r}", f"-- {line}\n{BASE}".encode()))
    return out


VALID_ENOUGH = {
    # The generated inputs that are not malformed, so that `run` legitimately ends otherwise
    # than exit 2: case id (the generator is seeded) -> exit code, and why.
    #
    # The truncation leaves SQL that parses as one SELECT but names what does not exist.
    # DuckDB finds that out only when it binds the query, as the task runs: a permanent task
    # failure (exit 1, recorded, not retried), as for any model with a wrong column name.
    "truncated at 85": 1,  # "select d,": no FROM, so there is no column d
    "truncated at 87": 1,  # "select d, a": the same
    "truncated at 96": 1,  # "select d, amount fro": 'fro' is an alias, still no FROM
    "truncated at 100": 1,  # "... from ra": there is no table ra
    "truncated at 133": 1,  # "... where d >= {{ start }} and d": a DATE as a condition
    # The truncation leaves a valid query that does not keep to its window's end: the window
    # guard refuses the partitions it would overfill (exit 1) and publishes the others.
    "truncated at 105": 1,  # "... from raw.t\nw": 'w' is an alias, no filter at all
    "truncated at 127": 1,  # "... where d >= {{ start }}": no upper bound
    # A tag may be any name: these headers are valid, and the model runs.
    "header tags: '0s'": 0,
    "header tags: 'bogus'": 0,
    "header tags: 'week'": 0,
}


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory) -> ProjectDir:
    project = ProjectDir(tmp_path_factory.mktemp("fuzz"))
    project.seed(
        "create schema raw; create table raw.t as select date '2024-01-01' + "
        "range::int as d, range as amount from range(5)"
    )
    project.model("s.good", "select 1 as one")
    assert project.cli("run").returncode == 0
    return project


@pytest.mark.parametrize(("name", "content"), cases(), ids=[c[0] for c in cases()])
def test_broken_model_files(fuzz_project, name, content):
    project = fuzz_project
    path = project.root / "models" / "s" / "fuzzed.sql"
    path.write_bytes(content)
    try:
        out = project.cli("run")
        assert "Traceback" not in out.stderr, out.stderr
        if name in VALID_ENOUGH:
            assert out.returncode == VALID_ENOUGH[name], out.stdout + out.stderr
            if out.returncode:
                assert "s.fuzzed" in out.stdout
            return
        # a broken model, not a broken project: held back with its file and line, exit 1,
        # never written (0 succeeded), and the rest of the project is left as it was
        assert out.returncode == 1, out.stdout + out.stderr
        assert "blocked: s.fuzzed[all]: broken: models/s/fuzzed.sql" in out.stdout, out.stdout
        assert "0 succeeded, 1 blocked" in out.stdout, out.stdout
        assert "error:" not in out.stderr, out.stderr  # (its alert has no route here)
        assert ("good",) in project.query("select table_name from duckdb_tables()")
    finally:
        path.unlink()


def test_valid_enough_cases_are_generated(fuzz_project):
    """VALID_ENOUGH names cases the generator makes: a stale entry would exempt nothing."""
    assert set(VALID_ENOUGH) <= {name for name, _ in cases()}


def test_plan_rejects_the_same_cases(fuzz_project):
    for name, content in cases()[:20]:
        path = fuzz_project.root / "models" / "s" / "fuzzed.sql"
        path.write_bytes(content)
        try:
            out = fuzz_project.cli("plan")
        finally:
            path.unlink()
        assert out.returncode == (0 if name in VALID_ENOUGH else 1), (name, out.stderr)
        if name not in VALID_ENOUGH:
            assert "broken: models/s/fuzzed.sql" in out.stdout, (name, out.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backfill", "s.good", "--start", "2024-02-01", "--end", "2024-01-01"], "must be after"),
        (
            ["backfill", "s.good", "--start", "2024-02-30", "--end", "2024-03-01"],
            "not a valid date",
        ),
        (["backfill", "s.good", "--start", "20240101", "--end", "2024-03-01"], "is not a date"),
        (["backfill", "s.good", "--start", "2026-10-01", "--end", "9999-12-31"], "out of range"),
        (["backfill", "s.good", "--start", "2024-01-01", "--end", "2024-01-01"], "must be after"),
        (["run", "nothing.here"], "no model matches"),
        (["run", "tag:none"], "matches no model"),
        (["run", "--var", "=x"], "--var expects NAME=VALUE"),
        (["run", "--var", "a b=1"], "--var expects NAME=VALUE"),
        (["run", "--threads", "-3"], "--threads"),
        (["run", "--wait", "soon"], "--wait"),
        (["run", "--wait", "s.good"], "'s.good' is not a number of seconds; a bare --wait"),
        (["run", "--wait", "nan"], "'nan': SECONDS must be a finite number"),
        (["run", "--wait=inf"], "'inf': SECONDS must be a finite number"),
        (["run", "--wait", "-5"], "Invalid value for '--wait': '-5': SECONDS must be 0 or more"),
        (["check", "--wait=-0.5"], "'-0.5': SECONDS must be 0 or more"),
        (["runs", "--limit", "0"], "--limit"),
        (["retry", "--run", "999"], "no run with id 999"),
        (["freshness", "raw.nope"], "no declared source named 'raw.nope'"),
        (["sql", "drop table s.good"], "read-only"),
    ],
)
def test_bad_arguments(fuzz_project, args, message):
    before = fuzz_project.files()
    out = fuzz_project.cli(*args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert fuzz_project.files() == before


@pytest.mark.parametrize("value", ["x'; drop table raw.t; --", "'", "a\\'b", ";", '"', "$$"])
def test_var_values_with_quotes_are_data_not_sql(project, value):
    project.model("s.v", "select {{ var('v') }} as v")
    assert project.cli("run", "--var", f"v={value}").returncode == 0
    assert project.query("select v from s.v") == [(value,)]


@pytest.mark.parametrize(
    "toml",
    [
        "this is not toml",
        "[sources",
        "threads = 'many'",
        "warehouse = 5",
        "[vars]\n1 = {",
        "retries = 100",
        "timeout = 'forever'",
        "timeout = '0s'",
        "retry_delay = '9999999999d'",
        "[sources.'raw.x']\nloaded_at = 'a b'\npath='x.csv'",
    ],
)
def test_broken_config(project, toml):
    project.model("s.t", "select 1 as x")
    project.write("orchestrator.toml", toml)
    before = project.files()
    out = project.cli("run")
    assert out.returncode == 2 and "orchestrator.toml" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert project.files() == before


def test_missing_and_corrupt_warehouse(project):
    project.model("s.t", "select 1 as x")
    for command in (["status"], ["runs"], ["sql", "select 1"]):
        out = project.cli(*command)
        assert "Traceback" not in out.stderr
    missing = project.cli("sql", "select 1")
    assert missing.returncode == 2 and "no warehouse at" in missing.stderr
    assert not project.warehouse.exists()
    project.warehouse.write_bytes(b"this is not a duckdb file" * 100)
    before = project.files()
    for command in (["run"], ["sql", "select 1"], ["status"], ["runs"]):
        out = project.cli(*command)
        assert out.returncode == 2, (command, out.stderr)
        assert "cannot open the warehouse" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert project.files() == before


def test_state_written_by_an_older_version_is_migrated(project):
    from orchestrator.state import SCHEMA_VERSION

    project.model("s.t", "select 1 as x")
    project.cli("run", check=True)
    con = duckdb.connect(str(project.warehouse))
    # turn the state back into version 1: no waiting/blocked counts, no readiness view
    con.execute("alter table orchestrator.runs drop column waiting")
    con.execute("alter table orchestrator.runs drop column blocked")
    con.execute("drop view orchestrator.readiness")
    con.execute("drop table orchestrator.run_plans")
    con.execute("update orchestrator.meta set value = '1' where key = 'schema_version'")
    con.close()
    project.model("s.t", "select 2 as x")
    out = project.cli("run")
    assert out.returncode == 0, out.stderr
    assert project.query("select value from orchestrator.meta where key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert project.query("select x from s.t") == [(2,)]
    assert project.query("select count(*) from orchestrator.readiness") == [(1,)]


def test_state_from_a_newer_version_is_refused(project):
    project.model("s.t", "select 1 as x")
    project.cli("run", check=True)
    con = duckdb.connect(str(project.warehouse))
    con.execute("update orchestrator.meta set value = '99' where key = 'schema_version'")
    con.close()
    before = project.files()
    out = project.cli("run")
    assert out.returncode == 2 and "newer than this orchestrator" in out.stderr
    assert project.files() == before


def test_state_schema_version_that_is_no_number_is_refused(project):
    project.model("s.t", "select 1 as x")
    project.cli("run", check=True)
    con = duckdb.connect(str(project.warehouse))
    con.execute("update orchestrator.meta set value = 'abc' where key = 'schema_version'")
    con.close()
    before = project.files()
    out = project.cli("run")
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "state schema version is 'abc' (in orchestrator.meta)" in out.stderr
    assert project.files() == before


def test_truncated_warehouse_that_still_opens_gets_one_line(project, tmp_path):
    """A truncated file (a copy cut short) can open, and fail only when a state page is read:
    it gets the same one line as a file that does not open, and nothing is written."""
    project.seed(
        "create schema raw; create table raw.t as select date '2024-01-01' + "
        "(range % 9)::int as d, range as amount from range(300000)"
    )
    project.model(
        "s.fact",
        "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-01\n"
        "select d, amount from raw.t where d >= {{ start }} and d < {{ end }}",
    )
    project.cli("run", check=True)
    full = project.warehouse.read_bytes()
    opens_then_fails = []
    for tenth in range(1, 10):
        cut = tmp_path / f"cut{tenth}" / "w.duckdb"
        cut.parent.mkdir()
        cut.write_bytes(full[: len(full) * tenth // 10])
        try:
            con = duckdb.connect(str(cut), read_only=True)
        except duckdb.Error:
            continue  # fails at open: covered by test_missing_and_corrupt_warehouse
        try:
            con.execute("select * from orchestrator.runs").fetchall()
            con.execute("select * from orchestrator.partitions").fetchall()
        except duckdb.Error:
            opens_then_fails.append(cut)
        finally:
            con.close()
    assert opens_then_fails, "no cut point opened and then failed: make the warehouse bigger"
    for cut in opens_then_fails[:2]:
        before = cut.read_bytes()
        for command in (["status"], ["runs"], ["runs", "1"], ["run"], ["plan"]):
            out = project.cli("--warehouse", str(cut), *command)
            assert out.returncode == 2, (cut, command, out.stderr)
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1
            assert lines[0].startswith(f"error: cannot open the warehouse {cut}: ")
        assert cut.read_bytes() == before
        assert sorted(p.name for p in cut.parent.iterdir()) == ["w.duckdb", "w.duckdb.lock"]
