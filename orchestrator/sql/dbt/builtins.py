"""The macros the renderer registers natively, by namespace: dbt's cross-database ones
(`cross_database`, also callable unqualified), dbt_utils' SQL generators (`dbt_utils`) and
generic tests (`dbt_utils_tests`), dbt_date's (`dbt_date`) and audit_helper's
(`audit_helper`). Each family lives in its own module; this is the one list of them."""

from __future__ import annotations

from collections.abc import Callable

from . import audit_helper, cross_database, dbt_date, dbt_utils, dbt_utils_tests
from .dbt_utils import Note


def natives(note: Note, time_zone: str = "America/Los_Angeles") -> dict[str, dict[str, Callable]]:
    """namespace -> macro -> implementation; "" is the global one (dbt's own macros are
    callable unqualified too). `time_zone`: dbt_date's `dbt_date:time_zone` var."""
    cross = cross_database.natives()
    return {
        "": dict(cross),
        "dbt": cross,
        "dbt_utils": {**dbt_utils.natives(note), **dbt_utils_tests.natives()},
        "dbt_date": dbt_date.natives(time_zone),
        "audit_helper": audit_helper.natives(),
    }
