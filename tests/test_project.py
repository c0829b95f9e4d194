from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator import project as project_mod
from orchestrator.config import MAX_DURATION, config_line, parse_duration
from orchestrator.errors import ProjectError
from orchestrator.model import Kind
from orchestrator.partitions import Grain


def test_bare_models_folder_needs_no_config(project):
    project.model("staging.a", "select 1 as x")
    project.write("models/top.sql", "select 2 as y")
    project.write("models/marts/finance/deep.sql", "select 3 as z")
    p = project_mod.load(project.root)
    assert set(p.models) == {"staging.a", "main.top", "marts.deep"}
    assert p.settings.warehouse == project.root / "warehouse.duckdb"
    assert p.models["staging.a"].kind is Kind.TABLE


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
    m = project_mod.load(project.root).models["marts.f"]
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
            "'tabel' is not one of: view, table, incremental (did you mean: table?)",
        ),
        ("-- knd: table", 1, "unknown header key 'knd' (did you mean: kind"),
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
        project_mod.load(project.root)
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == line
    assert message in str(info.value)


def test_non_utf8_file_is_an_error_with_line(project):
    path = project.root / "models" / "s" / "m.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"select 1\n-- caf\xe9\n")
    with pytest.raises(ProjectError, match=r"models/s/m.sql:2: file is not UTF-8"):
        project_mod.load(project.root)


@pytest.mark.parametrize(
    ("relpath", "message"),
    [
        ("models/s/bad-name.sql", "not a SQL identifier"),
        ("models/orchestrator/m.sql", "reserved"),
    ],
)
def test_bad_model_names(project, relpath, message):
    project.write(relpath, "select 1")
    with pytest.raises(ProjectError, match=message):
        project_mod.load(project.root)


def test_two_files_one_name(project):
    project.write("models/s/m.sql", "select 1")
    project.write("models/s/sub/m.sql", "select 2")
    with pytest.raises(ProjectError, match="defined twice"):
        project_mod.load(project.root)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("threads = 0", "threads must be a positive integer"),
        ("wharehouse = 'x.duckdb'", "unknown setting 'wharehouse' (did you mean: warehouse?)"),
        ("threads = ", "invalid TOML"),
        ("[sources.orders]\npath = 'x.csv'", "must be schema.table"),
        ("[sources.'raw.x']\npath = 'x.txt'", "cannot tell the format"),
        ("[sources.'raw.x']\npath = 'x.txt'\nformat = 'xml'", "format must be one of"),
        ("[sources.'raw.x']\npaht = 'x.csv'", "unknown setting 'paht'"),
        ("default_schema = 'a b'", "default_schema must be an identifier"),
    ],
)
def test_bad_config(project, toml, message):
    project.write("orchestrator.toml", toml)
    with pytest.raises(ProjectError, match="orchestrator.toml") as info:
        project_mod.load(project.root)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("toml", "line", "message"),
    [
        ('retries = 1\ntimeout = "0s"', 2, "timeout: '0s' must be longer than zero"),
        ('retry_delay = "0m"', 1, "retry_delay: '0m' must be longer than zero"),
        ('# limits\n\nretry_max_delay = "0s"', 3, "retry_max_delay: '0s' must be longer"),
        ('timeout = "9999999999d"', 1, "timeout: '9999999999d' is too long: at most 3650d"),
        ('threads = 2\nretries = 99\n[vars]\nretries = "x"', 2, "retries must be a whole"),
        ('threads = 2\n"threads" = 0', None, "invalid TOML"),  # a duplicate key
        ("threads = 0", 1, "threads must be a positive integer"),
    ],
)
def test_bad_project_defaults_name_the_config_line(project, toml, line, message):
    project.write("orchestrator.toml", toml)
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root)
    assert info.value.path == str(project.root / "orchestrator.toml")
    assert info.value.line == line
    assert message in str(info.value)


def test_durations_are_bounded_and_the_timer_can_hold_the_longest():
    import threading

    longest = parse_duration(f"{MAX_DURATION.days}d")
    assert longest == MAX_DURATION
    assert longest.total_seconds() < threading.TIMEOUT_MAX
    with pytest.raises(ValueError, match="too long"):
        parse_duration("1" + "0" * 5000 + "s")  # no int() of 5000 digits


def test_version_ignores_comments_but_not_data_settings(project):
    path = project.model("s.m", "select 1 as d")
    v1 = project_mod.load(project.root).models["s.m"].version
    path.write_text("-- owner: someone\n-- a comment\nSELECT 1   AS d -- trailing\n")
    assert project_mod.load(project.root).models["s.m"].version == v1
    path.write_text("-- kind: view\nselect 1 as d")
    assert project_mod.load(project.root).models["s.m"].version != v1


def test_header_keys_tolerate_case_and_dashes_but_free_text_passes(project):
    project.model(
        "s.m",
        """
        -- Kind: incremental
        -- partition-by: d
        -- Note: this comment is free text
        -- TODO: also free text
        -- Created: 2024-01-01, Status: draft, Returns: one row per day
        -- check the totals by hand before a release
        -- CHECK WARN: not_null(d)
        select date '2024-01-01' as d
    """,
    )
    m = project_mod.load(project.root).models["s.m"]
    assert m.kind is Kind.INCREMENTAL and m.partition_by == "d"
    assert [(c.name, c.severity) for c in m.checks] == [("not_null(d)", "warn")]


def test_byte_order_mark_is_ignored(project):
    path = project.root / "models" / "s" / "m.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes("\ufeff-- kind: view\nselect 1 as x\n".encode())
    assert project_mod.load(project.root).models["s.m"].kind is Kind.VIEW


@pytest.mark.parametrize(
    ("header", "body", "line", "name"),
    [
        ("-- kind: table", "select 1 as d\nfrom t\nwhere d >= {{ start }}", 4, "start"),
        ("-- kind: view", "select 1 as d\nwhere {{ end }} is not null", 3, "end"),
        ("", "select 1 as d\n{% if true %}where d < {{ end }}{% endif %}", 2, "end"),
        ("-- kind: table", "select {{ start ~ '' }} as d\n{# a comment #}", 2, "start"),
    ],
)
def test_window_in_a_table_or_view_is_an_error(project, header, body, line, name):
    project.write("models/s/m.sql", f"{header}\n{body}\n" if header else f"{body}\n")
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root)
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == line
    assert f"{{{{ {name} }}}} is the partition window of an incremental model" in str(info.value)


def test_window_names_a_template_sets_itself_are_not_the_window(project):
    project.model("s.m", "{% set start = 1 %}select {{ start }} as d")
    assert project_mod.load(project.root).models["s.m"].kind is Kind.TABLE


def test_version_folds_in_the_settings_of_the_sources_read(project):
    config = '[sources."raw.files"]\npath = "data/*.csv"\n'
    project.write("orchestrator.toml", config)
    project.model("s.reader", "select * from raw.files")
    project.model("raw.unqualified", "select * from files")  # found through the search path
    project.model("s.other", "select 1 as one")

    def versions():
        return {n: m.version for n, m in project_mod.load(project.root).models.items()}

    first = versions()
    for changed in (
        '[sources."raw.files"]\npath = "elsewhere/*.csv"\n',
        config + 'format = "csv"\noptions = { delim = ";" }\n',
        config + 'columns = { id = "BIGINT" }\n',
        config.replace("*.csv", "*.json"),
    ):
        project.write("orchestrator.toml", changed)
        now = versions()
        assert now["s.reader"] != first["s.reader"], changed
        assert now["raw.unqualified"] != first["raw.unqualified"], changed
        assert now["s.other"] == first["s.other"]
    project.write("orchestrator.toml", config + 'owner = "someone"\nwarn_after = "1h"\n')
    assert versions() == first  # who owns it and how fresh it must be do not change data


CONFIG_LINES = """\
# path, warn_after, cron and folders are explained in the README
[sources."raw.a"]
path = "a.csv"
warn_after = "1h"

[sources."raw.b"]      # the one with the mistake
"path" = "b.csv"
{source_b}

[jobs.first]
select = "s.m"
cron = "0 6 * * *"

[jobs.second]
select = "s.m"
{job_second}

[owners.x]
log = "x.jsonl"
folders = ["marts"]

[owners.y]
log = "y.jsonl"
{owner_y}

[access]
admin = ["alice"]
{access}
"""
GOOD = {"source_b": "", "job_second": 'cron = "0 7 * * *"', "owner_y": "", "access": ""}


@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        ({"source_b": 'warn_after = "soon"'}, 8, "source 'raw.b': warn_after:"),
        ({"source_b": "options.delim = [5]"}, 8, "source 'raw.b': options must be a table"),
        ({"source_b": 'paht = "x"'}, 8, "source 'raw.b': unknown setting 'paht'"),
        ({"job_second": 'cron = "61 6 * * *"'}, 16, "job 'second': "),
        ({"job_second": 'cron = "0 7 * * *"\ndeadline = "25:00"'}, 17, "job 'second': deadline"),
        ({"owner_y": 'folders = "marts"'}, 24, "owner 'y': folders must be a list"),
        ({"owner_y": 'webhook = "ftp://x"'}, 24, "owner 'y': webhook must be"),
        ({"access": 'viewer = "*"'}, 28, "[access]: viewer must be a list"),
    ],
)
def test_config_errors_point_at_the_line_in_their_own_table(project, bad, line, message):
    """The same key appears earlier in a comment and in other tables: the error must still
    name the line of the table that holds the mistake."""
    project.write("orchestrator.toml", CONFIG_LINES.format(**(GOOD | bad)))
    project.model("s.m", "select 1 as x")
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root)
    assert f"orchestrator.toml:{line}: {message}" in str(info.value)


def test_config_line_of_inline_and_sub_tables():
    text = '[sources]\n"raw.a" = { path = "a.csv" }\n\n[sources."raw.b".options]\ndelim = ";"\n'
    assert config_line(text, ("sources", "raw.a"), "path") == 2
    assert config_line(text, ("sources", "raw.b"), "options") == 4
    assert config_line(text, ("sources", "raw.b")) == 1  # not opened: its parent
    assert config_line("x = 1\ny = 2\n[t]\ny = 3\n", (), "y") == 2
