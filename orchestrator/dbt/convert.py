"""Each dbt node turned into ours, in two passes as dbt parses then compiles: the first renders
each model to learn the configs its `config()` sets (so every relation name is known), the
second renders it with `ref()` and `source()` giving our relation names. The `Converter` holds
what both passes share (the project, the renderer, each model's config and relation); what
becomes of each kind of node lives in its own module:

| module | nodes |
|---|---|
| `sources` | `sources:` declarations |
| `models` | models: the SQL dbt would compile, our header, ephemeral CTEs, microbatch windows |
| `seeds` | seeds, with the column types dbt gives them |
| `checks` | tests (generic, package, singular) as header checks or check files |
| `hooks` | model hooks and on-run-start / on-run-end |
"""

from __future__ import annotations

from . import checks, hooks, models, runtime, sources
from .jinja import MissingMacro, NeedsDatabase, RelationName, Renderer, Rendering, Target
from .project import DbtProject, Node
from .values import EXACT, HAND, Converted, DbtModel, Outcome, as_list, close
from .yamlfile import ImportProblem


class Converter:
    """The state both passes share; `convert()` runs them."""

    def __init__(self, project: DbtProject, target: Target, schemas: str = "dbt", builtins=None):
        self.project, self.target, self.schemas = project, target, schemas
        if builtins is None:
            from .builtins import natives

            zone = "America/Los_Angeles"  # dbt_date's default
            if project.has_var("dbt_date:time_zone"):
                zone = str(project.var("dbt_date:time_zone"))
            builtins = natives(lambda text: self.renderer.node.used.add(f"note:{text}"), zone)
        self.renderer = Renderer(project, target, builtins)
        runtime.detect_queries(self.renderer)
        self.out = Converted(default_schema=target.schema)
        self.models: dict[str, DbtModel] = {}
        self.reads: dict[str, set[str]] = {}  # model -> the models it reads
        self.cross: list[tuple] = []  # tests of one model that read another
        self.other: str | None = None
        self.source_relations: dict[tuple[str, str], tuple[RelationName, dict]] = {}

    def convert(self) -> Converted:
        for problem in self.project.problems:
            self.out.problems.append(str(problem))
        self.out.macro_files = [str(p) for p in self.project.macro_problems]
        source_tables = sources.read_sources(self)
        for node in self.project.nodes:
            if node.kind in ("model", "snapshot"):
                self.parse_model(node)
        for node in self.project.nodes:
            if node.kind == "seed":
                self.parse_seed(node)
        self.name_relations()
        sources.settle_sources(self, source_tables)
        for name, model in self.models.items():
            if model.config.get("materialized") == "ephemeral" and model.problem is None:
                models.ephemeral(self, name, model)
        for name, model in self.models.items():
            models.convert_model(self, name, model)
        checks.untangle(self)
        for node in self.project.nodes:
            if node.kind == "test":
                checks.singular_test(self, node)
        for specs, where in (
            (self.project.on_run_start, "on-run-start"),
            (self.project.on_run_end, "on-run-end"),
        ):
            for i, spec in enumerate(specs):
                hooks.run_hook(self, where, i, spec)
        if self.out.rendered_at_run:
            refs = {
                n: str(m.relation)
                for n, m in self.models.items()
                if m.relation is not None and m.config.get("materialized") != "ephemeral"
            }
            names = {f"{s}.{t}": str(r) for (s, t), (r, _) in self.source_relations.items()}
            self.out.files.update(runtime.bundle(self.project, self.target, refs, names))
        return self.out

    def reaches(self, start: str, goal: str) -> bool:
        """Whether the model `start` reads `goal`, directly or through others."""
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo += list(self.reads.get(current, ()))
        return False

    def hand(self, node: Node, why: str) -> None:
        self.out.outcomes.append(
            Outcome(f"{node.kind}.{self.project.name}.{node.name}", node.relpath, HAND, notes=[why])
        )

    def settled(self, node: Node) -> dict:
        """The configs a model or snapshot gets before its own `config()`: the folder tree of
        `dbt_project.yml` (a package's own first), then its properties file."""
        found: dict = {}
        if node.package:  # a package's own configs first; the project's override them
            package = next(p for p in self.project.packages if p.name == node.package)
            found = self.project.tree_config("models", node.fqn, package.models_tree)
        resource = "snapshots" if node.kind == "snapshot" else "models"
        for key, value in self.project.tree_config(resource, node.fqn).items():
            if key in ("tags", "pre_hook", "post_hook"):
                found[key] = [*as_list(found.get(key)), *as_list(value)]
            else:
                found[key] = value
        props = self.project.properties.get(node.name) or {}
        for key, value in (props.get("config") or {}).items():
            key = key.replace("-", "_")
            if key in ("tags", "pre_hook", "post_hook"):
                found[key] = [*found.get(key, []), *as_list(value)]
            elif key == "meta" and isinstance(value, dict):
                found["meta"] = {**found.get("meta", {}), **value}
            else:
                found[key] = value
        if props.get("meta") and isinstance(props["meta"], dict):
            found["meta"] = {**found.get("meta", {}), **props["meta"]}
        return found

    def parse_model(self, node: Node) -> None:
        if node.language == "python":
            self.hand(node, "Python models are not converted: rewrite it as a SELECT")
            return
        settled = self.settled(node)
        kind = "snapshot" if node.kind == "snapshot" else "model"
        rendering = Rendering(node.name, node.relpath, node.fqn, kind, settled=settled)
        self.renderer.ref = lambda *a, **k: RelationName("__parse__", str(a[-1]) if a else "x")
        self.renderer.source = lambda s, t: RelationName("__parse__", f"{s}_{t}")
        problem = None
        try:
            self.renderer.render(node.template(), rendering)
        except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
            problem = str(exc)  # the final pass says it again, in context
        config = self.rendered_config(rendering.merged(), rendering)
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
        if node.kind == "snapshot":
            config["materialized"] = "snapshot"
        config.setdefault("materialized", "view")
        if node.name in self.models:
            self.out.problems.append(
                f"{node.relpath}: a second model named '{node.name}' "
                f"(the first is {self.models[node.name].node.relpath})"
            )
            return
        self.models[node.name] = DbtModel(node, config, problem=problem)

    def parse_seed(self, node: Node) -> None:
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
        self.models[node.name] = DbtModel(node, config)

    def rendered_config(self, config: dict, rendering: Rendering) -> dict:
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

    def name_relations(self) -> None:
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
            target_schema = model.config.get("target_schema")
            if model.config.get("materialized") == "snapshot" and target_schema:
                schema = dbt_schema = str(target_schema).strip()  # as written, as dbt takes it
            elif not schema:
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
            database = self.target.database
            model.relation = RelationName(
                schema.lower(), alias.lower(), database, f'"{database}"."{dbt_schema}"."{alias}"'
            )
            model.dbt_relation = f"{dbt_schema}.{alias}"
            key = str(model.relation)
            if model.config.get("materialized") == "ephemeral":
                continue
            if key in taken:
                model.problem = (
                    f"{model.node.relpath}: models '{taken[key]}' and '{name}' both build {key}"
                )
            taken[key] = name

    def bind(self, inline: set[str] | None = None, filter_by: str | None = None) -> None:
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
                raise ImportProblem(f"ref('{target}'): no such model{close(target, self.models)}")
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
                    f"{close(f'{source_name}.{table_name}', known)}"
                )
            relation, config = found
            if filter_by and config.get("event_time"):
                return _Filtered(relation, str(config["event_time"]))
            return relation

        self.renderer.ref, self.renderer.source = ref, source


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


class _NodeView:
    """The `node` a project's generate_schema_name / generate_alias_name macro receives."""

    def __init__(self, model: DbtModel):
        self.name = model.node.name
        self.fqn = model.node.fqn
        materialized = model.config.get("materialized")
        self.resource_type = materialized if materialized in ("seed", "snapshot") else "model"
        self.config = model.config
        self.original_file_path = model.node.relpath
        self.package_name = model.node.fqn[0] if model.node.fqn else ""

    def get(self, key, default=None):
        return getattr(self, key, default)
