"""profiles.yml as dbt reads it: every string value rendered as Jinja before it is used
(`{{ env_var('DBT_SCHEMA', 'main') }}`, `{{ var('schema_id', 'dev') }}`), with dbt's profile
context: `env_var` reads the environment, `var` only the `--vars` of the command (dbt renders
the profile before it reads the project, so the project's vars are not there). A value
renders to text, as in dbt (`threads: "{{ 2 + 2 }}"` is '4', which dbt refuses and we read
as 4); the filters `as_number`, `as_bool`, `as_native` give the value itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...sql.dbt.context import DBT_FILTERS
from ...sql.dbt.nodes import Target
from ...sql.dbt.project import DbtProject
from ...sql.dbt.yamlfile import ImportProblem, load

_FILE = "profiles.yml"


def read_target(project: DbtProject, target_name: str | None) -> Target:
    """The target dbt would use: from a `profiles.yml` beside the project when there is one
    (its `target`, or `--target`), else DuckDB's default schema `main`."""
    file = project.root / _FILE
    if file.is_file() and project.profile:
        profiles = load(file, _FILE)
        profile = profiles.get(project.profile) if isinstance(profiles, dict) else None
        if isinstance(profile, dict):
            profile = render(profile, project.cli_vars)
            name = target_name or profile.get("target") or "dev"
            outputs = profile.get("outputs") or {}
            if name not in outputs:
                raise ImportProblem(
                    f"no target '{name}' in profile '{project.profile}' "
                    f"(it has {', '.join(outputs) or 'none'})",
                    _FILE,
                )
            out = outputs[name] or {}
            return Target(
                name=str(name),
                schema=str(out.get("schema") or "main"),
                database=str(out.get("database") or Path(str(out.get("path", "main"))).stem),
                threads=int(out.get("threads") or 1),
                profile_name=project.profile,
                path=str(out.get("path") or ""),
            )
    return Target(name=target_name or "dev", schema="main", profile_name=project.profile or "")


def render(value: Any, cli_vars: dict[str, Any]) -> Any:
    """`value` (a profile's entry) with each string holding Jinja rendered as dbt does."""
    if isinstance(value, dict):
        return {key: render(item, cli_vars) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, cli_vars) for item in value]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    return _environment(cli_vars).from_string(value).render()


def _environment(cli_vars: dict[str, Any]):
    import json

    import jinja2
    import jinja2.sandbox

    def var(name: str, default: Any = None) -> Any:
        if name in cli_vars:
            return cli_vars[name]
        if default is not None:
            return default
        raise ImportProblem(
            f"var('{name}') has no value: dbt renders the profile with --vars only "
            "(give it a default, or pass --vars)",
            _FILE,
        )

    def env_var(name: str, default: Any = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return str(default)
        raise ImportProblem(f"env_var('{name}') is not set and has no default", _FILE)

    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.globals.update(
        var=var,
        env_var=env_var,
        tojson=json.dumps,
        fromjson=json.loads,
        zip=zip,
        set=set,
        log=lambda *args, **kwargs: "",
        print=lambda *args, **kwargs: "",
    )
    env.filters.update(DBT_FILTERS)
    return env


def parse_vars(text: str | None) -> dict[str, Any]:
    """dbt's `--vars`: a YAML mapping (`{key: value}`, or JSON)."""
    if not text:
        return {}
    from ...sql.dbt.yamlfile import yaml_module

    try:
        found = yaml_module().safe_load(text)
    except Exception as exc:  # noqa: BLE001 -- PyYAML's errors have no common public base
        raise ImportProblem(f"--vars does not parse as YAML: {exc}") from None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise ImportProblem(f"--vars must be a mapping, like '{{key: value}}', not {text!r}")
    return found
