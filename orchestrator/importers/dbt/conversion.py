"""The state one dbt project's conversion shares across its passes and its kinds of node: the
project, the renderer, each model's config and relation, what each model reads. It sits below
the modules that convert each kind of node (they all receive it), and `convert` above them runs
the passes, so none of them imports another in a circle."""

from __future__ import annotations

from ...sql.dbt import runtime
from ...sql.dbt.jinja import Renderer
from ...sql.dbt.nodes import RelationName, Target
from ...sql.dbt.project import DbtProject
from ...sql.dbt.yamlfile import ImportProblem
from .values import Converted, DbtModel, close


class Conversion:
    """One dbt project's conversion under way: what every pass reads and adds to."""

    def __init__(self, project: DbtProject, target: Target, schemas: str = "dbt", builtins=None):
        self.project, self.target, self.schemas = project, target, schemas
        if builtins is None:
            from ...sql.dbt.builtins import natives

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

    def bind(self, inline: set[str] | None = None, filter_by: str | None = None) -> None:
        """ref() and source() for what renders next: our relation names; ephemeral models as
        their CTE's name (collected in `inline`); inputs with an event_time filtered to the
        partition's window when `filter_by` (a microbatch model)."""
        inline = set() if inline is None else inline

        def ref(*args, **kwargs):
            if not args:
                raise ImportProblem("ref() needs a model name")
            target = self._versioned(str(args[-1]), kwargs.get("v", kwargs.get("version")))
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

    def _versioned(self, target: str, version) -> str:
        """The model a ref() to a versioned model means: the version asked for, else the
        latest."""
        if target not in self.project.versions:
            return target
        latest, files = self.project.versions[target]
        chosen = latest if version is None else version
        match = next((f for v, f in files.items() if str(v) == str(chosen)), None)
        if match is None:
            raise ImportProblem(
                f"ref('{target}', v={chosen}): no such version "
                f"(it has {', '.join(str(v) for v in files)})"
            )
        return match


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
