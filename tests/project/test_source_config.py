"""The [sources] tables of orchestrator.toml: one validator per key, run in order."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.core.partitions import Grain
from orchestrator.project import loader as project_mod
from orchestrator.project.model import Source
from orchestrator.project.source_config import VALIDATORS, parse_sources

CONFIG = Path("orchestrator.toml")


def sources(toml: str) -> dict[str, Source]:
    import tomllib

    return parse_sources(tomllib.loads(toml), CONFIG, toml)


def test_every_source_field_has_a_validator():
    assert set(VALIDATORS) == {f.name for f in fields(Source)} - {"name"}


def test_values_are_converted_to_the_source_fields():
    found = sources(
        '[sources."Raw.Events"]\npath = "d/{date}/h_{hour}.csv.gz"\nloaded_at = "Loaded"\n'
        'partition_by = "Day"\nwarn_after = "1h"\ncolumns = { Id = "bigint" }\n'
        "options = { delim = ';' }\nread_by_partition = true\n"
    )
    source = found["raw.events"]
    assert (source.name, source.format, source.grain) == ("raw.events", "csv", Grain.HOUR)
    assert (source.loaded_at, source.partition_by) == ("loaded", "day")
    assert (source.warn_after, source.error_after) == (timedelta(hours=1), None)
    assert source.columns == (("id", "BIGINT"),)
    assert dict(source.options) == {"delim": ";"} and source.read_by_partition
    table = sources('[sources."raw.t"]\nloaded_at = "at"\n')["raw.t"]
    assert (table.path, table.format, table.grain, dict(table.options)) == (None, None, "day", {})


@pytest.mark.parametrize(
    ("settings", "line", "message"),
    [
        # a rule between keys shows at the key that holds the mistake
        ('path = "x.txt"\nowner = "o"', 2, "cannot tell the format of 'x.txt'"),
        ('owner = "o"\nwarn_after = "1h"', 3, "warn_after needs loaded_at"),
        ('warn_after = "1h"\nerror_after = "2h"', 3, "error_after needs loaded_at"),
        ('warn_after = "2h"\nerror_after = "1h"', 3, "error_after must not be shorter than"),
        # several mistakes: the first in the validators' order is reported
        ('warn_after = "soon"\noptions = { a = 1 }', 3, "options apply to file sources"),
        ('grain = "week"\nloaded_at = "a b"', 3, "loaded_at 'a b': not a SQL expression"),
        ('path = "d/{date}.csv"\ngrain = "month"', 3, "grain is 'month' but the path's"),
    ],
)
def test_a_mistake_names_the_source_and_the_line(settings, line, message):
    with pytest.raises(ProjectError) as info:
        sources(f'[sources."raw.x"]\n{settings}\n')
    assert (info.value.path, info.value.line) == (str(CONFIG), line)
    assert str(info.value).startswith(f"orchestrator.toml:{line}: source 'raw.x': {message}")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[sources.orders]\npath = 'x.csv'", "must be schema.table"),
        ("[sources.'raw.x']\npath = 'x.txt'", "cannot tell the format"),
        ("[sources.'raw.x']\npath = 'x.txt'\nformat = 'xml'", "format must be one of"),
        ("[sources.'raw.x']\npaht = 'x.csv'", "unknown setting 'paht'"),
    ],
)
def test_bad_source_config(project, toml, message):
    project.write("orchestrator.toml", toml)
    with pytest.raises(ProjectError, match="orchestrator.toml") as info:
        project_mod.load(project.root, strict=True)
    assert message in str(info.value)
