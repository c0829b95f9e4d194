"""The first pass over a dbt project, as dbt's parse: each model and snapshot rendered once to
learn the configs its `config()` sets, each seed's configs read, then every model's relation
named (by the project's generate_schema_name / generate_alias_name macros when it has them), so
the second pass knows what every `ref()` means."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import RelationName, Rendering
from ...sql.dbt.project import Node
from ...sql.dbt.yamlfile import ImportProblem, as_list
from .values import EXACT, HAND, DbtModel, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion


def parse_model(conv: Conversion, node: Node) -> None:
    """A model or snapshot's configs, its own `config()` included, as a `DbtModel`."""
    if node.language == "python":
        conv.out.outcomes.append(
            Outcome(
                f"{node.kind}.{conv.project.name}.{node.name}",
                node.relpath,
                HAND,
                notes=["Python models are not converted: rewrite it as a SELECT"],
            )
        )
        return
    settled = _settled(conv, node)
    kind = "snapshot" if node.kind == "snapshot" else "model"
    rendering = Rendering(node.name, node.relpath, node.fqn, kind, settled=settled)
    conv.renderer.ref = lambda *a, **k: RelationName("__parse__", str(a[-1]) if a else "x")
    conv.renderer.source = lambda s, t: RelationName("__parse__", f"{s}_{t}")
    problem = None
    try:
        conv.renderer.render(node.template(), rendering)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        problem = str(exc)  # the final pass says it again, in context
    config = _rendered_config(conv, rendering.merged(), rendering)
    if config.get("enabled") is False:
        conv.out.outcomes.append(
            Outcome(
                f"model.{conv.project.name}.{node.name}",
                node.relpath,
                EXACT,
                notes=["disabled (enabled: false): not converted, as dbt builds nothing"],
            )
        )
        return
    if node.kind == "snapshot":
        config["materialized"] = "snapshot"
    config.setdefault("materialized", "view")
    if node.name in conv.models:
        conv.out.problems.append(
            f"{node.relpath}: a second model named '{node.name}' "
            f"(the first is {conv.models[node.name].node.relpath})"
        )
        return
    conv.models[node.name] = DbtModel(node, config, problem=problem)


def parse_seed(conv: Conversion, node: Node) -> None:
    """A seed's configs (folder tree, then properties file) as a `DbtModel`."""
    config = conv.project.tree_config("seeds", node.fqn)
    props = conv.project.properties.get(node.name) or {}
    config.update({k.replace("-", "_"): v for k, v in (props.get("config") or {}).items()})
    if config.get("enabled") is False:
        return
    config["materialized"] = "seed"
    if node.name in conv.models:
        conv.out.problems.append(
            f"{node.relpath}: a seed named like the model {conv.models[node.name].node.relpath}"
        )
        return
    conv.models[node.name] = DbtModel(node, config)


def _settled(conv: Conversion, node: Node) -> dict:
    """The configs a model or snapshot gets before its own `config()`: the folder tree of
    `dbt_project.yml` (a package's own first), then its properties file."""
    found: dict = {}
    if node.package:  # a package's own configs first; the project's override them
        package = next(p for p in conv.project.packages if p.name == node.package)
        found = conv.project.tree_config("models", node.fqn, package.models_tree)
    resource = "snapshots" if node.kind == "snapshot" else "models"
    for key, value in conv.project.tree_config(resource, node.fqn).items():
        if key in ("tags", "pre_hook", "post_hook"):
            found[key] = [*as_list(found.get(key)), *as_list(value)]
        else:
            found[key] = value
    props = conv.project.properties.get(node.name) or {}
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


def _rendered_config(conv: Conversion, config: dict, rendering: Rendering) -> dict:
    """Configs written with Jinja in YAML (`+schema: "{{ target.name }}_x"`), rendered as dbt
    renders them; hooks stay as written (they are rendered with their model)."""
    out = dict(config)
    for key, value in config.items():
        if key in ("pre_hook", "post_hook") or not isinstance(value, str):
            continue
        if "{{" in value or "{%" in value:
            try:
                value = conv.renderer.render(value, rendering).strip()
            except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
                conv.out.problems.append(f"{rendering.relpath}: config {key}: {exc}")
                continue
            if key == "enabled" and value.lower() in ("true", "false"):
                out[key] = value.lower() == "true"
                continue
            out[key] = value
    return out


def name_relations(conv: Conversion) -> None:
    """Each model's relation: the schema dbt's generate_schema_name gives it (or the
    project's own macro), its alias; two models on one relation is an error."""
    taken: dict[str, str] = {}
    for name, model in conv.models.items():
        node_view = _NodeView(model)
        schema, dbt_schema = _schemas(conv, name, model, node_view)
        alias = _alias(conv, name, model, node_view)
        database = conv.target.database
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


def _schemas(conv: Conversion, name: str, model: DbtModel, node_view: _NodeView) -> tuple[str, str]:
    """The schema of a model's relation here, and the one dbt would build it in."""
    custom = model.config.get("schema")
    schema = None
    if "generate_schema_name" in conv.renderer.macros:
        try:
            schema = str(
                conv.renderer.call_macro("generate_schema_name", custom, node_view)
            ).strip()
        except Exception as exc:  # noqa: BLE001
            conv.out.problems.append(f"generate_schema_name for {name}: {exc}")
    dbt_schema = schema
    target_schema = model.config.get("target_schema")
    if model.config.get("materialized") == "snapshot" and target_schema:
        schema = dbt_schema = str(target_schema).strip()  # as written, as dbt takes it
    elif not schema:
        if custom is None:
            schema = dbt_schema = conv.target.schema
        else:
            dbt_schema = f"{conv.target.schema}_{str(custom).strip()}"
            schema = str(custom).strip() if conv.schemas == "custom" else dbt_schema
    return schema, dbt_schema


def _alias(conv: Conversion, name: str, model: DbtModel, node_view: _NodeView) -> str:
    """A model's table name: its alias config, or what the project's generate_alias_name
    makes of it."""
    alias = str(model.config.get("alias") or name)
    if "generate_alias_name" in conv.renderer.macros:
        try:
            made = conv.renderer.call_macro(
                "generate_alias_name", model.config.get("alias"), node_view
            )
            alias = str(made).strip() or alias
        except Exception as exc:  # noqa: BLE001
            conv.out.problems.append(f"generate_alias_name for {name}: {exc}")
    return alias


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
