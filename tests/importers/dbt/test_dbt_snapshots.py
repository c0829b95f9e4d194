"""`import dbt` of snapshots: `{% snapshot %}` blocks (timestamp and check strategies, hard
deletes invalidated) and a YAML snapshot (`relation:`) become our snapshots, in the schema and
columns dbt gives them; a model reading a snapshot keeps working; runs over changing input keep
the history; what ours cannot keep as dbt does needs a hand, by name."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

FILES = {
    "dbt_project.yml": """
        name: crm
        profile: crm
        snapshots:
          crm:
            +target_schema: snapshots
        """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: app
            schema: app
            tables: [{name: users}]
        """,
    "snapshots/users.sql": """
        {% snapshot users_ts %}
        {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at',
                  invalidate_hard_deletes=True) }}
        select * from {{ source('app', 'users') }}
        {% endsnapshot %}

        {% snapshot users_plan %}
        {{ config(unique_key=['id'], strategy='check', check_cols=['plan'],
                  target_database='prod') }}
        select id, plan from {{ source('app', 'users') }}
        {% endsnapshot %}
        """,
    "snapshots/snapshots.yml": """
        snapshots:
          - name: users_all
            relation: source('app', 'users')
            config:
              unique_key: id
              strategy: check
              check_cols: all
              hard_deletes: invalidate
            columns:
              - name: id
                data_tests: [not_null]
        """,
    "models/current_users.sql": """
        select id, plan from {{ ref('users_ts') }} where dbt_valid_to is null
        """,
}

RAW = """
create schema app;
create table app.users as select * from (values
  (1, 'free', timestamp '2024-01-01'), (2, 'pro', timestamp '2024-01-01')) t(id, plan, updated_at);
"""


def test_dbt_snapshots_become_ours_and_keep_history(tmp_path):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in FILES.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 0, done.stdout + done.stderr
    ts = (ours.root / "models/snapshots/users_ts.sql").read_text()
    assert ts.startswith(
        "-- kind: snapshot\n-- unique_key: id\n-- strategy: timestamp\n"
        "-- updated_at: updated_at\n-- hard_deletes: invalidate\n"
    )
    plan = (ours.root / "models/snapshots/users_plan.sql").read_text()
    assert "-- strategy: check\n-- check_cols: plan\n" in plan
    everything = (ours.root / "models/snapshots/users_all.sql").read_text()
    assert "-- check_cols: all\n" in everything and "-- check: not_null(id)" in everything
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "`snapshot.crm.users_ts`" in report and "`snapshots.users_ts`" in report
    assert "target_database 'prod' ignored" in report
    ours.seed(RAW)
    ours.cli("run", now="2024-01-02T00:00", check=True)
    ours.seed(
        "update app.users set plan = 'pro', updated_at = timestamp '2024-01-02' where id = 1;"
        "delete from app.users where id = 2"
    )
    ours.cli("run", now="2024-01-03T00:00", check=True)
    assert ours.query(
        "select id, plan, dbt_valid_to is null from snapshots.users_ts order by id, dbt_valid_from"
    ) == [(1, "free", False), (1, "pro", True), (2, "pro", False)]
    assert ours.query("select * from main.current_users") == [(1, "pro")]
    # check_cols: all sees the plan and the updated_at change; invalidated, bob's row closes
    assert ours.query(
        "select id, count(*), count(*) filter (where dbt_valid_to is null) "
        "from snapshots.users_all group by id order by id"
    ) == [(1, 2, 1), (2, 1, 0)]
    # the plan-only snapshot ignores the deletion (no hard_deletes), as dbt would
    assert ours.query(
        "select id, plan from snapshots.users_plan where dbt_valid_to is null order by id"
    ) == [(1, "pro"), (2, "pro")]


def test_a_snapshot_ours_cannot_keep_as_dbt_does_needs_a_hand(tmp_path):
    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: crm\nprofile: crm\n")
    dbt.write(
        "snapshots/s.sql",
        """
        {% snapshot deleted_rows %}
        {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at',
                  target_schema='snapshots', hard_deletes='new_record') }}
        select 1 as id, now() as updated_at
        {% endsnapshot %}
        """,
    )
    dbt.write("models/m.sql", "select 1 as id")
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 1
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "`snapshot.crm.deleted_rows`" in report
    assert "hard_deletes: new_record" in report and "use invalidate" in report
    assert not (ours.root / "models/snapshots/deleted_rows.sql").exists()


# -- the header a snapshot's config becomes (`snapshots.header`, a pure function) ------------


def test_a_snapshots_config_becomes_our_header():
    from orchestrator.importers.dbt.snapshots import header

    notes: list[str] = []
    config = {
        "unique_key": ["id", "region"],
        "strategy": "check",
        "check_cols": ["name", "tier"],
        "invalidate_hard_deletes": True,
        "target_database": "analytics",
    }
    assert header(config, notes) == [
        "-- kind: snapshot",
        "-- unique_key: id, region",
        "-- strategy: check",
        "-- check_cols: name, tier",
        "-- hard_deletes: invalidate",
    ]
    assert notes == ["target_database 'analytics' ignored: everything is in one warehouse"]
    timestamp = {"unique_key": "id", "strategy": "timestamp", "updated_at": "at"}
    assert header(timestamp, []) == [
        "-- kind: snapshot",
        "-- unique_key: id",
        "-- strategy: timestamp",
        "-- updated_at: at",
    ]


@pytest.mark.parametrize(
    "config,message",
    [
        ({"strategy": "timestamp", "updated_at": "at"}, "a snapshot needs a unique_key"),
        ({"unique_key": "id"}, "a snapshot needs a strategy"),
        (
            {"unique_key": "id || region", "strategy": "check", "check_cols": "all"},
            "ours take column names",
        ),
        (
            {"unique_key": "id", "strategy": "timestamp", "updated_at": "cast(at as date)"},
            "updated_at",
        ),
        (
            {"unique_key": "id", "strategy": "check", "check_cols": "lower(n)"},
            "check_cols 'lower(n)'",
        ),
        (
            {"unique_key": "id", "strategy": "fancy"},
            "strategy 'fancy': ours are timestamp and check",
        ),
        (
            {
                "unique_key": "id",
                "strategy": "check",
                "check_cols": "all",
                "hard_deletes": "new_record",
            },
            "new_record",
        ),
        (
            {
                "unique_key": "id",
                "strategy": "check",
                "check_cols": "all",
                "hard_deletes": "ignore",
                "invalidate_hard_deletes": False,
            },
            "both set: dbt refuses it",
        ),
        ({"snapshot_meta_column_names": {"dbt_valid_to": "to"}}, "renames dbt's columns"),
        ({"dbt_valid_to_current": "'9999-12-31'"}, "dbt_valid_to_current"),
    ],
)
def test_what_ours_cannot_keep_as_dbt_does_is_refused_with_why(config, message):
    from orchestrator.importers.dbt.snapshots import header
    from orchestrator.sql.dbt.yamlfile import ImportProblem

    with pytest.raises(ImportProblem) as refused:
        header(config, [])
    assert message in str(refused.value)
