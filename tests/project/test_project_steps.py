"""project.steps: `[steps.NAME]` parsed into values, each mistake one error naming its line;
`after` checked against the DAG; `per` defaults to partition for models of one grain."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import steps


def parse(text: str, root: Path):
    return steps.parse(tomllib.loads(text), root / "orchestrator.toml", text, root)


def test_a_step_parses(tmp_path):
    text = """
[steps.refresh]
command = "sh -c 'echo hi' --x"
after = "marts.a marts.b"
per = "run"
retries = 1
retry_delay = "2s"
timeout = "1m"
owner = "bi"
env = { A = 1 }
"""
    step = parse(text, tmp_path)["refresh"]
    assert step.command == ("sh", "-c", "echo hi", "--x")
    assert step.after == ("marts.a", "marts.b") and step.per == "run"
    assert (step.retries, step.retry_delay.total_seconds(), step.timeout.total_seconds()) == (
        1,
        2,
        60,
    )
    assert step.owner == "bi" and dict(step.env) == {"A": "1"} and step.line == 2


def test_a_program_relative_to_the_root(tmp_path):
    script = tmp_path / "bin" / "go"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    text = '[steps.s]\ncommand = ["bin/go"]\nafter = ["x"]\n'
    assert parse(text, tmp_path)["s"].command == ("bin/go",)
    assert steps.program("bin/go", tmp_path) == str(script)
    assert steps.program("sh", tmp_path)


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ('command = "nope-not-here"\nafter = ["x"]', 2, "command 'nope-not-here' not found"),
        ('command = ""\nafter = ["x"]', 2, "command is empty"),
        ("command = 3\nafter = ['x']", 1, "command must be a list of strings"),
        ('command = "true"', 1, "after must name the models"),
        ('command = "true"\nafter = ["x"]\nper = "day"', 4, "per must be one of partition, run"),
        ('command = "true"\nafter = ["x"]\nretries = -1', 4, "retries must be a whole number"),
        ('command = "true"\nafter = ["x"]\ntimeout = "0s"', 4, "timeout:"),
        ('command = "true"\nafter = ["x"]\nlands = "raw.x"', 4, "lands is not supported yet"),
        ('command = "true"\nafter = ["x"]\nenv = ["A"]', 4, "env must be a table"),
    ],
)
def test_mistakes_name_their_line(tmp_path, body, line, says):
    with pytest.raises(ProjectError) as raised:
        parse(f"\n[steps.s]\n{body}\n", tmp_path)
    assert raised.value.line == line + 1 and says in str(raised.value)
    assert str(raised.value).startswith(f"{tmp_path / 'orchestrator.toml'}:{line + 1}: steps.s: ")
