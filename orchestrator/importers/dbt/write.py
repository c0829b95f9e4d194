"""Writing the imported project: its files, `orchestrator.toml` and `IMPORT_REPORT.md`, into a
folder that is new or empty (or, with --force, whose earlier import is replaced)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import UsageError
from ...sql.dbt.project import read
from ...sql.dbt.yamlfile import ImportProblem
from .convert import convert
from .profiles import parse_vars, read_target
from .report import report
from .unit_tests import settle as settle_unit_tests
from .values import HAND, Converted

_OURS = ("models", "checks", "seeds", "dbt", "unit_tests", "orchestrator.toml", "IMPORT_REPORT.md")


@dataclass
class Imported:
    out: Path
    converted: Converted
    exit_code: int  # 0 all converted, 1 some need a hand, 2 nothing converted
    dbt_warehouse: str | None = None  # the DuckDB file dbt's target builds into, if any


def import_dbt(
    dbt_root: Path,
    out: Path | None,
    target: str | None,
    schemas: str,
    force: bool,
    cli_vars: str | None = None,
) -> Imported:
    """`cli_vars`: dbt's `--vars` (a YAML mapping), seen by profiles.yml and every model."""
    dbt_root = dbt_root.resolve()
    try:
        project = read(dbt_root, parse_vars(cli_vars))
        converted = convert(project, read_target(project, target), schemas)
    except ImportProblem as exc:
        raise UsageError(str(exc)) from None
    out = (out or dbt_root.parent / f"{dbt_root.name}-orchestrator").resolve()
    if out == dbt_root or dbt_root in out.parents:
        raise UsageError(f"--out {out} is inside the dbt project: it is never modified")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise UsageError(f"{out} exists and is not empty: pass --force to replace its import")
        for name in _OURS:
            target_path = out / name
            if target_path.is_dir():
                shutil.rmtree(target_path)
            elif target_path.exists():
                target_path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for rel, text in sorted(converted.files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    toml = _toml(converted, project.name, dbt_root)
    dbt_file = _dbt_warehouse(dbt_root, project, target)
    if dbt_file:
        toml = toml.replace(
            "\n",
            f"\n# dbt builds into {dbt_file}: `orchestrator adopt --warehouse "
            f"{dbt_file}` records what it built there as built by us\n",
            1,
        )
    (out / "orchestrator.toml").write_text(toml, "utf-8")
    settle_unit_tests(out, converted)
    (out / "IMPORT_REPORT.md").write_text(report(converted, project.name, dbt_root, out), "utf-8")
    models = [o for o in converted.outcomes if o.node.startswith(("model.", "seed."))]
    built = [o for o in models if o.status != HAND and o.ours]
    hands = [o for o in converted.outcomes if o.status == HAND]
    code = 2 if not built else (1 if hands or converted.problems else 0)
    dbt_built = dbt_file if dbt_file and Path(dbt_file).is_file() else None
    return Imported(out, converted, code, dbt_built)


def _dbt_warehouse(dbt_root: Path, project, target: str | None) -> str | None:
    """The DuckDB file dbt's target builds into, when profiles.yml names one."""
    try:
        path = read_target(project, target).path
    except ImportProblem:
        return None
    if not path or path == ":memory:" or "{{" in path:
        return None
    return str((dbt_root / path).resolve()) if not Path(path).is_absolute() else path


def _string(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: the same escapes


def _toml(converted: Converted, name: str, dbt_root: Path) -> str:
    lines = [
        f"# Imported from the dbt project '{name}' ({dbt_root}) by `orchestrator import dbt`.",
        "# IMPORT_REPORT.md says what became of each node.",
        'warehouse = "warehouse.duckdb"',
        f"default_schema = {_string(converted.default_schema)}",
    ]
    if converted.hooks:
        lines += ["", "[hooks]"]
        for key in ("on_run_start", "on_run_end"):
            if converted.hooks.get(key):
                lines.append(f"{key} = {_value(converted.hooks[key])}")
    for source, settings in sorted(converted.sources.items()):
        lines += ["", f"[sources.{_string(source)}]"]
        lines += [f"{key} = {_value(value)}" for key, value in settings.items()]
    for seed, settings in sorted(converted.seeds.items()):
        lines += ["", f"[seeds.{_string(seed)}]"]
        for key, value in settings.items():
            lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _value(value) -> str:
    """A TOML value: a string, a list of strings, or an inline table of strings."""
    if isinstance(value, dict):
        pairs = ", ".join(f"{_string(str(k))} = {_string(str(v))}" for k, v in value.items())
        return "{ " + pairs + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_string(str(v)) for v in value) + "]"
    return _string(str(value))
