"""Access: roles from [access] allow and deny commands per user, protected models need an admin,
denials are recorded with the user, and without [access] everything is allowed."""

from __future__ import annotations

import pytest

from orchestrator.project import access
from orchestrator.project.model import Access

ROLES = """
[access]
admin = ["alice"]
operator = ["bob", "ci"]
viewer = ["*"]
"""


@pytest.fixture
def shared(project):
    project.write("orchestrator.toml", ROLES)
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select {{ start }} as d, 1 as n
        """,
    )
    project.seed("select 1")  # an existing warehouse, where denials are recorded
    return project


def as_user(project, user: str, *args: str):
    return project.cli(*args, env={"ORCHESTRATOR_USER": user})


@pytest.mark.parametrize(
    ("user", "args", "allowed"),
    [
        ("carol", ("status",), True),
        ("carol", ("plan",), True),
        ("carol", ("run",), False),
        ("carol", ("run", "--dry-run"), True),
        ("bob", ("run",), True),
        ("bob", ("backfill", "s.daily", "--start", "2024-01-01", "--end", "2024-01-03"), False),
        ("bob", ("run", "--full-refresh"), False),
        ("alice", ("backfill", "s.daily", "--start", "2024-01-01", "--end", "2024-01-03"), True),
        ("alice", ("run", "--full-refresh"), True),
    ],
)
def test_roles_allow_and_deny(shared, user, args, allowed):
    out = as_user(shared, user, *args)
    if allowed:
        assert out.returncode == 0, out.stderr
    else:
        assert out.returncode == 4
        assert out.stderr.startswith(f"error: {user} may not ")
        assert len(out.stderr.strip().splitlines()) == 1
        assert shared.query("select who, decision from orchestrator.audit") == [(user, "denied")]
        assert shared.scalar("select count(*) from orchestrator.runs") == 0


def test_denied_run_writes_no_data_and_says_which_role(shared):
    out = as_user(shared, "carol", "run")
    assert "carol may not run: it needs the operator role, and carol is a viewer" in out.stderr
    assert shared.query(
        "select count(*) from information_schema.tables where table_schema = 's'"
    ) == [(0,)]


def test_a_denial_creates_no_warehouse(project):
    project.write("orchestrator.toml", ROLES)
    project.model("s.t", "select 1 as x")
    assert as_user(project, "carol", "run").returncode == 4
    assert not project.warehouse.exists()


def test_every_run_records_who_triggered_it(shared):
    as_user(shared, "bob", "run")
    as_user(shared, "alice", "backfill", "s.daily", "--start", "2024-01-02", "--end", "2024-01-03")
    assert shared.query("select command, who from orchestrator.runs order by run_id") == [
        ("run", "bob"),
        ("backfill", "alice"),
    ]


def test_protected_models_need_an_admin(shared):
    shared.model("s.ledger", "-- protected: true\nselect 1 as x")
    out = as_user(shared, "bob", "run")
    assert out.returncode == 4
    assert "bob may not write protected model(s) s.ledger" in out.stderr
    assert shared.query("select who, command from orchestrator.audit") == [("bob", "run")]
    assert as_user(shared, "bob", "run", "--exclude", "s.ledger").returncode == 0
    assert as_user(shared, "alice", "run").returncode == 0
    assert shared.query("select x from s.ledger") == [(1,)]


def test_unlisted_user_without_a_wildcard_is_denied_even_reading(project):
    project.write("orchestrator.toml", '[access]\nadmin = ["alice"]\n')
    project.model("s.t", "select 1 as x")
    out = as_user(project, "mallory", "status")
    assert out.returncode == 4 and "mallory is not listed in [access]" in out.stderr


def test_without_access_everything_is_allowed(project):
    project.model("s.t", "select 1 as x")
    out = as_user(project, "anyone", "run", "--full-refresh")
    assert out.returncode == 0, out.stderr


def test_roles_include_the_ones_below():
    rules = Access({"admin": ("a",), "operator": ("o",), "viewer": ("*",)})
    assert rules.role_of("a") == "admin" and rules.role_of("x") == "viewer"
    assert rules.allows("a", "viewer") and rules.allows("o", "operator")
    assert not rules.allows("o", "admin") and not rules.allows("x", "operator")
    assert access.check(None, "x", "backfill") is None
    assert access.needed("some-new-command") == "admin"  # unknown commands fail closed


def test_the_ui_and_the_report_are_for_viewers(shared, tmp_path):
    """The UI shows what a viewer may see: someone without even that role is refused before
    anything listens or is written."""
    shared.write("orchestrator.toml", ROLES.replace('viewer = ["*"]', 'viewer = ["carol"]'))
    report = tmp_path / "r.html"
    out = as_user(shared, "carol", "report", "-o", str(report))
    assert out.returncode == 0, out.stderr
    assert report.exists()
    for args in (("ui", "--port", "0"), ("report", "-o", str(tmp_path / "other.html"))):
        out = as_user(shared, "dave", *args)
        assert out.returncode == 4
        assert out.stderr.strip() == (
            f"error: dave may not {args[0]}: it needs the viewer role, "
            "and dave is not listed in [access]"
        )
    assert not (tmp_path / "other.html").exists()
