"""The operating side of `orchestrator.toml`: jobs (what runs when), owners (who hears about it,
which folders they answer for) and access (who may do what). Parsing only; no I/O.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType

from .errors import ProjectError, suggest
from .schedule import Cron, parse_clock, zone

ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class Job:
    name: str
    select: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    cron: Cron | None = None
    timezone: str = "UTC"
    owner: str | None = None
    deadline: time | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    on: str | None = None  # a declared source whose new partitions start the job
    poll: timedelta = timedelta(minutes=1)  # how often `on` is looked at
    catchup: timedelta = timedelta(days=1)  # older missed ticks are recorded, not run


@dataclass(frozen=True)
class Owner:
    name: str
    webhook: str | None = None
    command: str | None = None
    log: str | None = None  # a file alerts are appended to, as JSON lines
    folders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Access:
    """Users per role; '*' is everyone. Each role includes the ones below it."""

    users: Mapping[str, tuple[str, ...]]

    def role_of(self, user: str) -> str | None:
        for role in reversed(ROLES):
            members = self.users.get(role, ())
            if user in members or "*" in members:
                return role
        return None

    def allows(self, user: str, needed: str) -> bool:
        role = self.role_of(user)
        return role is not None and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Operations:
    jobs: Mapping[str, Job] = field(default_factory=dict)
    owners: Mapping[str, Owner] = field(default_factory=dict)
    access: Access | None = None  # None: everything is allowed

    def owner_of_folder(self, relpath: str) -> str | None:
        """The owner whose `folders` holds a model file (models/<folder>/...), longest first."""
        parts = Path(relpath).parts[1:-1]  # drop "models" and the file name
        best, best_len = None, -1
        for owner in self.owners.values():
            for folder in owner.folders:
                prefix = Path(folder).parts
                if tuple(parts[: len(prefix)]) == prefix and len(prefix) > best_len:
                    best, best_len = owner.name, len(prefix)
        return best


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


def parse(raw: dict, config_path: Path, text: str, source_names) -> Operations:
    from .project import config_line, parse_duration

    def fail(message: str, table: tuple[str, ...], key: str | None = None) -> ProjectError:
        return ProjectError(message, config_path, config_line(text, table, key))

    def settings_table(what: str, name: str, spec, accepted: set[str]) -> None:
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

    jobs: dict[str, Job] = {}
    for name, spec in _table(raw, "jobs", config_path).items():
        where = ("jobs", name)
        settings_table("job", name, spec, _JOB_KEYS)
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
        on = spec.get("on")
        if on is not None:
            kind, _, target = str(on).partition(":")
            if kind != "source" or target.lower() not in source_names:
                raise fail(
                    f"job '{name}': on must be \"source:<a declared source>\", got {on!r}"
                    f"{suggest(target.lower(), source_names)}",
                    where,
                    "on",
                )
            on = target.lower()
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
        jobs[name] = Job(
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

    owners: dict[str, Owner] = {}
    for name, spec in _table(raw, "owners", config_path).items():
        where = ("owners", name)
        settings_table("owner", name, spec, _OWNER_KEYS)
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
        owners[name] = Owner(
            name,
            webhook,
            command,
            log,
            tuple(f.strip("/").removeprefix("models/") for f in folders),
        )

    access = None
    if "access" in raw:
        table = raw["access"]
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
        access = Access(MappingProxyType(users))
    return Operations(MappingProxyType(jobs), MappingProxyType(owners), access)


def _table(raw: dict, key: str, config_path: Path) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ProjectError(f"[{key}] must be tables like [{key}.name]", config_path)
    return value
