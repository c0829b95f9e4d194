"""Every built-in check passing and failing on real data, custom checks, write-audit-publish."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import checks

SOURCE = """
create schema if not exists raw;
create or replace table raw.t as select * from (values
    (1, 'ok',   5.0, date '2024-01-01'),
    (2, 'late', 7.0, date '2024-01-01'),
    (3, 'ok',   1.0, date '2024-01-02')
) v(id, status, amount, d);
create or replace table raw.dim as select * from (values (1), (2), (3)) v(id);
"""

NOW_START, NOW_END = datetime(2024, 1, 1), datetime(2024, 1, 3)

MODEL = """
-- kind: incremental
-- partition_by: d
-- start: 2024-01-01
-- end: 2024-01-03
-- check: {check}
select id, status, amount::decimal(18,2) as amount, d from raw.t
where d >= {{{{ start }}}} and d < {{{{ end }}}}
"""

BAD_ROWS = {
    "not_null(id)": "insert into raw.t values (null, 'ok', 1.0, date '2024-01-02')",
    "unique(id)": "insert into raw.t values (1, 'ok', 1.0, date '2024-01-02')",
    "accepted_values(status, 'ok', 'late')": "insert into raw.t values (4, 'nope', 1, "
    "date '2024-01-02')",
    "relationships(id, raw.dim.id)": "insert into raw.t values (9, 'ok', 1.0, date '2024-01-02')",
    "row_count(min=1, max=2)": "insert into raw.t values (5, 'ok', 1, date '2024-01-02'), "
    "(6, 'ok', 1, date '2024-01-02')",
    "expression(amount >= 0)": "insert into raw.t values (7, 'ok', -1.0, date '2024-01-02')",
    "columns(id INTEGER, amount DECIMAL(18,3))": None,  # fails on any data: wrong scale
}


@pytest.mark.parametrize("check", list(BAD_ROWS))
def test_builtin_check_passes_on_good_data_and_fails_on_bad(project, check):
    project.seed(SOURCE)
    if check.startswith("columns"):
        good = "columns(id INTEGER, amount DECIMAL(18,2))"
        project.model("s.m", MODEL.format(check=good))
        assert project.api_run().exit_code == 0
        project.model("s.m", MODEL.format(check=check))
        result = project.api_run(backfill=(NOW_START, NOW_END))
        assert result.count("check_failed") == 2
        assert "amount is DECIMAL(18,2), expected DECIMAL(18,3)" in result.outcomes[0].error
        return
    project.model("s.m", MODEL.format(check=check))
    assert project.api_run().exit_code == 0
    assert (
        project.scalar("select count(*) from orchestrator.check_results where status = 'pass'") == 2
    )
    project.seed(BAD_ROWS[check])
    result = project.api_run(backfill=(NOW_START, NOW_END))
    status = {o.key: o.status for o in result.outcomes}
    assert status == {"2024-01-01": "success", "2024-01-02": "check_failed"}
    assert result.exit_code == 1
    failed = project.query(
        "select check_name, severity, failing_rows, sample from "
        "orchestrator.check_results where status = 'fail'"
    )
    assert len(failed) == 1
    name, severity, failing, sample = failed[0]
    assert name == check and severity == "block" and failing >= 1
    if sample is not None:
        assert json.loads(sample)[0]["d"] == "2024-01-02"


def table_digest(project, table: str) -> str:
    rows = project.query(f"select * from {table} order by all")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_failing_blocking_check_keeps_published_data_identical_and_skips_downstream(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="expression(amount >= 0)"))
    project.model("s.total", "select sum(amount) as total from s.m")
    assert project.api_run().exit_code == 0
    before = {t: table_digest(project, t) for t in ("s.m", "s.total")}
    project.seed("update raw.t set amount = -amount where id = 3")
    result = project.api_run(backfill=(NOW_START, NOW_END))
    by = {(o.model, o.key): o for o in result.outcomes}
    assert by[("s.m", "2024-01-02")].status == "check_failed"
    assert by[("s.total", "all")].status == "skipped"
    assert "failed a check" in by[("s.total", "all")].reason
    assert {t: table_digest(project, t) for t in before} == before
    assert (
        project.scalar(
            "select status from orchestrator.partitions where model = 's.m' and "
            "partition_key = '2024-01-02'"
        )
        == "check_failed"
    )


def test_warn_check_publishes_and_is_recorded(project):
    project.seed(SOURCE)
    project.model(
        "s.m", MODEL.format(check="expression(amount >= 0)").replace("-- check:", "-- check warn:")
    )
    project.seed("update raw.t set amount = -amount where id = 3")
    result = project.api_run()
    assert result.exit_code == 0
    assert project.scalar("select count(*) from s.m") == 3
    assert project.query(
        "select partition_key, status, failing_rows from "
        "orchestrator.check_results where status <> 'pass'"
    ) == [("2024-01-02", "warn", 1)]
    assert result.outcomes[1].checks[0].status == "warn"


def test_row_count_change_against_previous_partitions(project):
    project.seed("""
        create schema raw;
        create table raw.t as select i, date '2024-01-01' + (i // 10)::int as d
        from range(40) r(i) where not (i >= 30 and i < 38);
    """)  # 10, 10, 10, then 2 rows
    project.model(
        "s.m",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        -- end: 2024-01-05
        -- check: row_count_change(max_pct=50, partitions=3)
        select * from raw.t where d >= {{ start }} and d < {{ end }}
    """,
    )
    result = project.api_run(threads=1)
    status = {o.key: o.status for o in result.outcomes}
    assert status == {
        "2024-01-01": "success",
        "2024-01-02": "success",
        "2024-01-03": "success",
        "2024-01-04": "check_failed",
    }
    assert "80.0% change" in next(o.error for o in result.outcomes if o.key == "2024-01-04")


def test_custom_check_sees_the_partition_and_the_new_data(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="not_null(id)"))
    project.write(
        "checks/no_late.sql",
        """
        -- model: s.m
        -- description: nothing late on the second day
        select * from s.m where status = 'late' and d >= {{ start }} and d < {{ end }}
    """,
    )
    result = project.api_run()
    # the only 'late' row is on 2024-01-01: that partition alone is held back
    status = {o.key: o.status for o in result.outcomes}
    assert status == {"2024-01-01": "check_failed", "2024-01-02": "success"}
    sample = project.scalar(
        "select sample from orchestrator.check_results where "
        "check_name = 'no_late' and status = 'fail'"
    )
    assert json.loads(sample) == [{"id": 2, "status": "late", "amount": 7.0, "d": "2024-01-01"}]


def test_check_command_runs_against_published_data(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="expression(amount >= 0)"))
    project.cli("run", check=True)
    ok = project.cli("check")
    assert ok.returncode == 0 and "ok s.m  1 check on 2 partitions: all passed" in ok.stdout
    # published data goes bad behind the orchestrator's back: `check` notices, builds nothing
    project.seed("update s.m set amount = -1 where id = 3")
    bad = project.cli("check")
    assert bad.returncode == 1
    assert "x  s.m  1 check on 2 partitions: 1 passed, 1 failed" in bad.stdout
    assert "failed: expression(amount >= 0) [2024-01-02]" in bad.stdout
    assert project.scalar("select count(*) from orchestrator.runs where command = 'check'") == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-- check: not_nul(id)", "unknown check 'not_nul' (did you mean: not_null?)"),
        ("-- check: unique()", "unique expects column names"),
        ("-- check: row_count(min=x)", "min must be a number"),
        ("-- check: row_count(max=1, min=5)", "max is below min"),
        ("-- check: expression(amount >=)", "not a SQL expression"),
        ("-- check: relationships(id, dim)", "relationships expects a column and model.column"),
        ("-- check: accepted_values(status, ok)", "is not a literal"),
        ("-- check: columns(id)", "columns expects 'name TYPE' pairs"),
        (
            "-- check: columns(id BIGINT, amount VARCHR)",
            "columns: amount VARCHR: Catalog Error: Type with name VARCHR does not exist! "
            "(did you mean: VARCHAR?)",
        ),
        ("-- check: columns(amount DECIMAL(40,2))", "DECIMAL type width must be between 1 and 38"),
        (
            "-- check: relationships(id, nosuch.model.id)",
            "relationships: no model or source named 'nosuch.model'; a table loaded by "
            'something else is declared as [sources."nosuch.model"] in orchestrator.toml',
        ),
        ("-- check: not_null", "expected a check like not_null(col)"),
    ],
)
def test_bad_checks_name_the_file_and_line(project, line, message):
    project.write("models/s/m.sql", f"-- kind: table\n{line}\nselect 1 as id")
    out = project.cli("plan")  # the model is broken: held back with its error, exit 1
    assert out.returncode == 1
    assert "broken: models/s/m.sql:2: bad check:" in out.stdout
    assert message in out.stdout


def test_custom_check_for_unknown_model(project):
    project.model("s.m", "select 1 as id")
    project.write("checks/c.sql", "-- model: s.mm\nselect 1")
    with pytest.raises(ProjectError, match=r"checks/c.sql:1: model: no model named 's.mm'"):
        from orchestrator.project import loader as project_mod

        project_mod.load(project.root, strict=True)


def test_check_parsing_keeps_commas_inside_expressions():
    c = checks.parse("expression(coalesce(a, 0) + coalesce(b, 0) >= 0)", "warn", "m.sql", 1)
    assert c.expression == "coalesce(a, 0) + coalesce(b, 0) >= 0"
    assert c.severity is checks.Severity.WARN


def test_full_refresh_checks_judge_the_rebuilt_table_not_the_published_one(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="not_null(id)"))
    project.write(
        "checks/small.sql",
        """
        -- model: s.m
        select * from s.m where amount > 9 and d >= {{ start }} and d < {{ end }}
    """,
    )
    assert project.api_run().exit_code == 0
    before = table_digest(project, "s.m")
    project.seed("update raw.t set amount = 9.9 where id = 3")
    result = project.api_run("s.m", full_refresh=True)
    assert result.count("check_failed") == 1
    assert table_digest(project, "s.m") == before


def test_columns_check_understands_type_aliases(project):
    project.seed(
        "create schema raw; create table raw.x as select 1.5::real as r, "
        "'a'::varchar as v, 1::bigint as b"
    )
    project.model("s.x", "-- check: columns(r REAL, v VARCHAR(10), b INT64)\nselect * from raw.x")
    assert project.api_run().exit_code == 0


def test_warn_check_problems_never_fail_the_run(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="not_null(id)"))
    project.write("checks/broken.sql", "-- model: s.m\n-- severity: warn\nselect * from nope")
    result = project.api_run()
    assert result.exit_code == 0
    assert project.query(
        "select distinct status from orchestrator.check_results where check_name = 'broken'"
    ) == [("error",)]


def test_vars_in_check_files_are_required_up_front(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="not_null(id)"))
    project.write(
        "checks/limit.sql",
        "-- model: s.m\n-- severity: warn\n"
        "select * from s.m where amount > {{ var('limit') }}::double",
    )
    out = project.cli("run")
    assert out.returncode == 2 and "s.m uses var('limit')" in out.stderr
    assert project.cli("run", "--var", "limit=6").returncode == 0
    assert (
        project.scalar(
            "select failing_rows from orchestrator.check_results where "
            "check_name = 'limit' and status = 'warn'"
        )
        == 1
    )


def test_row_count_change_on_a_view_has_no_baseline(project):
    project.seed(SOURCE)
    project.model(
        "s.v", "-- kind: view\n-- check: row_count_change(max_pct=10)\nselect * from raw.t"
    )
    assert project.api_run().exit_code == 0
    project.model(
        "s.v", "-- kind: view\n-- check: row_count_change(max_pct=10)\nselect *, 1 as x from raw.t"
    )
    assert project.api_run().exit_code == 0


def test_status_names_check_failed_and_skipped(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="expression(amount >= 0)"))
    project.model("s.total", "select sum(amount) as total from s.m")
    project.seed("update raw.t set amount = -1 where id = 3")
    project.cli("run", now="2024-01-10")
    out = project.cli("status", now="2024-01-10").stdout
    assert "1 check_failed (2024-01-02)" in out
    assert "1 skipped" in out


def test_status_says_a_rejected_rebuild_kept_the_last_good_data(project):
    project.seed(SOURCE)
    project.model("s.m", MODEL.format(check="expression(amount >= 0)"))
    project.model("s.t", "-- check: expression(amount >= 0)\nselect * from raw.t")
    project.cli("run", now="2024-01-10", check=True)
    assert project.cli("status", now="2024-01-10").stdout.count("up to date") == 2
    project.seed("update raw.t set amount = -1 where id = 3")
    out = project.cli("backfill", "s.m", "s.t", "--start", "2024-01-01", "--end", "2024-01-03")
    assert out.returncode == 1
    lines = {
        line.split()[0]: line
        for line in project.cli("status", now="2024-01-10").stdout.splitlines()[2:]
    }
    assert "1 check_failed (2024-01-02), last good data kept" in lines["s.m"]
    assert "up to date" not in lines["s.m"]
    assert "1 check_failed, last good data kept" in lines["s.t"]


def test_warnings_are_recorded_when_a_blocking_check_rejects_the_data(project):
    project.seed(SOURCE)
    project.model(
        "s.m",
        MODEL.format(check="expression(amount >= 0)").replace(
            "-- check:", "-- check warn: accepted_values(status, 'ok')\n-- check:"
        ),
    )
    project.seed("update raw.t set amount = -1 where id = 3")
    result = project.api_run()
    assert {o.key: o.status for o in result.outcomes} == {
        "2024-01-01": "success",
        "2024-01-02": "check_failed",
    }
    rows = project.query(
        "select partition_key, check_name, severity, status, failing_rows "
        "from orchestrator.check_results order by partition_key, severity"
    )
    assert rows == [
        ("2024-01-01", "expression(amount >= 0)", "block", "pass", 0),
        ("2024-01-01", "accepted_values(status, 'ok')", "warn", "warn", 1),
        ("2024-01-02", "expression(amount >= 0)", "block", "fail", 1),
        ("2024-01-02", "accepted_values(status, 'ok')", "warn", "pass", 0),
    ]
    # the alert and the task's error are about the blocking check, not the warning
    failed = next(o for o in result.outcomes if o.status == "check_failed")
    assert failed.error.startswith("expression(amount >= 0) failed on 2024-01-02")


def test_check_tally_reads_naturally():
    from orchestrator.cli.report import _check_tally

    def result(name, key, status):
        check = checks.parse(f"not_null({name})", "block", "m.sql", 1)
        return checks.Result(check, key, status)

    assert _check_tally([result("a", "all", "pass")]) == "1 check: passed"
    assert _check_tally([result("a", "all", "pass"), result("b", "all", "pass")]) == (
        "2 checks: all passed"
    )
    assert _check_tally(
        [result("a", "2024-01-01", "fail"), result("a", "2024-01-02", "error")]
        + [result("b", k, "warn") for k in ("2024-01-01", "2024-01-02")]
    ) == ("2 checks on 2 partitions: 0 passed, 1 failed, 2 warned, 1 could not run")


def test_relationships_must_point_at_something_the_project_knows(project):
    project.seed(SOURCE)
    project.model("s.dim", "select * from raw.dim")
    project.model("s.m", "-- check: relationships(id, s.dimm.id)\nselect * from raw.t")
    out = project.cli("plan")
    assert out.returncode == 1
    assert (
        "broken: models/s/m.sql:1: bad check: relationships: no model or source named 's.dimm' "
        "(did you mean: s.dim, s.m?)" in out.stdout
    )
    # a model, a declared source, or a table of a schema only loaders write: all accepted
    for target in ("s.dim", "dim", "raw.dim", "raw.other", "ext.codes"):
        project.write("orchestrator.toml", '[sources."ext.codes"]\n')
        project.model("s.m", f"-- check: relationships(id, {target}.id)\nselect * from raw.t")
        assert project.cli("plan").returncode == 0, target
