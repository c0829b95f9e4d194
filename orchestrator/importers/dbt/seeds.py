"""dbt seeds as ours: the CSV where our seeds live, with the column types dbt gives it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...sql.dbt.yamlfile import as_list
from . import checks, docs
from .values import EXACT, HAND, NOTES, DbtModel, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion

_BOM = "\ufeff"


def convert_seed(conv: Conversion, name: str, model: DbtModel) -> None:
    """A seed: its file copied where our seeds live, with the column types dbt would give
    it (or those it declares), so the table we load is the one dbt loads."""
    from .seedtypes import dbt_types

    node = model.node
    uid = f"seed.{conv.project.name}.{name}"
    delimiter = str(model.config.get("delimiter") or ",")
    declared = {str(k): str(v) for k, v in (model.config.get("column_types") or {}).items()}
    try:
        inferred, notes, nulls = dbt_types(node.path, delimiter)
    except ValueError as exc:
        conv.out.problems.append(f"{node.relpath}: {exc}")
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
        return
    # a byte order mark opening the file is no part of the first column's name (dbt and
    # DuckDB's read_csv both drop it): the copy goes without it
    inferred = {column.removeprefix(_BOM): kind for column, kind in inferred.items()}
    types = {column: declared.get(column, kind) for column, kind in inferred.items()}
    relation = model.relation
    conv.out.files[f"seeds/{relation.schema}/{relation.identifier}.csv"] = node.path.read_text(
        encoding="utf-8-sig"
    )
    settings: dict[str, Any] = {"column_types": types, "nulls": nulls}
    if delimiter != ",":
        settings["delimiter"] = delimiter
    meta = model.config.get("meta") or {}
    if isinstance(meta, dict) and meta.get("owner"):
        settings["owner"] = str(meta["owner"])
    tags = [t for t in as_list(model.config.get("tags")) if isinstance(t, str)]
    if tags:
        settings["tags"] = tags
    entry = conv.project.properties.get(name) or {}
    where = conv.project.property_files.get(name, node.relpath)
    described = docs.text(conv, entry.get("description"), where)
    if described:
        settings["description"] = described
    if docs.columns(conv, entry, where):
        settings["column_descriptions"] = docs.columns(conv, entry, where)
    conv.out.seeds[str(relation)] = settings
    conv.out.relations.append((f"{model.dbt_relation} ({node.relpath})", str(relation)))
    _, check_files, test_outcomes = checks.model_tests(conv, name, model)
    conv.out.files.update(check_files)
    conv.out.outcomes.append(
        Outcome(uid, node.relpath, NOTES if notes else EXACT, str(relation), notes)
    )
    conv.out.outcomes.extend(test_outcomes)
