"""The `-- key: value` header of models and of check files."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.core.partitions import Grain
from orchestrator.project import loader as project_mod
from orchestrator.project.header import header_lines, parse_custom, parse_header
from orchestrator.project.model import Kind


def test_the_header_is_the_leading_comments_blank_lines_allowed():
    text = "\n-- kind: view\n\n  -- owner: x\nselect 1\n-- tags: late\n"
    assert list(header_lines(text)) == [(2, "-- kind: view"), (4, "-- owner: x")]
    fields, lines = parse_header(text, "m.sql")
    assert (fields["kind"], fields["owner"], lines) == (Kind.VIEW, "x", {"kind": 2, "owner": 4})
    assert "tags" not in fields


def test_a_check_file_names_its_model_and_severity():
    text = "-- Checks the totals\n-- model: Marts.Revenue\n-- severity: warn\nselect 1"
    model, check = parse_custom(text, "checks/totals.sql")
    assert model == "marts.revenue"
    assert (check.name, check.kind, check.severity, check.path) == (
        "totals",
        "custom",
        "warn",
        "checks/totals.sql",
    )
    assert check.template == text


def test_prose_in_a_check_file_header_is_not_configuration():
    model, check = parse_custom(
        "-- model: s.m\n-- owner: growth (prose)\n-- Why: totals\nselect 1", "checks/c.sql"
    )
    assert model == "s.m" and check.severity == "block"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("-- model: s.m\n-- severity: loud", 2, "'loud' is not one of: block, warn"),
        (
            "-- model: s.m\n-- severty: warn",
            2,
            "unknown header key 'severty' (did you mean: severity?); accepted keys: model",
        ),
        ("-- description: x\nselect 1\n-- model: s.m", 1, "needs '-- model: <schema.name>'"),
    ],
)
def test_bad_check_file_headers_name_the_line(text, line, message):
    with pytest.raises(ProjectError) as info:
        parse_custom(text, "checks/c.sql")
    assert (info.value.path, info.value.line) == ("checks/c.sql", line)
    assert message in str(info.value)


def test_header_fields(project):
    project.model(
        "marts.f",
        """
        -- kind: incremental
        -- partition_by: event_date
        -- grain: month
        -- start: 2024-01
        -- end: 2025-01
        -- unique_key: id, region
        -- owner: finance
        -- tags: daily, finance
        -- Free text comments are fine.
        select 1 as id, 'eu' as region, date '2024-01-01' as event_date
    """,
    )
    m = project_mod.load(project.root, strict=True).models["marts.f"]
    assert m.kind is Kind.INCREMENTAL
    assert m.grain is Grain.MONTH
    assert (m.start, m.end) == (datetime(2024, 1, 1), datetime(2025, 1, 1))
    assert m.unique_key == ("id", "region")
    assert m.tags == ("daily", "finance")
    assert m.owner == "finance"


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        (
            "-- kind: tabel",
            1,
            "'tabel' is not one of: view, table, incremental, snapshot (did you mean: table?)",
        ),
        ("-- knd: table", 1, "unknown header key 'knd' (did you mean: kind"),
        ("-- key_audit: warn", 1, "'key_audit' applies to a model with unique_key"),
        ("-- kind: incremental\n-- unique_key: id\n-- key_audit: loose", 3, "'loose' is not one"),
        ("-- kind: incremental\n-- partition_by: d\n-- grain: week", 3, "'week' is not one of"),
        (
            "-- kind: incremental\n-- partition_by: d\n-- start: 2024-01-05\n-- grain: month",
            3,
            "not the start of a month",
        ),
        ("-- kind: incremental", 1, "needs 'partition_by"),
        ("-- kind: table\n-- partition_by: d", 2, "only applies to incremental"),
        ("-- kind: incremental\n-- partition_by: bad-col", 2, "not a column name"),
        ("-- kind: table\n-- kind: view", 2, "given twice"),
        (
            "-- kind: incremental\n-- partition_by: d\n-- start: 2024-02-01\n-- end: 2024-01-01",
            4,
            "'end' must be after 'start'",
        ),
        ("-- kind: incremental\n-- partition_by: d\n-- start: soon", 3, "is not a date"),
        # a mistyped key is an error even when capitalised like free text
        (
            "-- kind: incremental\n-- Partiton_by: d",
            2,
            "unknown header key 'partiton_by' (did you mean: partition_by?); accepted keys: kind",
        ),
        ("-- Note: fine\n-- Started: 2024-01-01", 2, "unknown header key 'started'"),
        ("-- Owners: finance", 1, "(did you mean: owner?)"),
        ("-- Grain_Size: day", 1, "unknown header key 'grain_size'"),
        # a check without its colon is a check gone missing, not a comment
        ("-- check warn unique(order_id)", 1, "a check line needs a colon"),
        ("-- owner: x\n-- check not_null(d)", 2, "'-- check: unique(order_id)'"),
        ("-- CHECK WARN unique(d)", 1, "a check line needs a colon"),
        ("-- owner: x\n-- timeout: 9999999999d", 2, "'9999999999d' is too long: at most 3650d"),
        ("-- retry_delay: 99999999d", 1, "'99999999d' is too long: at most 3650d"),
        ("-- timeout: 3651d", 1, "too long"),
        ("-- timeout: 0s", 1, "must be longer than zero"),
        (
            "-- kind: incremental\n-- partition_by: d\n-- grain: year\n-- start: 9999",
            4,
            "out of range",
        ),
    ],
)
def test_bad_headers_name_file_line_and_accepted_values(project, header, line, message):
    project.write("models/s/m.sql", header + "\nselect 1 as d\n")
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root, strict=True)
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == line
    assert message in str(info.value)


def test_header_keys_are_lowercase_and_free_text_passes(project):
    project.model(
        "s.m",
        """
        -- kind: incremental
        -- partition-by: d
        -- Note: this comment is free text
        -- TODO: also free text
        -- Created: 2024-01-01, Status: draft, Returns: one row per day
        -- check the totals by hand before a release
        -- check warn: not_null(d)
        select date '2024-01-01' as d
    """,
    )
    m = project_mod.load(project.root, strict=True).models["s.m"]
    assert m.kind is Kind.INCREMENTAL and m.partition_by == "d"
    assert [(c.name, c.severity) for c in m.checks] == [("not_null(d)", "warn")]


@pytest.mark.parametrize(
    "line",
    ["-- Kind: incremental", "-- KIND: view", "-- CHECK WARN: not_null(d)", "-- Grain: month"],
)
def test_a_key_in_the_wrong_case_with_a_value_of_its_kind_is_an_error_not_prose(project, line):
    project.model("s.m", f"{line}\nselect 1 as d\n")
    with pytest.raises(ProjectError, match="header keys are written in lower case"):
        project_mod.load(project.root, strict=True)


def test_a_documentation_block_at_the_top_of_a_model_is_prose(project):
    """Issue 10, item 10: a real project's models open with a block like this one."""
    project.model(
        "s.int_contacts_resolved",
        """
        -- ==========================================================================
        -- MODEL: int_contacts_resolved
        -- GRAIN: One row per surviving (non-merged) contact.
        -- PURPOSE: Resolve merged contacts to their survivor; keep the latest email.
        -- OWNER: growth team
        -- Kind: see the dbt docs for the rules
        -- note: refreshed nightly
        -- see: https://wiki.example.com/contacts
        -- ==========================================================================
        -- kind: table
        select 1 as contact_id
        """,
    )
    m = project_mod.load(project.root, strict=True).models["s.int_contacts_resolved"]
    assert m.kind is Kind.TABLE and m.owner is None and m.grain.value == "day"
    assert m.header_lines == {"kind": 10}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "-- kind: incremental\n",
            "an incremental model needs 'partition_by: <column>' (the column its windows cover), "
            "or 'unique_key' to merge its whole query by key",
        ),
        (
            "-- kind: incremental\n-- unique_key: id\n-- grain: hour\n",
            "'grain' needs partition_by",
        ),
    ],
)
def test_an_incremental_model_needs_partition_by_or_a_unique_key(project, header, message):
    project.model("s.m", header + "select 1 as id")
    out = project.cli("plan")  # a broken model: held back with its error, exit 1
    assert out.returncode == 1 and message in out.stdout and "broken: models/s/m.sql" in out.stdout


def test_hooks_are_repeatable_lines_that_change_the_version(project):
    project.model("s.m", "-- post_hook: select 1\n-- post_hook: select 2\nselect 1 as x")
    out = project.cli("plan")
    assert out.returncode == 0, out.stderr
    from orchestrator.project.loader import load

    model = load(project.root, strict=True).models["s.m"]
    assert model.post_hooks == ("select 1", "select 2") and model.pre_hooks == ()
    before = model.version
    project.model("s.m", "-- post_hook: select 1\nselect 1 as x")
    assert load(project.root, strict=True).models["s.m"].version != before
