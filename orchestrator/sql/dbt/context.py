"""The names a dbt template sees while it renders, as dbt's compile gives them: `ref`,
`source`, `config`, `var`, `env_var`, `this`, `model`, `is_incremental`, `target`, `adapter`,
`exceptions`, `return`, the packages' macros by attribute, and dbt's Jinja filters. What needs
the database while compiling raises (`NeedsDatabase`, `QueriesAtRun`). Everything here reads
the node being rendered from the renderer (`jinja.Renderer`) when called, so one namespace
serves every node."""

from __future__ import annotations

import datetime as _datetime
import itertools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from .errors import MacroReturn, MissingMacro, MissingPackage, NeedsDatabase, QueriesAtRun
from .nodes import ACCUMULATED
from .yamlfile import ImportProblem


class Config:
    """`config` in a template: called, it records configs; `.get` reads them."""

    def __init__(self, renderer):
        self._r = renderer

    def __call__(self, *args, **kwargs) -> str:
        node = self._r.node
        if args and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
        for key, value in kwargs.items():
            key = key.replace("-", "_")
            if key in ACCUMULATED:
                node.config[key] = [
                    *node.config.get(key, []),
                    *([value] if isinstance(value, str | dict) else list(value)),
                ]
            else:
                node.config[key] = value
        return ""

    def get(self, key: str, default: Any = None) -> Any:
        return self._r.node.merged().get(key.replace("-", "_"), default)

    def require(self, key: str) -> Any:
        merged = self._r.node.merged()
        if key not in merged:
            raise ImportProblem(f"config '{key}' is required here and not set")
        return merged[key]


class PackageMacros:
    """A package's macros by attribute (`dbt_utils.star(...)`)."""

    def __init__(self, name: str, macros: dict[str, Callable], fallback=None):
        self._name, self._macros, self._fallback = name, macros, fallback

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        if attr in self._macros:
            return self._macros[attr]
        if self._fallback is not None:
            found = self._fallback(attr)
            if found is not None:
                return found
        raise MissingMacro(f"{self._name}.{attr}")


class NotInstalled:
    """A package packages.yml asks for, neither installed nor expanded natively: using one of
    its macros names the package."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise MissingPackage(self._name, attr)


class Adapter:
    """`adapter`: `dispatch` and `quote`; anything else asks the database."""

    def __init__(self, renderer):
        self._r = renderer

    def dispatch(self, macro_name: str, macro_namespace: str | None = None):
        return self._r.dispatch(macro_name, macro_namespace)

    def quote(self, identifier: str) -> str:
        return '"' + str(identifier).replace('"', '""') + '"'

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)

        def needs(*args, **kwargs):
            raise NeedsDatabase(f"adapter.{attr}() asks the database while compiling")

        return needs


class ThisRelation:
    """`this`: the relation of the node being rendered."""

    def __init__(self, renderer):
        self._r = renderer

    def __str__(self):
        return str(self._r.node.this or "")

    def __getattr__(self, attr):
        return getattr(self._r.node.this, attr)


class ModelAttributes:
    """`model`: what dbt's node gives of the node being rendered."""

    def __init__(self, renderer):
        self._r = renderer

    def __getattr__(self, attr):
        renderer = self._r
        node = renderer.node
        values = {
            "name": node.name,
            "alias": str(node.this.identifier if node.this else node.name),
            "schema": str(node.this.schema if node.this else ""),
            "fqn": node.fqn,
            "resource_type": node.resource_type,
            "unique_id": f"{node.resource_type}.{renderer.project.name}.{node.name}",
            "config": node.merged(),
            "original_file_path": node.relpath,
            "package_name": renderer.project.name,
        }
        if attr in values:
            return values[attr]
        raise AttributeError(attr)

    def get(self, key, default=None):
        try:
            return getattr(self, key)
        except AttributeError:
            return default


def raise_compiler_error(message: str = "", *args):
    raise ImportProblem(f"the project raises a compiler error: {message}")


class Exceptions:
    """`exceptions`: a compiler error stops the render; a warning is nothing."""

    def raise_compiler_error(self, message="", *args):
        raise_compiler_error(message)

    def warn(self, *args, **kwargs):
        return ""

    def raise_not_implemented(self, message=""):
        raise_compiler_error(message)


def queries_at_run(name: str) -> Callable:
    """A stand-in for `name` (run_query, statement...): calling it raises QueriesAtRun."""

    def call(*args, **kwargs):
        raise QueriesAtRun(f"{name}() queries the database while compiling")

    return call


def do_return(value):
    """dbt's `return(value)`: ends the macro, its caller gets `value`."""
    raise MacroReturn(value)


def node_functions(renderer) -> dict[str, Callable]:
    """`var`, `env_var`, `is_incremental`, `ref`, `source`: they record on the node being
    rendered what it used."""

    def var(name: str, default: Any = None, *rest):
        renderer.node.used.add(f"var:{name}")
        if renderer.project.has_var(name):
            return renderer.project.var(name)
        if default is not None or rest:
            return default
        raise ImportProblem(f"var('{name}') has no value: no default in dbt_project.yml")

    def env_var(name: str, default: Any = None):
        renderer.node.used.add(f"env_var:{name}")
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ImportProblem(f"env_var('{name}') is not set and has no default")

    def is_incremental() -> bool:
        renderer.node.used.add("is_incremental")
        return renderer.node.incremental

    def ref(*args, **kwargs):
        renderer.node.refs.append((args, kwargs))
        return renderer.ref(*args, **kwargs)

    def source(source_name: str, table_name: str):
        renderer.node.sources.append((source_name, table_name))
        return renderer.source(source_name, table_name)

    return {
        "var": var,
        "env_var": env_var,
        "is_incremental": is_incremental,
        "ref": ref,
        "source": source,
    }


def template_namespace(renderer) -> dict[str, Any]:
    """Everything a template sees before the macros are loaded: dbt's context, then the
    renderer's global built-ins (namespace "")."""
    nodes = node_functions(renderer)
    modules = type(
        "modules",
        (),
        {"datetime": _datetime, "re": re, "itertools": itertools, "json": json},
    )
    ns: dict[str, Any] = {
        **nodes,
        "return": do_return,
        "config": Config(renderer),
        "this": ThisRelation(renderer),
        "model": ModelAttributes(renderer),
        "target": renderer.target,
        "adapter": Adapter(renderer),
        "exceptions": Exceptions(),
        "modules": modules,
        "execute": True,
        "flags": type("flags", (), {"FULL_REFRESH": False, "WHICH": "run"})(),
        "run_started_at": _datetime.datetime.now(_datetime.UTC),
        "invocation_id": "import",
        "project_name": renderer.project.name,
        "builtins": type(
            "builtins", (), {"ref": nodes["ref"], "source": nodes["source"], "config": None}
        )(),
        "run_query": queries_at_run("run_query"),
        "statement": queries_at_run("statement"),
        "load_result": queries_at_run("load_result"),
        "log": lambda *a, **k: "",
        "print": lambda *a, **k: "",
        "zip": zip,
        "set": set,
        "tojson": lambda v, **k: json.dumps(v),
        "fromjson": lambda s, default=None: json.loads(s) if s else default,
        "local_md5": local_md5,
    }
    for name, natives in renderer.builtins.items():
        if name == "":
            ns.update(natives)
    return ns


def as_native(value: Any) -> Any:
    """dbt's `as_bool`/`as_native`/`as_number`: the text read as a Python literal when it is
    one (`'true'` and `'True'` as True), else as it is."""
    import ast

    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return value


def local_md5(text: str) -> str:
    import hashlib

    return hashlib.md5(str(text).encode(), usedforsecurity=False).hexdigest()


DBT_FILTERS = {
    "as_bool": as_native,
    "as_native": as_native,
    "as_number": as_native,
    "as_text": lambda value: "" if value is None else str(value),
}
"""dbt's own Jinja filters (templates and profiles.yml): a value as Python reads it, or text."""
