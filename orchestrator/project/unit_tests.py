"""Unit tests of models, as values: `unit_tests/**/*.yml` in the project (not `tests/`, which
holds the repository's own suite). Each test gives rows for the relations a model reads and
the rows the model must return from them, for one partition where it is partitioned (the
README's "Unit tests" shows the format, close to dbt's).

Loading is pure (the YAML and the project's values); a mistake is one ProjectError naming the
file and line, before any test runs. Running them is `app.unit_testing`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ProjectError
from ..core.partitions import Window
from . import unit_rows
from .dag import DAG
from .model import Kind, Model, Project
from .unit_rows import Rows, check_keys, text_of
from .yaml_lines import Lined, LinedList, line_of
from .yaml_lines import load as load_yaml

FOLDER = "unit_tests"
TEST_KEYS = (
    "name",
    "model",
    "description",
    "window",
    "vars",
    "is_incremental",
    "ordered",
    "given",
    "expect",
)
GIVEN_KEYS = ("input", "rows", "format", "columns")
EXPECT_KEYS = ("rows", "format")
THIS = "this"  # the input that stands for a merge model's own table ({{ this }})


@dataclass(frozen=True)
class Given:
    """Rows for one relation the model reads: a model, a source, or (`this`) its own table."""

    relation: str  # schema.table, as the model's SQL reads it
    data: Rows
    line: int


@dataclass(frozen=True)
class UnitTest:
    name: str
    model: str
    path: str  # the file, relative to the project (unit_tests/...)
    line: int
    given: tuple[Given, ...]
    expect: Rows
    description: str | None = None
    window: Window | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    is_incremental: bool = False  # a merge model merging into its table (`this`)
    ordered: bool = False  # the rows must come in the expected order

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def files(root: Path) -> list[Path]:
    """The project's unit test files, in a stable order (hidden ones left out)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in (".yml", ".yaml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def load(project: Project, dag: DAG) -> tuple[UnitTest, ...]:
    """Every unit test of the project, checked against its models; the first mistake is a
    ProjectError naming the file and line."""
    found: list[UnitTest] = []
    where: dict[str, str] = {}
    for path in files(project.root):
        relpath = path.relative_to(project.root).as_posix()
        for test in parse_file(load_yaml(path, relpath), relpath, project, dag):
            if test.name in where:
                raise ProjectError(
                    f"a unit test named '{test.name}' is already defined at {where[test.name]}",
                    relpath,
                    test.line,
                )
            where[test.name] = test.where
            found.append(test)
    return tuple(found)


def parse_file(doc, relpath: str, project: Project, dag: DAG) -> list[UnitTest]:
    """The tests of one file's document (None: an empty file)."""
    if doc is None:
        return []
    if not isinstance(doc, Lined):
        raise ProjectError("a unit test file is a mapping with a `unit_tests:` list", relpath, 1)
    check_keys(doc, ("unit_tests",), relpath, "a unit test file")
    entries = doc.get("unit_tests")
    if entries is None:
        return []
    if not isinstance(entries, LinedList):
        raise ProjectError("unit_tests: is a list of tests", relpath, doc.line_of("unit_tests"))
    tests = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Lined):
            raise ProjectError(
                "a unit test is a mapping (name, model, given, expect)",
                relpath,
                entries.line_of(i),
            )
        tests.append(parse_test(entry, relpath, project, dag))
    return tests


def parse_test(entry: Lined, relpath: str, project: Project, dag: DAG) -> UnitTest:
    check_keys(entry, TEST_KEYS, relpath, "a unit test")
    name = _required_text(entry, "name", relpath)
    model = _model(entry, relpath, project)
    given = _given(entry, relpath, model, project, dag)
    incremental = _flag(entry, "is_incremental", relpath)
    if incremental and not model.merges_whole:
        raise ProjectError(
            f"is_incremental: {model.name} is no merge model (unique_key without partition_by): "
            "only a merge model merges into its table",
            relpath,
            entry.line_of("is_incremental"),
        )
    expect = entry.get("expect")
    if not isinstance(expect, Lined):
        raise ProjectError(
            "expect: is a mapping with the rows the model must return (rows: [] for none)",
            relpath,
            entry.line_of("expect"),
        )
    check_keys(expect, EXPECT_KEYS, relpath, "expect")
    description = entry.get("description")
    return UnitTest(
        name=name,
        model=model.name,
        path=relpath,
        line=entry.line,
        given=given,
        expect=unit_rows.parse(expect, relpath, "expect"),
        description=str(description).strip() if description is not None else None,
        window=_window(entry, relpath, model),
        vars=_vars(entry, relpath),
        is_incremental=incremental,
        ordered=_flag(entry, "ordered", relpath),
    )


def _required_text(entry: Lined, key: str, relpath: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        what = "missing" if value is None else f"{value!r} is not a name"
        raise ProjectError(f"{key}: {what}", relpath, entry.line_of(key))
    return value.strip()


def _flag(entry: Lined, key: str, relpath: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ProjectError(f"{key}: {value!r} is not true or false", relpath, entry.line_of(key))
    return value


def _model(entry: Lined, relpath: str, project: Project) -> Model:
    """The model under test, by its full name or its table name when that is unique; only
    models whose one query is their result (no snapshot, no seed, DuckDB SQL)."""
    text = _required_text(entry, "model", relpath)
    line = entry.line_of("model")
    name = unit_rows.resolve(
        text, list(project.models), f"model: no model named '{text}'", relpath, line
    )
    model = project.models[name]
    why = None
    if model.seed:
        why = "is a seed: its rows are its CSV file, not a query"
    elif model.kind is Kind.SNAPSHOT:
        why = (
            "is a snapshot: it keeps history across runs, which one query over given rows "
            "cannot show (test the model it reads instead)"
        )
    elif model.dialect == "spark":
        why = "is written in Spark SQL (dialect: spark): unit tests run on DuckDB"
    if why:
        raise ProjectError(f"model: {name} {why}", relpath, line)
    return model


def _window(entry: Lined, relpath: str, model: Model) -> Window | None:
    """The partition a partitioned model is tested on, named by its start."""
    from ..core.partitions import parse_boundary

    value, line = entry.get("window"), entry.line_of("window")
    if not model.partitioned:
        if value is not None:
            raise ProjectError(
                f"window: {model.name} is not partitioned (kind: {model.kind}): it has no "
                "window; leave the key out",
                relpath,
                line,
            )
        return None
    if value is None:
        raise ProjectError(
            f"window: missing: {model.name} is built one {model.grain} at a time (partition_by "
            f"{model.partition_by}): name the partition the test builds, e.g. window: 2026-10-03",
            relpath,
            line,
        )
    try:
        return Window.containing(parse_boundary(text_of(value), model.grain), model.grain)
    except ValueError as exc:
        raise ProjectError(f"window: {exc}", relpath, line) from None


def _vars(entry: Lined, relpath: str) -> dict[str, str]:
    value = entry.get("vars")
    if value is None:
        return {}
    if not isinstance(value, Lined):
        raise ProjectError("vars: is a mapping of names to values", relpath, entry.line_of("vars"))
    return {str(k): text_of(v) for k, v in value.items()}


def _given(
    entry: Lined, relpath: str, model: Model, project: Project, dag: DAG
) -> tuple[Given, ...]:
    """The given inputs, each resolved to what the model reads; every relation it reads must
    be given (a seed left out is read from its file, as dbt does)."""
    items = entry.get("given")
    if items is None:
        items = LinedList()
        items.line = entry.line
    if not isinstance(items, LinedList):
        raise ProjectError("given: is a list of inputs", relpath, entry.line_of("given"))
    reads = [*dag.upstream.get(model.name, ()), *dag.sources.get(model.name, ())]
    given: dict[str, Given] = {}
    for i, item in enumerate(items):
        line = items.line_of(i)
        if not isinstance(item, Lined):
            raise ProjectError("an input is a mapping (input, rows)", relpath, line)
        check_keys(item, GIVEN_KEYS, relpath, "an input")
        text = _required_text(item, "input", relpath)
        relation = _input(text, model, reads, project, dag, relpath, item.line_of("input"))
        if relation in given:
            raise ProjectError(
                f"input: {relation} is given twice (first at line {given[relation].line})",
                relpath,
                line_of(item, line),
            )
        given[relation] = Given(relation, unit_rows.parse(item, relpath, "input"), item.line)
    missing = [r for r in reads if r not in given and not _is_seed(project, r)]
    if missing:
        raise ProjectError(
            f"given: {model.name} reads {', '.join(missing)}, which the test gives no rows for: "
            f"add `- input: {missing[0]}` with its rows (rows: [] for none)",
            relpath,
            entry.line_of("given"),
        )
    return tuple(given.values())


def _is_seed(project: Project, relation: str) -> bool:
    model = project.models.get(relation)
    return model is not None and model.seed


def _input(
    text: str, model: Model, reads: list[str], project: Project, dag: DAG, relpath: str, line: int
) -> str:
    """The relation an input names: `this`, or a model or source by full or table name (the
    one the model reads when the table name alone is ambiguous)."""
    if text.lower() == THIS:
        if not model.merges_whole:
            raise ProjectError(
                f"input: this: {model.name} is no merge model, so it never reads its own table",
                relpath,
                line,
            )
        return model.name
    known = dict.fromkeys([*project.models, *project.sources, *dag.external])
    name = unit_rows.resolve(
        text, list(known), f"input: no model or source named '{text}'", relpath, line, reads
    )
    if name not in reads:
        listed = ", ".join(reads) or "nothing"
        raise ProjectError(
            f"input: {model.name} does not read {name} (it reads: {listed})", relpath, line
        )
    return name
