"""A dbt project as it lies on disk: `dbt_project.yml`, its properties files, its models,
tests, seeds, snapshots and macros, installed packages (`dbt_packages/`), and the config each
node gets (dbt's precedence: the file's `config()` over its properties over
`dbt_project.yml`'s folder tree). Reading only; nothing is rendered here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .yamlfile import ImportProblem, load

CONFIG_KEYS = frozenset(
    """
    materialized schema alias database tags enabled meta group unique_key incremental_strategy
    event_time begin batch_size lookback pre_hook post_hook pre-hook post-hook persist_docs
    full_refresh on_schema_change grants docs contract column_types delimiter quote_columns
    severity where limit warn_if error_if store_failures sql_header partition_by cluster_by
    access concurrent_batches
    """.split()
)
"""Keys dbt reads as configs where a folder name could also stand (without the `+`)."""

ADDITIVE = ("tags", "pre_hook", "post_hook")  # configs dbt accumulates instead of replacing


@dataclass
class Package:
    name: str
    root: Path
    macro_paths: list[str]
    model_paths: list[str] = field(default_factory=lambda: ["models"])
    models_tree: dict = field(default_factory=dict)  # its own dbt_project.yml `models:`


@dataclass
class Node:
    """A model, seed, snapshot or singular test file of the project."""

    kind: str  # model | seed | snapshot | test | analysis
    name: str
    path: Path
    relpath: str  # relative to the dbt project, for messages
    fqn: list[str]  # project, folders..., name: where dbt_project.yml configs apply
    language: str = "sql"
    package: str | None = None  # the installed package it comes from (None: the project)
    body: str | None = None  # its template, when it is not the whole file (a snapshot block)

    def template(self) -> str:
        """The Jinja text dbt renders for it."""
        if self.body is not None:
            return self.body
        return self.path.read_text(encoding="utf-8")


@dataclass
class DbtProject:
    root: Path
    name: str
    profile: str | None
    model_paths: list[str]
    seed_paths: list[str]
    test_paths: list[str]
    macro_paths: list[str]
    snapshot_paths: list[str]
    vars: dict[str, Any]
    trees: dict[str, dict]  # models / seeds / tests / snapshots -> the config tree
    on_run_start: list[str]
    on_run_end: list[str]
    packages: list[Package] = field(default_factory=list)
    declared_packages: list[str] = field(default_factory=list)  # in packages.yml, by name
    docs: dict[str, str] = field(default_factory=dict)  # `{% docs name %}` blocks, by name
    nodes: list[Node] = field(default_factory=list)
    properties: dict[str, dict] = field(default_factory=dict)  # model/seed name -> its entry
    property_files: dict[str, str] = field(default_factory=dict)  # name -> yml relpath
    sources: list[dict] = field(default_factory=list)  # each with its `_file`
    unit_tests: list[dict] = field(default_factory=list)  # the project's own, with `_file`
    versions: dict[str, tuple[Any, dict[Any, str]]] = field(default_factory=dict)
    """a versioned model's name -> (its latest version, version -> the file stem defining it)"""
    problems: list[ImportProblem] = field(default_factory=list)
    # files of macros that do not load: a problem only for a node that uses one of them
    macro_problems: list[ImportProblem] = field(default_factory=list)
    cli_vars: dict[str, Any] = field(default_factory=dict)  # `--vars`: they win over the rest

    def var(self, name: str) -> Any:
        """A var as dbt resolves it: from `--vars`, then the project-scoped default, then the
        global one."""
        if name in self.cli_vars:
            return self.cli_vars[name]
        scoped = self.vars.get(self.name)
        if isinstance(scoped, dict) and name in scoped:
            return scoped[name]
        return self.vars[name]

    def has_var(self, name: str) -> bool:
        if name in self.cli_vars:
            return True
        scoped = self.vars.get(self.name)
        return (isinstance(scoped, dict) and name in scoped) or name in self.vars

    def tree_config(self, resource: str, fqn: list[str], tree: dict | None = None) -> dict:
        """The configs `dbt_project.yml` gives a node at `fqn` (deeper folders win; tags
        accumulate); `tree`: another project's tree (a package's own) instead."""
        tree = tree if tree is not None else (self.trees.get(resource) or {})
        found: dict[str, Any] = {}
        _take(found, tree)  # `+key`s above the project's name apply to every node
        level: Any = tree.get(fqn[0]) if fqn else None
        _take(found, level)
        for part in fqn[1:]:
            if not isinstance(level, dict):
                break
            level = level.get(part)
            _take(found, level)
        return found


def _take(found: dict, level: Any) -> None:
    if not isinstance(level, dict):
        return
    for key, value in level.items():
        if not isinstance(key, str):
            continue
        name = key[1:] if key.startswith("+") else key
        if not key.startswith("+") and (name not in CONFIG_KEYS or isinstance(value, dict)):
            if name not in ("meta", "grants", "docs", "persist_docs", "column_types"):
                continue  # a folder (or a config dbt only takes with its +)
        name = name.replace("-", "_")
        if name in ADDITIVE:
            found[name] = [*found.get(name, []), *_as_list(value)]
        elif name == "meta" and isinstance(value, dict):
            found["meta"] = {**found.get("meta", {}), **value}
        else:
            found[name] = value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _strings(raw: dict, key: str, default: list[str], relpath: str) -> list[str]:
    value = raw.get(key, default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImportProblem(f"'{key}' must be a list of folder names, got {value!r}", relpath)
    return value


def read(root: Path, cli_vars: dict[str, Any] | None = None) -> DbtProject:
    """The project at `root` (with the vars dbt's `--vars` would give); ImportProblem when it
    has no readable dbt_project.yml."""
    file = root / "dbt_project.yml"
    if not root.is_dir():
        raise ImportProblem(f"no such folder: {root}")
    if not file.is_file():
        raise ImportProblem(f"no dbt_project.yml in {root}: is it a dbt project?")
    raw = load(file, "dbt_project.yml")
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ImportProblem("it needs a 'name' (the project's name)", "dbt_project.yml")
    project = DbtProject(
        root=root,
        name=raw["name"],
        profile=raw.get("profile"),
        model_paths=_strings(raw, "model-paths", ["models"], "dbt_project.yml"),
        seed_paths=_strings(raw, "seed-paths", ["seeds"], "dbt_project.yml"),
        test_paths=_strings(raw, "test-paths", ["tests"], "dbt_project.yml"),
        macro_paths=_strings(raw, "macro-paths", ["macros"], "dbt_project.yml"),
        snapshot_paths=_strings(raw, "snapshot-paths", ["snapshots"], "dbt_project.yml"),
        vars=raw.get("vars") or {},
        trees={
            "models": raw.get("models") or {},
            "seeds": raw.get("seeds") or {},
            "tests": raw.get("data_tests") or raw.get("tests") or {},
            "snapshots": raw.get("snapshots") or {},
        },
        on_run_start=_as_list(raw.get("on-run-start")),
        on_run_end=_as_list(raw.get("on-run-end")),
        cli_vars=dict(cli_vars or {}),
    )
    project.packages = _packages(root, raw)
    project.declared_packages = _declared_packages(root)
    _discover(project)
    docs_paths = _strings(raw, "docs-paths", [], "dbt_project.yml") or [
        *project.model_paths,
        *project.seed_paths,
        *project.snapshot_paths,
        *project.macro_paths,
    ]
    project.docs = _docs_blocks(root, docs_paths)
    return project


def _packages(root: Path, raw: dict) -> list[Package]:
    """Packages installed beside the project (`dbt deps` puts them in dbt_packages/)."""
    folder = root / str(raw.get("packages-install-path") or "dbt_packages")
    found = []
    if folder.is_dir():
        for child in sorted(folder.iterdir()):
            spec = child / "dbt_project.yml"
            if not spec.is_file():
                continue
            try:
                meta = load(spec, str(spec.relative_to(root)))
            except ImportProblem:
                continue
            meta = meta if isinstance(meta, dict) else {}
            found.append(
                Package(
                    str(meta.get("name") or child.name),
                    child,
                    list(meta.get("macro-paths", ["macros"])),
                    list(meta.get("model-paths", ["models"])),
                    meta.get("models") or {},
                )
            )
    return found


_DOCS_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.DOTALL)


def _docs_blocks(root: Path, folders: list[str]) -> dict[str, str]:
    """The `{% docs name %} ... {% enddocs %}` blocks of the project's Markdown files, which
    descriptions cite as `{{ doc('name') }}`."""
    found: dict[str, str] = {}
    for folder in folders:
        base = root / folder
        for path in sorted(base.rglob("*.md")) if base.is_dir() else []:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for block in _DOCS_BLOCK.finditer(text):
                found.setdefault(block[1], block[2].strip())
    return found


def _declared_packages(root: Path) -> list[str]:
    """The names of the packages `packages.yml` (or `dependencies.yml`) asks for: a hub
    package's name after its owner, a git package's repository name."""
    names = []
    for file in ("packages.yml", "dependencies.yml"):
        if not (root / file).is_file():
            continue
        try:
            raw = load(root / file, file)
        except ImportProblem:
            continue
        for entry in (raw.get("packages") or []) if isinstance(raw, dict) else []:
            if not isinstance(entry, dict):
                continue
            spec = str(entry.get("package") or entry.get("git") or entry.get("local") or "")
            name = spec.rstrip("/").split("/")[-1].removesuffix(".git").replace("-", "_")
            if name:
                names.append(name)
    return names


def _discover(project: DbtProject) -> None:
    groups = [
        ("model", project.model_paths, project.root, project.name, None),
        ("seed", project.seed_paths, project.root, project.name, None),
        ("test", project.test_paths, project.root, project.name, None),
        ("snapshot", project.snapshot_paths, project.root, project.name, None),
    ]
    groups += [("model", p.model_paths, p.root, p.name, p.name) for p in project.packages]
    for kind, folders, home, owner, package in groups:
        _discover_in(project, kind, folders, home, owner, package)


def _discover_in(
    project: DbtProject, kind: str, folders: list[str], home: Path, owner: str, package
) -> None:
    root = project.root
    for folder in folders:
        base = home / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            inside = path.relative_to(base).parts
            if not path.is_file() or any(p.startswith(".") for p in inside):
                continue
            rel = str(path.relative_to(root))
            folders_in = list(path.relative_to(base).parent.parts)
            if path.suffix in (".yml", ".yaml"):
                _properties(project, path, rel, own=package is None)
                continue
            wanted = {"model": (".sql", ".py"), "seed": (".csv",), "test": (".sql",)}.get(
                kind, (".sql",)
            )
            if path.suffix not in wanted:
                continue
            if kind == "test" and "generic" in folders_in[:1]:
                continue  # generic test definitions: macros, not tests
            if kind == "snapshot":
                project.nodes += _snapshot_blocks(path, rel, [owner, *folders_in])
                continue
            project.nodes.append(
                Node(
                    kind=kind,
                    name=path.stem,
                    path=path,
                    relpath=rel,
                    fqn=[owner, *folders_in, path.stem],
                    language="python" if path.suffix == ".py" else "sql",
                    package=package,
                )
            )


_SNAPSHOT_BLOCK = re.compile(
    r"{%-?\s*snapshot\s+(\w+)\s*-?%}(.*?){%-?\s*endsnapshot\s*-?%}", re.DOTALL
)


def _snapshot_blocks(path: Path, rel: str, fqn: list[str]) -> list[Node]:
    """Each `{% snapshot name %} ... {% endsnapshot %}` of a file: a node whose template is
    the block's body, on the lines it has in the file (so errors name the file's line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [
        Node(
            "snapshot",
            block[1],
            path,
            rel,
            [*fqn, block[1]],
            body="\n" * text.count("\n", 0, block.start(2)) + block[2],
        )
        for block in _SNAPSHOT_BLOCK.finditer(text)
    ]


def _versions(project: DbtProject, entry: dict, rel: str) -> None:
    """A versioned model: each version's file (`<name>_v<v>` unless `defined_in`) gets the
    model's properties; `ref(name)` means its latest version."""
    versions = entry.get("versions")
    if not isinstance(versions, list) or not versions:
        return
    files: dict[Any, str] = {}
    for version in versions:
        if isinstance(version, dict) and "v" in version:
            stem = str(version.get("defined_in") or f"{entry['name']}_v{version['v']}")
            files[version["v"]] = stem
            project.properties.setdefault(stem, entry)
            project.property_files.setdefault(stem, rel)
    if files:
        latest = entry.get("latest_version", max(files, key=lambda v: str(v)))
        project.versions[entry["name"]] = (latest, files)


def _properties(project: DbtProject, path: Path, rel: str, own: bool = True) -> None:
    try:
        raw = load(path, rel)
    except ImportProblem as problem:
        project.problems.append(problem)
        return
    if not isinstance(raw, dict):
        return
    for section in ("models", "seeds", "snapshots"):
        for entry in raw.get(section) or []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                project.properties[entry["name"]] = entry
                project.property_files[entry["name"]] = rel
                _versions(project, entry, rel)
                if section == "snapshots" and isinstance(entry.get("relation"), str):
                    # a snapshot defined in YAML (dbt 1.9): the relation it keeps history of
                    project.nodes.append(
                        Node(
                            "snapshot",
                            entry["name"],
                            path,
                            rel,
                            [project.name, entry["name"]],
                            body="select * from {{ " + entry["relation"] + " }}",
                        )
                    )
    for entry in raw.get("sources") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            project.sources.append({**entry, "_file": rel})
    tests = raw.get("unit_tests") if own else None  # a package's test its own models
    for entry in tests if isinstance(tests, list) else []:
        if isinstance(entry, dict):
            project.unit_tests.append({**entry, "_file": rel})
