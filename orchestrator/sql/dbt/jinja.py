"""dbt's Jinja, rendered at import time as dbt would compile it: `ref`, `source`, `config`,
`var`, `env_var`, `this`, `is_incremental`, `target`, `adapter.dispatch`, `return`, and the
project's and installed packages' own macros. What needs a database while compiling
(`run_query`, `statement`, `adapter.get_columns_in_relation`...) raises NeedsDatabase, which
the report names; nothing is guessed.

Macros are made once, over one shared namespace (`context`), so that a macro finds every other
macro whatever file it is in; what differs per node (`this`, `config`, `model`, what `ref`
returns) is read from the node being rendered (`nodes.Rendering`), swapped for each one. Here:
the renderer, loading macros, and mapping a failure back to the template's file and line.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from typing import Any

from .context import DBT_FILTERS, NotInstalled, PackageMacros, template_namespace
from .errors import MacroReturn, MissingMacro, NeedsDatabase
from .nodes import Rendering, Target
from .project import DbtProject
from .yamlfile import ImportProblem


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
        self.ns: dict[str, Any] = template_namespace(self)
        self._load_macros()

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
            self.ns[package] = PackageMacros(package, {**found, **natives})
            for name, macro in found.items():
                self.ns.setdefault(name, macro)
        for namespace, natives in self.builtins.items():
            if namespace and namespace not in self.packages:
                self.ns[namespace] = PackageMacros(namespace, natives)
        for name in self.project.declared_packages:
            if name not in self.ns:
                self.ns[name] = NotInstalled(name)

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
        except MacroReturn as returned:
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
        except MacroReturn as returned:
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
