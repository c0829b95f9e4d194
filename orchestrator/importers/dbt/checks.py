"""dbt tests as our checks: each model's generic tests gathered from its properties (what one
becomes is `generic_tests`'), singular tests as check files of the last model they read, and
tests moved to another model where checking them with their own would make a cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import Rendering
from ...sql.dbt.yamlfile import ImportProblem
from .generic_tests import convert_test, filtered_check_file
from .values import EXACT, HAND, NOTES, DbtModel, Outcome

if TYPE_CHECKING:
    from ...sql.dbt.project import Node
    from .conversion import Conversion


def untangle(conv: Conversion) -> None:
    """dbt tests run after every model; our checks run as their model is published, after
    the models they read. A test of A that reads B, where B reads A, would be a cycle: it
    becomes a check of B instead (run once both are built)."""
    for owner, other, line, file, fallback, outcome in conv.cross:
        if not conv.reaches(other, owner):
            continue
        mine, theirs = str(conv.models[owner].relation), str(conv.models[other].relation)
        if line:
            path = conv.models[owner].path
            conv.out.files[path] = conv.out.files[path].replace(line + "\n", "", 1)
            file = fallback
        if file is None:
            continue
        text = file[1].replace(f"-- model: {mine}\n", f"-- model: {theirs}\n", 1)
        conv.out.files[file[0]] = text
        outcome.ours = file[0]
        outcome.status = NOTES
        outcome.notes.append(f"checked as {other} is built (it reads {owner})")


def model_tests(
    conv: Conversion, name: str, model: DbtModel
) -> tuple[list[str], dict[str, str], list[Outcome]]:
    """The generic tests of a model: its header check lines, its check files, their
    outcomes."""
    props = conv.project.properties.get(name) or {}
    props_file = conv.project.property_files.get(name, model.node.relpath)
    found: list[tuple[str | None, Any]] = []
    for column in props.get("columns") or []:
        if not isinstance(column, dict) or "name" not in column:
            continue
        for test in (column.get("data_tests") or []) + (column.get("tests") or []):
            found.append((str(column["name"]), test))
    for test in (props.get("data_tests") or []) + (props.get("tests") or []):
        found.append((None, test))
    header: list[str] = []
    files: dict[str, str] = {}
    outcomes: list[Outcome] = []
    for column, test in found:
        kind, args = _test_parts(test)
        uid = f"test.{conv.project.name}.{kind.split('.')[-1]}_{name}" + (
            f"_{column}" if column else ""
        )
        conv.other = None
        try:
            line, file, notes = convert_test(conv, name, model, column, kind, dict(args))
        except ImportProblem as exc:
            outcomes.append(Outcome(uid, props_file, HAND, notes=[exc.detail]))
            continue
        if line:
            header.append(line)
        if file:  # a second test of the same kind on the same model gets a file of its own
            path, n = file[0], 2
            while path in files:
                path, n = f"{file[0][:-4]}_{n}.sql", n + 1
            file = (path, file[1])
            files[path] = file[1]
        if not (line or file):  # disabled in dbt: reported, nothing converted
            outcomes.append(Outcome(uid, props_file, NOTES, "", notes))
            continue
        outcome = Outcome(uid, props_file, NOTES if notes else EXACT, line or file[0], notes)
        outcomes.append(outcome)
        if conv.other in conv.models and conv.other != name:
            fallback = None
            if line and kind == "relationships":  # the same check as a file, if it must move
                warn = line.startswith("-- check warn")
                fallback = filtered_check_file(
                    conv, name, kind, column, warn, "", "true", str(model.relation), dict(args)
                )
            conv.cross.append((name, conv.other, line, file, fallback, outcome))
    return header, files, outcomes


def singular_test(conv: Conversion, node: Node) -> None:
    uid = f"test.{conv.project.name}.{node.name}"
    read: dict[str, str] = {}  # the models it reads (dbt's names) -> our relations
    conv.bind()
    plain_ref = conv.renderer.ref

    def ref(*args, **kwargs):
        found = plain_ref(*args, **kwargs)
        read.setdefault(str(args[-1]), str(found))
        return found

    conv.renderer.ref = ref
    rendering = Rendering(
        node.name,
        node.relpath,
        node.fqn,
        resource_type="test",
        settled=conv.project.tree_config("tests", node.fqn),
    )
    try:
        sql = conv.renderer.render(node.template(), rendering)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        conv.out.problems.append(str(exc))
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
        return
    if not read:
        conv.out.outcomes.append(
            Outcome(
                uid, node.relpath, HAND, notes=["it reads no model: a check belongs to a model"]
            )
        )
        return
    # dbt runs it once every model is built: ours checks the last of them to be built (one
    # that no other model it reads depends on), after the others, so it never makes a cycle
    last = next(m for m in read if not any(conv.reaches(o, m) for o in read if o != m))
    config = rendering.merged()
    warn = str(config.get("severity", "error")).lower() == "warn"
    head = [f"-- model: {read[last]}"] + (["-- severity: warn"] if warn else [])
    file = f"checks/{node.name}.sql"
    conv.out.files[file] = "\n".join(
        [*head, f"/* {node.relpath}, imported from dbt */", sql.strip(), ""]
    )
    conv.out.outcomes.append(Outcome(uid, node.relpath, EXACT, file))


def _test_parts(test: Any) -> tuple[str, dict]:
    if isinstance(test, str):
        return test, {}
    if isinstance(test, dict) and len(test) >= 1:
        if "test_name" in test or "name" in test and len(test) > 1 and "arguments" in test:
            kind = str(test.get("test_name") or test.get("name"))
            args = dict(test.get("arguments") or {})
            args.update(
                {k: v for k, v in test.items() if k not in ("test_name", "name", "arguments")}
            )
            return kind, args
        kind, args = next(iter(test.items()))
        args = dict(args or {})
        if isinstance(args.get("arguments"), dict):
            args = {**args.pop("arguments"), **args}
        return str(kind), args
    return str(test), {}
