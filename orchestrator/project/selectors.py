"""Selectors: which models a command or a job works on, in the grammar dbt users already type.

    words         space-separated (or separate arguments, `-s` options): a union
    a,b,c         an intersection: the models every part selects
    name          a model's table name, `schema.name`, or a glob (`marts.*`, `*_daily`)
    method:value  tag:x, owner:x, schema:x, kind:x
    +part, part+  with every ancestor / descendant; `2+part`, `part+1`: only N levels
    @part         part, its descendants and every ancestor of those (what a rebuild of part needs)

A part that matches nothing is a UsageError that suggests close names, so a typo is never an
empty selection. Pure: reads the DAG, nothing else.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ProjectError, UsageError, suggest
from .dag import DAG
from .model import Job, Model

_PART = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<core>.*?)(?:\+(?P<down>\d*))?$", re.S)

METHODS = {
    "tag": lambda m, value: value in m.tags,
    "owner": lambda m, value: m.owner == value,
    "schema": lambda m, value: m.schema == value.lower(),
    "kind": lambda m, value: m.kind == value.lower(),
}


@dataclass(frozen=True)
class Part:
    """One part of an intersection: what it matches and how far the graph operators reach
    (`up`/`down`: 0 none, None every level)."""

    core: str
    up: int | None = 0
    down: int | None = 0
    at: bool = False


def parse(word: str) -> tuple[Part, ...]:
    """One selector word into the parts of its intersection; a malformed one is a UsageError."""
    texts = word.split(",")
    if len(texts) > 1 and not all(t.strip() for t in texts):
        raise UsageError(f"selector '{word}' has an empty part (a,b selects what is in both)")
    return tuple(_part(text.strip(), word) for text in texts)


def _part(text: str, word: str) -> Part:
    found = _PART.match(text)
    assert found is not None  # every text matches: each group is optional
    core = found["core"]
    if not core:
        raise UsageError(f"empty selector '{text}': name a model, a glob or method:value")
    if found["at"] and (found["up"] is not None or found["down"] is not None):
        raise UsageError(
            f"selector '{word}': '@' already takes the ancestors and descendants; "
            "write @name, or +name+"
        )
    up = _depth(found["up"])
    down = _depth(found["down"])
    if found["at"]:
        up, down = 0, None
    if ":" in core:
        method = core.partition(":")[0]
        if method not in METHODS:
            raise UsageError(
                f"unknown selector method '{method}:'{suggest(method, METHODS)}; "
                f"use one of: {', '.join(f'{m}:' for m in METHODS)}"
            )
    return Part(core, up, down, bool(found["at"]))


def _depth(digits: str | None) -> int | None:
    """'' (a bare +): every level; None (no +): none; digits: that many levels."""
    if digits is None:
        return 0
    return int(digits) if digits else None


def select(dag: DAG, words: Iterable[str], exclude: Iterable[str] = ()) -> set[str]:
    """Models matched by any selector word, minus those matched by any excluded one. No word:
    every model."""
    wanted = _words(words)
    chosen = set(dag.models) if not wanted else set()
    for word in wanted:
        chosen |= select_word(dag, word)
    for word in _words(exclude):
        chosen -= select_word(dag, word)
    return chosen


def _words(selectors: Iterable[str]) -> list[str]:
    return [word for selector in selectors for word in selector.split()]


def select_word(dag: DAG, word: str) -> set[str]:
    """The models one word selects: the intersection of its parts."""
    parts = parse(word)
    chosen = _expand(dag, parts[0])
    for part in parts[1:]:
        chosen &= _expand(dag, part)
    if not chosen:
        raise UsageError(
            f"selector '{word}' matches no model: no model is in every part of it "
            f"({' and '.join(p.strip() for p in word.split(','))})"
        )
    return chosen


def _expand(dag: DAG, part: Part) -> set[str]:
    matched = _match(dag.models, part.core)
    chosen = set(matched)
    if part.up != 0:
        chosen |= dag.ancestors(matched, part.up)
    if part.down != 0:
        chosen |= dag.descendants(matched, part.down)
    if part.at:
        chosen |= dag.ancestors(chosen)
    return chosen


def _match(models: Mapping[str, Model], core: str) -> set[str]:
    if ":" in core:
        method, _, value = core.partition(":")
        found = {n for n, m in models.items() if METHODS[method](m, value)}
        if not found:
            known = sorted(_values_of(method, models.values()))
            hint = suggest(value, known) or (f" (known: {', '.join(known)})" if known else "")
            raise UsageError(f"selector '{core}' matches no model{hint}")
        return found
    name = core.lower()
    if any(ch in name for ch in "*?["):
        found = {n for n in models if fnmatch.fnmatchcase(n, name)}
        found |= {n for n, m in models.items() if fnmatch.fnmatchcase(m.table, name)}
    elif "." in name:
        found = {name} if name in models else set()
    else:
        found = {n for n, m in models.items() if m.table == name}
    if not found:
        candidates = list(models) + [m.table for m in models.values()]
        raise UsageError(f"no model matches '{core}'{suggest(name, candidates)}")
    return found


def _values_of(method: str, models: Iterable[Model]) -> set[str]:
    values: set[str] = set()
    for m in models:
        if method == "tag":
            values.update(m.tags)
        elif method == "owner" and m.owner:
            values.add(m.owner)
        elif method == "schema":
            values.add(m.schema)
        elif method == "kind":
            values.add(m.kind)
    return values


def check_jobs(dag: DAG, jobs: Mapping[str, Job], config_path: Path) -> None:
    """Every job's `select` and `exclude` must select something, checked when the project
    loads: a typo names its line in orchestrator.toml instead of stopping the scheduler."""
    for name, job in jobs.items():
        for key, words in (("select", job.select), ("exclude", job.exclude)):
            for word in words:
                try:
                    select_word(dag, word)
                except UsageError as exc:
                    raise ProjectError(
                        f"job '{name}': {key}: {exc}", config_path, job.lines.get(key)
                    ) from None
        if not select(dag, job.select, job.exclude):
            raise ProjectError(
                f"job '{name}' selects no model: exclude takes out every model select names",
                config_path,
                job.lines.get("exclude"),
            )
