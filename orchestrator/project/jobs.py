"""The operating side of `orchestrator.toml`: jobs (what runs when), owners (who hears about it,
which folders they answer for) and access (who may do what). Parsing only, into the values of
`model` (which holds Job, Owner, Access and Operations, so that `Project` needs nothing above it);
no I/O.

```toml
[jobs.daily_revenue]
select = "+marts.revenue_daily"      # selectors, space-separated
cron = "0 6 * * *"                   # and/or: on = "source:raw.payments"
timezone = "UTC"
owner = "finance"
deadline = "07:30"                   # wall-clock time its outputs must be published by

[owners.finance]
webhook = "https://hooks.example.com/services/T000"
command = "notify-finance"
folders = ["marts", "reporting"]     # models under models/marts/ default to this owner

[access]
admin = ["alice"]
operator = ["bob", "ci"]
viewer = ["*"]
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from ..core.errors import ProjectError, suggest
from .config import config_line, parse_duration
from .model import ROLES, Access, Job, Operations, Owner
from .schedule import Cron, parse_clock, zone

_JOB_KEYS = {
    "select",
    "exclude",
    "cron",
    "timezone",
    "owner",
    "deadline",
    "vars",
    "on",
    "poll",
    "catchup",
}
_OWNER_KEYS = {"webhook", "command", "log", "folders"}

Fail = Callable[..., ProjectError]
"""fail(message, table, key=None): the error, at the line of `key` in `table` (or its header)."""


def parse(raw: dict, config_path: Path, text: str, source_names) -> Operations:
    """The [jobs], [owners] and [access] tables; the first mistake names its file and line."""

    def fail(message: str, table: tuple[str, ...], key: str | None = None) -> ProjectError:
        return ProjectError(message, config_path, config_line(text, table, key))

    jobs = {
        name: replace(_job(name, spec, fail, source_names), lines=_lines(text, name, spec))
        for name, spec in _table(raw, "jobs", config_path).items()
    }
    owners = {
        name: _owner(name, spec, fail) for name, spec in _table(raw, "owners", config_path).items()
    }
    access = _access(raw["access"], fail) if "access" in raw else None
    return Operations(MappingProxyType(jobs), MappingProxyType(owners), access)


def _lines(text: str, name: str, spec: dict) -> MappingProxyType:
    """Where each selection setting of a job is written, for the errors of checks that need the
    models (its selectors are checked once the DAG is built: `selectors.check_jobs`)."""
    found = {key: config_line(text, ("jobs", name), key) for key in ("select", "exclude")}
    return MappingProxyType({key: line for key, line in found.items() if line and key in spec})


def _settings_table(what: str, name: str, spec, accepted: set[str], fail: Fail) -> None:
    """A [jobs.NAME] or [owners.NAME] table with only settings we know."""
    where = (f"{what}s", name)
    if not isinstance(spec, dict):
        raise fail(f"{what} '{name}' must be a table of settings", where)
    unknown = sorted(set(spec) - accepted)
    if unknown:
        raise fail(
            f"{what} '{name}': unknown setting '{unknown[0]}'"
            f"{suggest(unknown[0], accepted)}; accepted: {', '.join(sorted(accepted))}",
            where,
            unknown[0],
        )


def _job(name: str, spec, fail: Fail, source_names) -> Job:
    where = ("jobs", name)
    _settings_table("job", name, spec, _JOB_KEYS, fail)
    select = spec.get("select")
    if not isinstance(select, str) or not select.split():
        raise fail(f"job '{name}': select must be selectors, e.g. select = \"+marts.x\"", where)
    exclude = spec.get("exclude", "")
    if not isinstance(exclude, str):
        raise fail(f"job '{name}': exclude must be selectors in a string", where, "exclude")
    cron = None
    if "cron" in spec:
        try:
            cron = Cron.parse(str(spec["cron"]))
        except ValueError as exc:
            raise fail(f"job '{name}': {exc}", where, "cron") from None
    timezone = spec.get("timezone", "UTC")
    try:
        zone(str(timezone))
    except ValueError as exc:
        raise fail(f"job '{name}': {exc}", where, "timezone") from None
    deadline = None
    if "deadline" in spec:
        try:
            deadline = parse_clock(str(spec["deadline"]))
        except ValueError as exc:
            raise fail(f"job '{name}': deadline: {exc}", where, "deadline") from None
    on = _trigger(name, spec, fail, source_names)
    if cron is None and on is None:
        raise fail(
            f'job \'{name}\' needs cron = "..." or on = "source:..." (or both); '
            f"`orchestrator run --job {name}` starts it by hand either way",
            where,
        )
    durations = {}
    for key, default in (("poll", "1m"), ("catchup", "1d")):
        try:
            durations[key] = parse_duration(spec.get(key, default))
        except ValueError as exc:
            raise fail(f"job '{name}': {key}: {exc}", where, key) from None
    variables = spec.get("vars", {})
    if not isinstance(variables, dict):
        raise fail(f"job '{name}': vars must be a table of name = value", where, "vars")
    owner = spec.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise fail(f"job '{name}': owner must be a name", where, "owner")
    return Job(
        name=name,
        select=tuple(select.split()),
        exclude=tuple(exclude.split()),
        cron=cron,
        timezone=str(timezone),
        owner=owner,
        deadline=deadline,
        vars=MappingProxyType({str(k): str(v) for k, v in variables.items()}),
        on=on,
        poll=durations["poll"],
        catchup=durations["catchup"],
    )


def _trigger(name: str, spec, fail: Fail, source_names) -> str | None:
    """`on = "source:raw.x"`: the declared source whose new partitions start the job."""
    on = spec.get("on")
    if on is None:
        return None
    kind, _, target = str(on).partition(":")
    if kind != "source" or target.lower() not in source_names:
        raise fail(
            f"job '{name}': on must be \"source:<a declared source>\", got {on!r}"
            f"{suggest(target.lower(), source_names)}",
            ("jobs", name),
            "on",
        )
    return target.lower()


def _owner(name: str, spec, fail: Fail) -> Owner:
    where = ("owners", name)
    _settings_table("owner", name, spec, _OWNER_KEYS, fail)
    webhook = spec.get("webhook")
    if webhook is not None and (
        not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))
    ):
        raise fail(f"owner '{name}': webhook must be an http(s) URL", where, "webhook")
    command = spec.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise fail(f"owner '{name}': command must be a command line", where, "command")
    log = spec.get("log")
    if log is not None and not isinstance(log, str):
        raise fail(f"owner '{name}': log must be a file path", where, "log")
    folders = spec.get("folders", [])
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise fail(
            f"owner '{name}': folders must be a list of folders under models/", where, "folders"
        )
    return Owner(
        name,
        webhook,
        command,
        log,
        tuple(f.strip("/").removeprefix("models/") for f in folders),
    )


def _access(table, fail: Fail) -> Access:
    if not isinstance(table, dict):
        raise fail("[access] must map roles to lists of users", ("access",))
    unknown = sorted(set(table) - set(ROLES))
    if unknown:
        raise fail(
            f"[access]: unknown role '{unknown[0]}'{suggest(unknown[0], ROLES)}; "
            f"roles: {', '.join(ROLES)}",
            ("access",),
            unknown[0],
        )
    users = {}
    for role, members in table.items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise fail(f"[access]: {role} must be a list of user names", ("access",), role)
        users[role] = tuple(members)
    return Access(MappingProxyType(users))


def _table(raw: dict, key: str, config_path: Path) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ProjectError(f"[{key}] must be tables like [{key}.name]", config_path)
    return value
