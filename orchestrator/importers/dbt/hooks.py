"""dbt hooks as ours: pre-/post-hooks as header lines, on-run-start / on-run-end as [hooks]."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import Rendering
from ...sql.dbt.yamlfile import ImportProblem
from .values import EXACT, HAND, NOTES, DbtModel, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion


def run_hook(conv: Conversion, where: str, index: int, spec: Any) -> None:
    """An on-run-start / on-run-end hook: our [hooks], rendered now, or why not."""
    uid = f"operation.{conv.project.name}.{conv.project.name}-{where}-{index}"
    text = str(spec.get("sql", "")) if isinstance(spec, dict) else str(spec)
    rendering = Rendering(where, "dbt_project.yml", [conv.project.name], resource_type="operation")
    conv.bind()
    try:
        sql = " ".join(conv.renderer.render(text, rendering).split()).rstrip(";")
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        conv.out.outcomes.append(
            Outcome(uid, "dbt_project.yml", HAND, notes=[f"{where} hook: {exc}"])
        )
        return
    if not sql:
        conv.out.outcomes.append(Outcome(uid, "dbt_project.yml", EXACT, notes=["only logs"]))
        return
    if re.match(r"(?i)(grant|revoke)\b", sql):  # nothing to do here: reported, not lost
        why = f"{where} hook not converted: DuckDB has no grants ({sql[:80]})"
        conv.out.outcomes.append(Outcome(uid, "dbt_project.yml", NOTES, notes=[why]))
        return
    if ";" in sql:
        why = f"{where} hook not converted: several statements in one hook ({sql[:80]})"
        conv.out.outcomes.append(Outcome(uid, "dbt_project.yml", HAND, notes=[why]))
        return
    conv.out.hooks.setdefault(where.replace("-", "_"), []).append(sql)
    conv.out.outcomes.append(Outcome(uid, "dbt_project.yml", EXACT, f"[hooks] {where}"))


def model_hook(
    conv: Conversion, name: str, model: DbtModel, kind: str, spec: Any
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
    conv.bind()
    try:
        sql = " ".join(conv.renderer.render(text, rendering).split()).rstrip(";")
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        return None, f"{label} not converted: {exc}"
    if not sql:
        return None, None  # a hook that only logs: nothing to run
    if re.match(r"(?i)(grant|revoke)\b", sql):
        return None, f"{label} not converted: DuckDB has no grants ({sql[:80]})"
    if ";" in sql:
        return None, f"{label} not converted: several statements in one hook ({sql[:80]})"
    return sql, None
