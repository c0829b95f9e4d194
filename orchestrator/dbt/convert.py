"""Each dbt node turned into ours: a model file (our header, then the SQL dbt would compile),
header checks or check files for its tests, declared sources for its `sources:`; and for every
node, whether it converted exactly, with notes, or needs a hand, and why.

Two passes over the models, as dbt parses then compiles: the first renders each file to learn
the configs its `config()` sets (so every relation name is known), the second renders it with
`ref()` and `source()` giving our relation names. Ephemeral models are inlined into their
consumers as CTEs; microbatch models become partitioned incremental models whose inputs are
filtered to the partition's window, as dbt filters each batch's inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .jinja import MissingMacro, NeedsDatabase, RelationName, Renderer, Rendering, Target
from .project import DbtProject, Node
from .yamlfile import ImportProblem

EXACT, NOTES, HAND = "converted exactly", "converted with notes", "needs a hand"

_GRAINS = {"hour": "hour", "day": "day", "month": "month", "year": "year"}
_PERIODS = {"minute": "m", "hour": "h", "day": "d"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AFTER_RELATION = re.compile(r"\s+(?:as\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_NOT_ALIASES = frozenset(
    """where join left right inner outer full cross natural on using group order limit having
    union except intersect window qualify offset fetch lateral pivot unpivot select from and or
    sample tablesample when then else end returning""".split()
)


@dataclass
class Outcome:
    """What became of one dbt node."""

    node: str  # dbt's unique id, e.g. model.shop.orders
    file: str  # where it is in the dbt project
    status: str  # EXACT | NOTES | HAND
    ours: str = ""  # what it became: a relation, a check, a source
    notes: list[str] = field(default_factory=list)


@dataclass
class Converted:
    files: dict[str, str] = field(default_factory=dict)  # our relpath -> text
    sources: dict[str, dict] = field(default_factory=dict)  # our source name -> settings
    seeds: dict[str, dict] = field(default_factory=dict)  # our seed name -> settings
    hooks: dict[str, list[str]] = field(default_factory=dict)  # on_run_start/end -> SQL
    outcomes: list[Outcome] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)  # dbt relation -> ours
    problems: list[str] = field(default_factory=list)  # file:line: message
    default_schema: str = "main"


@dataclass
class _Model:
    node: Node
    config: dict
    relation: RelationName | None = None
    dbt_relation: str = ""  # where dbt itself would build it
    ephemeral_sql: str | None = None
    problem: str | None = None


class Converter:
    def __init__(self, project: DbtProject, target: Target, schemas: str = "dbt", builtins=None):
        self.project, self.target, self.schemas = project, target, schemas
        if builtins is None:
            from .builtins import natives

            builtins = natives(lambda text: self.renderer.node.used.add(f"note:{text}"))
        self.renderer = Renderer(project, target, builtins)
        self.out = Converted(default_schema=target.schema)
        self.models: dict[str, _Model] = {}
        self.reads: dict[str, set[str]] = {}  # model -> the models it reads
        self.cross: list[tuple] = []  # tests of one model that read another
        self._other: str | None = None
        self.source_relations: dict[tuple[str, str], tuple[RelationName, dict]] = {}

    # -- entry ------------------------------------------------------------------------------

    def convert(self) -> Converted:
        for problem in self.project.problems:
            self.out.problems.append(str(problem))
        self._sources()
        nodes = [n for n in self.project.nodes if n.kind == "model"]
        for node in nodes:
            self._parse(node)
        for node in self.project.nodes:
            if node.kind == "seed":
                self._parse_seed(node)
        self._name_relations()
        for name, model in self.models.items():
            if model.config.get("materialized") == "ephemeral" and model.problem is None:
                self._ephemeral(name, model)
        for name, model in self.models.items():
            self._model(name, model)
        self._untangle()
        for node in self.project.nodes:
            if node.kind == "test":
                self._singular_test(node)
            elif node.kind == "snapshot":
                self._hand(
                    node,
                    "snapshots are not converted: keep history with an incremental "
                    "model with unique_key, or keep running this snapshot in dbt",
                )
        for hooks, where in (
            (self.project.on_run_start, "on-run-start"),
            (self.project.on_run_end, "on-run-end"),
        ):
            for i, spec in enumerate(hooks):
                self._run_hook(where, i, spec)
        return self.out

    def _run_hook(self, where: str, index: int, spec: Any) -> None:
        """An on-run-start / on-run-end hook: our [hooks], rendered now, or why not."""
        uid = f"operation.{self.project.name}.{self.project.name}-{where}-{index}"
        text = str(spec.get("sql", "")) if isinstance(spec, dict) else str(spec)
        rendering = Rendering(
            where, "dbt_project.yml", [self.project.name], resource_type="operation"
        )
        self._bind()
        try:
            sql = " ".join(self.renderer.render(text, rendering).split()).rstrip(";")
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            self.out.outcomes.append(
                Outcome(uid, "dbt_project.yml", HAND, notes=[f"{where} hook: {exc}"])
            )
            return
        if not sql:
            self.out.outcomes.append(Outcome(uid, "dbt_project.yml", EXACT, notes=["only logs"]))
            return
        if re.match(r"(?i)(grant|revoke)\b", sql):  # nothing to do here: reported, not lost
            why = f"{where} hook not converted: DuckDB has no grants ({sql[:80]})"
            self.out.outcomes.append(Outcome(uid, "dbt_project.yml", NOTES, notes=[why]))
            return
        if ";" in sql:
            why = f"{where} hook not converted: several statements in one hook ({sql[:80]})"
            self.out.outcomes.append(Outcome(uid, "dbt_project.yml", HAND, notes=[why]))
            return
        self.out.hooks.setdefault(where.replace("-", "_"), []).append(sql)
        self.out.outcomes.append(Outcome(uid, "dbt_project.yml", EXACT, f"[hooks] {where}"))

    def _hand(self, node: Node, why: str) -> None:
        self.out.outcomes.append(
            Outcome(f"{node.kind}.{self.project.name}.{node.name}", node.relpath, HAND, notes=[why])
        )

    # -- sources ----------------------------------------------------------------------------

    def _sources(self) -> None:
        for entry in self.project.sources:
            source_name = entry["name"]
            schema = str(entry.get("schema") or source_name)
            for table in entry.get("tables") or []:
                if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                    continue
                identifier = str(table.get("identifier") or table["name"])
                relation = RelationName(schema.lower(), identifier.lower())
                config = {**(entry.get("config") or {}), **(table.get("config") or {})}
                self.source_relations[(source_name, table["name"])] = (relation, config)
                settings: dict[str, Any] = {}
                notes: list[str] = []
                meta = {**(entry.get("meta") or {}), **(table.get("meta") or {})}
                external = (
                    (table.get("external") or {}).get("location")
                    or meta.get("external_location")
                    or config.get("external_location")
                )
                if external:
                    settings["path"] = str(external).format(
                        name=table["name"], identifier=identifier
                    )
                loaded_at = table.get("loaded_at_field", entry.get("loaded_at_field"))
                if loaded_at:
                    settings["loaded_at"] = str(loaded_at)
                freshness = table.get("freshness", entry.get("freshness"))
                if isinstance(freshness, dict):
                    for level in ("warn_after", "error_after"):
                        text = _duration(freshness.get(level))
                        if text:
                            settings[level] = text
                        elif freshness.get(level):
                            notes.append(f"freshness {level} {freshness.get(level)} not understood")
                    if freshness.get("filter"):
                        notes.append("the freshness filter is not converted")
                owner = meta.get("owner")
                if owner:
                    settings["owner"] = str(owner)
                name = f"{relation.schema}.{relation.identifier}"
                self.out.sources[name] = settings
                self.out.relations.append((f"source {source_name}.{table['name']}", name))
                self.out.outcomes.append(
                    Outcome(
                        f"source.{self.project.name}.{source_name}.{table['name']}",
                        entry["_file"],
                        NOTES if notes else EXACT,
                        ours=f'[sources."{name}"]',
                        notes=notes,
                    )
                )

    # -- models: the parse pass -------------------------------------------------------------

    def _settled(self, node: Node) -> dict:
        found: dict = {}
        if node.package:  # a package's own configs first; the project's override them
            package = next(p for p in self.project.packages if p.name == node.package)
            found = self.project.tree_config("models", node.fqn, package.models_tree)
        for key, value in self.project.tree_config("models", node.fqn).items():
            if key in ("tags", "pre_hook", "post_hook"):
                found[key] = [*_as_list(found.get(key)), *_as_list(value)]
            else:
                found[key] = value
        props = self.project.properties.get(node.name) or {}
        for key, value in (props.get("config") or {}).items():
            key = key.replace("-", "_")
            if key in ("tags", "pre_hook", "post_hook"):
                found[key] = [*found.get(key, []), *_as_list(value)]
            elif key == "meta" and isinstance(value, dict):
                found["meta"] = {**found.get("meta", {}), **value}
            else:
                found[key] = value
        if props.get("meta") and isinstance(props["meta"], dict):
            found["meta"] = {**found.get("meta", {}), **props["meta"]}
        return found

    def _parse(self, node: Node) -> None:
        if node.language == "python":
            self._hand(node, "Python models are not converted: rewrite it as a SELECT")
            return
        settled = self._settled(node)
        rendering = Rendering(node.name, node.relpath, node.fqn, settled=settled)
        self.renderer.ref = lambda *a, **k: RelationName("__parse__", str(a[-1]) if a else "x")
        self.renderer.source = lambda s, t: RelationName("__parse__", f"{s}_{t}")
        problem = None
        try:
            self.renderer.render(node.path.read_text(encoding="utf-8"), rendering)
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            problem = str(exc)  # the final pass says it again, in context
        config = self._rendered_config(rendering.merged(), rendering)
        if config.get("enabled") is False:
            self.out.outcomes.append(
                Outcome(
                    f"model.{self.project.name}.{node.name}",
                    node.relpath,
                    EXACT,
                    notes=["disabled (enabled: false): not converted, as dbt builds nothing"],
                )
            )
            return
        config.setdefault("materialized", "view")
        if node.name in self.models:
            self.out.problems.append(
                f"{node.relpath}: a second model named '{node.name}' "
                f"(the first is {self.models[node.name].node.relpath})"
            )
            return
        self.models[node.name] = _Model(node, config, problem=problem)

    def _parse_seed(self, node: Node) -> None:
        config = self.project.tree_config("seeds", node.fqn)
        props = self.project.properties.get(node.name) or {}
        config.update({k.replace("-", "_"): v for k, v in (props.get("config") or {}).items()})
        if config.get("enabled") is False:
            return
        config["materialized"] = "seed"
        if node.name in self.models:
            self.out.problems.append(
                f"{node.relpath}: a seed named like the model {self.models[node.name].node.relpath}"
            )
            return
        self.models[node.name] = _Model(node, config)

    def _seed(self, name: str, model: _Model) -> None:
        """A seed: its file copied where our seeds live, with the column types dbt would give
        it (or those it declares), so the table we load is the one dbt loads."""
        from .seedtypes import dbt_types

        node = model.node
        uid = f"seed.{self.project.name}.{name}"
        delimiter = str(model.config.get("delimiter") or ",")
        declared = {str(k): str(v) for k, v in (model.config.get("column_types") or {}).items()}
        try:
            inferred, notes, nulls = dbt_types(node.path, delimiter)
        except ValueError as exc:
            self.out.problems.append(f"{node.relpath}: {exc}")
            self.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
            return
        types = {column: declared.get(column, kind) for column, kind in inferred.items()}
        relation = model.relation
        self.out.files[f"seeds/{relation.schema}/{relation.identifier}.csv"] = node.path.read_text(
            encoding="utf-8"
        )
        settings: dict[str, Any] = {"column_types": types, "nulls": nulls}
        if delimiter != ",":
            settings["delimiter"] = delimiter
        meta = model.config.get("meta") or {}
        if isinstance(meta, dict) and meta.get("owner"):
            settings["owner"] = str(meta["owner"])
        tags = [t for t in _as_list(model.config.get("tags")) if isinstance(t, str)]
        if tags:
            settings["tags"] = tags
        self.out.seeds[str(relation)] = settings
        self.out.relations.append((f"{model.dbt_relation} ({node.relpath})", str(relation)))
        _, check_files, test_outcomes = self._tests(name, model)
        self.out.files.update(check_files)
        self.out.outcomes.append(
            Outcome(uid, node.relpath, NOTES if notes else EXACT, str(relation), notes)
        )
        self.out.outcomes.extend(test_outcomes)

    def _rendered_config(self, config: dict, rendering: Rendering) -> dict:
        """Configs written with Jinja in YAML (`+schema: "{{ target.name }}_x"`), rendered as dbt
        renders them; hooks stay as written (they are rendered with their model)."""
        out = dict(config)
        for key, value in config.items():
            if key in ("pre_hook", "post_hook") or not isinstance(value, str):
                continue
            if "{{" in value or "{%" in value:
                try:
                    value = self.renderer.render(value, rendering).strip()
                except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
                    self.out.problems.append(f"{rendering.relpath}: config {key}: {exc}")
                    continue
                if key == "enabled" and value.lower() in ("true", "false"):
                    out[key] = value.lower() == "true"
                    continue
                out[key] = value
        return out

    def _name_relations(self) -> None:
        """Each model's relation: the schema dbt's generate_schema_name gives it (or the
        project's own macro), its alias; two models on one relation is an error."""
        taken: dict[str, str] = {}
        for name, model in self.models.items():
            custom = model.config.get("schema")
            node_view = _NodeView(model)
            schema = None
            if "generate_schema_name" in self.renderer.macros:
                try:
                    schema = str(
                        self.renderer.call_macro("generate_schema_name", custom, node_view)
                    ).strip()
                except Exception as exc:  # noqa: BLE001
                    self.out.problems.append(f"generate_schema_name for {name}: {exc}")
            dbt_schema = schema
            if not schema:
                if custom is None:
                    schema = dbt_schema = self.target.schema
                else:
                    dbt_schema = f"{self.target.schema}_{str(custom).strip()}"
                    schema = str(custom).strip() if self.schemas == "custom" else dbt_schema
            alias = str(model.config.get("alias") or name)
            if "generate_alias_name" in self.renderer.macros:
                try:
                    alias = (
                        str(
                            self.renderer.call_macro(
                                "generate_alias_name", model.config.get("alias"), node_view
                            )
                        ).strip()
                        or alias
                    )
                except Exception as exc:  # noqa: BLE001
                    self.out.problems.append(f"generate_alias_name for {name}: {exc}")
            model.relation = RelationName(schema.lower(), alias.lower())
            model.dbt_relation = f"{dbt_schema}.{alias}"
            key = str(model.relation)
            if model.config.get("materialized") == "ephemeral":
                continue
            if key in taken:
                model.problem = (
                    f"{model.node.relpath}: models '{taken[key]}' and '{name}' both build {key}"
                )
            taken[key] = name

    # -- models: the final pass -------------------------------------------------------------

    def _bind(self, inline: set[str] | None = None, filter_by: str | None = None) -> None:
        """ref() and source() for what renders next: our relation names; ephemeral models as
        their CTE's name (collected in `inline`); inputs with an event_time filtered to the
        partition's window when `filter_by` (a microbatch model)."""
        inline = set() if inline is None else inline

        def ref(*args, **kwargs):
            if not args:
                raise ImportProblem("ref() needs a model name")
            target = str(args[-1])
            version = kwargs.get("v", kwargs.get("version"))
            if target in self.project.versions:
                latest, files = self.project.versions[target]
                chosen = latest if version is None else version
                match = next((f for v, f in files.items() if str(v) == str(chosen)), None)
                if match is None:
                    raise ImportProblem(
                        f"ref('{target}', v={chosen}): no such version "
                        f"(it has {', '.join(str(v) for v in files)})"
                    )
                target = match
            found = self.models.get(target)
            if len(args) > 1 and found is not None:
                package = found.node.package or self.project.name
                if str(args[0]) != package:
                    found = None  # a model of that name, but not of that package
            if found is None:
                raise ImportProblem(f"ref('{target}'): no such model{_close(target, self.models)}")
            if found.config.get("materialized") == "ephemeral":
                inline.add(target)
                return RelationName("", f"__dbt__cte__{target}")
            event_time = found.config.get("event_time")
            if filter_by and event_time:
                return _Filtered(found.relation, str(event_time))
            return found.relation

        def source(source_name: str, table_name: str):
            found = self.source_relations.get((source_name, table_name))
            if found is None:
                known = [f"{s}.{t}" for s, t in self.source_relations]
                raise ImportProblem(
                    f"source('{source_name}', '{table_name}'): no such source"
                    f"{_close(f'{source_name}.{table_name}', known)}"
                )
            relation, config = found
            if filter_by and config.get("event_time"):
                return _Filtered(relation, str(config["event_time"]))
            return relation

        self.renderer.ref, self.renderer.source = ref, source

    def _render(
        self, name: str, model: _Model, incremental: bool = False
    ) -> tuple[str, set[str], Rendering]:
        microbatch = model.config.get("incremental_strategy") == "microbatch"
        inline: set[str] = set()
        self._bind(inline, "event_time" if microbatch else None)
        rendering = Rendering(
            name,
            model.node.relpath,
            model.node.fqn,
            settled={k: v for k, v in model.config.items()},
            this=model.relation,
            incremental=incremental,
        )
        sql = self.renderer.render(model.node.path.read_text(encoding="utf-8"), rendering)
        sql = _unfilter_aliases(sql)
        event_time = model.config.get("event_time")
        if microbatch and event_time and _IDENT.match(str(event_time)):
            if "{{ start }}" not in sql:
                rendering.used.add("unfiltered")
            sql = (
                f"select * from (\n{sql.strip()}\n) as batch\n"
                f"where {event_time} >= {{{{ start }}}} and {event_time} < {{{{ end }}}}"
            )
        return sql, inline, rendering

    def _ephemeral(self, name: str, model: _Model) -> None:
        try:
            sql, inline, rendering = self._render(name, model)
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            model.problem = str(exc)
            return
        model.ephemeral_sql = sql
        model.config["_inline"] = inline
        model.config["_reads"] = {str(args[-1]) for args, _ in rendering.refs if args}

    def _untangle(self) -> None:
        """dbt tests run after every model; our checks run as their model is published, after
        the models they read. A test of A that reads B, where B reads A, would be a cycle: it
        becomes a check of B instead (run once both are built)."""

        def reaches(start: str, goal: str) -> bool:
            seen, todo = set(), [start]
            while todo:
                current = todo.pop()
                if current == goal:
                    return True
                if current not in seen:
                    seen.add(current)
                    todo += list(self.reads.get(current, ()))
            return False

        for owner, other, line, file, fallback, outcome in self.cross:
            if not reaches(other, owner):
                continue
            mine, theirs = str(self.models[owner].relation), str(self.models[other].relation)
            if line:
                path = self._model_path(self.models[owner])
                self.out.files[path] = self.out.files[path].replace(line + "\n", "", 1)
                file = fallback
            if file is None:
                continue
            text = file[1].replace(f"-- model: {mine}\n", f"-- model: {theirs}\n", 1)
            self.out.files[file[0]] = text
            outcome.ours = file[0]
            outcome.status = NOTES
            outcome.notes.append(f"checked as {other} is built (it reads {owner})")

    @staticmethod
    def _model_path(model: _Model) -> str:
        return f"models/{model.relation.schema}/{model.relation.identifier}.sql"

    def _model(self, name: str, model: _Model) -> None:
        node = model.node
        uid = f"model.{node.package or self.project.name}.{name}"
        materialized = str(model.config.get("materialized"))
        if materialized == "seed":
            self._seed(name, model)
            return
        if materialized == "ephemeral":
            status = HAND if model.problem else EXACT
            notes = (
                [model.problem]
                if model.problem
                else ["ephemeral: inlined as a CTE into the models that read it"]
            )
            self.out.outcomes.append(Outcome(uid, node.relpath, status, notes=notes))
            if model.problem:
                self.out.problems.append(model.problem)
            return
        if model.problem and "both build" in model.problem:
            self.out.problems.append(model.problem)
            self.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[model.problem]))
            return
        try:
            sql, inline, rendering = self._render(name, model)
            sql = self._with_ephemerals(sql, inline)
            if _merge_keys(model.config) and "is_incremental" in rendering.used:
                # both branches, chosen by our is_incremental() when the model runs
                again, inline, _ = self._render(name, model, incremental=True)
                again = self._with_ephemerals(again, inline)
                if again.strip() != sql.strip():
                    sql = (
                        "{% if is_incremental() %}{% raw %}\n"
                        + again.strip()
                        + "\n{% endraw %}{% else %}{% raw %}\n"
                        + sql.strip()
                        + "\n{% endraw %}{% endif %}"
                    )
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            text = str(exc)
            if isinstance(exc, MissingMacro):
                text = f"{text}: the macro is not defined in the project or its installed packages"
            self.out.problems.append(text)
            self.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[text]))
            return
        self.reads[name] = {str(args[-1]) for args, _ in rendering.refs if args}
        for inner in inline:  # what inlined ephemeral models read, it reads
            self.reads[name] |= self.models[inner].config.get("_reads", set())
        header, notes = self._header(name, model, rendering)
        checks, check_files, test_outcomes = self._tests(name, model)
        header += checks
        depends = re.findall(r"^\s*--\s*depends_on:\s*(.+?)\s*$", sql, re.MULTILINE)
        if depends:
            header.append(f"-- depends_on: {', '.join(d for d in depends)}")
        relation = str(model.relation)
        text = "\n".join([*header, f"/* {node.relpath}, imported from dbt */", sql.strip(), ""])
        path = f"models/{model.relation.schema}/{model.relation.identifier}.sql"
        self.out.files[path] = text
        self.out.files.update(check_files)
        self.out.relations.append((f"{model.dbt_relation} ({node.relpath})", relation))
        self.out.outcomes.append(
            Outcome(uid, node.relpath, NOTES if notes else EXACT, relation, notes)
        )
        self.out.outcomes.extend(test_outcomes)

    def _with_ephemerals(self, sql: str, inline: set[str]) -> str:
        """The CTEs of the ephemeral models `sql` reads (and of those they read), in order, put
        in front of its own WITH (or of its SELECT)."""
        order: list[str] = []

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in order:
                return
            if name in trail:
                raise ImportProblem(
                    f"ephemeral models read each other in a cycle: {' -> '.join(trail + (name,))}"
                )
            model = self.models[name]
            if model.ephemeral_sql is None:
                raise ImportProblem(f"ephemeral model '{name}' does not render: {model.problem}")
            for inner in sorted(model.config.get("_inline", ())):
                visit(inner, (*trail, name))
            order.append(name)

        for name in sorted(inline):
            visit(name, ())
        if not order:
            return sql
        ctes = ",\n".join(
            f"__dbt__cte__{name} as (\n{self.models[name].ephemeral_sql.strip()}\n)"
            for name in order
        )
        match = re.match(
            r"(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)with(\s+recursive)?\b",
            sql,
            re.IGNORECASE | re.DOTALL,
        )
        if match:
            return sql[: match.end()] + "\n" + ctes + ",\n" + sql[match.end() :].lstrip()
        return f"with {ctes}\n{sql.strip()}"

    def _header(
        self, name: str, model: _Model, rendering: Rendering
    ) -> tuple[list[str], list[str]]:
        config = model.config
        materialized = str(config.get("materialized"))
        header: list[str] = []
        notes: list[str] = []
        if materialized == "view":
            header.append("-- kind: view")
        elif materialized == "incremental":
            strategy = config.get("incremental_strategy")
            if strategy == "microbatch":
                grain = _GRAINS.get(str(config.get("batch_size", "")).lower())
                event_time = config.get("event_time")
                if not grain or not event_time or not _IDENT.match(str(event_time)):
                    notes.append(
                        "microbatch without a usable event_time and batch_size: built as a table"
                    )
                else:
                    header += [
                        "-- kind: incremental",
                        f"-- partition_by: {event_time}",
                        f"-- grain: {grain}",
                    ]
                    begin = config.get("begin")
                    if begin:
                        header.append(f"-- start: {_boundary(begin, grain)}")
                    else:
                        notes.append("no begin: only `orchestrator backfill` builds its partitions")
                    if "unfiltered" in rendering.used:
                        notes.append(
                            "its inputs have no event_time: each partition reads them whole "
                            "and keeps the rows of its window"
                        )
                    if config.get("lookback"):
                        notes.append(
                            f"lookback {config.get('lookback')}: not converted "
                            "(rebuild late windows with backfill)"
                        )
            elif _merge_keys(config):
                header += [
                    "-- kind: incremental",
                    f"-- unique_key: {', '.join(_merge_keys(config))}",
                ]
                strategy = strategy or "merge"
                if strategy not in ("merge", "delete+insert"):
                    notes.append(f"incremental_strategy {strategy}: merged by unique_key instead")
                change = config.get("on_schema_change")
                if change and change != "ignore":
                    notes.append(f"on_schema_change {change}: a changed query rebuilds the table")
            else:
                key = config.get("unique_key")
                why = (
                    f"incremental with unique_key {key!r} (not plain column names): built as a "
                    "table, rebuilt whole when its inputs change (same rows as dbt's full refresh)"
                    if key
                    else "incremental without unique_key or event_time: built as a table, rebuilt "
                    "whole when its inputs change (same rows as dbt's full refresh)"
                )
                notes.append(why)
                if "is_incremental" in rendering.used:
                    notes.append("its is_incremental() branch is not used: the full SELECT runs")
        elif materialized not in ("table",):
            notes.append(f"materialized '{materialized}' is not ours: built as a table")
        meta = config.get("meta") or {}
        owner = meta.get("owner") if isinstance(meta, dict) else None
        owner = owner or config.get("group")
        if owner:
            header.append(f"-- owner: {owner}")
        tags = [t for t in _as_list(config.get("tags")) if isinstance(t, str)]
        if tags:
            header.append(f"-- tags: {', '.join(dict.fromkeys(tags))}")
        for hook in ("pre_hook", "post_hook"):
            for spec in _as_list(config.get(hook)):
                line, note = self._hook(name, model, hook, spec)
                if line:
                    header.append(f"-- {hook}: {line}")
                if note:
                    notes.append(note)
        if config.get("database"):
            notes.append(f"database '{config['database']}' ignored: everything is in one warehouse")
        if (
            config.get("contract")
            and isinstance(config["contract"], dict)
            and config["contract"].get("enforced")
        ):
            notes.append("contract not enforced here: add a columns(...) check")
        for used in sorted(rendering.used):
            if used.startswith("note:"):
                notes.append(used[5:])
            if used.startswith("env_var:"):
                notes.append(f"env_var('{used[8:]}') rendered as its value at import time")
        return header, notes

    def _hook(
        self, name: str, model: _Model, kind: str, spec: Any
    ) -> tuple[str | None, str | None]:
        """A dbt hook as our header line (rendered now, on one line), or why it is not one."""
        text = str(spec.get("sql", "")) if isinstance(spec, dict) else str(spec)
        label = kind.replace("_", "-")
        rendering = Rendering(
            name,
            model.node.relpath,
            model.node.fqn,
            settled=dict(model.config),
            this=model.relation,
        )
        self._bind()
        try:
            sql = " ".join(self.renderer.render(text, rendering).split()).rstrip(";")
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            return None, f"{label} not converted: {exc}"
        if not sql:
            return None, None  # a hook that only logs: nothing to run
        if re.match(r"(?i)(grant|revoke)\b", sql):
            return None, f"{label} not converted: DuckDB has no grants ({sql[:80]})"
        if ";" in sql:
            return None, f"{label} not converted: several statements in one hook ({sql[:80]})"
        return sql, None

    # -- tests ------------------------------------------------------------------------------

    def _tests(self, name: str, model: _Model) -> tuple[list[str], dict[str, str], list[Outcome]]:
        props = self.project.properties.get(name) or {}
        where_file = self.project.property_files.get(name, model.node.relpath)
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
            uid = f"test.{self.project.name}.{kind.split('.')[-1]}_{name}" + (
                f"_{column}" if column else ""
            )
            self._other = None
            try:
                line, file, notes = self._test(name, model, column, kind, dict(args))
            except ImportProblem as exc:
                outcomes.append(Outcome(uid, where_file, HAND, notes=[exc.detail]))
                continue
            if line:
                header.append(line)
            if file:
                files[file[0]] = file[1]
            outcome = Outcome(uid, where_file, NOTES if notes else EXACT, line or file[0], notes)
            outcomes.append(outcome)
            if self._other in self.models and self._other != name:
                fallback = None
                if line and kind == "relationships":  # the same check as a file, if it must move
                    warn = line.startswith("-- check warn")
                    fallback = self._where_file(
                        name, kind, column, warn, "", "true", str(model.relation), dict(args)
                    )
                self.cross.append((name, self._other, line, file, fallback, outcome))
        return header, files, outcomes

    def _test(self, name: str, model: _Model, column: str | None, kind: str, args: dict):
        config = {**(args.pop("config", None) or {})}
        for key in (
            "severity",
            "where",
            "warn_if",
            "error_if",
            "limit",
            "store_failures",
            "enabled",
            "tags",
            "meta",
        ):
            if key in args:
                config.setdefault(key, args.pop(key))
        if config.get("enabled") is False:
            return None, None, ["disabled: not converted"]
        if model.config.get("materialized") == "ephemeral":
            raise ImportProblem("a test of an ephemeral model: dbt cannot run it either")
        warn = str(config.get("severity", "error")).lower() == "warn"
        notes: list[str] = []
        for key in ("warn_if", "error_if"):
            if key in config and str(config[key]).strip() not in ("!= 0", "!=0"):
                notes.append(f"{key} {config[key]} not converted: any failing row counts")
        if column is None:  # a model-level test names its column as an argument
            column = args.pop("column_name", None)
        relation = str(model.relation)
        where = config.get("where")
        if model.config.get("materialized") == "seed" and not where:
            where = "true"  # a seed has no header for checks: each becomes a check file
        short = kind.split(".")[-1]
        expression = None
        if kind in ("not_null", "unique", "accepted_values", "relationships"):
            if not column or not _IDENT.match(str(column)):
                raise ImportProblem(
                    f"{kind} on column {column!r}: only plain column names are converted"
                )
            if kind in ("not_null", "unique"):
                expression = f"{kind}({column})"
            elif kind == "accepted_values":
                values = args.get("values") or []
                quote = args.get("quote", True)
                rendered = [_literal(v, quote) for v in values]
                expression = f"accepted_values({column}, {', '.join(rendered)})"
            else:
                to = self._relation_of(str(args.get("to", "")))
                field = args.get("field")
                if not field or not _IDENT.match(str(field)):
                    raise ImportProblem(f"relationships: field {field!r} is not a column name")
                expression = f"relationships({column}, {to}.{field})"
        elif short == "unique_combination_of_columns":
            columns = args.get("combination_of_columns") or []
            if not columns or not all(_IDENT.match(str(c)) for c in columns):
                raise ImportProblem(
                    f"unique_combination_of_columns: {columns!r} are not column names"
                )
            expression = f"unique({', '.join(columns)})"
        elif short == "expression_is_true":
            condition = str(args.get("expression", "")).strip()
            if column:
                condition = f"{column} {condition}"
            expression = f"expression({condition})"
        elif short == "accepted_range":
            bounds = []
            inclusive = args.get("inclusive", True)
            if args.get("min_value") is not None:
                bounds.append(f"{column} {'>=' if inclusive else '>'} {args['min_value']}")
            if args.get("max_value") is not None:
                bounds.append(f"{column} {'<=' if inclusive else '<'} {args['max_value']}")
            if not column or not bounds:
                raise ImportProblem("accepted_range needs a column and min_value or max_value")
            expression = f"expression({column} is null or ({' and '.join(bounds)}))"
        elif short == "not_empty_string":
            trimmed = f"trim({column})" if args.get("trim_whitespace", True) else column
            expression = f"expression({column} is null or {trimmed} <> '')"
        elif short in _AGGREGATE_TESTS:
            query = self._aggregate_test(short, column, relation, args)
            return None, self._check_file(name, short, column, warn, query, where, relation), notes
        elif short == "not_null_proportion":
            at_least = float(args.get("at_least", 0))
            return (
                None,
                self._check_file(
                    name,
                    short,
                    column,
                    warn,
                    f"select 1 as failing from {relation} having coalesce(avg(case when "
                    f"{column} is not null then 1.0 else 0.0 end), 0) < {at_least}",
                    where,
                    relation,
                ),
                notes,
            )
        elif f"test_{short}" in self.renderer.macros:
            return None, self._generic_test(name, model, short, column, args, warn, where), notes
        else:
            raise ImportProblem(
                f"test '{kind}' has no equivalent among our checks and is no generic test of "
                "the project: write it as a check file"
            )
        if where:
            return (
                None,
                self._where_file(name, short, column, warn, expression, where, relation, args),
                notes,
            )
        return f"-- check{' warn' if warn else ''}: {expression}", None, notes

    def _aggregate_test(self, short: str, column: str | None, relation: str, args: dict) -> str:
        """dbt_utils tests that judge the table as a whole: a query returning a row when the
        test fails, for a check file."""
        if short == "at_least_one":
            return f"select 1 as failing from {relation} having count({column}) = 0"
        if short == "not_constant":
            return f"select 1 as failing from {relation} having count(distinct {column}) <= 1"
        if short == "recency":
            field, period = args.get("field"), str(args.get("datepart", "day"))
            interval = int(args.get("interval", 1))
            return (
                f"select 1 as failing from {relation} having max({field}) is null or "
                f"max({field}) < now()::timestamp - interval {interval} {period}"
            )
        other = self._relation_of(str(args.get("compare_model", args.get("to", ""))))
        if short == "equal_rowcount":
            return (
                f"select 1 as failing from (select count(*) as n from {relation}) a, "
                f"(select count(*) as n from {other}) b where a.n <> b.n"
            )
        if short == "relationships_where":
            field = args.get("field")
            from_condition = args.get("from_condition", "1=1")
            to_condition = args.get("to_condition", "1=1")
            return (
                f"select * from {relation} where {column} is not null and ({from_condition}) "
                f"and {column} not in (select {field} from {other} where {to_condition})"
            )
        # cardinality_equality: the same distinct values on both sides
        field = args.get("field")
        return (
            f"(select {column} from {relation} except select {field} from {other}) union all "
            f"(select {field} from {other} except select {column} from {relation})"
        )

    def _generic_test(self, name, model, short, column, args, warn, where) -> tuple[str, str]:
        """A generic test the project defines (`{% test name(model, column_name) %}`): its
        query, rendered for this model and column, as a check file."""
        relation = str(model.relation)
        target = f"(select * from {relation} where {where})" if where else relation
        kwargs = {k: v for k, v in args.items() if k not in ("column_name", "model")}
        if column:
            kwargs["column_name"] = column
        rendering = Rendering(
            name, model.node.relpath, model.node.fqn, resource_type="test", this=model.relation
        )
        self._bind()
        self.renderer.node = rendering
        try:
            sql = str(
                self.renderer.macros[f"test_{short}"](model=RelationName("", target), **kwargs)
            )
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            raise ImportProblem(f"generic test {short}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the project's macro failing to render
            raise ImportProblem(f"generic test {short} does not render: {exc}") from None
        return _check_file_text(name, short, column, relation, warn, sql.strip())

    def _relation_of(self, text: str) -> str:
        """`ref('x')` or `source('s', 't')` as written in a relationships test: our name."""
        rendering = Rendering("test", "tests", [], resource_type="test")
        self._bind()
        try:
            found = self.renderer.render(
                "{{ " + text + " }}" if "{{" not in text else text, rendering
            )
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            raise ImportProblem(f"relationships to {text}: {exc}") from None
        if rendering.refs:
            self._other = str(rendering.refs[-1][0][-1])  # the model it reads, if one
        return found.strip()

    def _check_file(self, name, short, column, warn, sql, where, relation) -> tuple[str, str]:
        if where:
            sql = sql.replace(
                f"from {relation}", f"from (select * from {relation} where {where}) as filtered", 1
            )
        return _check_file_text(name, short, column, relation, warn, sql)

    def _where_file(self, name, short, column, warn, expression, where, relation, args):
        rows = f"(select * from {relation} where {where}) as filtered"
        if short == "not_null":
            sql = f"select * from {rows} where {column} is null"
        elif short == "unique":
            sql = (
                f"select {column}, count(*) as n from {rows} where {column} is not null "
                f"group by {column} having count(*) > 1"
            )
        elif short == "accepted_values":
            values = ", ".join(
                _literal(v, args.get("quote", True)) for v in args.get("values") or []
            )
            sql = f"select * from {rows} where {column} is not null and {column} not in ({values})"
        elif short == "relationships":
            to = self._relation_of(str(args.get("to", "")))
            sql = (
                f"select * from {rows} where {column} is not null and {column} not in "
                f"(select {args.get('field')} from {to})"
            )
        else:
            inner = expression[expression.index("(") + 1 : -1]
            if short == "unique_combination_of_columns":
                sql = (
                    f"select {inner}, count(*) as n from {rows} "
                    f"group by {inner} having count(*) > 1"
                )
            else:
                sql = f"select * from {rows} where not ({inner})"
        return _check_file_text(name, short, column, relation, warn, sql)

    def _singular_test(self, node: Node) -> None:
        uid = f"test.{self.project.name}.{node.name}"
        read: list[str] = []
        self._bind()
        plain_ref = self.renderer.ref

        def ref(*args, **kwargs):
            found = plain_ref(*args, **kwargs)
            read.append(str(found))
            return found

        self.renderer.ref = ref
        rendering = Rendering(
            node.name,
            node.relpath,
            node.fqn,
            resource_type="test",
            settled=self.project.tree_config("tests", node.fqn),
        )
        try:
            sql = self.renderer.render(node.path.read_text(encoding="utf-8"), rendering)
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            self.out.problems.append(str(exc))
            self.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
            return
        if not read:
            self.out.outcomes.append(
                Outcome(
                    uid, node.relpath, HAND, notes=["it reads no model: a check belongs to a model"]
                )
            )
            return
        config = rendering.merged()
        warn = str(config.get("severity", "error")).lower() == "warn"
        head = [f"-- model: {read[0]}"] + (["-- severity: warn"] if warn else [])
        file = f"checks/{node.name}.sql"
        self.out.files[file] = "\n".join(
            [*head, f"/* {node.relpath}, imported from dbt */", sql.strip(), ""]
        )
        notes = [f"checks {read[0]} (the first model it reads)"] if len(set(read)) > 1 else []
        self.out.outcomes.append(Outcome(uid, node.relpath, NOTES if notes else EXACT, file, notes))


class _Filtered(str):
    """An input of a microbatch model, filtered to the partition's window (dbt filters each
    batch's inputs by their event_time)."""

    def __new__(cls, relation: RelationName, column: str):
        text = (
            f"(select * from {relation} where {column} >= {{{{ start }}}} "
            f"and {column} < {{{{ end }}}}) /*@{relation.identifier}@*/"
        )
        made = super().__new__(cls, text)
        made.schema, made.identifier, made.name = (
            relation.schema,
            relation.identifier,
            relation.identifier,
        )
        return made


def _unfilter_aliases(sql: str) -> str:
    """A filtered input gets its relation's name as alias, unless the SQL gives it one."""

    def alias(match: re.Match) -> str:
        name = match[1]
        after = _AFTER_RELATION.match(sql, match.end())
        if after and after[1].lower() not in _NOT_ALIASES:
            return ""
        return f" as {name}"

    return re.sub(r" /\*@([A-Za-z0-9_]+)@\*/", alias, sql)


class _NodeView:
    """The `node` a project's generate_schema_name / generate_alias_name macro receives."""

    def __init__(self, model: _Model):
        self.name = model.node.name
        self.fqn = model.node.fqn
        self.resource_type = "seed" if model.config.get("materialized") == "seed" else "model"
        self.config = model.config
        self.original_file_path = model.node.relpath
        self.package_name = model.node.fqn[0] if model.node.fqn else ""

    def get(self, key, default=None):
        return getattr(self, key, default)


_AGGREGATE_TESTS = frozenset(
    {
        "at_least_one",
        "not_constant",
        "recency",
        "equal_rowcount",
        "relationships_where",
        "cardinality_equality",
    }
)


def _check_file_text(name, short, column, relation, warn, sql) -> tuple[str, str]:
    """A test as a check file of ours: (its path, its text)."""
    file = f"checks/{name}__{short}{'_' + column if column else ''}.sql"
    head = [f"-- model: {relation}"] + (["-- severity: warn"] if warn else [])
    return file, "\n".join([*head, sql, ""])


def _merge_keys(config: dict) -> list[str]:
    """The unique_key of a (non-microbatch) incremental model as column names, or []."""
    if config.get("materialized") != "incremental":
        return []
    if config.get("incremental_strategy") == "microbatch":
        return []
    key = config.get("unique_key")
    keys = [key] if isinstance(key, str) else list(key or [])
    keys = [str(k).strip() for k in keys]
    return keys if keys and all(_IDENT.match(k) for k in keys) else []


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


def _literal(value: Any, quote: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not quote:
        return str(value)
    if not quote:
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _duration(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return None
    count, period = spec.get("count"), str(spec.get("period", "")).lower()
    if not isinstance(count, int) or period not in _PERIODS:
        return None
    return f"{count}{_PERIODS[period]}"


def _boundary(value: Any, grain: str) -> str:
    text = str(value).strip().replace(" ", "T")
    if grain == "hour":
        return text[:13]
    return text[:10]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _close(name: str, known: Iterable[str]) -> str:
    import difflib

    found = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""
