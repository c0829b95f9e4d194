"""dbt `sources:` as ours. A source over a relation the project builds itself (a seed, or a
model in another schema: real projects declare their seeds as sources) is read as that node,
so the DAG orders them; every other becomes a declared source (`[sources."schema.name"]`).
`database`, `schema` and `identifier` may be written with Jinja (`"{{ target.schema }}_raw"`),
rendered as dbt renders them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import RelationName, Rendering
from ...sql.dbt.yamlfile import ImportProblem
from . import docs
from .values import EXACT, HAND, NOTES, Outcome

if TYPE_CHECKING:
    from .conversion import Conversion

_PERIODS = {"minute": "m", "hour": "h", "day": "d"}


@dataclass
class SourceTable:
    """One table of a `sources:` entry, as dbt names its relation."""

    source: str
    name: str
    entry: dict
    table: dict
    relation: RelationName
    config: dict

    @property
    def uid(self) -> str:
        return f"{self.source}.{self.name}"


def read_sources(conv: Conversion) -> list[SourceTable]:
    """Each source table with its relation (Jinja rendered) and config; `source()` is bound to
    these until `settle_sources` knows which are the project's own nodes."""
    found = []
    for entry in conv.project.sources:
        source_name = entry["name"]
        for table in entry.get("tables") or []:
            if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                continue
            try:
                schema = _rendered(conv, entry.get("schema") or source_name, entry)
                identifier = _rendered(conv, table.get("identifier") or table["name"], entry)
            except ImportProblem as exc:
                uid = f"source.{conv.project.name}.{source_name}.{table['name']}"
                conv.out.problems.append(str(exc))
                conv.out.outcomes.append(Outcome(uid, entry["_file"], HAND, notes=[exc.detail]))
                continue
            database = str(entry.get("database") or conv.target.database)
            relation = RelationName(
                schema.lower(),
                identifier.lower(),
                database,
                f'"{database}"."{schema}"."{identifier}"',
            )
            config = {**(entry.get("config") or {}), **(table.get("config") or {})}
            conv.source_relations[(source_name, table["name"])] = (relation, config)
            found.append(SourceTable(source_name, table["name"], entry, table, relation, config))
    return found


def settle_sources(conv: Conversion, tables: list[SourceTable]) -> None:
    """Once every model has its relation: a source over one of them is read as it; the rest
    are declared sources of ours."""
    built = {
        model.dbt_relation.lower(): model
        for model in conv.models.values()
        if model.relation is not None and model.config.get("materialized") != "ephemeral"
    }
    for table in tables:
        uid = f"source.{conv.project.name}.{table.source}.{table.name}"
        model = built.get(str(table.relation))
        if model is not None:
            conv.source_relations[(table.source, table.name)] = (model.relation, table.config)
            kind = "seed" if model.config.get("materialized") == "seed" else "model"
            notes = []
            if _freshness(table):
                notes.append(
                    f"its freshness is not judged: it is the {kind} {model.relation} of this "
                    "project, built by the run itself"
                )
            conv.out.relations.append((f"source {table.uid}", str(model.relation)))
            conv.out.outcomes.append(
                Outcome(
                    uid,
                    table.entry["_file"],
                    NOTES if notes else EXACT,
                    ours=f"the {kind} {model.relation}",
                    notes=notes,
                )
            )
            continue
        settings, notes = _declared(table)
        described = docs.text(conv, table.table.get("description"), table.entry["_file"])
        described = described or docs.text(
            conv, table.entry.get("description"), table.entry["_file"]
        )
        if described:
            settings["description"] = described
        columns = docs.columns(conv, table.table, table.entry["_file"])
        if columns:
            settings["column_descriptions"] = columns
        name = f"{table.relation.schema}.{table.relation.identifier}"
        conv.out.sources[name] = settings
        conv.out.relations.append((f"source {table.uid}", name))
        conv.out.outcomes.append(
            Outcome(
                uid,
                table.entry["_file"],
                NOTES if notes else EXACT,
                ours=f'[sources."{name}"]',
                notes=notes,
            )
        )


def _declared(table: SourceTable) -> tuple[dict[str, Any], list[str]]:
    """Our settings for a declared source, and what did not carry over."""
    entry, spec, config = table.entry, table.table, table.config
    settings: dict[str, Any] = {}
    notes: list[str] = []
    meta = {**(entry.get("meta") or {}), **(spec.get("meta") or {}), **(config.get("meta") or {})}
    external = (
        (spec.get("external") or {}).get("location")
        or meta.get("external_location")
        or config.get("external_location")
    )
    if external:
        settings["path"] = str(external).format(
            name=table.name, identifier=table.relation.identifier
        )
    loaded_at = _first(spec, entry, config, "loaded_at_field")
    if loaded_at:
        settings["loaded_at"] = " ".join(str(loaded_at).split())
    freshness = _freshness(table)
    if freshness:
        for level in ("warn_after", "error_after"):
            text = _duration(freshness.get(level))
            if text:
                settings[level] = text
            elif freshness.get(level):
                notes.append(f"freshness {level} {freshness.get(level)} not understood")
        if freshness.get("filter"):
            notes.append("the freshness filter is not converted")
        judged = "warn_after" in settings or "error_after" in settings
        if judged and not loaded_at and not external:
            settings.pop("warn_after", None)
            settings.pop("error_after", None)
            notes.append(
                "freshness without loaded_at_field (dbt asks the warehouse's metadata): not "
                "judged; name the column that says when rows were loaded as loaded_at"
            )
    owner = meta.get("owner")
    if owner:
        settings["owner"] = str(owner)
    return settings, notes


def _first(spec: dict, entry: dict, config: dict, key: str) -> Any:
    """A setting of the table, else of its config, else of its source (dbt's precedence)."""
    for place in (spec, config, entry, entry.get("config") or {}):
        if key in place:
            return place[key]
    return None


def _freshness(table: SourceTable) -> dict | None:
    """The table's freshness (`freshness: null` turns its source's off), or None."""
    found = _first(table.table, table.entry, table.config, "freshness")
    return found if isinstance(found, dict) else None


def _rendered(conv: Conversion, value: Any, entry: dict) -> str:
    text = str(value)
    if "{{" not in text and "{%" not in text:
        return text
    rendering = Rendering(entry["name"], entry["_file"], [conv.project.name], "source")
    try:
        return conv.renderer.render(text, rendering).strip()
    except (NeedsDatabase, MissingMacro) as exc:
        raise ImportProblem(f"source {entry['name']}: {exc}", entry["_file"]) from None
    except ImportProblem as exc:
        raise ImportProblem(f"source {entry['name']}: {exc.detail}", entry["_file"]) from None


def _duration(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return None
    count, period = spec.get("count"), str(spec.get("period", "")).lower()
    if not isinstance(count, int) or period not in _PERIODS:
        return None
    return f"{count}{_PERIODS[period]}"
