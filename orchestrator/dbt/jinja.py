"""dbt's Jinja, rendered at import time as dbt would compile it: `ref`, `source`, `config`,
`var`, `env_var`, `this`, `is_incremental`, `target`, `adapter.dispatch`, `return`, and the
project's and installed packages' own macros. What needs a database while compiling
(`run_query`, `statement`, `adapter.get_columns_in_relation`...) raises NeedsDatabase, which
the report names; nothing is guessed.

Macros are made once, over one shared namespace, so that a macro finds every other macro
whatever file it is in; what differs per node (`this`, `config`, `model`, what `ref` returns)
lives in that namespace and is swapped for each node rendered.
"""

from __future__ import annotations

import datetime as _datetime
import itertools
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .project import DbtProject
from .yamlfile import ImportProblem


class NeedsDatabase(Exception):
    """Compiling this needs a database (a query at compile time): not something we can render."""


class QueriesAtRun(NeedsDatabase):
    """It queries the warehouse while compiling (`run_query`, `statement`, dbt_utils'
    `get_column_values`...): rendered when the model runs instead (see `runtime`)."""


class MissingMacro(Exception):
    """A macro neither the project, its packages nor our built-ins define."""


class MissingPackage(MissingMacro):
    """A macro of a package `packages.yml` asks for that is not installed and that we do not
    expand natively."""

    def __init__(self, package: str, macro: str):
        self.package = package
        super().__init__(
            f"{package}.{macro}: the package {package} (packages.yml) is not installed in "
            "dbt_packages/ and not one we expand natively: run `dbt deps` and import again"
        )


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class RelationName(str):
    """A relation as dbt's `ref()`/`source()`/`this` give it: renders as `schema.name`, with
    the attributes macros read."""

    def __new__(cls, schema: str, identifier: str, database: str = "main", dbt_text: str = ""):
        text = f"{schema}.{identifier}" if schema else identifier
        made = super().__new__(cls, text)
        made.schema, made.identifier, made.name, made.database = (
            schema,
            identifier,
            identifier,
            database,
        )
        made.dbt_text = dbt_text  # how dbt renders it as text, `"db"."schema"."name"`
        return made

    def include(self, database=True, schema=True, identifier=True):  # noqa: ARG002
        return self if schema else RelationName("", self.identifier)

    def render(self) -> str:
        """The relation as dbt writes it into a value (a union's source column, an audit's
        relation name): database, schema and name quoted, dbt's names (ours may differ with
        --schemas custom; the SQL reads `str()`, ours)."""
        return self.dbt_text or str(self)

    @property
    def is_table(self) -> bool:
        return True


@dataclass
class Target:
    name: str
    schema: str
    database: str = "main"
    type: str = "duckdb"
    threads: int = 1
    profile_name: str = ""
    path: str = ""  # the DuckDB file of dbt's target (profiles.yml), where dbt builds

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class Rendering:
    """One node being rendered: its identity, the configs it sets, what it uses."""

    name: str
    relpath: str
    fqn: list[str]
    resource_type: str = "model"
    settled: dict = field(default_factory=dict)  # configs from the tree and properties files
    config: dict = field(default_factory=dict)  # what its own config() calls set
    refs: list[tuple] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # env_var, is_incremental, ...
    this: RelationName | None = None
    incremental: bool = False

    def merged(self) -> dict:
        found = {**self.settled, **self.config}
        for key in ("tags", "pre_hook", "post_hook"):
            if key in self.settled and key in self.config:
                found[key] = [*_listed(self.settled[key]), *_listed(self.config[key])]
        return found


def _listed(value: Any) -> list:
    return [value] if isinstance(value, str | dict) else list(value or [])


class _Config:
    """`config` in a template: called, it records configs; `.get` reads them."""

    def __init__(self, renderer: Renderer):
        self._r = renderer

    def __call__(self, *args, **kwargs) -> str:
        node = self._r.node
        if args and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
        for key, value in kwargs.items():
            key = key.replace("-", "_")
            if key in ("tags", "pre_hook", "post_hook"):  # these accumulate, in dbt
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


class _Namespace:
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


class _NotInstalled:
    """A package packages.yml asks for, neither installed nor expanded natively: using one of
    its macros names the package."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise MissingPackage(self._name, attr)


class _Adapter:
    def __init__(self, renderer: Renderer):
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


def _needs(name: str):
    def call(*args, **kwargs):
        raise QueriesAtRun(f"{name}() queries the database while compiling")

    return call


class Renderer:
    def __init__(
        self, project: DbtProject, target: Target, builtins: dict[str, dict] | None = None
    ):
        import jinja2

        self.project = project
        self.target = target
        self.env = jinja2.Environment(
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.env.filters.update(DBT_FILTERS)
        self.node = Rendering("", "", [])
        self.ref: Callable[..., str] = lambda *a, **k: ""
        self.source: Callable[[str, str], str] = lambda s, t: f"{s}.{t}"
        self.macros: dict[str, Callable] = {}  # the project's own
        self.packages: dict[str, dict[str, Callable]] = {}
        self.macro_files: dict[str, str] = {}  # macro -> where it is defined
        self.builtins = builtins or {}  # namespace -> name -> our native implementation
        self.ns: dict[str, Any] = self._namespace()
        self._load_macros()

    # -- the namespace ----------------------------------------------------------------------

    def _namespace(self) -> dict[str, Any]:
        renderer = self

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

        def do_return(value):
            raise _Return(value)

        def raise_compiler_error(message: str = "", *args):
            raise ImportProblem(f"the project raises a compiler error: {message}")

        def ref(*args, **kwargs):
            renderer.node.refs.append((args, kwargs))
            return renderer.ref(*args, **kwargs)

        def source(source_name: str, table_name: str):
            renderer.node.sources.append((source_name, table_name))
            return renderer.source(source_name, table_name)

        class _This:
            def __str__(self):
                return str(renderer.node.this or "")

            def __getattr__(self, attr):
                return getattr(renderer.node.this, attr)

        class _Model:
            def __getattr__(self, attr):
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

        class _Exceptions:
            def raise_compiler_error(self, message="", *args):
                raise_compiler_error(message)

            def warn(self, *args, **kwargs):
                return ""

            def raise_not_implemented(self, message=""):
                raise_compiler_error(message)

        import json

        modules = type(
            "modules",
            (),
            {"datetime": _datetime, "re": re, "itertools": itertools, "json": json},
        )
        ns: dict[str, Any] = {
            "var": var,
            "env_var": env_var,
            "is_incremental": is_incremental,
            "return": do_return,
            "ref": ref,
            "source": source,
            "config": _Config(self),
            "this": _This(),
            "model": _Model(),
            "target": self.target,
            "adapter": _Adapter(self),
            "exceptions": _Exceptions(),
            "modules": modules,
            "execute": True,
            "flags": type("flags", (), {"FULL_REFRESH": False, "WHICH": "run"})(),
            "run_started_at": _datetime.datetime.now(_datetime.UTC),
            "invocation_id": "import",
            "project_name": self.project.name,
            "builtins": type("builtins", (), {"ref": ref, "source": source, "config": None})(),
            "run_query": _needs("run_query"),
            "statement": _needs("statement"),
            "load_result": _needs("load_result"),
            "log": lambda *a, **k: "",
            "print": lambda *a, **k: "",
            "zip": zip,
            "set": set,
            "tojson": lambda v, **k: json.dumps(v),
            "fromjson": lambda s, default=None: json.loads(s) if s else default,
            "local_md5": _md5,
        }
        for namespace, natives in self.builtins.items():
            if namespace == "":
                ns.update(natives)
        return ns

    def _load_macros(self) -> None:
        """Every macro of the project and of its installed packages, made over the shared
        namespace; the project's go in it by name, a package's under its name too."""
        import jinja2

        generic = [f"{t}/generic" for t in self.project.test_paths]  # custom generic tests
        places = [
            (None, self.project.root, [*self.project.macro_paths, *generic], self.project.root)
        ]
        places += [
            (p.name, p.root, p.macro_paths, self.project.root) for p in self.project.packages
        ]
        for package, root, folders, base in places:
            found: dict[str, Callable] = {}
            for folder in folders:
                for path in (
                    sorted((root / folder).rglob("*.sql")) if (root / folder).is_dir() else []
                ):
                    rel = str(path.relative_to(base))
                    try:
                        text = _generic_tests(path.read_text(encoding="utf-8"))
                        template = self._compile(text, rel, macros_only=True)
                        module = template.make_module(vars=self.ns, shared=True)
                    except ImportProblem as problem:
                        self.project.macro_problems.append(problem)
                        continue
                    except Exception as exc:  # noqa: BLE001 - a file of macros that will not load
                        self.project.macro_problems.append(_problem(exc, rel))
                        continue
                    for name in dir(module):
                        value = getattr(module, name)
                        if isinstance(value, jinja2.runtime.Macro):
                            found[name] = _returning(value)
                            self.macro_files.setdefault(name, rel)
            if package is None:
                self.macros.update(found)
                self.ns.update(found)
            else:
                self.packages[package] = found
        for package, found in self.packages.items():
            natives = self.builtins.get(package, {})
            self.ns[package] = _Namespace(package, {**found, **natives})
            for name, macro in found.items():
                self.ns.setdefault(name, macro)
        for namespace, natives in self.builtins.items():
            if namespace and namespace not in self.packages:
                self.ns[namespace] = _Namespace(namespace, natives)
        for name in self.project.declared_packages:
            if name not in self.ns:
                self.ns[name] = _NotInstalled(name)

    def dispatch(self, name: str, namespace: str | None) -> Callable:
        """`adapter.dispatch`: duckdb__NAME, then default__NAME, in the project, then in the
        namespace's package (or among our built-ins for it)."""
        places = [self.macros]
        if namespace and namespace in self.packages:
            places.append(self.packages[namespace])
        if namespace and namespace in self.builtins:
            places.append(self.builtins[namespace])
        places.append({k: v for p in self.packages.values() for k, v in p.items()})
        for prefix in ("duckdb__", "default__", ""):
            for place in places:
                if prefix + name in place:
                    return place[prefix + name]
        raise MissingMacro(f"{namespace + '.' if namespace else ''}{name}")

    # -- rendering --------------------------------------------------------------------------

    def _compile(self, text: str, relpath: str, macros_only: bool = False):
        """`text` as a template; `macros_only`: only its macro blocks, as dbt reads a file of
        macros (the text around them, `{{ x() }}` in a comment included, is never rendered)."""
        import jinja2
        from jinja2 import nodes

        try:
            source = self.env.parse(text, name=relpath, filename=relpath)
            if macros_only:
                source.body = [n for n in source.body if isinstance(n, nodes.Macro)]
            code = self.env.compile(source, name=relpath, filename=relpath)
        except jinja2.TemplateSyntaxError as exc:
            raise ImportProblem(
                f"Jinja does not parse: {exc.message}", relpath, exc.lineno
            ) from None
        template = jinja2.Template.from_code(self.env, code, self.env.make_globals(None))
        _TEMPLATES[relpath] = template
        return template

    def render(self, text: str, node: Rendering) -> str:
        """`text` rendered for `node`; ImportProblem / NeedsDatabase / MissingMacro name the
        file and line where it happened."""
        template = self._compile(text, node.relpath)
        self.node = node
        try:
            context = template.new_context(self.ns, shared=True)
            return "".join(template.root_render_func(context))
        except _Return as returned:
            return str(returned.value)
        except (NeedsDatabase, MissingMacro) as exc:
            where, line = _where(exc, node.relpath)
            exc.args = (f"{where}:{line}: {exc}" if line else f"{where}: {exc}",)
            raise exc.with_traceback(None) from None
        except ImportProblem as exc:
            if exc.path:
                raise
            where, line = _where(exc, node.relpath)
            raise ImportProblem(exc.detail, where, line) from None
        except Exception as exc:  # noqa: BLE001 - any failure of the template: one line
            raise _problem(exc, node.relpath) from None

    def call_macro(self, name: str, *args, **kwargs) -> Any:
        macro = self.macros.get(name)
        if macro is None:
            return None
        return macro(*args, **kwargs)


_TEST_START = re.compile(r"{%(-?)\s*test\s+(\w+)\s*\(")
_TEST_END = re.compile(r"{%(-?)\s*endtest\s*(-?)%}")


def _generic_tests(text: str) -> str:
    """dbt's `{% test name(...) %}` blocks as the macros `test_name` dbt makes of them."""
    text = _TEST_START.sub(lambda m: "{%" + m[1] + " macro test_" + m[2] + "(", text)
    return _TEST_END.sub(lambda m: "{%" + m[1] + " endmacro " + m[2] + "%}", text)


def _returning(macro) -> Callable:
    """A macro whose `{{ return(x) }}` gives x to its caller, as dbt's macros do."""

    def call(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except _Return as returned:
            return returned.value

    call.__name__ = macro.name
    return call


_TEMPLATES: dict[str, Any] = {}  # relpath -> its compiled template, to map lines back


def _where(exc: BaseException, default: str) -> tuple[str, int | None]:
    """The deepest template frame of the traceback: the file and the template's line where it
    failed (the compiled code's line mapped back)."""
    found: tuple[str, int | None] = (default, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        template = _TEMPLATES.get(frame.filename or "")
        if template is not None and frame.lineno is not None:
            found = (frame.filename, template.get_corresponding_lineno(frame.lineno))
    return found


def _problem(exc: Exception, relpath: str) -> ImportProblem:
    where, line = _where(exc, relpath)
    text = str(exc).split("\n")[0] or type(exc).__name__
    if type(exc).__name__ == "UndefinedError":
        text = f"undefined: {text}"
    return ImportProblem(f"does not render: {text}", where, line)


def as_text(relation: Any) -> str:
    """A relation as dbt writes it into a value (`relation.render()`), anything else as is."""
    render = getattr(relation, "render", None)
    return str(render() if callable(render) else relation)


def _as_native(value: Any) -> Any:
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


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(str(text).encode(), usedforsecurity=False).hexdigest()


DBT_FILTERS = {
    "as_bool": _as_native,
    "as_native": _as_native,
    "as_number": _as_native,
    "as_text": lambda value: "" if value is None else str(value),
}
"""dbt's own Jinja filters (templates and profiles.yml): a value as Python reads it, or text."""
