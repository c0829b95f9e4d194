"""The model graph: edges from parsed references, topological order, cycles (selectors read it:
see `selectors`).

An unqualified reference resolves to a model in the referencing model's schema, then in the default
schema. A reference that matches no model is an external source. Nothing here runs anything.
"""

from __future__ import annotations

import difflib
import graphlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..core.errors import CycleError, ProjectError, suggest
from ..core.quoting import quote
from .model import Kind, Model, Project


@dataclass(frozen=True)
class DAG:
    """Models with their resolved upstream models and external sources, in topological order."""

    models: Mapping[str, Model]
    upstream: Mapping[str, tuple[str, ...]]
    downstream: Mapping[str, tuple[str, ...]]
    sources: Mapping[str, tuple[str, ...]]
    order: tuple[str, ...]
    # models a model's checks read (relationships, custom checks): built first, but their
    # rebuilds do not make the model stale
    after: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_schema: str = "main"

    def relation_for(self, reference: str, reader: str) -> str:
        """The quoted relation a reference in `reader`'s SQL or checks names."""
        parts = reference.split(".")
        for candidate in (
            [f"{self.models[reader].schema}.{parts[0]}", f"{self.default_schema}.{parts[0]}"]
            if len(parts) == 1
            else [".".join(parts[-2:])]
        ):
            if candidate in self.models:
                return self.models[candidate].relation
        return ".".join(quote(p) for p in parts)

    def ancestors(self, names: Iterable[str], depth: int | None = None) -> set[str]:
        """What `names` read, directly or not; `depth`: only that many levels up."""
        return _walk(names, self.upstream, depth)

    def descendants(self, names: Iterable[str], depth: int | None = None) -> set[str]:
        """What reads `names`, directly or not; `depth`: only that many levels down."""
        return _walk(names, self.downstream, depth)

    def ordered(self, names: Iterable[str]) -> list[str]:
        wanted = set(names)
        return [name for name in self.order if name in wanted]

    def sources_read(self, model: str) -> list[str]:
        """The external sources a model reads, directly or through views (which store
        nothing, so what they read is read by their readers)."""
        found: dict[str, None] = dict.fromkeys(self.sources.get(model, ()))
        for up in self.upstream.get(model, ()):
            if self.models[up].kind is Kind.VIEW:
                found.update(dict.fromkeys(self.sources_read(up)))
        return list(found)

    @property
    def external(self) -> list[str]:
        return sorted({s for refs in self.sources.values() for s in refs})


def _stable_order(sorter: graphlib.TopologicalSorter) -> tuple[str, ...]:
    """A topological order that is the same on every run: each batch graphlib releases is taken
    by name (its own order follows set iteration, which the hash seed changes)."""
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return tuple(order)


def _walk(
    start: Iterable[str], edges: Mapping[str, tuple[str, ...]], depth: int | None = None
) -> set[str]:
    """The nodes reachable from `start` along `edges`, level by level (at most `depth`)."""
    seen: set[str] = set()
    level = list(start)
    while level and (depth is None or depth > 0):
        level = list(
            dict.fromkeys(n for node in level for n in edges.get(node, ()) if n not in seen)
        )
        seen.update(level)
        depth = None if depth is None else depth - 1
    return seen


def resolve(reference: str, model: Model, project: Project) -> str | None:
    """The model a table reference names, or None when it names something external."""
    parts = reference.split(".")
    models = project.models
    if len(parts) == 1:
        for schema in (model.schema, project.settings.default_schema):
            candidate = f"{schema}.{parts[0]}"
            if candidate in models:
                return candidate
        return None
    if len(parts) == 3:
        # catalog.schema.table: ours only when the catalog is the warehouse's own
        if parts[0] != project.settings.warehouse.stem.lower():
            return None
        parts = parts[1:]
    candidate = ".".join(parts)
    return candidate if candidate in models else None


def build(project: Project) -> DAG:
    """Resolve every model's references into edges and order them; a cycle is a CycleError."""
    upstream: dict[str, tuple[str, ...]] = {}
    sources: dict[str, tuple[str, ...]] = {}
    after: dict[str, tuple[str, ...]] = {}
    for name, model in project.models.items():
        deps: dict[str, None] = {}
        external: dict[str, None] = {}
        for ref in model.tables:
            target = resolve(ref, model, project)
            if target is None:
                external[_qualify_external(ref, project)] = None
            else:
                deps[target] = None
        for extra in model.depends_on:
            target = resolve(extra.lower(), model, project)
            if target is not None:
                deps[target] = None
        if name in deps:
            raise CycleError([name, name], {name: model.relpath})
        upstream[name] = tuple(sorted(deps))
        sources[name] = tuple(sorted(external))
        checked: dict[str, None] = {}
        for check in model.checks:
            for ref in (check.reference,) if check.reference else check.tables:
                target = resolve(ref, model, project)
                if target is not None and target != name and target not in deps:
                    checked[target] = None
        after[name] = tuple(sorted(checked))
    for _, error in reference_errors(project, sources):
        raise error
    sorter = graphlib.TopologicalSorter({n: set(upstream[n]) | set(after[n]) for n in upstream})
    try:
        order = _stable_order(sorter)
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])  # each node feeds the next
        raise CycleError(cycle, {n: project.models[n].relpath for n in cycle}) from None
    downstream: dict[str, list[str]] = {name: [] for name in project.models}
    for name, deps in upstream.items():
        for dep in deps:
            downstream[dep].append(name)
    return DAG(
        models=project.models,
        upstream=MappingProxyType(upstream),
        downstream=MappingProxyType({k: tuple(sorted(v)) for k, v in downstream.items()}),
        sources=MappingProxyType(sources),
        order=order,
        after=MappingProxyType(after),
        default_schema=project.settings.default_schema,
    )


def reference_errors(
    project: Project, sources: Mapping[str, tuple[str, ...]] | None = None
) -> Iterator[tuple[str, ProjectError]]:
    """(model, error) for each reference a model makes that cannot be right: a depends_on that
    names no model, a typo of a model's name, a check's target nobody builds. Such a model is
    broken (`workspace.open_workspace` holds it back); `build` refuses the first one."""
    yield from _depends_on_errors(project)
    yield from _model_reference_errors(project)
    if sources is None:
        sources = {
            name: tuple(
                _qualify_external(ref, project)
                for ref in model.tables
                if resolve(ref, model, project) is None
            )
            for name, model in project.models.items()
        }
    yield from _check_reference_errors(project, {s for refs in sources.values() for s in refs})


def _depends_on_errors(project: Project) -> Iterator[tuple[str, ProjectError]]:
    for name, model in project.models.items():
        for extra in model.depends_on:
            if resolve(extra.lower(), model, project) is None:
                yield (
                    name,
                    ProjectError(
                        f"depends_on: no model named '{extra}'{suggest(extra, project.models)}",
                        model.relpath,
                        model.header_lines.get("depends_on"),
                    ),
                )
                break


def _check_reference_errors(
    project: Project, external: set[str]
) -> Iterator[tuple[str, ProjectError]]:
    """A `relationships` target must be something the project knows: a model, a declared
    source, a relation the models read, or a table of a schema that only the outside world
    writes (raw.dim, when models read raw.orders). Anything else is most likely a typo, which
    would otherwise show only when the check runs."""
    outside = {*project.sources, *external}
    outside_schemas = {n.split(".")[0] for n in outside} - {
        m.schema for m in project.models.values()
    }
    for model in project.models.values():
        for check in model.checks:
            if check.kind != "relationships" or resolve(check.reference, model, project):
                continue
            parts = check.reference.split(".")
            if len(parts) == 3 and parts[0] != project.settings.warehouse.stem.lower():
                continue  # a table of another attached database
            name = _qualify_external(".".join(parts[-2:]), project)
            if name in outside or name.split(".")[0] in outside_schemas:
                continue
            yield (
                model.name,
                ProjectError(
                    f"bad check: relationships: no model or source named '{check.reference}'"
                    f"{suggest(check.reference, [*project.models, *project.sources])}; a table "
                    f'loaded by something else is declared as [sources."{name}"] in '
                    "orchestrator.toml",
                    check.path,
                    check.line,
                ),
            )
            break


def _model_reference_errors(project: Project) -> Iterator[tuple[str, ProjectError]]:
    """A relation a model reads that is no model must be meant: `from marts.fct_order` when
    the model is `marts.fct_orders` is a typo, which would otherwise pass as an external table
    and fail only at run time. So a qualified name in a schema the project's models build into
    must be a model or a declared source, and an unqualified one must not be a near miss of a
    model's name where it would be looked up (the model's schema, then the default one).
    Schemas no model builds into (`raw`) are the outside world's: anything may be read there."""
    schemas = {m.schema for m in project.models.values()}
    for model in project.models.values():
        for ref in model.tables:
            if resolve(ref, model, project) is not None:
                continue
            parts = ref.split(".")
            if len(parts) == 1:
                near = [
                    m.name
                    for m in project.models.values()
                    if m.schema in (model.schema, project.settings.default_schema)
                    and difflib.SequenceMatcher(None, ref, m.table).ratio() >= 0.85
                ]
                if near:
                    yield (
                        model.name,
                        ProjectError(
                            f"'{ref}' is no model (did you mean: {', '.join(sorted(near))}?); "
                            f'a table loaded by something else is declared as [sources."'
                            f'{_qualify_external(ref, project)}"] in orchestrator.toml',
                            model.relpath,
                            _line_of(model.template, ref),
                        ),
                    )
                    break
                continue
            name = ".".join(parts[-2:])
            if (len(parts) == 3 and parts[0] != project.settings.warehouse.stem.lower()) or (
                parts[-2] not in schemas or name in project.sources
            ):
                continue
            close = suggest(name, [*project.models, *project.sources])
            yield (
                model.name,
                ProjectError(
                    f"'{name}' is neither a model nor a declared source{close}; schema "
                    f"'{parts[-2]}' is where models are built, so a table loaded there by "
                    f'something else is declared as [sources."{name}"] in orchestrator.toml',
                    model.relpath,
                    _line_of(model.template, name),
                ),
            )
            break


def _line_of(text: str, reference: str) -> int | None:
    """The first line of a model that names a relation (qualified or by its table name)."""
    table = reference.split(".")[-1]
    pattern = re.compile(
        rf"(?<![\w.]){re.escape(reference)}(?!\w)|(?<![\w]){re.escape(table)}(?!\w)", re.IGNORECASE
    )
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line.split("--")[0]):
            return number
    return None


def _qualify_external(ref: str, project: Project) -> str:
    if "." in ref:
        return ref
    return f"{project.settings.default_schema}.{ref}"
