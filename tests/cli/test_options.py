"""The options every command shares (cli.options): the parsers of --var, --start/--end and --wait
called directly, and the selectors, -s/--exclude and --project/--warehouse after the command
through the real CLI."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
import pytest
from click.testing import CliRunner

from orchestrator.app.workspace import Selection
from orchestrator.cli import options
from orchestrator.cli.options import Seconds
from orchestrator.core.errors import UsageError


@pytest.fixture
def layered(project):
    """staging.a -> staging.b -> marts.c -> marts.d, and marts.lonely; a and c tagged daily."""
    project.model("staging.a", "-- tags: daily\nselect 1 as x")
    project.model("staging.b", "select * from staging.a")
    project.model("marts.c", "-- tags: daily\nselect * from staging.b")
    project.model("marts.d", "select * from marts.c")
    project.model("marts.lonely", "-- tags: daily\nselect 2 as y")
    return project


def _dag_names(project, *args: str) -> list[str]:
    out = project.cli("dag", "--format", "json", *args)
    assert out.returncode == 0, out.stderr
    return [m["name"] for m in json.loads(out.stdout)["models"]]


def test_select_option_and_dbt_operators(layered):
    assert _dag_names(layered, "-s", "1+marts.c") == ["staging.b", "marts.c"]
    assert _dag_names(layered, "--select", "staging.a+2") == ["staging.a", "staging.b", "marts.c"]
    assert _dag_names(layered, "-s", "@staging.b") == [
        "staging.a",
        "staging.b",
        "marts.c",
        "marts.d",
    ]
    assert _dag_names(layered, "-s", "tag:daily,marts.*") == ["marts.lonely", "marts.c"]
    # positional and -s together are a union; one -s may hold several space-separated words
    assert sorted(_dag_names(layered, "lonely", "-s", "staging.a marts.d")) == [
        "marts.d",
        "marts.lonely",
        "staging.a",
    ]
    plan = layered.cli("plan", "-s", "tag:daily,marts.*", "--json")
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)  # marts.c waits for its upstream, not selected
    assert [t["model"] for t in planned["tasks"]] == ["marts.lonely"]
    assert [h["model"] for h in planned["held"]] == ["marts.c"]
    plan = layered.cli("plan", "-s", "+marts.c", "--exclude", "tag:daily,schema:staging", "--json")
    held = json.loads(plan.stdout)["held"]  # staging.a is excluded, so its readers wait
    assert sorted(h["model"] for h in held) == ["marts.c", "staging.b"]
    run = layered.cli("run", "-s", "2+marts.c", "-s", "lonely")
    assert run.returncode == 0, run.stderr
    status = layered.cli("status", "-s", "marts.lonely,tag:daily")
    assert status.returncode == 0 and "marts.lonely" in status.stdout
    assert "marts.c" not in status.stdout
    check = layered.cli("check", "--select", "staging.*")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "-s", "tag:daily,staging.b"], "selector 'tag:daily,staging.b' matches no model"),
        (["run", "-s", "@+marts.c"], "'@' already takes the ancestors"),
        (["dag", "-s", "marts.cc"], "no model matches 'marts.cc' (did you mean: marts.c"),
        (["status", "-s", "tags:daily"], "unknown selector method 'tags:' (did you mean: tag?)"),
        (["backfill", "--start", "2024-01-01", "--end", "2024-01-02"], "backfill needs selectors"),
    ],
)
def test_bad_select_options_exit_2_in_one_line(layered, args, message):
    before = layered.files()
    out = layered.cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert layered.files() == before


def test_project_and_warehouse_are_accepted_after_the_command(project, tmp_path):
    """Issue 10, item 19: as people type them; given after the command, they win."""
    project.model("s.m", "select 1 as x")
    elsewhere = tmp_path / "other.duckdb"
    out = project.cli("run", "--warehouse", str(elsewhere))
    assert out.returncode == 0, out.stderr
    assert elsewhere.exists() and not project.warehouse.exists()
    from subprocess import run as run_process

    done = run_process(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "status",
            "-C",
            str(project.root),
            "--warehouse",
            str(elsewhere),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "s.m" in done.stdout and "up to date" in done.stdout
    # the one after the command wins over the one before it
    out = project.cli(
        "--warehouse", str(tmp_path / "typo.duckdb"), "runs", "--warehouse", str(elsewhere)
    )
    assert out.returncode == 0 and "run" in out.stdout
    out = project.cli("status", "-C", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == f"error: the project directory {tmp_path / 'nowhere'} does not exist"
    )


# -- the parsers, called directly ---------------------------------------------------------------


def test_vars_parse_into_a_dict():
    assert options.parse_vars(("region=eu", "q=a=b", "empty=")) == {
        "region": "eu",
        "q": "a=b",
        "empty": "",
    }
    assert options.parse_vars(()) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("region",), "--var expects NAME=VALUE with NAME an identifier, got 'region'"),
        (("1st=x",), "--var expects NAME=VALUE with NAME an identifier, got '1st=x'"),
        (("a=1", "a=2"), "--var a given twice: pass each var once"),
        (("v=\udcff",), "--var v: the value is not valid UTF-8 text"),
    ],
)
def test_bad_vars_are_refused_by_name(values, message):
    with pytest.raises(UsageError) as info:
        options.parse_vars(values)
    assert str(info.value) == message


def test_a_selection_carries_the_shared_options():
    chosen = options.selection(("s.a",), ("s.b",), ("x=1",), full_refresh=True)
    assert chosen == Selection(("s.a",), ("s.b",), {"x": "1"}, full_refresh=True)


def test_a_range_is_half_open_from_start_to_end():
    assert options.parse_range("backfill", "2024-01-03", "2024-01-06T06") == (
        datetime(2024, 1, 3),
        datetime(2024, 1, 6, 6),
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("soon", "2024-01-02", "backfill: 'soon' is not a date; use YYYY-MM-DD"),
        (
            "2024-01-02",
            "2024-01-02",
            "backfill: --end 2024-01-02 must be after --start 2024-01-02 (!)",
        ),
        (
            "2024-01-05",
            "2024-01-01",
            "backfill: --end 2024-01-01 must be after --start 2024-01-05 (!)",
        ),
    ],
)
def test_a_range_that_is_no_range_names_the_command(start, end, message):
    with pytest.raises(UsageError) as info:
        options.parse_range("backfill", start, end, explain=" (!)")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30", 30.0), ("0", 0.0), ("2.5", 2.5), (Seconds.NO_LIMIT, -1.0), (7.0, 7.0)],
)
def test_wait_takes_seconds_or_no_limit(value, seconds):
    assert Seconds().convert(value, None, None) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("staging.x", "'staging.x' is not a number of seconds; a bare --wait (no time limit)"),
        ("-1", "'-1': SECONDS must be a finite number, 0 or more"),
        ("inf", "'inf': SECONDS must be a finite number, 0 or more"),
        ("nan", "'nan': SECONDS must be a finite number, 0 or more"),
    ],
)
def test_wait_refuses_what_is_no_finite_time(value, message):
    with pytest.raises(click.BadParameter) as info:
        Seconds().convert(value, None, None)
    assert info.value.message.startswith(message)


@options.command("A command to test the shared options with.")
@options.selectors
@options.exclude
@options.wait
@click.pass_context
def echo(ctx, selectors, exclude, wait):
    """Prints what the shared options gave."""
    click.echo(repr((selectors, exclude, wait, ctx.obj["project"])))


@options.command("A command whose selectors are required.")
@options.selectors(required=True)
def needy(selectors):
    """Needs selectors."""


def invoke(command, *args: str):
    return CliRunner().invoke(command, list(args), obj={"project": None, "warehouse": None})


def test_selectors_as_arguments_and_select_options_are_one_union(tmp_path):
    out = invoke(echo, "a", "-s", "b c", "--select", "d", "-x", "e", "-C", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert out.output.strip() == repr((("a", "b c", "d"), ("e",), None, tmp_path))


def test_a_bare_wait_has_no_limit_and_a_number_is_seconds():
    assert invoke(echo, "a", "--wait").output.strip() == repr((("a",), (), -1.0, None))
    assert invoke(echo, "--wait", "5", "a").output.strip() == repr((("a",), (), 5.0, None))


def test_a_command_that_needs_selectors_says_how_to_give_them():
    out = invoke(needy)
    assert isinstance(out.exception, UsageError)
    assert str(out.exception) == "needy needs selectors: SELECTOR... or -s SELECTOR"
    assert invoke(needy, "-s", "a").exit_code == 0


def test_a_project_after_the_command_must_exist(tmp_path):
    out = invoke(echo, "-C", str(tmp_path / "nowhere"))
    assert isinstance(out.exception, UsageError)
    assert str(out.exception) == f"the project directory {tmp_path / 'nowhere'} does not exist"
