"""core.snapshot: the values the planner reads of the state, and their JSON encodings."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.core.snapshot import (
    EMPTY,
    Built,
    Publication,
    Snapshot,
    decode_inputs,
    decode_sources,
    decode_vars,
    encode_inputs,
    encode_sources,
)


def test_inputs_and_sources_round_trip_through_their_json():
    inputs = {"s.b": (3, 7), "s.a": (1, 2)}
    assert dict(decode_inputs(encode_inputs(inputs))) == inputs
    prints = {"raw.o": {"b.csv": "2:2:", "a.csv": "1:1:"}}
    text = encode_sources(prints)
    assert text.index("a.csv") < text.index("b.csv")  # sorted: equal prints, equal text
    assert {s: dict(p) for s, p in decode_sources(text).items()} == prints


def test_nothing_encodes_and_decodes_as_empty():
    assert encode_sources({}) is None
    assert dict(decode_sources(None)) == {} and dict(decode_sources("")) == {}
    assert dict(decode_inputs(None)) == {} and dict(decode_vars(None)) == {}


def test_decoded_values_cannot_be_changed():
    # they are cached and shared by every partition with the same text
    with pytest.raises(TypeError):
        decode_vars('{"region": "eu"}')["region"] = "us"  # type: ignore[index]


def test_a_publication_is_the_build_it_leaves():
    publication = Publication(
        "s.m",
        "2024-01-05",
        None,
        None,
        "v1",
        "l",
        {"s.up": (1, 4)},
        {"k": "v"},
        9,
        42,
        datetime(2024, 1, 6),
    )
    built = publication.built()
    assert built == Built("2024-01-05", "v1", 9, "l", {"s.up": (1, 4)}, {"k": "v"}, 42, {})
    snapshot = Snapshot(built={"s.m": {built.key: built}})
    assert snapshot.get("s.m", "2024-01-05") is built
    assert snapshot.get("s.m") is None and EMPTY.get("s.m") is None
