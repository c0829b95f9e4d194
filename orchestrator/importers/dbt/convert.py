"""Each dbt node turned into ours, in two passes as dbt parses then compiles: the first (`parse`)
renders each model to learn the configs its `config()` sets (so every relation name is known),
the second renders it with `ref()` and `source()` giving our relation names. What both passes
share is a `Conversion`; what becomes of each kind of node lives in its own module:

| module | nodes |
|---|---|
| `sources` | `sources:` declarations |
| `models` | models: the SQL dbt would compile, our header, ephemeral CTEs, microbatch windows |
| `seeds` | seeds, with the column types dbt gives them |
| `checks` | tests (generic, package, singular) as header checks or check files |
| `generic_tests` | one generic test (ours, dbt_utils', dbt_expectations', the project's) |
| `hooks` | model hooks and on-run-start / on-run-end |
"""

from __future__ import annotations

from ...sql.dbt import runtime
from ...sql.dbt.nodes import Target
from ...sql.dbt.project import DbtProject
from . import checks, hooks, models, parse, sources, unit_tests
from .conversion import Conversion
from .values import Converted


def convert(project: DbtProject, target: Target, schemas: str = "dbt", builtins=None) -> Converted:
    """The dbt project as ours: the files to write, and what became of each node."""
    conv = Conversion(project, target, schemas, builtins)
    for problem in project.problems:
        conv.out.problems.append(str(problem))
    conv.out.macro_files = [str(p) for p in project.macro_problems]
    source_tables = sources.read_sources(conv)
    for node in project.nodes:
        if node.kind in ("model", "snapshot"):
            parse.parse_model(conv, node)
    for node in project.nodes:
        if node.kind == "seed":
            parse.parse_seed(conv, node)
    parse.name_relations(conv)
    sources.settle_sources(conv, source_tables)
    for name, model in conv.models.items():
        if model.config.get("materialized") == "ephemeral" and model.problem is None:
            models.ephemeral(conv, name, model)
    for name, model in conv.models.items():
        models.convert_model(conv, name, model)
    checks.untangle(conv)
    for node in project.nodes:
        if node.kind == "test":
            checks.singular_test(conv, node)
    for specs, where in (
        (project.on_run_start, "on-run-start"),
        (project.on_run_end, "on-run-end"),
    ):
        for i, spec in enumerate(specs):
            hooks.run_hook(conv, where, i, spec)
    unit_tests.convert_unit_tests(conv)
    if conv.out.rendered_at_run:
        refs = {
            n: str(m.relation)
            for n, m in conv.models.items()
            if m.relation is not None and m.config.get("materialized") != "ephemeral"
        }
        names = {f"{s}.{t}": str(r) for (s, t), (r, _) in conv.source_relations.items()}
        conv.out.files.update(runtime.bundle(project, target, refs, names))
    return conv.out
