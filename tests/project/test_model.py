"""The project's values: what a model's settings derive, and when a source is partitioned."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from orchestrator.core.partitions import Grain, Window
from orchestrator.project.model import Kind, Model, Source


def model(**settings) -> Model:
    return Model("s.m", "s", "m", Path("models/s/m.sql"), "models/s/m.sql", "select 1", **settings)


def test_layout_counts_only_what_fixes_the_tables_shape():
    assert model().layout == "table|||"
    assert model(grain=Grain.MONTH, owner="x").layout == "table|||"  # grain: incremental only
    incremental = model(kind=Kind.INCREMENTAL, partition_by="d", unique_key=("id", "r"))
    assert incremental.partitioned and incremental.layout == "incremental|d|day|id,r"


def test_window_literals_render_the_window_and_the_relation_written():
    m = model(kind=Kind.INCREMENTAL, partition_by="d")
    assert m.relation == '"s"."m"'
    assert m.window_literals(None) == {
        "start": "NULL",
        "end": "NULL",
        "this": '"s"."m"',
        "incremental": "false",
    }
    window = Window.containing(datetime(2024, 1, 5), Grain.DAY)
    literals = m.window_literals(window, this='"s"."stage"', incremental=True)
    assert literals == {
        "start": window.literal(window.start),
        "end": window.literal(window.end),
        "this": '"s"."stage"',
        "incremental": "true",  # what is_incremental() says
    }


def test_an_incremental_model_without_partition_by_merges_whole():
    merged = model(kind=Kind.INCREMENTAL, unique_key=("id",))
    assert merged.merges_whole and not merged.partitioned
    assert model(kind=Kind.INCREMENTAL, partition_by="d").partitioned


def test_a_source_is_partitioned_by_a_column_or_by_its_path():
    assert not Source("raw.x").partitioned
    assert not Source("raw.x", path="x/*.csv").partitioned
    assert Source("raw.x", path="x/{month}.csv").partitioned
    assert Source("raw.x", partition_by="d").partitioned
