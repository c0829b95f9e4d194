"""The package's folders are its layers, and imports go down them only: a module imports from its
own layer and the layers below, never above (`orchestrator/__init__.py` lists them)."""

from __future__ import annotations

import ast
from pathlib import Path

import orchestrator

PACKAGE = Path(orchestrator.__file__).parent
LAYERS = (
    "core",
    "sql",
    "project",
    "plan",
    "statements",
    "state",
    "engines",
    "sources",
    "execution",
    "app",
    "importers",
    "ui",
    "cli",
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("orchestrator", *path.relative_to(PACKAGE).with_suffix("").parts)
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def imported(module: str, path: Path) -> set[str]:
    """The package modules (or packages) `module` imports, at any depth of its code."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets.update(f"{target}.{a.name}" for a in node.names)
            targets.add(target)
        elif isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
    return {t for t in targets if t.startswith("orchestrator.")}


def layer(module: str) -> int | None:
    """The layer's rank; None for the package's root (`orchestrator`, `__main__`)."""
    first = module.split(".")[1] if "." in module else ""
    return LAYERS.index(first) if first in LAYERS else None


def test_every_folder_of_the_package_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS)
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py"}


def test_imports_go_down_the_layers_only():
    found = modules()
    upward = []
    for module, path in found.items():
        own = layer(module)
        if own is None:
            continue
        for target in imported(module, path):
            theirs = layer(target)
            if theirs is not None and theirs > own:
                upward.append(
                    f"{module} imports {target} ({LAYERS[theirs]} is above {LAYERS[own]})"
                )
    assert upward == []


def test_the_check_sees_an_upward_import(tmp_path):
    # the rule must be able to fail: a core module importing the planner is caught
    path = tmp_path / "clock.py"
    path.write_text("from ..plan.planner import plan\n")
    targets = imported("orchestrator.core.clock", path)
    assert "orchestrator.plan.planner" in targets
    assert layer("orchestrator.plan.planner") > layer("orchestrator.core.clock")


def test_each_layer_says_what_it_holds_and_may_import():
    for name in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "Imports" in doc, name


def expected_test_files(module: Path) -> tuple[Path, ...]:
    """Where the tests of a module live: the mirrored folder, `test_<module>.py`, or
    `test_<package>_<module>.py` where two packages hold modules of the same name."""
    rel = module.relative_to(PACKAGE)
    folder = PACKAGE.parent / "tests" / rel.parent
    return (folder / f"test_{rel.stem}.py", folder / f"test_{rel.parent.name}_{rel.stem}.py")


def has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text(), str(path))
    return any(isinstance(n, ast.FunctionDef | ast.ClassDef) for n in tree.body)


def test_every_module_with_logic_has_its_test_file():
    untested = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py")
        and has_logic(path)
        and not any(p.exists() for p in expected_test_files(path))
    ]
    assert untested == []
