"""Who may do what: roles from `[access]` in orchestrator.toml. No I/O.

viewer reads (plan, status, runs, dag, sql); operator also runs, retries, schedules, checks and
evaluates freshness; approver also promotes an environment into production (an approval of
its change); admin also backfills, fully refreshes, initialises, and writes models marked
`-- protected: true`. Without an `[access]` table everything is allowed.

This guards a shared project against mistakes: an operator's routine run cannot rebuild a
protected finance table or rewrite history with a backfill. It is not a security boundary:
whoever can edit orchestrator.toml, set ORCHESTRATOR_USER or open the warehouse file directly
can do anything.
"""

from __future__ import annotations

from .model import ROLES, Access

COMMANDS = {
    "plan": "viewer",
    "status": "viewer",
    "runs": "viewer",
    "dag": "viewer",
    "lineage": "viewer",
    "sql": "viewer",
    "ui": "viewer",
    "report": "viewer",
    "run": "operator",
    "retry": "operator",
    "schedule": "operator",
    "check": "operator",
    "freshness": "operator",
    "promote": "approver",
    "backfill": "admin",
    "full-refresh": "admin",
    "init": "admin",
    "prune": "admin",
}


def needed(command: str) -> str:
    return COMMANDS.get(command, "admin")


def check(access: Access | None, user: str, command: str) -> str | None:
    """Why `user` may not run `command`, or None when allowed."""
    if access is None:
        return None
    role = needed(command)
    if access.allows(user, role):
        return None
    has = access.role_of(user)
    return (
        f"{user} may not {command}: it needs the {role} role, and {user} is "
        f"{'a ' + has if has else 'not listed in [access]'}"
    )


def check_protected(access: Access | None, user: str, models: list[str]) -> str | None:
    if access is None or not models or access.allows(user, "admin"):
        return None
    shown = ", ".join(models[:5]) + (" ..." if len(models) > 5 else "")
    return (
        f"{user} may not write protected model(s) {shown}: that needs the admin role "
        "(leave them out with --exclude, or ask an admin)"
    )


__all__ = ["ROLES", "check", "check_protected", "needed"]
