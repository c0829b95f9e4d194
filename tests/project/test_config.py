"""orchestrator.toml: the project-wide settings, durations, and the line an error points at."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import loader as project_mod
from orchestrator.project.config import (
    MAX_DURATION,
    config_line,
    load_settings,
    parse_duration,
    read_config,
)


def test_no_config_file_means_the_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_WAREHOUSE", raising=False)
    assert read_config(tmp_path) == ({}, "")
    settings, raw = load_settings(tmp_path)
    assert raw == {}
    assert settings.warehouse == tmp_path.resolve() / "warehouse.duckdb"
    assert (settings.default_schema, settings.threads, settings.retries) == ("main", None, 2)
    assert (settings.retry_delay, settings.retry_max_delay) == (
        timedelta(seconds=5),
        timedelta(minutes=5),
    )
    assert settings.timeout is None
    assert load_settings(tmp_path, "/elsewhere/w.duckdb")[0].warehouse.as_posix() == (
        "/elsewhere/w.duckdb"
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("threads = 0", "threads must be a positive integer"),
        ("wharehouse = 'x.duckdb'", "unknown setting 'wharehouse' (did you mean: warehouse?)"),
        ("threads = ", "invalid TOML"),
        ("default_schema = 'a b'", "default_schema must be an identifier"),
    ],
)
def test_bad_config(project, toml, message):
    project.write("orchestrator.toml", toml)
    with pytest.raises(ProjectError, match="orchestrator.toml") as info:
        project_mod.load(project.root, strict=True)
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
        project_mod.load(project.root, strict=True)
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
        project_mod.load(project.root, strict=True)
    assert f"orchestrator.toml:{line}: {message}" in str(info.value)


def test_config_line_of_inline_and_sub_tables():
    text = '[sources]\n"raw.a" = { path = "a.csv" }\n\n[sources."raw.b".options]\ndelim = ";"\n'
    assert config_line(text, ("sources", "raw.a"), "path") == 2
    assert config_line(text, ("sources", "raw.b"), "options") == 4
    assert config_line(text, ("sources", "raw.b")) == 1  # not opened: its parent
    assert config_line("x = 1\ny = 2\n[t]\ny = 3\n", (), "y") == 2


def test_defaults_start_applies_to_incremental_models_without_one(project):
    """Issue 10, item 24: a project-wide first partition."""
    project.write("orchestrator.toml", '[defaults]\nstart = "2026-01-01"\n')
    daily = "-- kind: incremental\n-- partition_by: d\nselect {{ start }} as d\n"
    project.model("s.daily", daily)
    project.model("s.own", daily.replace("select", "-- start: 2026-03-01\nselect"))
    project.model("s.monthly", daily.replace("select", "-- grain: month\nselect"))
    project.model("s.t", "select 1 as x\n")
    models = project_mod.load(project.root, strict=True).models
    assert models["s.daily"].start == datetime(2026, 1, 1)
    assert models["s.own"].start == datetime(2026, 3, 1)
    assert models["s.monthly"].start == datetime(2026, 1, 1)
    assert models["s.t"].start is None


@pytest.mark.parametrize(
    ("toml", "line", "message"),
    [
        ('[defaults]\nstart = "soon"\n', 2, "[defaults] start: "),
        ('[defaults]\nbegin = "2026-01-01"\n', 2, "unknown setting 'begin'"),
        ('[defaults]\nstart = "2026-01-15"\n', 2, "for s.monthly (grain: month)"),
    ],
)
def test_a_bad_default_start_names_the_line(project, toml, line, message):
    project.write("orchestrator.toml", toml)
    project.model(
        "s.monthly", "-- kind: incremental\n-- partition_by: d\n-- grain: month\nselect 1 as d\n"
    )
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root, strict=True)
    assert info.value.line == line and message in str(info.value), str(info.value)
    assert str(info.value).startswith(f"{project.root / 'orchestrator.toml'}:{line}: ")
