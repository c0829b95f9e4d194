"""Selectors as dbt users type them, on a hand-built DAG (no files): names and globs, methods,
`+` with and without depth, `@`, intersections with `,`, unions, exclusions, and the one-line
errors of selectors that match nothing or do not parse."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from orchestrator.core.errors import UsageError
from orchestrator.project import dag as dag_mod
from orchestrator.project import loader as project_mod
from orchestrator.project import selectors
from orchestrator.project.dag import DAG
from orchestrator.project.model import Model


def hand_built(edges: dict[str, tuple[str, ...]], **headers: dict) -> DAG:
    """A DAG from `model: (its upstream models)`, with header values per model."""
    models = {}
    for name in edges:
        schema, table = name.split(".")
        models[name] = Model(
            name, schema, table, Path(f"models/{schema}/{table}.sql"),
            f"models/{schema}/{table}.sql", "select 1", **headers.get(name.replace(".", "_"), {}),
        )  # fmt: skip
    downstream = {n: tuple(sorted(m for m, up in edges.items() if n in up)) for n in edges}
    return DAG(
        models=MappingProxyType(models),
        upstream=MappingProxyType(edges),
        downstream=MappingProxyType(downstream),
        sources=MappingProxyType({n: () for n in edges}),
        order=tuple(edges),
    )


@pytest.fixture(scope="module")
def graph() -> DAG:
    """staging.a -> staging.b -> marts.c -> marts.d, staging.x -> marts.c, staging.b -> marts.e,
    and marts.lonely on its own."""
    return hand_built(
        {
            "staging.a": (),
            "staging.x": (),
            "staging.b": ("staging.a",),
            "marts.c": ("staging.b", "staging.x"),
            "marts.d": ("marts.c",),
            "marts.e": ("staging.b",),
            "marts.lonely": (),
        },
        staging_a={"tags": ("daily",), "owner": "ann"},
        marts_c={"tags": ("daily",), "owner": "bob"},
        marts_lonely={"tags": ("daily",)},
    )


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], "staging.a staging.x staging.b marts.c marts.d marts.e marts.lonely"),
        (["c"], "marts.c"),
        (["marts.c"], "marts.c"),
        (["+marts.c"], "staging.a staging.b staging.x marts.c"),
        (["1+marts.c"], "staging.b staging.x marts.c"),
        (["2+marts.c"], "staging.a staging.b staging.x marts.c"),
        (["0+marts.c"], "marts.c"),
        (["b+"], "staging.b marts.c marts.d marts.e"),
        (["b+1"], "staging.b marts.c marts.e"),
        (["1+b+1"], "staging.a staging.b marts.c marts.e"),
        (["+b+"], "staging.a staging.b marts.c marts.d marts.e"),
        # @: b, its descendants, and every ancestor of those (x feeds c)
        (["@staging.b"], "staging.a staging.b staging.x marts.c marts.d marts.e"),
        (["@marts.d"], "staging.a staging.b staging.x marts.c marts.d"),
        (["tag:daily"], "staging.a marts.c marts.lonely"),
        (["owner:bob+"], "marts.c marts.d"),
        (["staging.*"], "staging.a staging.b staging.x"),
        (["schema:marts"], "marts.c marts.d marts.e marts.lonely"),
        # intersections: in every part
        (["tag:daily,marts.*"], "marts.c marts.lonely"),
        (["+marts.d,staging.*"], "staging.a staging.b staging.x"),
        (["tag:daily,schema:staging,owner:ann"], "staging.a"),
        (["@staging.b,schema:marts"], "marts.c marts.d marts.e"),
        # unions: several words, in one argument or several
        (["a", "lonely"], "staging.a marts.lonely"),
        (["a lonely"], "staging.a marts.lonely"),
        (["tag:daily,marts.* staging.x"], "staging.x marts.c marts.lonely"),
    ],
)
def test_selectors(graph, words, expected):
    assert selectors.select(graph, words) == set(expected.split())


def test_exclude_takes_the_same_grammar(graph):
    assert selectors.select(graph, ["staging.a+"], exclude=["marts.d"]) == {
        "staging.a",
        "staging.b",
        "marts.c",
        "marts.e",
    }
    assert selectors.select(graph, ["tag:daily"], exclude=["tag:daily,marts.*"]) == {"staging.a"}


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("marts.cc", "no model matches 'marts.cc' (did you mean: marts.c"),
        ("lonley", "did you mean: lonely"),
        ("2+lonley", "no model matches 'lonley' (did you mean: lonely"),
        ("tag:dayly", "matches no model (did you mean: daily?)"),
        ("colour:red", "unknown selector method 'colour:'"),
        ("tags:daily", "unknown selector method 'tags:' (did you mean: tag?)"),
        ("+", "empty selector '+'"),
        ("2+", "empty selector '2+'"),
        ("a,,b", "selector 'a,,b' has an empty part"),
        ("tag:daily,", "selector 'tag:daily,' has an empty part"),
        ("@+b", "selector '@+b': '@' already takes the ancestors"),
        ("@b+", "selector '@b+': '@' already takes the ancestors"),
        ("staging.a,marts.lonely", "selector 'staging.a,marts.lonely' matches no model: no model "),
    ],
)
def test_bad_selectors_are_one_line_usage_errors(graph, selector, message):
    with pytest.raises(UsageError) as info:
        selectors.select(graph, [selector])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_selector_on_a_loaded_project(project):
    """The same grammar on a DAG read from files, as every command builds it."""
    project.model("staging.a", "-- tags: nightly\nselect 1 as x")
    project.model("staging.b", "select * from staging.a")
    project.model("marts.c", "-- tags: nightly\nselect * from staging.b")
    loaded = dag_mod.build(project_mod.load(project.root, strict=True))
    assert selectors.select(loaded, ["tag:nightly,1+marts.c"]) == {"marts.c"}
    assert selectors.select(loaded, ["@a"]) == {"staging.a", "staging.b", "marts.c"}
