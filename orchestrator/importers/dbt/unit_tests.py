"""dbt's unit tests as ours: each properties file's `unit_tests:` becomes `unit_tests/<its
stem>.yml` of the imported project, its `ref()` and `source()` inputs named as the import names
those relations everywhere else, `overrides: macros: is_incremental` as our `is_incremental`,
fixture files inlined. What ours cannot say (an ephemeral input, macro overrides other than
is_incremental, a var the import already rendered with another value) needs a hand, and so
does a test our loader refuses once the project is written (`settle`).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...sql.dbt.yamlfile import ImportProblem
from .values import EXACT, HAND, NOTES, Converted, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion

FORMATS = ("dict", "csv", "sql")


def convert_unit_tests(conv: Conversion) -> None:
    """Every enabled unit test of the project, converted or reported."""
    conv.bind(set())
    entries = [e for e in conv.project.unit_tests if not _disabled(e)]
    stems = _file_names(sorted({e["_file"] for e in entries}))
    names: set[str] = set()
    for entry in entries:
        rel = entry["_file"]
        uid = f"unit_test.{conv.project.name}.{entry.get('model')}.{entry.get('name')}"
        try:
            test, notes = _test(conv, entry)
        except ImportProblem as exc:
            conv.out.outcomes.append(Outcome(uid, rel, HAND, notes=[exc.detail]))
            continue
        if test["name"] in names:  # dbt's names are per model, ours per project
            test["name"] = f"{test['model'].split('.')[-1]}__{test['name']}"
            notes.append(f"renamed {test['name']}: another model's test has its name")
        names.add(test["name"])
        ours = f"unit_tests/{stems[rel]}.yml"
        conv.out.unit_tests.setdefault(ours, []).append(test)
        outcome = Outcome(uid, rel, NOTES if notes else EXACT, f"{ours}: {test['name']}", notes)
        conv.out.outcomes.append(outcome)
    for ours, tests in conv.out.unit_tests.items():
        conv.out.files[ours] = dump(tests)


def _disabled(entry: dict) -> bool:
    config = entry.get("config")
    return isinstance(config, dict) and config.get("enabled") is False


def _file_names(files: list[str]) -> dict[str, str]:
    """Each dbt file's stem, or its path joined by `_` where two files share a stem."""
    stems = [Path(f).stem for f in files]
    return {
        f: s if stems.count(s) == 1 else "_".join(Path(f).with_suffix("").parts)
        for f, s in zip(files, stems, strict=True)
    }


def _test(conv: Conversion, entry: dict) -> tuple[dict, list[str]]:
    name, model = entry.get("name"), entry.get("model")
    if not isinstance(name, str) or not isinstance(model, str):
        raise ImportProblem("a unit test needs a name and a model")
    found = _model(conv, model)
    notes: list[str] = []
    test: dict[str, Any] = {"name": name, "model": str(found.relation)}
    if entry.get("description"):
        test["description"] = str(entry["description"]).strip()
    incremental = _overrides(conv, entry.get("overrides"), found, notes)
    if incremental:
        test["is_incremental"] = True
    if entry.get("versions"):
        notes.append("versions: tested on the version `ref()` reads (the latest)")
    given = entry.get("given") or []
    if not isinstance(given, list):
        raise ImportProblem("given: is no list")
    test["given"] = [_given(conv, item) for item in given]
    expect = entry.get("expect")
    if not isinstance(expect, dict):
        raise ImportProblem("expect: is no mapping")
    test["expect"] = _rows(conv, expect, "expect")
    return test, notes


def _model(conv: Conversion, name: str):
    """The converted model a test is of (a versioned model's latest version)."""
    target = name
    if name in conv.project.versions:
        latest, files = conv.project.versions[name]
        target = next((f for v, f in files.items() if str(v) == str(latest)), name)
    found = conv.models.get(target)
    if found is None:
        raise ImportProblem(f"model {name}: no such model")
    config = found.config
    materialized = str(config.get("materialized"))
    if materialized == "ephemeral":
        raise ImportProblem(
            f"model {name} is ephemeral: inlined as a CTE into the models that read it, it is "
            "no model of ours to test"
        )
    if materialized in ("seed", "snapshot"):
        raise ImportProblem(f"model {name} is a {materialized}: ours has no unit tests of it")
    if config.get("incremental_strategy") == "microbatch":
        raise ImportProblem(
            f"model {name} is a microbatch model: ours builds it one batch at a time, and a "
            "test of it names the window it builds (write `window:` by hand)"
        )
    if found.relation is None or found.path not in conv.out.files:
        raise ImportProblem(f"model {name} is not converted (its own row says why)")
    return found


def _overrides(conv: Conversion, overrides: Any, model, notes: list[str]) -> bool:
    """Whether the test has the model merge (is_incremental); vars and env vars only when
    they change nothing: the import rendered the model with the project's values."""
    if not overrides:
        return False
    if not isinstance(overrides, dict):
        raise ImportProblem("overrides: is no mapping")
    macros = dict(overrides.get("macros") or {})
    incremental = bool(macros.pop("is_incremental", False))
    if macros:
        raise ImportProblem(
            f"overrides macros {', '.join(sorted(macros))}: ours stand in for is_incremental only"
        )
    template = model.node.template()
    for key, what in (("vars", "var"), ("env_vars", "env_var")):
        for var, value in dict(overrides.get(key) or {}).items():
            if var not in template:
                notes.append(f"overrides {what} {var}: dropped, the model does not read it")
            elif what == "var" and conv.project.has_var(var) and conv.project.var(var) == value:
                continue
            else:
                raise ImportProblem(
                    f"overrides {what} {var}: the import rendered the model with the "
                    "project's value, so the test's cannot apply"
                )
    return incremental


def _given(conv: Conversion, item: Any) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("input"), str):
        raise ImportProblem("given: each input is a mapping with `input: ref('...')`")
    return {"input": _input(conv, item["input"]), **_rows(conv, item, "input")}


def _input(conv: Conversion, text: str) -> str:
    """`ref(...)`/`source(...)` as the relation the import names, or `this`."""
    call = text.strip().removeprefix("{{").removesuffix("}}").strip()
    if call == "this":
        return "this"
    try:
        node = ast.parse(call, mode="eval").body
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        function = {"ref": conv.renderer.ref, "source": conv.renderer.source}[node.func.id]
    except (SyntaxError, ValueError, AssertionError, KeyError):
        raise ImportProblem(f"input {text}: not a ref() or source() call") from None
    relation = function(*args, **kwargs)
    if not relation.schema:  # an ephemeral model: its CTE is inlined into ours
        raise ImportProblem(
            f"input {text}: an ephemeral model, inlined into ours as a CTE: give the rows of "
            "what it reads instead"
        )
    return str(relation)


def _rows(conv: Conversion, item: dict, what: str) -> dict:
    """`rows` (or a fixture file's) in our form: a list of mappings, CSV text, a query."""
    fmt = str(item.get("format") or "dict")
    if fmt not in FORMATS:
        raise ImportProblem(f"{what}: format {fmt} is not one of {', '.join(FORMATS)}")
    rows = item.get("rows")
    if rows is None and item.get("fixture"):
        rows = _fixture(conv, str(item["fixture"]), fmt)
    if rows is None:
        rows = []
    if fmt == "dict" and not isinstance(rows, list):
        raise ImportProblem(f"{what}: rows are no list")
    if fmt != "dict" and not isinstance(rows, str):
        raise ImportProblem(f"{what}: format {fmt} takes text")
    if fmt == "sql" and "{{" in rows:
        raise ImportProblem(f"{what}: a format sql fixture with Jinja in it")
    return {"rows": rows} if fmt == "dict" else {"format": fmt, "rows": rows}


def _fixture(conv: Conversion, name: str, fmt: str) -> str:
    """A fixture file's text: `<test path>/fixtures/**/<name>.csv` (or `.sql`), as dbt finds it."""
    suffix = ".sql" if fmt == "sql" else ".csv"
    for folder in conv.project.test_paths:
        for path in sorted((conv.project.root / folder / "fixtures").rglob(f"{name}{suffix}")):
            return path.read_text(encoding="utf-8")
    raise ImportProblem(f"fixture {name}: no file {name}{suffix} under the tests' fixtures/")


def dump(tests: list[dict]) -> str:
    """Our unit test file: rows one flow mapping per line, CSV and SQL as block text."""
    from ...sql.dbt.yamlfile import yaml_module

    yaml = yaml_module()

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    body = yaml.dump(
        {"unit_tests": tests},
        Dumper=Dumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=10**6,  # a row on one line, however wide
    )
    return (
        "# dbt's unit tests, converted by `orchestrator import dbt` (README: Unit tests)\n" + body
    )


def settle(out: Path, converted: Converted) -> None:
    """Keep the converted tests our loader accepts in the written project; each one it
    refuses needs a hand, with our loader's reason (one bad test would stop them all)."""
    from ...app.workspace import open_workspace
    from ...core.errors import OrchestratorError, ProjectError
    from ...project.unit_tests import parse_test
    from ...project.yaml_lines import loads

    if not converted.unit_tests:
        return
    try:
        ws = open_workspace(out)
    except OrchestratorError:
        return  # the project itself does not load: the report says why
    outcomes = {o.ours: o for o in converted.outcomes if o.node.startswith("unit_test.")}
    for ours, tests in converted.unit_tests.items():
        kept = []
        for test in tests:
            try:
                parse_test(loads(dump([test]), ours)["unit_tests"][0], ours, ws.project, ws.dag)
                kept.append(test)
            except ProjectError as exc:
                outcome = outcomes[f"{ours}: {test['name']}"]
                outcome.status, outcome.ours = HAND, ""
                outcome.notes.append(f"not kept: our unit tests refuse it: {exc.detail}")
        if kept:
            converted.files[ours] = dump(kept)
            (out / ours).write_text(converted.files[ours], encoding="utf-8")
        else:
            converted.files.pop(ours, None)
            (out / ours).unlink()
