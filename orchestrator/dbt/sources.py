"""dbt `sources:` as our declared sources (`[sources."schema.name"]`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .jinja import RelationName
from .values import EXACT, NOTES, Outcome

if TYPE_CHECKING:
    from .convert import Converter

_PERIODS = {"minute": "m", "hour": "h", "day": "d"}


def declare_sources(
    conv: Converter,
) -> None:
    for entry in conv.project.sources:
        source_name = entry["name"]
        schema = str(entry.get("schema") or source_name)
        for table in entry.get("tables") or []:
            if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                continue
            identifier = str(table.get("identifier") or table["name"])
            relation = RelationName(schema.lower(), identifier.lower())
            config = {**(entry.get("config") or {}), **(table.get("config") or {})}
            conv.source_relations[(source_name, table["name"])] = (relation, config)
            settings: dict[str, Any] = {}
            notes: list[str] = []
            meta = {**(entry.get("meta") or {}), **(table.get("meta") or {})}
            external = (
                (table.get("external") or {}).get("location")
                or meta.get("external_location")
                or config.get("external_location")
            )
            if external:
                settings["path"] = str(external).format(name=table["name"], identifier=identifier)
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
            conv.out.sources[name] = settings
            conv.out.relations.append((f"source {source_name}.{table['name']}", name))
            conv.out.outcomes.append(
                Outcome(
                    f"source.{conv.project.name}.{source_name}.{table['name']}",
                    entry["_file"],
                    NOTES if notes else EXACT,
                    ours=f'[sources."{name}"]',
                    notes=notes,
                )
            )


def _duration(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return None
    count, period = spec.get("count"), str(spec.get("period", "")).lower()
    if not isinstance(count, int) or period not in _PERIODS:
        return None
    return f"{count}{_PERIODS[period]}"
