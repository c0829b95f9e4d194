"""A small project to change like code: staged events, a daily mart and a users table that
read them, and a table that reads the source only (what an environment leaves to production).
Shared by the tests of environments, diffs and promotion."""

from __future__ import annotations

from conftest import DAILY_SOURCE

STAGED = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
-- check: not_null(user_id)
select user_id, event_date, amount from raw.events
where event_date >= {{ start }} and event_date < {{ end }}
"""

STAGED_DOUBLED = STAGED.replace(
    "select user_id, event_date, amount",
    "select user_id, event_date, "
    "case when amount % 10 = 0 then amount * 2 else amount end as amount",
)
"""A planted change: every amount divisible by 10 doubled (amounts 0, 10, 20, 30, 40)."""

DAILY = """
-- kind: incremental
-- partition_by: event_date
-- start: 2024-01-01
-- unique_key: event_date
select event_date, sum(amount) as amount, count(*) as events from staging.events
where event_date >= {{ start }} and event_date < {{ end }}
group by 1
"""

USERS = """
-- kind: table
select user_id, sum(amount) as amount from staging.events group by 1
"""

SOURCE_ONLY = """
-- kind: table
select count(*) as events from raw.events
"""


def changes_project(project):
    """The project, seeded; not built yet."""
    project.seed(DAILY_SOURCE)
    project.model("staging.events", STAGED)
    project.model("marts.daily", DAILY)
    project.model("marts.users", USERS)
    project.model("marts.source_only", SOURCE_ONLY)
    return project


PRODUCTION = ("staging.events", "marts.daily", "marts.users", "marts.source_only")


def production_state(project) -> dict[str, list[tuple]]:
    """Production's tables and its state rows about production's models, sorted: what work in
    an environment must leave byte for byte as it was."""
    found = {name: sorted(project.query(f"select * from {name}"), key=repr) for name in PRODUCTION}
    for table in ("partitions", "task_runs", "check_results", "run_plans", "models"):
        column = "name" if table == "models" else "model"
        found[table] = sorted(
            project.query(
                f"select * from orchestrator.{table} where list_contains(?, {column})",
                [list(PRODUCTION)],
            ),
            key=repr,
        )
    return found
